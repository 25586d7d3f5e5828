/**
 * The IAM Identity Center sign-in EC2 Connect performs itself (OAuth 2.0 device
 * authorization, RFC 8628, as `aws sso login --use-device-code` does):
 *
 *   RegisterClient (reused from the CLI's registration cache while valid)
 *   -> StartDeviceAuthorization -> the prompter shows the URL and code
 *   -> CreateToken every `interval` seconds: AuthorizationPending: wait; SlowDown: wait 5 s
 *      longer from now on; ExpiredToken: the code expired; AccessDenied: the user said no
 *   -> the token is written to the SSO cache as the CLI writes it (sso-cache.ts), where the
 *      SDK's SSO provider (and `aws`) find it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import type { SsoSettings } from './profile-config.js';
import {
  cliTime,
  readRegistration,
  registrationCacheId,
  tokenCacheId,
  writeRegistration,
  writeSsoToken,
  type SsoRegistrationFile,
  type SsoTokenFile,
} from './sso-cache.js';
import {
  SsoOidcClient,
  SsoOidcError,
  type CreateTokenOutput,
  type SsoOidcClientOptions,
} from './sso-oidc-client.js';
import {
  CredentialError,
  PromptCancelledError,
  PromptCompleted,
  PromptDeclined,
  PromptTimeoutError,
  type CredentialPrompter,
} from './types.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceLoginOptions {
  /** The profile being signed in (for prompts and messages). */
  profile: string;
  sso: SsoSettings;
  prompter: CredentialPrompter;
  /** SSO OIDC endpoint override (the sandbox); default the AWS one for sso.region. */
  endpoint?: string;
  /** Agents for the OIDC calls (proxy, CA bundle: core/net); default Node's global ones. */
  agents?: SsoOidcClientOptions['agents'];
  /** The name registered with the OIDC service (default "ec2-connect"). */
  clientName?: string;
  signal?: AbortSignal;
  /** Seconds added to the polling interval after SlowDownException (default 5, as RFC 8628 says). */
  slowDownSeconds?: number;
  /** How a sign-in command is spelled in messages (default `ec2-connect login --profile <name>`). */
  loginHint?: string;
  logger?: Logger;
  now?: () => number;
}

export interface DeviceLoginResult {
  /** The token file written. */
  path: string;
  expiresAt: Date;
  token: SsoTokenFile;
}

/** The CLI refreshes a cached registration this long before it expires. */
const REGISTRATION_EXPIRY_WINDOW_MS = 15 * 60_000;

export function loginHintFor(profile: string): string {
  return `Sign in with \`ec2-connect login --profile ${profile}\` (or "Sign in" in the app)`;
}

async function registration(
  client: SsoOidcClient,
  options: DeviceLoginOptions,
  now: () => number,
  force: boolean,
): Promise<SsoRegistrationFile> {
  const id = registrationCacheId({
    startUrl: options.sso.startUrl,
    region: options.sso.region,
    ...(options.sso.scopes ? { scopes: options.sso.scopes } : {}),
    ...(options.sso.sessionName ? { sessionName: options.sso.sessionName } : {}),
  });
  if (!force) {
    const cached = await readRegistration(id);
    if (cached && Date.parse(cached.expiresAt) - now() > REGISTRATION_EXPIRY_WINDOW_MS) return cached;
  }
  const name = options.clientName ?? 'ec2-connect';
  const out = await client.registerClient(
    {
      clientName: options.sso.sessionName
        ? `${name}-${options.sso.sessionName}`
        : `${name}-anonymous-${Math.floor(now() / 1000)}`,
      clientType: 'public',
      ...(options.sso.scopes && options.sso.scopes.length > 0 ? { scopes: options.sso.scopes } : {}),
    },
    options.signal,
  );
  const reg: SsoRegistrationFile = {
    clientId: out.clientId,
    clientSecret: out.clientSecret,
    expiresAt: cliTime(out.clientSecretExpiresAt * 1000),
    ...(options.sso.scopes && options.sso.scopes.length > 0 ? { scopes: options.sso.scopes } : {}),
  };
  try {
    await writeRegistration(id, reg);
  } catch (err) {
    options.logger?.warn({ err }, 'could not cache the SSO client registration');
  }
  return reg;
}

