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
import { networkFrom, type Network, type NetworkOptions } from '../core/net/network.js';
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
  /** Attempts per AWS API call, the first included (connection.max_attempts; default the SDK's 3). */
  maxAttempts?: number;
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
  /**
   * Proxy and CA bundle (the configuration's connection section: `networkOptions(config)` of
   * core/config/apply.ts) for the control plane, the data channels of its sessions and, when
   * `credentials` is not given, the owned resolver's STS/SSO calls. Options: a Network owned by
   * the ResolvedProfile; a Network: shared, the caller's to dispose. Default: direct connections.
   * A bad setting (proxy URL, CA bundle file) rejects with a NetworkConfigError naming it.
   */
  network?: Network | NetworkOptions;
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
  /** The proxy and CA settings its connections follow (route(url) says how a URL is reached); always set by resolveProfile. */
  network?: Network;
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
  // Checked before anything starts: a bad proxy URL or CA bundle fails here, by name.
  const { network, owned: ownsNetwork } = networkFrom(sel.network);
  const releaseNetwork = (): void => {
    if (ownsNetwork) network.dispose();
  };
  try {
    return await resolveWith(profile, sel, timeouts, network, releaseNetwork);
  } catch (err) {
    releaseNetwork();
    throw err;
  }
}

async function resolveWith(
  profile: string,
  sel: ProfileSelection,
  timeouts: { connectionTimeoutMs?: number; requestTimeoutMs?: number },
  network: Network,
  releaseNetwork: () => void,
): Promise<ResolvedProfile> {
  if (profile === SANDBOX_PROFILE && !sel.endpoint) {
    const sandbox = await startSandbox({
      ...sel.sandbox,
      ...(sel.region ? { region: sel.region } : {}),
      ...(sel.logger ? { logger: sel.logger } : {}),
    });
    const controlPlane = new ControlPlane({
      network,
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: {
        accessKeyId: sandbox.credentials.accessKeyId,
        secretAccessKey: sandbox.credentials.secretAccessKey,
      },
      ...timeouts,
      ...(sel.maxAttempts ? { maxAttempts: sel.maxAttempts } : {}),
    });
    return {
      profile,
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      controlPlane,
      credentials: undefined,
      sandbox,
      network,
      async dispose() {
        controlPlane.dispose();
        await sandbox.close();
        releaseNetwork();
      },
    };
  }
  if (profile === SANDBOX_PROFILE) {
    // A standalone sandbox (`--endpoint`): signed with its well-known key unless the environment has one.
    const region = sel.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const controlPlane = new ControlPlane({
      network,
      region,
      endpoint: sel.endpoint!,
      ...(!process.env.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: SANDBOX_ACCESS_KEY_ID, secretAccessKey: SANDBOX_SECRET_ACCESS_KEY } }
        : {}),
      ...timeouts,
      ...(sel.maxAttempts ? { maxAttempts: sel.maxAttempts } : {}),
    });
    return {
      profile,
      region,
      endpoint: sel.endpoint,
      controlPlane,
      credentials: undefined,
      sandbox: undefined,
      network,
      async dispose() {
        controlPlane.dispose();
        releaseNetwork();
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
      ...timeouts,
      network,
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
    network,
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(configured.endpoints ? { endpoints: configured.endpoints } : {}),
    profile,
    credentials: resolver.provider(profile, { region, ...(sel.endpoint ? { endpoint: sel.endpoint } : {}) }),
    ...timeouts,
    ...(sel.maxAttempts ? { maxAttempts: sel.maxAttempts } : {}),
  });
  return {
    profile,
    region,
    endpoint,
    controlPlane,
    credentials: resolver,
    sandbox: undefined,
    network,
    async dispose() {
      controlPlane.dispose();
      if (owned) resolver.dispose();
      releaseNetwork();
    },
  };
}
