/**
 * Profile resolution for the composition roots (CLI, app, web mode): the built-in
 * `sandbox` profile starts an embedded sandbox in this process; any other name is an
 * AWS profile from the shared config files (or the built-in `environment` profile), whose
 * credentials come from a CredentialResolver (main/core/credentials): checked up front,
 * refreshed before they expire, MFA codes and SSO sign-ins asked through its prompter.
 */
import { CredentialResolver } from '../core/credentials/resolver.js';
import type { CredentialPrompter } from '../core/credentials/types.js';
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
  /**
   * Credentials for AWS profiles: a resolver shared by the caller (the app keeps one, with
   * its prompt broker, for every profile). Default: one owned by the ResolvedProfile, with
   * `prompter`.
   */
  credentials?: CredentialResolver;
  /** Who to ask for MFA codes and SSO sign-ins when `credentials` is not given (none: such profiles fail with a message saying why). */
  prompter?: CredentialPrompter;
}

export interface ResolvedProfile {
  profile: string;
  region: string;
  endpoint: string | undefined;
  controlPlane: ControlPlane;
  /** The resolver behind an AWS profile's credentials (undefined for the sandbox). */
  credentials?: CredentialResolver | undefined;
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
      credentials: undefined,
      sandbox,
      async dispose() {
        controlPlane.dispose();
        await sandbox.close();
      },
    };
  }
  if (profile === SANDBOX_PROFILE) {
    // A standalone sandbox (`--endpoint`): signed with its well-known key unless the environment has one.
    const region = sel.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const controlPlane = new ControlPlane({
      region,
      endpoint: sel.endpoint!,
      ...(!process.env.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY } }
        : {}),
      ...timeouts,
    });
    return {
      profile,
      region,
      endpoint: sel.endpoint,
      controlPlane,
      credentials: undefined,
      sandbox: undefined,
      async dispose() {
        controlPlane.dispose();
      },
    };
  }

  const owned = !sel.credentials;
  const resolver =
    sel.credentials ??
    new CredentialResolver({
      ...(sel.prompter ? { prompter: sel.prompter } : {}),
      ...(sel.endpoint ? { endpoint: sel.endpoint } : {}),
      ...(sel.logger ? { logger: sel.logger } : {}),
    });
  let plan;
  try {
    // A profile that cannot work (missing, a source_profile loop, no role_arn, ...) fails here, by name.
    plan = await resolver.describe(profile);
  } catch (err) {
    if (owned) resolver.dispose();
    throw err;
  }
  // As the AWS CLI: --region, then AWS_REGION / AWS_DEFAULT_REGION, then the profile's region.
  const region =
    sel.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? plan.region ?? 'us-east-1';
  // An explicit endpoint wins; otherwise the profile's own endpoint_url settings, if any.
  const configured = sel.endpoint ? {} : await profileEndpoints(profile);
  const endpoint = sel.endpoint ?? configured.endpoint;
  const controlPlane = new ControlPlane({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(configured.endpoints ? { endpoints: configured.endpoints } : {}),
    profile,
    credentials: resolver.provider(profile, { region, ...(sel.endpoint ? { endpoint: sel.endpoint } : {}) }),
    ...timeouts,
  });
  return {
    profile,
    region,
    endpoint,
    controlPlane,
    credentials: resolver,
    sandbox: undefined,
    async dispose() {
      controlPlane.dispose();
      if (owned) resolver.dispose();
    },
  };
}
