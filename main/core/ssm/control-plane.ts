/**
 * The control plane: SSM (StartSession, ResumeSession, TerminateSession, DescribeSessions,
 * DescribeInstanceInformation), EC2 DescribeInstances and STS GetCallerIdentity, through
 * the AWS SDK with configurable endpoint, region, credentials and timeouts.
 */
import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  type Session,
  type SessionFilter,
} from '@aws-sdk/client-ssm';
import type { EC2Client, Filter, Instance } from '@aws-sdk/client-ec2';
import type { STSClient } from '@aws-sdk/client-sts';
import type { KMSClient } from '@aws-sdk/client-kms';
import { fromIni } from '@aws-sdk/credential-providers';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { InstanceSummary, InstanceState, InstancePingStatus, SessionStartResult } from './types.js';
import { AwsCallError, describeAwsError } from './errors.js';
import { CredentialError } from '../credentials/types.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
import { networkFrom, type Network, type NetworkOptions } from '../net/network.js';
import { KmsDataKeyProvider, type DataKeyProvider } from './kms/data-key-provider.js';
import { LazyClient, loadEc2Sdk, loadKmsSdk, loadStsSdk } from './lazy-client.js';

export interface ControlPlaneOptions {
  region: string;
  /** One endpoint for every service (the sandbox), or per service below. */
  endpoint?: string;
  endpoints?: { ssm?: string; ec2?: string; sts?: string; kms?: string };
  /**
   * Credentials, or a provider (e.g. `CredentialResolver.provider(profile)`, which refreshes
   * them before they expire and asks the user for MFA codes or an SSO sign-in).
   */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Named profile from the shared AWS config files (used when `credentials` is not given). */
  profile?: string;
  /** TCP connect timeout (default 5 s). */
  connectionTimeoutMs?: number;
  /** Whole-request timeout (default 15 s). */
  requestTimeoutMs?: number;
  /** SDK attempts per call, including the first (default 3; throttling is retried with backoff). */
  maxAttempts?: number;
  /** Fail fast after repeated network/throttling failures (default 5 in a row, 10 s cool-down); false disables. */
  circuitBreaker?: Partial<CircuitBreakerOptions> | false;
  /**
   * Proxy and CA bundle for these clients and the sessions' data channels: a Network shared by
   * the caller (theirs to dispose), or options for one this control plane owns. Default: direct
   * connections with Node's trust store (no environment variable is read).
   */
  network?: Network | NetworkOptions;
}

export interface StartSessionInput {
  target: string;
  documentName?: string;
  parameters?: Record<string, string[]>;
  reason?: string;
}

export class ControlPlane {
  readonly region: string;
  readonly ssm: SSMClient;
  /** EC2, STS and KMS: made on first use, with the same settings as SSM (see LazyClient). */
  private readonly ec2: LazyClient<EC2Client>;
  private readonly sts: LazyClient<STSClient>;
  private readonly kms: LazyClient<KMSClient>;
  /** The proxy and CA settings of these clients; sessions open their data channels with them too. */
  readonly network: Network;
  private readonly ownsNetwork: boolean;
  private readonly requestHandler: NodeHttpHandler;
  private kmsProvider: DataKeyProvider | undefined;
  private readonly breaker: CircuitBreaker | undefined;

  /** The options, without `network` (a proxy URL may hold a password; `this.network` is the parsed, redacted form). */
  readonly options: Omit<ControlPlaneOptions, 'network'>;

