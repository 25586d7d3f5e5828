/**
 * CredentialResolver: AWS credentials for a profile of the shared config files, as the
 * AWS CLI would get them, for the app, the CLI and every control plane.
 *
 * - Resolution is the SDK's own (`fromIni` with an MFA code provider and an STS role
 *   assumer, which covers keys, assume-role chains, SSO, credential_process and
 *   credential_source; `fromEnv` for the built-in `environment` profile). Before it, the
 *   profile is checked (profile-config.ts) so that a missing profile, a source_profile loop
 *   or a missing role_arn are reported by name with the fix.
 * - The user is asked through a {@link CredentialPrompter}: MFA codes (wrong codes are asked
 *   again, up to `mfaAttempts`), and the SSO device sign-in, which the resolver performs
 *   itself (sso-login.ts) when there is no valid SSO token, writing the token cache as the
 *   AWS CLI does. `login(profile)` is the explicit "Sign in".
 * - Temporary credentials are cached per profile (and region/endpoint) and refreshed
 *   `refreshMinutes` before they expire, in the background, so a control plane never signs
 *   with expired credentials; a refresh that needs the user prompts (it does not fail the
 *   sessions: the old credentials stay in use until they expire).
 * - `provider(profile)` is an AwsCredentialIdentityProvider for ControlPlaneOptions.credentials.
 */
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { fromEnv, fromIni } from '@aws-sdk/credential-providers';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { silentLogger, type Logger } from '../log/logger.js';
import { networkFrom, type AgentPair, type Network, type NetworkOptions } from '../net/network.js';
import { Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import {
  ENVIRONMENT_PROFILE,
  credentialEndpoint,
  loadConfig,
  planProfile,
  type LoadedConfig,
  type ProfilePlan,
} from './profile-config.js';
import { readSsoToken, tokenCacheId, tokenCachePath } from './sso-cache.js';
import { deviceLogin, loginHintFor, type DeviceLoginResult } from './sso-login.js';
import {
  CredentialError,
  PromptCancelledError,
  PromptCompleted,
  PromptTimeoutError,
  type CredentialPrompter,
} from './types.js';

export interface CredentialResolverOptions {
  /** Who to ask (MFA codes, SSO sign-in). Without one, anything that needs the user fails with a CredentialError saying so. */
  prompter?: CredentialPrompter;
  /** Refresh temporary credentials this long before they expire (default 5 minutes). */
  refreshMinutes?: number;
  /** Endpoint for the credential services (STS, SSO, SSO OIDC), e.g. a standalone sandbox; default: the profile's endpoint settings, then AWS. */
  endpoint?: string;
  /** Region for STS when neither the call nor the profile gives one (default AWS_REGION, else us-east-1). */
  region?: string;
  /** How long an MFA prompt waits for an answer (default 5 minutes). */
  mfaTimeoutMs?: number;
  /** Codes asked for in one resolution before a wrong one fails it (default 3). */
  mfaAttempts?: number;
  /** After a background refresh failed for a reason that does not need the user (network), try again this much later (default 30 s). */
  retryMs?: number;
  /** STS / SSO request timeout (default 15 s). */
  requestTimeoutMs?: number;
  /** Name registered with SSO OIDC (default "ec2-connect"). */
  ssoClientName?: string;
  /** Seconds added to the SSO polling interval after SlowDown (default 5, RFC 8628). */
  ssoSlowDownSeconds?: number;
  /** How messages spell the sign-in action (default: `ec2-connect login --profile <name>` or "Sign in" in the app). */
  loginHint?: (profile: string) => string;
  logger?: Logger;
  /**
   * Proxy and CA bundle for STS, SSO and SSO OIDC: a Network shared by the caller (theirs to
   * dispose), or options for one the resolver owns. Default: direct, Node's trust store.
   */
  network?: Network | NetworkOptions;
  /** Time to open a connection to STS / SSO (default 5 s). */
  connectionTimeoutMs?: number;
}

export interface ProviderOptions {
  /** The region of the clients using the credentials (STS is called there; default: the profile's). */
  region?: string;
  /** Endpoint for STS/SSO (e.g. a standalone sandbox); default the resolver's, then the profile's. */
  endpoint?: string;
}

export interface ResolveOptions extends ProviderOptions {
  /** Ignore cached credentials. */
  forceRefresh?: boolean;
  /** May the user be asked (default true)? false: fail with a CredentialError instead. */
  interactive?: boolean;
  signal?: AbortSignal;
}

export interface CredentialsEvent {
  profile: string;
  region: string | undefined;
  expiration: Date | undefined;
  /** A background refresh (rather than a first resolution or an explicit one). */
  background: boolean;
}

export interface CredentialsFailure {
  profile: string;
  error: CredentialError;
  background: boolean;
}

/** What the UI can show about a profile without resolving it. */
export interface ProfileStatus {
  profile: string;
  kind: ProfilePlan['kind'];
  chain: string[];
  /** MFA devices on the way (the user will be asked for codes). */
  mfaSerials: string[];
  sso?: {
    startUrl: string;
    region: string;
    sessionName?: string;
    accountId: string;
    roleName: string;
    /** A cached SSO token is usable (unexpired, or renewable with its refresh token). */
    signedIn: boolean;
    expiresAt: Date | null;
    tokenFile: string;
  };
  /** Cached credentials of this profile (any region), earliest expiry first. */
  cached?: { expiration: Date | null };
}

/** A provider for ControlPlaneOptions.credentials (the SDK calls it before each request). */
export type CredentialProvider = AwsCredentialIdentityProvider & { readonly profile: string };

interface Entry {
  key: string;
  profile: string;
  region?: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
  inflight?: Promise<AwsCredentialIdentity>;
  timer?: NodeJS.Timeout;
  /** A provider exists: keep it fresh in the background. */
  active: boolean;
  /** The SSO token cache id its credentials come from. */
  ssoId?: string;
  /** No background refresh before this time (after one the user cancelled or could not answer). */
  quietUntil?: number;
}

interface Ctx {
  interactive: boolean;
  background: boolean;
  signal?: AbortSignal;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

export class CredentialResolver implements Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly ssoLogins = new Map<string, Promise<DeviceLoginResult>>();
  private readonly network: Network;
  private readonly ownsNetwork: boolean;
  private readonly handler: NodeHttpHandler;
  /** Agents for the SSO OIDC calls of a device sign-in (plain HTTPS, not through the SDK). */
  private readonly oidcAgents: AgentPair;
  private readonly closing = new AbortController();
  private readonly didResolve = new Emitter<CredentialsEvent>();
  private readonly didFail = new Emitter<CredentialsFailure>();
  private readonly log: Logger;
  private disposed = false;
  readonly refreshMs: number;

  /** Credentials were resolved or refreshed for a profile. */
  readonly onDidResolve: Event<CredentialsEvent> = this.didResolve.event;
  /** Resolving (or refreshing, `background`) failed; the error says what to do. */
  readonly onDidFail: Event<CredentialsFailure> = this.didFail.event;

  constructor(private readonly options: CredentialResolverOptions = {}) {
    const minutes = options.refreshMinutes ?? 5;
    if (!(minutes >= 0) || !Number.isFinite(minutes)) {
      throw new Error(
        `refreshMinutes must be a number of minutes >= 0, got ${String(options.refreshMinutes)}.`,
      );
    }
    this.refreshMs = minutes * 60_000;
    this.log = options.logger ?? silentLogger;
    const { network, owned } = networkFrom(options.network);
    this.network = network;
    this.ownsNetwork = owned;
    this.handler = network.requestHandler({
      connectionTimeoutMs: options.connectionTimeoutMs ?? 5_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      maxSockets: 8,
    });
    this.oidcAgents = network.agents({ keepAlive: true, maxSockets: 4 });
  }

  get prompter(): CredentialPrompter | undefined {
    return this.options.prompter;
  }

  // -------------------------------------------------------------------------------------------
  // Public API
  // -------------------------------------------------------------------------------------------

  /**
   * A credentials provider for the profile, for SDK clients (ControlPlaneOptions.credentials):
   * cached credentials while they are fresh, refreshed in the background before they expire;
   * when there are none (or they expired) it resolves, asking the user as needed.
   */
  provider(profile: string, options: ProviderOptions = {}): CredentialProvider {
    const entry = this.entry(profile, options);
    entry.active = true;
    const fn = async (): Promise<AwsCredentialIdentity> => {
      if (this.disposed) throw new Error('The credential resolver was disposed.');
      const c = entry.credentials;
      if (c) {
        const left = c.expiration ? c.expiration.getTime() - Date.now() : Infinity;
        if (left > this.refreshMs) return c;
        // Still good for a while: use them and refresh behind (a prompt must not stall the call).
        if (left > Math.min(10_000, this.refreshMs / 4)) {
          this.refreshInBackground(entry);
          return c;
        }
      }
      return this.resolveEntry(entry, { interactive: true, background: false });
    };
    // The SDK would otherwise memoize this provider and reuse credentials until 5 minutes
    // before their expiry; this one caches (and refreshes) itself, so the SDK asks every time.
    return Object.assign(fn, { profile, memoized: true });
  }

  /** Credentials for the profile now (cached ones while fresh unless `forceRefresh`). */
  resolve(profile: string, options: ResolveOptions = {}): Promise<AwsCredentialIdentity> {
    const entry = this.entry(profile, options);
    if (!options.forceRefresh && entry.credentials && this.isFresh(entry.credentials)) {
      return Promise.resolve(entry.credentials);
    }
    return this.resolveEntry(
      entry,
      {
        interactive: options.interactive ?? true,
        background: false,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      options.forceRefresh,
    );
  }

  /**
   * Sign in to IAM Identity Center for an SSO profile (or a role profile whose source is
   * one), even when a token is cached: the device flow through the prompter, then the token
   * cache. Cached credentials that came from that sign-in are dropped (the next use takes the
   * new one). Resolves with the token's expiry.
   */
  async login(
    profile: string,
    options: { signal?: AbortSignal; endpoint?: string } = {},
  ): Promise<{ profile: string; expiresAt: Date; tokenFile: string }> {
    const cfg = await loadConfig();
    const plan = planProfile(profile, cfg);
    if (!plan.sso) {
      throw new CredentialError(
        'not-sso',
        profile,
        `it does not use IAM Identity Center (its credentials come from ${sourceText(plan)})`,
        'Sign-in is for SSO profiles (sso_session or sso_start_url); this one needs nothing more',
      );
    }
    if (!this.options.prompter) {
      throw new CredentialError(
        'sso-login-required',
        profile,
        'signing in needs somewhere to show the sign-in code, and there is none here',
        'Sign in from the app or an interactive terminal',
      );
    }
    const endpoint =
      options.endpoint ?? this.options.endpoint ?? credentialEndpoint('sso_oidc', plan.chain, cfg);
    const result = await this.loginSso(plan, endpoint, options.signal);
    const id = tokenCacheId(plan.sso);
    for (const entry of this.entries.values()) {
      if (entry.ssoId === id && !entry.inflight) {
        entry.credentials = undefined;
        entry.quietUntil = undefined;
        if (entry.timer) clearTimeout(entry.timer);
      }
    }
    return { profile, expiresAt: result.expiresAt, tokenFile: result.path };
  }

  /** The profile's plan (kind, chain, source) or the CredentialError its configuration deserves. No network. */
  async describe(profile: string): Promise<ProfilePlan> {
    return planProfile(profile, await loadConfig());
  }

  /** What the UI shows about a profile: kind, MFA devices, SSO sign-in state, cached credentials. */
  async status(profile: string): Promise<ProfileStatus> {
    const plan = await this.describe(profile);
    const out: ProfileStatus = {
      profile,
      kind: plan.kind,
      chain: plan.chain,
      mfaSerials: plan.roles.flatMap((r) => (r.mfaSerial ? [r.mfaSerial] : [])),
    };
    if (plan.sso) {
      const id = tokenCacheId(plan.sso);
      const token = await readSsoToken(id);
      const expiresAt = token ? new Date(token.expiresAt) : null;
      out.sso = {
        startUrl: plan.sso.startUrl,
        region: plan.sso.region,
        ...(plan.sso.sessionName ? { sessionName: plan.sso.sessionName } : {}),
        accountId: plan.sso.accountId,
        roleName: plan.sso.roleName,
        // Unexpired, or expired but renewable with its refresh token (sso-session profiles).
        signedIn:
          expiresAt !== null &&
          (expiresAt.getTime() > Date.now() ||
            Boolean(plan.sso.sessionName && token?.refreshToken && token.clientId && token.clientSecret)),
        expiresAt,
        tokenFile: tokenCachePath(id),
      };
    }
    const cached = [...this.entries.values()].filter((e) => e.profile === profile && e.credentials);
    if (cached.length > 0) {
      const times = cached.map((e) => e.credentials!.expiration?.getTime() ?? Infinity);
      const first = Math.min(...times);
      out.cached = { expiration: Number.isFinite(first) ? new Date(first) : null };
    }
    return out;
  }

  /** Drop cached credentials (of one profile, or all) and their refresh timers. */
  forget(profile?: string): void {
    for (const [key, entry] of this.entries) {
      if (profile !== undefined && entry.profile !== profile) continue;
      if (entry.timer) clearTimeout(entry.timer);
      entry.credentials = undefined;
      if (!entry.active) this.entries.delete(key);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closing.abort(new PromptCancelledError('EC2 Connect is closing.'));
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
    this.didResolve.dispose();
    this.didFail.dispose();
    this.handler.destroy();
    this.oidcAgents.dispose();
    if (this.ownsNetwork) this.network.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // Cache and refresh
  // -------------------------------------------------------------------------------------------

  private entry(profile: string, options: ProviderOptions): Entry {
    const endpoint = options.endpoint ?? this.options.endpoint;
    const key = `${profile}\u0000${options.region ?? ''}\u0000${endpoint ?? ''}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        key,
        profile,
        ...(options.region ? { region: options.region } : {}),
        ...(endpoint ? { endpoint } : {}),
        active: false,
      };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private isFresh(c: AwsCredentialIdentity): boolean {
    return !c.expiration || c.expiration.getTime() - Date.now() > this.refreshMs;
  }

  private resolveEntry(entry: Entry, ctx: Ctx, force = false): Promise<AwsCredentialIdentity> {
    if (this.disposed) return Promise.reject(new Error('The credential resolver was disposed.'));
    if (!force && entry.credentials && this.isFresh(entry.credentials))
      return Promise.resolve(entry.credentials);
    if (entry.inflight) return entry.inflight;
    const p = this.fetch(entry, ctx).then(
      (creds) => {
        entry.credentials = creds;
        this.schedule(entry);
        this.log.debug(
          { profile: entry.profile, expiration: creds.expiration?.toISOString(), background: ctx.background },
          'credentials resolved',
        );
        this.didResolve.fire({
          profile: entry.profile,
          region: entry.region,
          expiration: creds.expiration,
          background: ctx.background,
        });
        return creds;
      },
      (err: unknown) => {
        const error =
          err instanceof CredentialError
            ? err
            : new CredentialError(
                'failed',
                entry.profile,
                (err as Error)?.message ?? String(err),
                'Try again',
                {
                  cause: err,
                },
              );
        this.didFail.fire({ profile: entry.profile, error, background: ctx.background });
        throw error;
      },
    );
    entry.inflight = p;
    const clear = (): void => {
      if (entry.inflight === p) entry.inflight = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private schedule(entry: Entry, delayMs?: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    const exp = entry.credentials?.expiration?.getTime();
    if (this.disposed || !entry.active || exp === undefined) return;
    const now = Date.now();
    let delay = delayMs ?? exp - this.refreshMs - now;
    // Credentials that live less than the refresh window: refresh halfway through what is left.
    if (delayMs === undefined && delay < 1_000) delay = Math.max(1_000, (exp - now) / 2);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.refreshInBackground(entry);
    }, delay);
    entry.timer.unref();
  }

  private refreshInBackground(entry: Entry): void {
    if (this.disposed || entry.inflight) return;
    if (entry.quietUntil !== undefined && Date.now() < entry.quietUntil) return;
    entry.quietUntil = undefined;
    this.resolveEntry(entry, { interactive: true, background: true }, true).catch((err: unknown) => {
      const error = err as CredentialError;
      this.log.warn(
        { profile: entry.profile, code: error.code, err: error.message },
        'refreshing credentials failed',
      );
      const exp = entry.credentials?.expiration?.getTime();
      if (exp === undefined || exp <= Date.now()) return;
      if (error.needsUser) {
        // The user cancelled or could not be asked: do not ask again on every call; once the
        // credentials expire, the next use asks (and waits for) the user.
        entry.quietUntil = exp;
        return;
      }
      this.schedule(entry, Math.max(1_000, Math.min(this.options.retryMs ?? 30_000, (exp - Date.now()) / 2)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Resolution
  // -------------------------------------------------------------------------------------------

  private async fetch(entry: Entry, ctx: Ctx): Promise<AwsCredentialIdentity> {
    const cfg = await loadConfig();
    const plan = planProfile(entry.profile, cfg);
    if (plan.kind === 'environment') return this.fromEnvironment(entry.profile);
    const endpointOf = (service: 'sts' | 'sso' | 'sso_oidc'): string | undefined =>
      entry.endpoint ?? credentialEndpoint(service, plan.chain, cfg);
    const stsRegion =
      entry.region ??
      plan.region ??
      this.options.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      'us-east-1';
    if (plan.sso) {
      entry.ssoId = tokenCacheId(plan.sso);
      await this.ensureSsoToken(plan, ctx, endpointOf('sso_oidc'));
    }
    const ssoEndpoint = endpointOf('sso');
    const stsEndpoint = endpointOf('sts');
    let attempt = 1;
    let retryReason: string | undefined;
    let signedIn = false;
    for (;;) {
      const asked: { serial?: string; code?: string } = {};
      try {
        return await fromIni({
          profile: entry.profile,
          filepath: plan.files.credentials,
          configFilepath: plan.files.config,
          ignoreCache: true,
          mfaCodeProvider: async (serial: string) => {
            asked.serial = serial;
            asked.code = await this.askMfa(plan, serial, ctx, attempt, retryReason);
            return asked.code;
          },
          roleAssumer: this.roleAssumer(stsRegion, stsEndpoint),
          clientConfig: { requestHandler: this.handler, ...(ssoEndpoint ? { endpoint: ssoEndpoint } : {}) },
        })();
      } catch (err) {
        const error = this.explain(err, plan, cfg, asked.serial);
        if (
          error.code === 'mfa-invalid' &&
          asked.code !== undefined &&
          ctx.interactive &&
          this.options.prompter &&
          attempt < (this.options.mfaAttempts ?? 3)
        ) {
          attempt++;
          // What STS said, as the user should see it (e.g. "invalid MFA one time pass code").
          const said = error.cause instanceof Error ? error.cause.message.trim().replace(/[.\s]+$/, '') : '';
          retryReason = `STS refused the code ${asked.code}${said ? ` (${said})` : ''}`;
          continue;
        }
        if (
          (error.code === 'sso-token-expired' || error.code === 'sso-login-required') &&
          plan.sso &&
          !signedIn &&
          ctx.interactive &&
          this.options.prompter
        ) {
          signedIn = true;
          await this.loginSso(plan, endpointOf('sso_oidc'), ctx.signal);
          continue;
        }
        throw error;
      }
    }
  }

  private async fromEnvironment(profile: string): Promise<AwsCredentialIdentity> {
    if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
      throw new CredentialError(
        'environment-missing',
        profile,
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set in the environment',
        'Set them (and AWS_SESSION_TOKEN for temporary keys) before starting EC2 Connect, or pick another profile',
      );
    }
    return fromEnv()();
  }

  /** An STS AssumeRole call signed with the source credentials, at the profile's STS endpoint. */
  private roleAssumer(region: string, endpoint: string | undefined) {
    return async (
      source: AwsCredentialIdentity,
      params: AssumeRoleCommandInput,
    ): Promise<AwsCredentialIdentity> => {
      // One client per call: its credentials are the source of this hop (the SDK memoizes a client's credentials).
      const sts = new STSClient({
        region,
        ...(endpoint ? { endpoint } : {}),
        credentials: {
          accessKeyId: source.accessKeyId,
          secretAccessKey: source.secretAccessKey,
          ...(source.sessionToken ? { sessionToken: source.sessionToken } : {}),
        },
        requestHandler: this.handler,
        maxAttempts: 2,
      });
      const out = await sts.send(new AssumeRoleCommand(params));
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new Error(`STS AssumeRole returned no credentials for ${params.RoleArn ?? 'the role'}.`);
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    };
  }

  private async askMfa(
    plan: ProfilePlan,
    serial: string,
    ctx: Ctx,
    attempt: number,
    retryReason: string | undefined,
  ): Promise<string> {
    const hop = plan.roles.find((r) => r.mfaSerial === serial);
    const role = hop
      ? `the role ${hop.roleArn}${hop.profile !== plan.profile ? ` (profile "${hop.profile}")` : ''}`
      : 'the role';
    const prompter = this.options.prompter;
    if (!prompter || !ctx.interactive) {
      throw new CredentialError(
        'mfa-required',
        plan.profile,
        `assuming ${role} needs a code from the MFA device ${serial}`,
        'EC2 Connect asks for it in the app or on an interactive terminal: run the command in a terminal, or use the app',
      );
    }
    const ac = new AbortController();
    const timeoutMs = this.options.mfaTimeoutMs ?? 5 * 60_000;
    const timer = setTimeout(() => ac.abort(new PromptTimeoutError()), timeoutMs);
    const outer = ctx.signal;
    const closing = this.closing.signal;
    const onOuter = (): void => ac.abort(outer?.reason);
    const onClosing = (): void => ac.abort(new PromptCancelledError('EC2 Connect is closing.'));
    if (outer?.aborted) onOuter();
    outer?.addEventListener('abort', onOuter, { once: true });
    closing.addEventListener('abort', onClosing, { once: true });
    try {
      const code = await new Promise<string>((resolve, reject) => {
        ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
        prompter
          .mfa(plan.profile, serial, ac.signal, {
            attempt,
            ...(retryReason ? { retryReason } : {}),
            chain: plan.chain,
            ...(hop ? { roleArn: hop.roleArn } : {}),
          })
          .then(resolve, reject);
      });
      const trimmed = String(code).trim();
      if (!/^\d{6}$/.test(trimmed)) {
        throw new CredentialError(
          'mfa-invalid',
          plan.profile,
          `"${trimmed.slice(0, 20)}" is not an MFA code (6 digits) for ${serial}`,
          'Enter the 6-digit code the MFA device shows now',
        );
      }
      return trimmed;
    } catch (err) {
      if (err instanceof CredentialError) throw err;
      if (err instanceof PromptTimeoutError || ac.signal.reason instanceof PromptTimeoutError) {
        throw new CredentialError(
          'prompt-timeout',
          plan.profile,
          `nobody entered the MFA code for ${serial} within ${Math.round(timeoutMs / 1000)} s`,
          'Try again and enter the code when asked',
          { cause: err },
        );
      }
      throw new CredentialError(
        'prompt-cancelled',
        plan.profile,
        `the MFA prompt for ${serial} was cancelled`,
        'Try again when you have the MFA device at hand',
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
      closing.removeEventListener('abort', onClosing);
      if (!ac.signal.aborted) ac.abort(new PromptCompleted());
    }
  }

  private hint(profile: string): string {
    return this.options.loginHint?.(profile) ?? loginHintFor(profile);
  }

  private ssoError(
    code: 'sso-login-required' | 'sso-token-expired',
    plan: ProfilePlan,
    cause?: unknown,
  ): CredentialError {
    const sso = plan.sso!;
    const what = sso.sessionName ? `sso-session ${sso.sessionName} (${sso.startUrl})` : sso.startUrl;
    return new CredentialError(
      code,
      plan.profile,
      code === 'sso-login-required'
        ? `not signed in to IAM Identity Center: no SSO token cached for ${what}`
        : `the IAM Identity Center sign-in for ${what} has expired or was revoked`,
      this.hint(plan.profile),
      cause === undefined ? undefined : { cause },
    );
  }

  /** Makes sure a usable SSO token is cached, signing in (through the prompter) when not. */
  private async ensureSsoToken(plan: ProfilePlan, ctx: Ctx, oidcEndpoint: string | undefined): Promise<void> {
    const sso = plan.sso!;
    const token = await readSsoToken(tokenCacheId(sso));
    let need: 'sso-login-required' | 'sso-token-expired' | undefined;
    if (!token) need = 'sso-login-required';
    else if (Date.parse(token.expiresAt) <= Date.now()) {
      // An sso-session token with a refresh token: the SDK's SSO provider refreshes it itself.
      const refreshable = Boolean(
        sso.sessionName && token.refreshToken && token.clientId && token.clientSecret,
      );
      if (!refreshable) need = 'sso-token-expired';
    }
    if (!need) return;
    if (!ctx.interactive || !this.options.prompter) throw this.ssoError(need, plan);
    await this.loginSso(plan, oidcEndpoint, ctx.signal);
  }

  /** One device sign-in per SSO session at a time, shared by every profile that needs it. */
  private loginSso(
    plan: ProfilePlan,
    endpoint: string | undefined,
    signal?: AbortSignal,
  ): Promise<DeviceLoginResult> {
    const sso = plan.sso!;
    const id = tokenCacheId(sso);
    let p = this.ssoLogins.get(id);
    if (!p) {
      const signals = [this.closing.signal, ...(signal ? [signal] : [])];
      p = deviceLogin({
        profile: plan.profile,
        sso,
        prompter: this.options.prompter!,
        ...(endpoint ? { endpoint } : {}),
        agents: { http: this.oidcAgents.http, https: this.oidcAgents.https },
        ...(this.options.ssoClientName ? { clientName: this.options.ssoClientName } : {}),
        ...(this.options.ssoSlowDownSeconds !== undefined
          ? { slowDownSeconds: this.options.ssoSlowDownSeconds }
          : {}),
        signal: AbortSignal.any(signals),
        loginHint: this.hint(plan.profile),
        logger: this.log,
      });
      this.ssoLogins.set(id, p);
      const clear = (): void => {
        if (this.ssoLogins.get(id) === p) this.ssoLogins.delete(id);
      };
      p.then(clear, clear);
    }
    return p;
  }

  /** The SDK's (or STS's) error as a CredentialError that names the profile and the fix. */
  private explain(
    err: unknown,
    plan: ProfilePlan,
    cfg: LoadedConfig,
    mfaSerial: string | undefined,
  ): CredentialError {
    if (err instanceof CredentialError) return err;
    const e = (err ?? {}) as { name?: string; message?: string; code?: string; cause?: { code?: string } };
    const name = e.name ?? 'Error';
    const message = String(e.message ?? err).trim();
    const profile = plan.profile;
    const source = plan.source.profile;
    const role = plan.roles.length > 0 ? plan.roles[plan.roles.length - 1]!.roleArn : undefined;

    if (/MultiFactorAuthentication failed/i.test(message)) {
      if (/invalid MFA one time pass code/i.test(message)) {
        return new CredentialError(
          'mfa-invalid',
          profile,
          `STS refused the MFA code for ${mfaSerial ?? 'the MFA device'} (${message.replace(/[.\s]+$/, '')})`,
          'Enter the code the device shows now (codes change every 30 seconds; check the device clock)',
          { cause: err },
        );
      }
      return new CredentialError(
        'mfa-invalid',
        profile,
        `STS could not check the MFA code: ${message.replace(/[.\s]+$/, '')}`,
        `Check mfa_serial (${mfaSerial ?? 'not set'}): it must be the ARN of an MFA device of the user in profile "${source}"`,
        { cause: err },
      );
    }
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      return new CredentialError(
        'assume-role-denied',
        profile,
        `STS refused to assume ${role ?? 'the role'}: ${message.replace(/[.\s]+$/, '')}`,
        `Check role_arn, the role's trust policy and external_id (and mfa_serial if the role requires MFA) in ${cfg.files.config}`,
        { cause: err },
      );
    }
    if (
      name === 'ExpiredToken' ||
      name === 'ExpiredTokenException' ||
      /security token included in the request is expired/i.test(message)
    ) {
      return new CredentialError(
        'source-expired',
        profile,
        `the credentials of profile "${source}" have expired (${message.replace(/[.\s]+$/, '')})`,
        plan.source.kind === 'static'
          ? `Put fresh keys (with aws_session_token) in [${source}] of ${cfg.files.credentials}`
          : 'Try again; if it persists, sign in again',
        { cause: err },
      );
    }
    if (
      name === 'InvalidClientTokenId' ||
      name === 'SignatureDoesNotMatch' ||
      name === 'UnrecognizedClientException'
    ) {
      return new CredentialError(
        'invalid-keys',
        profile,
        `STS rejected the keys of profile "${source}" (${name}: ${message.replace(/[.\s]+$/, '')})`,
        `Check aws_access_key_id and aws_secret_access_key of [${source}] in ${cfg.files.credentials}, and this computer's clock`,
        { cause: err },
      );
    }
    if (plan.sso) {
      if (
        /(SSO session|token).*(expired)|Token is expired/i.test(message) ||
        /UnauthorizedException|Session token not found or invalid/i.test(`${name} ${message}`)
      ) {
        return this.ssoError('sso-token-expired', plan, err);
      }
      if (/SSO session.*(invalid|not found)|token associated with profile.*not found/i.test(message)) {
        return this.ssoError('sso-login-required', plan, err);
      }
      if (/ForbiddenException|No access/i.test(`${name} ${message}`)) {
        return new CredentialError(
          'sso-no-access',
          profile,
          `your IAM Identity Center user may not use the role ${plan.sso.roleName} in account ${plan.sso.accountId}`,
          `Check sso_account_id and sso_role_name of [profile ${plan.sso.profile}] (or ask for that assignment)`,
          { cause: err },
        );
      }
    }
    if (plan.source.kind === 'process' && plan.roles.length === 0) {
      const failed = /^Command failed: ([^\n]*)\n?([\s\S]*)$/.exec(message);
      if (failed) {
        const stderr = failed[2]!.trim();
        return new CredentialError(
          'process-failed',
          profile,
          `credential_process failed: ${stderr ? stderr.slice(0, 2000) : 'it exited with an error and printed nothing on stderr'}`,
          `Run it yourself to see why: ${failed[1]}`,
          { cause: err },
        );
      }
      if (/credential_process/.test(message)) {
        return new CredentialError(
          'process-failed',
          profile,
          message.replace(/^Profile \S+ /, '').replace(/[.\s]+$/, ''),
          `It must print {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ..., "SessionToken": ..., "Expiration": ...} on stdout; run it yourself: ${plan.source.detail ?? ''}`,
          { cause: err },
        );
      }
    }
    const netCode =
      e.code && NETWORK_CODES.has(e.code)
        ? e.code
        : e.cause?.code && NETWORK_CODES.has(e.cause.code)
          ? e.cause.code
          : name === 'TimeoutError'
            ? 'ETIMEDOUT'
            : undefined;
    if (netCode) {
      return new CredentialError(
        'network',
        profile,
        `cannot reach ${plan.sso ? 'IAM Identity Center' : 'STS'} to get credentials (${netCode}: ${message})`,
        'Check the network, the proxy and the endpoint settings (endpoint_url)',
        { cause: err },
      );
    }
    return new CredentialError(
      'failed',
      profile,
      `${name === 'Error' || name === 'CredentialsProviderError' ? '' : `${name}: `}${message.replace(/[.\s]+$/, '')}`,
      `Check the profile in ${cfg.files.config} and ${cfg.files.credentials}`,
      { cause: err },
    );
  }
}

function sourceText(plan: ProfilePlan): string {
  switch (plan.source.kind) {
    case 'static':
      return `the keys of profile "${plan.source.profile}"`;
    case 'process':
      return `credential_process of profile "${plan.source.profile}"`;
    case 'credential-source':
      return `credential_source = ${plan.source.detail ?? ''}`;
    case 'environment':
      return 'environment variables';
    default:
      return `profile "${plan.source.profile}"`;
  }
}

export { ENVIRONMENT_PROFILE };
