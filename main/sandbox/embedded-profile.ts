/**
 * Profile resolution for the composition roots (CLI, app, web mode): the built-in
 * `sandbox` profile starts an embedded sandbox in this process; any other name is an
 * AWS profile from the shared config files, used through the SDK's credential chain.
 */
import { ControlPlane } from '../core/ssm/control-plane.js';
import { profileEndpoints } from '../core/ssm/profile-endpoints.js';
import type { Logger } from '../core/log/logger.js';
import { SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_ACCESS_KEY } from './credentials.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from './server.js';

export const SANDBOX_PROFILE = 'sandbox';

export interface ProfileSelection {
  /** Profile name; `sandbox` (the default) is the embedded local AWS. */
  profile?: string;
  region?: string;
  /** Endpoint override for every service (e.g. a standalone `ec2-connect sandbox`). */
  endpoint?: string;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  logger?: Logger;
  sandbox?: SandboxOptions;
}

export interface ResolvedProfile {
  profile: string;
  region: string;
  endpoint: string | undefined;
  controlPlane: ControlPlane;
  /** Set when the embedded sandbox runs in this process. */
  sandbox: SandboxHandle | undefined;
  dispose(): Promise<void>;
}

export function defaultProfileName(): string {
  return process.env.EC2_CONNECT_PROFILE || SANDBOX_PROFILE;
}

export async function resolveProfile(sel: ProfileSelection = {}): Promise<ResolvedProfile> {
  const profile = sel.profile ?? defaultProfileName();
  const timeouts = {
    ...(sel.connectionTimeoutMs ? { connectionTimeoutMs: sel.connectionTimeoutMs } : {}),
    ...(sel.requestTimeoutMs ? { requestTimeoutMs: sel.requestTimeoutMs } : {}),
  };
  if (profile === SANDBOX_PROFILE && !sel.endpoint) {
    const sandbox = await startSandbox({
      ...sel.sandbox,
      ...(sel.region ? { region: sel.region } : {}),
      ...(sel.logger ? { logger: sel.logger } : {}),
    });
    const controlPlane = new ControlPlane({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: {
        accessKeyId: sandbox.credentials.accessKeyId,
        secretAccessKey: sandbox.credentials.secretAccessKey,
      },
      ...timeouts,
    });
    return {
      profile,
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      controlPlane,
      sandbox,
      async dispose() {
        controlPlane.dispose();
        await sandbox.close();
      },
    };
  }
  const region = sel.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // An explicit endpoint wins; otherwise the profile's own endpoint_url settings, if any.
  const configured = sel.endpoint || profile === SANDBOX_PROFILE ? {} : await profileEndpoints(profile);
  const endpoint = sel.endpoint ?? configured.endpoint;
  const controlPlane = new ControlPlane({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(configured.endpoints ? { endpoints: configured.endpoints } : {}),
    ...(profile !== SANDBOX_PROFILE ? { profile } : {}),
    // `sandbox` with an endpoint: a standalone sandbox, signed with its well-known key unless the environment has one.
    ...(profile === SANDBOX_PROFILE && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY } }
      : {}),
    ...timeouts,
  });
  return {
    profile,
    region,
    endpoint,
    controlPlane,
    sandbox: undefined,
    async dispose() {
      controlPlane.dispose();
    },
  };
}