  constructor(options: ControlPlaneOptions) {
    const { network: _network, ...rest } = options;
    this.options = rest;
    this.region = options.region;
    this.breaker =
      options.circuitBreaker === false
        ? undefined
        : new CircuitBreaker(`the AWS endpoint for ${options.region}`, {
            failureThreshold: 5,
            cooldownMs: 10_000,
            ...options.circuitBreaker,
          });
    const { network, owned } = networkFrom(options.network);
    this.network = network;
    this.ownsNetwork = owned;
    // One handler (one keep-alive agent pair) shared by the three clients: connections are
    // reused across calls; each connection goes direct or through the proxy by its host.
    const requestHandler = network.requestHandler({
      connectionTimeoutMs: options.connectionTimeoutMs ?? 5_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      maxSockets: 16,
    });
    this.requestHandler = requestHandler;
    const credentials =
      options.credentials ?? (options.profile ? fromIni({ profile: options.profile }) : undefined);
    const common = {
      region: options.region,
      requestHandler,
      maxAttempts: options.maxAttempts ?? 3,
      ...(credentials ? { credentials } : {}),
      // The SDK then reads the profile's own settings too (endpoint_url, retry mode, ...).
      ...(options.profile && !options.credentials ? { profile: options.profile } : {}),
    };
    const ep = (svc: 'ssm' | 'ec2' | 'sts' | 'kms'): { endpoint?: string } => {
      const e = options.endpoints?.[svc] ?? options.endpoint;
      return e ? { endpoint: e } : {};
    };
    this.ssm = new SSMClient({ ...common, ...ep('ssm') });
    this.ec2 = new LazyClient(
      'EC2',
      async () => new (await loadEc2Sdk()).EC2Client({ ...common, ...ep('ec2') }),
    );
    this.sts = new LazyClient(
      'STS',
      async () => new (await loadStsSdk()).STSClient({ ...common, ...ep('sts') }),
    );
    this.kms = new LazyClient(
      'KMS',
      async () => new (await loadKmsSdk()).KMSClient({ ...common, ...ep('kms') }),
    );
  }

  /** EC2 (DescribeInstances), made on first use. */
  ec2Client(): Promise<EC2Client> {
    return this.ec2.get();
  }

  /** STS (GetCallerIdentity), made on first use. */
  stsClient(): Promise<STSClient> {
    return this.sts.get();
  }

  /** KMS (for KMS-encrypted sessions), made on first use. */
  kmsClient(): Promise<KMSClient> {
    return this.kms.get();
  }

  /** The lazily made clients that exist so far ('EC2', 'STS', 'KMS'): what this connection has loaded. */
  get lazyClientsMade(): string[] {
    return [this.ec2, this.sts, this.kms].filter((c) => c.isMade).map((c) => c.what);
  }

  /** Data keys for KMS-encrypted sessions, from this profile's KMS (see kms/data-key-provider.ts). */
  get kmsDataKeys(): DataKeyProvider {
    this.kmsProvider ??= new KmsDataKeyProvider(() => this.kms.get(), this.region);
    return this.kmsProvider;
  }

  async startSession(input: StartSessionInput): Promise<SessionStartResult & { target: string }> {
    const out = await this.call('StartSession', () =>
      this.ssm.send(
        new StartSessionCommand({
          Target: input.target,
          ...(input.documentName ? { DocumentName: input.documentName } : {}),
          ...(input.parameters ? { Parameters: input.parameters } : {}),
          ...(input.reason ? { Reason: input.reason } : {}),
        }),
      ),
    );
    if (!out.SessionId || !out.TokenValue || !out.StreamUrl) {
      throw new Error('StartSession returned no SessionId, TokenValue or StreamUrl');
    }
    return {
      sessionId: out.SessionId,
      tokenValue: out.TokenValue,
      streamUrl: out.StreamUrl,
      target: input.target,
    };
  }

  /** A fresh token for reconnecting; undefined when the service says the session is over. */
  async resumeSession(sessionId: string): Promise<SessionStartResult | undefined> {
    const out = await this.call('ResumeSession', () =>
      this.ssm.send(new ResumeSessionCommand({ SessionId: sessionId })),
    );
    if (!out.TokenValue) return undefined;
    return { sessionId, tokenValue: out.TokenValue, streamUrl: out.StreamUrl ?? '' };
  }

  async terminateSession(sessionId: string): Promise<void> {
    await this.call('TerminateSession', () =>
      this.ssm.send(new TerminateSessionCommand({ SessionId: sessionId })),
    );
  }