function oidcFailure(profile: string, err: unknown, what: string, hint: string): CredentialError {
  if (err instanceof CredentialError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const network = e.cause?.code ?? (e.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
  if (!(err instanceof SsoOidcError) && network) {
    return new CredentialError(
      'network',
      profile,
      `cannot reach IAM Identity Center to ${what} (${network}: ${e.message ?? ''})`,
      'Check the network, the proxy and the SSO region (sso_region).',
      { cause: err },
    );
  }
  return new CredentialError(
    'failed',
    profile,
    `IAM Identity Center refused to ${what} (${err instanceof SsoOidcError ? err.code : (e.name ?? 'Error')}: ${e.message ?? String(err)})`,
    `Check sso_start_url and sso_region, then try again. ${hint}.`,
    { cause: err },
  );
}

/** Signs in to IAM Identity Center with the device flow and caches the token. */
export async function deviceLogin(options: DeviceLoginOptions): Promise<DeviceLoginResult> {
  const now = options.now ?? Date.now;
  const { profile, sso } = options;
  const hint = options.loginHint ?? loginHintFor(profile);
  const client = new SsoOidcClient({
    region: sso.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.agents ? { agents: options.agents } : {}),
  });

  let reg: SsoRegistrationFile;
  let auth;
  try {
    reg = await registration(client, options, now, false);
    try {
      auth = await client.startDeviceAuthorization(
        { clientId: reg.clientId, clientSecret: reg.clientSecret, startUrl: sso.startUrl },
        options.signal,
      );
    } catch (err) {
      // A cached registration the service no longer knows: register again, once.
      if (!(err instanceof SsoOidcError) || err.code !== 'InvalidClientException') throw err;
      reg = await registration(client, options, now, true);
      auth = await client.startDeviceAuthorization(
        { clientId: reg.clientId, clientSecret: reg.clientSecret, startUrl: sso.startUrl },
        options.signal,
      );
    }
  } catch (err) {
    if (options.signal?.aborted) throw cancelled(profile, hint, err);
    throw oidcFailure(profile, err, 'start the sign-in', hint);
  }

  const expiresAt = new Date(now() + auth.expiresIn * 1000);
  let interval = Math.max(1, auth.interval ?? 5);
  const slowDown = options.slowDownSeconds ?? 5;
  const prompt = new AbortController();
  const loop = new AbortController();
  const onOuterAbort = (): void => loop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let promptReason: unknown = new PromptCancelledError('The sign-in is no longer needed.');

  /** The code expired (the service said so, or its time ran out here): the prompt timed out. */
  const codeExpired = (cause?: unknown): CredentialError => {
    promptReason = new PromptTimeoutError('The sign-in code expired.');
    return new CredentialError(
      'sso-login-expired',
      profile,
      `the sign-in code ${auth.userCode} expired before the request was approved`,
      `${hint} again and approve it within ${Math.round(auth.expiresIn / 60)} minutes`,
      cause === undefined ? undefined : { cause },
    );
  };
  const attempt = async (): Promise<CreateTokenOutput | undefined> => {
    try {
      return await client.createToken(
        {
          clientId: reg.clientId,
          clientSecret: reg.clientSecret,
          grantType: DEVICE_CODE_GRANT,
          deviceCode: auth.deviceCode,
        },
        loop.signal,
      );
    } catch (err) {
      if (loop.signal.aborted) throw cancelled(profile, hint, loop.signal.reason);
      if (!(err instanceof SsoOidcError)) throw oidcFailure(profile, err, 'finish the sign-in', hint);
      if (err.code === 'AuthorizationPendingException') return undefined;
      if (err.code === 'SlowDownException') {
        interval += slowDown;
        return undefined;
      }
      if (err.code === 'ExpiredTokenException') throw codeExpired(err);
      if (err.code === 'AccessDeniedException') {
        // The user answered (Deny, in the browser): the prompt is over, not cancelled.
        promptReason = new PromptDeclined('The sign-in request was denied.');
        throw new CredentialError(
          'sso-login-denied',
          profile,
          `the sign-in request ${auth.userCode} was denied in the browser`,
          `${hint} again and choose Allow`,
          { cause: err },
        );
      }
      throw oidcFailure(profile, err, 'finish the sign-in', hint);
    }
  };

  try {
    // The CLI tries once before showing anything (a pre-authorized client needs no prompt).
    let token = await attempt();
    if (!token) {
      const shown = Promise.resolve()
        .then(() =>
          options.prompter.ssoDeviceLogin(
            {
              profile,
              verificationUri: auth.verificationUri,
              ...(auth.verificationUriComplete
                ? { verificationUriComplete: auth.verificationUriComplete }
                : {}),
              userCode: auth.userCode,
              expiresAt,
              startUrl: sso.startUrl,
            },
            prompt.signal,
          ),
        )
        .catch((err: unknown) => {
          // The user dismissed the prompt: stop polling.
          if (!prompt.signal.aborted) loop.abort(err instanceof Error ? err : new PromptCancelledError());
        });
      void shown;
      while (!token) {
        const left = expiresAt.getTime() - now();
        if (left <= 0) throw codeExpired();
        try {
          await sleep(Math.min(interval * 1000, left), undefined, { signal: loop.signal });
        } catch {
          throw cancelled(profile, hint, loop.signal.reason);
        }
        token = await attempt();
      }
    }
    const tokenFile: SsoTokenFile = {
      startUrl: sso.startUrl,
      region: sso.region,
      accessToken: token.accessToken,
      expiresAt: cliTime(now() + token.expiresIn * 1000),
      clientId: reg.clientId,
      clientSecret: reg.clientSecret,
      registrationExpiresAt: reg.expiresAt,
      ...(token.refreshToken ? { refreshToken: token.refreshToken } : {}),
    };
    const path = await writeSsoToken(tokenCacheId(sso), tokenFile);
    promptReason = new PromptCompleted('Signed in.');
    options.logger?.info(
      { profile, startUrl: sso.startUrl, expiresAt: tokenFile.expiresAt },
      'SSO sign-in complete',
    );
    return { path, expiresAt: new Date(tokenFile.expiresAt), token: tokenFile };
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    prompt.abort(promptReason);
  }
}

function cancelled(profile: string, hint: string, reason: unknown): CredentialError {
  if (reason instanceof CredentialError) return reason;
  if (reason instanceof PromptTimeoutError) {
    return new CredentialError(
      'prompt-timeout',
      profile,
      'nobody approved the SSO sign-in in time',
      `${hint} again`,
      {
        cause: reason,
      },
    );
  }
  return new CredentialError(
    'prompt-cancelled',
    profile,
    'the SSO sign-in was cancelled',
    `${hint} when you are ready`,
    {
      cause: reason,
    },
  );
}
