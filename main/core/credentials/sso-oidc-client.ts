/**
 * The three SSO OIDC operations of a device sign-in (RegisterClient,
 * StartDeviceAuthorization, CreateToken). SSO OIDC is unsigned REST-JSON; the SDK packages
 * installed here only carry CreateToken (inside the credential providers), so these calls
 * are made directly, following the service's wire format: POST JSON to
 * https://oidc.<region>.amazonaws.com/{client/register,device_authorization,token}; errors
 * are HTTP 4xx with `x-amzn-ErrorType: <Name>` and `{"error", "error_description"}`.
 *
 * Requests go through node:http(s) with the caller's agents (not fetch, whose connections
 * cannot take the proxy and CA bundle of core/net): failures take fetch's shapes, which
 * sso-login.ts reads (a network error as `cause`, a timeout named TimeoutError, an abort
 * rejected with the signal's reason).
 */
import http from 'node:http';
import https from 'node:https';

export interface RegisterClientOutput {
  clientId: string;
  clientSecret: string;
  /** Seconds since the epoch. */
  clientSecretExpiresAt: number;
}

export interface DeviceAuthorizationOutput {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds. */
  expiresIn: number;
  /** Seconds between polls. */
  interval?: number;
}

export interface CreateTokenOutput {
  accessToken: string;
  tokenType?: string;
  /** Seconds. */
  expiresIn: number;
  refreshToken?: string;
}

/** An SSO OIDC error; `code` is the exception name (AuthorizationPendingException, SlowDownException, ...). */
export class SsoOidcError extends Error {
  override readonly name = 'SsoOidcError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const ERROR_NAMES: Record<string, string> = {
  authorization_pending: 'AuthorizationPendingException',
  slow_down: 'SlowDownException',
  expired_token: 'ExpiredTokenException',
  access_denied: 'AccessDeniedException',
  invalid_grant: 'InvalidGrantException',
  invalid_client: 'InvalidClientException',
  invalid_request: 'InvalidRequestException',
  invalid_scope: 'InvalidScopeException',
  unauthorized_client: 'UnauthorizedClientException',
  unsupported_grant_type: 'UnsupportedGrantTypeException',
};

export interface SsoOidcClientOptions {
  /** sso_region. */
  region: string;
  /** Endpoint override (e.g. the sandbox); default https://oidc.<region>.amazonaws.com. */
  endpoint?: string;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
  /** Agents for http:// and https:// endpoints (core/net routes them through the proxy); default Node's global ones. */
  agents?: { http: http.Agent; https: http.Agent };
}

export class SsoOidcClient {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly agents: { http: http.Agent; https: http.Agent } | undefined;

  constructor(options: SsoOidcClientOptions) {
    this.endpoint = (options.endpoint ?? `https://oidc.${options.region}.amazonaws.com`).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.agents = options.agents;
  }

  registerClient(
    input: { clientName: string; clientType: 'public'; scopes?: string[] },
    signal?: AbortSignal,
  ) {
    return this.post<RegisterClientOutput>('/client/register', input, signal);
  }

  startDeviceAuthorization(
    input: { clientId: string; clientSecret: string; startUrl: string },
    signal?: AbortSignal,
  ) {
    return this.post<DeviceAuthorizationOutput>('/device_authorization', input, signal);
  }

  createToken(
    input: {
      clientId: string;
      clientSecret: string;
      grantType: string;
      deviceCode?: string;
      refreshToken?: string;
    },
    signal?: AbortSignal,
  ) {
    return this.post<CreateTokenOutput>('/token', input, signal);
  }

  private async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.request(`${this.endpoint}${path}`, JSON.stringify(body), signal);
    const text = res.text;
    let data: Record<string, unknown> = {};
    try {
      const parsed = text ? (JSON.parse(text) as unknown) : {};
      if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
    } catch {
      // not JSON: handled below
    }
    if (res.status < 200 || res.status > 299) {
      const typeHeader = res.errorType?.split(':')[0];
      const error = typeof data.error === 'string' ? data.error : undefined;
      const code =
        typeHeader ||
        (typeof data.__type === 'string' ? data.__type.split('#').pop()! : undefined) ||
        (error ? ERROR_NAMES[error] : undefined) ||
        `HTTP${res.status}`;
      const message =
        (typeof data.error_description === 'string' && data.error_description) ||
        (typeof data.message === 'string' && data.message) ||
        error ||
        text.slice(0, 200) ||
        `HTTP ${res.status}`;
      throw new SsoOidcError(code, message, res.status);
    }
    return data as T;
  }

  private request(
    url: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; errorType: string | undefined; text: string }> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const u = new URL(url);
      const secure = u.protocol === 'https:';
      const agent = this.agents ? (secure ? this.agents.https : this.agents.http) : undefined;
      const req = (secure ? https : http).request(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        ...(agent ? { agent } : {}),
      });
      let done = false;
      const finish = (
        err: unknown,
        value?: { status: number; errorType: string | undefined; text: string },
      ) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) {
          req.destroy();
          reject(err);
        } else resolve(value!);
      };
      const onAbort = (): void => finish(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => {
        const err = new Error(`no answer from ${u.host} within ${this.timeoutMs} ms`);
        err.name = 'TimeoutError';
        finish(err);
      }, this.timeoutMs);
      req.on('error', (err) => finish(new Error(`cannot reach ${u.host}: ${err.message}`, { cause: err })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => finish(new Error(`cannot reach ${u.host}: ${err.message}`, { cause: err })));
        res.on('end', () => {
          const type = res.headers['x-amzn-errortype'];
          finish(undefined, {
            status: res.statusCode ?? 0,
            errorType: Array.isArray(type) ? type[0] : type,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.end(body);
    });
  }
}