  async describeSessions(state: 'Active' | 'History', filters: SessionFilter[] = []): Promise<Session[]> {
    const all: Session[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('DescribeSessions', () =>
        this.ssm.send(
          new DescribeSessionsCommand({
            State: state,
            MaxResults: 200,
            ...(filters.length ? { Filters: filters } : {}),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      all.push(...(out.Sessions ?? []));
      token = out.NextToken;
    } while (token);
    return all;
  }

  async describeInstanceInformation(
    filters: InstanceInformationStringFilter[] = [],
  ): Promise<InstanceInformation[]> {
    const all: InstanceInformation[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('DescribeInstanceInformation', () =>
        this.ssm.send(
          new DescribeInstanceInformationCommand({
            MaxResults: 50,
            ...(filters.length ? { Filters: filters } : {}),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      all.push(...(out.InstanceInformationList ?? []));
      token = out.NextToken;
    } while (token);
    return all;
  }

  async describeInstances(filters: Filter[] = [], instanceIds: string[] = []): Promise<Instance[]> {
    const all: Instance[] = [];
    let token: string | undefined;
    const [{ DescribeInstancesCommand }, ec2] = await Promise.all([loadEc2Sdk(), this.ec2.get()]);
    do {
      const out = await this.call('DescribeInstances', () =>
        ec2.send(
          new DescribeInstancesCommand({
            ...(instanceIds.length ? { InstanceIds: instanceIds } : { MaxResults: 1000 }),
            ...(filters.length ? { Filters: filters } : {}),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const r of out.Reservations ?? []) all.push(...(r.Instances ?? []));
      token = out.NextToken;
    } while (token);
    return all;
  }

  async getCallerIdentity(): Promise<{ account: string; arn: string; userId: string }> {
    const [{ GetCallerIdentityCommand }, sts] = await Promise.all([loadStsSdk(), this.sts.get()]);
    const out = await this.call('GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
    return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
  }

  /** EC2 instances joined with their SSM registration, sorted by name. */
  async listInstances(): Promise<InstanceSummary[]> {
    const [ec2, ssm] = await Promise.all([this.describeInstances(), this.describeInstanceInformation()]);
    const info = new Map(ssm.map((i) => [i.InstanceId ?? '', i]));
    const out = ec2.map((inst) => summarize(inst, info.get(inst.InstanceId ?? '')));
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.instanceId.localeCompare(b.instanceId));
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    const attempt = async (): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        // Credentials problems already say what to do (sign in, MFA, the profile's settings).
        if (err instanceof CredentialError) throw err;
        throw describeAwsError(err, action, this.region);
      }
    };
    if (!this.breaker) return attempt();
    // Network errors, timeouts and throttling that outlasted the SDK's retries count against the region.
    return this.breaker.run(attempt, (err) => err instanceof AwsCallError && err.retryable);
  }

  /** The region's circuit: 'open' while calls fail fast after repeated network or throttling errors. */
  get circuitState(): CircuitState {
    return this.breaker?.current ?? 'closed';
  }

  dispose(): void {
    this.ssm.destroy();
    this.ec2.dispose();
    this.sts.dispose();
    this.kms.dispose();
    this.requestHandler.destroy();
    if (this.ownsNetwork) this.network.dispose();
  }
}

const STATES = new Set<InstanceState>([
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
]);

export function summarize(inst: Instance, info: InstanceInformation | undefined): InstanceSummary {
  const tags: Record<string, string> = {};
  for (const t of inst.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  const stateName = inst.State?.Name as InstanceState | undefined;
  const state: InstanceState = stateName && STATES.has(stateName) ? stateName : 'unknown';
  const ping = (info?.PingStatus as InstancePingStatus | undefined) ?? 'NotRegistered';
  let unavailableReason: string | undefined;
  if (state !== 'running') unavailableReason = `the instance is ${state}`;
  else if (ping === 'NotRegistered')
    unavailableReason =
      'the SSM agent has never registered (no instance profile with AmazonSSMManagedInstanceCore, or no route to SSM)';
  else if (ping === 'ConnectionLost')
    unavailableReason = 'the SSM agent stopped reporting (agent stopped or network lost)';
  else if (ping === 'Inactive') unavailableReason = 'the managed instance is inactive';
  return {
    instanceId: inst.InstanceId ?? '',
    name: tags.Name ?? '',
    state,
    pingStatus: ping,
    platform:
      info?.PlatformType ??
      (String(inst.Platform ?? '').toLowerCase() === 'windows'
        ? 'Windows'
        : (inst.PlatformDetails ?? 'Linux')),
    ...(info?.PlatformName ? { platformName: info.PlatformName } : {}),
    ...(info?.AgentVersion ? { agentVersion: info.AgentVersion } : {}),
    ...(inst.InstanceType ? { instanceType: inst.InstanceType } : {}),
    ...(inst.Placement?.AvailabilityZone ? { availabilityZone: inst.Placement.AvailabilityZone } : {}),
    ...(inst.PrivateIpAddress ? { privateIpAddress: inst.PrivateIpAddress } : {}),
    ...(inst.LaunchTime ? { launchTime: inst.LaunchTime.toISOString() } : {}),
    tags,
    ...(unavailableReason ? { unavailableReason } : {}),
  };
}
