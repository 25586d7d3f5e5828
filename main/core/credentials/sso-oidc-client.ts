/**
 * The three SSO OIDC operations of a device sign-in (RegisterClient,
 * StartDeviceAuthorization, CreateToken). SSO OIDC is unsigned REST-JSON; the SDK packages
 * installed here only carry CreateToken (inside the credential providers), so these calls
 * are made directly, following the service's wire format: POST JSON to
 * https://oidc.<region>.amazonaws.com/{client/register,device_authorization,token}; errors
 * are HTTP 4xx with `x-amzn-ErrorType: <Name>` and `{"error", "error_description"}`.
 */

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
}

export class SsoOidcClient {
  readonly endpoint: string;
  private readonly timeoutMs: number;

  constructor(options: SsoOidcClientOptions) {
    this.endpoint = (options.endpoint ?? `https://oidc.${options.region}.amazonaws.com`).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
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
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const res = await fetch(`${this.endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    let data: Record<string, unknown> = {};
    try {
      const parsed = text ? (JSON.parse(text) as unknown) : {};
      if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
    } catch {
      // not JSON: handled below
    }
    if (!res.ok) {
      const typeHeader = res.headers.get('x-amzn-errortype')?.split(':')[0];
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
}
