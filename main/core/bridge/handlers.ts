/**
 * The implementation of the bridge contract (preload/api.ts), shared by the Electron IPC
 * handlers (main/app) and the web-mode WebSocket server (main/core/web), so both expose
 * exactly the same behaviour.
 */
import type { InstanceSummary } from '../ssm/types.js';
import type { BridgeHandlers } from '../../../preload/api.js';
import { CLIENT_VERSION } from '../version.js';

/** The part of `ControlPlane` (main/core/ssm/control-plane.ts) the handlers use; tests pass a fake. */
export interface InstanceSource {
  listInstances(): Promise<InstanceSummary[]>;
}

export interface BridgeHandlerOptions {
  controlPlane: InstanceSource;
  /** Active profile name (`sandbox` for the local emulation). */
  profile: string;
  region: string;
  /** AWS endpoint override (the sandbox URL); undefined for the default AWS endpoints. */
  endpoint?: string | undefined;
  /** Defaults to the version in package.json. */
  version?: string;
}

export function createBridgeHandlers(options: BridgeHandlerOptions): BridgeHandlers {
  const { controlPlane, profile, region } = options;
  const endpoint = options.endpoint ?? null;
  const version = options.version ?? CLIENT_VERSION;
  return {
    'app.info': async () => ({ version, profile, region, endpoint }),
    'instances.list': async () => controlPlane.listInstances(),
  };
}
