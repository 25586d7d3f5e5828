/**
 * The back end of the desktop app: the active profile (by default the embedded sandbox) and
 * the contract handlers on top of its ControlPlane. `ec2-connect app` passes its profile
 * options through the environment (see main/cli/commands/app.ts).
 */
import { createBridgeHandlers } from '../core/bridge/handlers.js';
import type { Logger } from '../core/log/logger.js';
import type { BridgeHandlers } from '../../preload/api.js';
import { resolveProfile } from '../sandbox/embedded-profile.js';

export interface RunningBackend {
  handlers: BridgeHandlers;
  close(): Promise<void>;
}

export async function startBackend(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningBackend> {
  const resolved = await resolveProfile({
    // EC2_CONNECT_PROFILE is read by resolveProfile itself.
    ...(env.EC2_CONNECT_REGION ? { region: env.EC2_CONNECT_REGION } : {}),
    ...(env.EC2_CONNECT_ENDPOINT ? { endpoint: env.EC2_CONNECT_ENDPOINT } : {}),
    logger,
  });
  logger.info(
    { profile: resolved.profile, region: resolved.region, endpoint: resolved.endpoint },
    'back end ready',
  );
  return {
    handlers: createBridgeHandlers(resolved),
    close: () => resolved.dispose(),
  };
}
