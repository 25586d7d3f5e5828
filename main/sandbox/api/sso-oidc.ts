/**
 * IAM Identity Center (AWS SSO) for the sandbox, part 1: the SSO OIDC service and the
 * sign-in ("user") side.
 *
 * SSO OIDC is a REST-JSON API without SigV4 (the AWS CLI and the SDK call it unsigned):
 *
 *   POST /client/register        RegisterClient            {clientName, clientType, scopes?}
 *   POST /device_authorization   StartDeviceAuthorization  {clientId, clientSecret, startUrl}
 *   POST /token                  CreateToken               device_code and refresh_token grants
 *
 * CreateToken with the device code answers AuthorizationPendingException until the user
 * approves the request, SlowDownException when polled faster than the interval,
 * ExpiredTokenException once the device code expired and AccessDeniedException when the
 * user denied it; errors carry `x-amzn-ErrorType` and `{"error", "error_description"}` as
 * AWS sends them. The "user" approves through the admin API (`POST /__sandbox/sso/device`,
 * for tests) or on the verification page this server serves at `/device` (for people).
 *
 * The access tokens it issues unlock the SSO portal API (sso-portal.ts), which hands out
 * role credentials registered in the credential store.
 */
import { randomBytes } from 'node:crypto';
import type { CredentialStore } from '../credentials.js';
import { SANDBOX_ACCOUNT_ID, SANDBOX_USER_NAME } from '../credentials.js';
import { xmlEscape, type ApiResponse } from './errors.js';

export interface SandboxSsoAccount {
  accountId: string;
  accountName: string;
  emailAddress?: string;
  /** Permission sets (role names) the user is assigned in this account. */
  roles: string[];
}

export interface SandboxSsoOptions {
  /** Accounts and roles the signed-in user may use (default: 123456789012 "Sandbox" with SandboxAdmin and SandboxReadOnly). */
  accounts?: SandboxSsoAccount[];
  /** The user who approves sign-ins (default sandbox-user; session ids start with it). */
  userName?: string;
  /** Lifetime of access tokens (default 28800 s = 8 h, the Identity Center default). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of role credentials from GetRoleCredentials (default 3600 s). */
  roleCredentialsTtlSeconds?: number;
  /** Lifetime of a device code (default 600 s, as AWS). */
  deviceCodeTtlSeconds?: number;
  /** Polling interval CreateToken asks for (default 1 s, as AWS). */
  intervalSeconds?: number;
}

export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied' | 'redeemed';
export type DeviceAction = 'approve' | 'deny' | 'expire' | 'slow-down';

interface OidcClient {
  clientId: string;
  clientSecret: string;
  clientName: string;
  scopes: string[];
  expiresAt: number;
}

interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  clientId: string;
  clientName: string;
  startUrl: string;
  status: DeviceAuthorizationStatus;
  createdAt: number;
  expiresAt: number;
  intervalSeconds: number;
  lastPollAt?: number;
  /** Answer the next poll with SlowDownException (admin action). */
  slowDownNext: boolean;
  userName?: string;
  /** Required by the verification page's form (so another site cannot post an approval). */
  pageNonce: string;
}

export interface SsoAccessToken {
  accessToken: string;
  userName: string;
  startUrl: string;
  clientId: string;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshToken {
  refreshToken: string;
  clientId: string;
  userName: string;
  startUrl: string;
  revoked: boolean;
}

/** One SSO request as the HTTP server hands it over. */
export interface SsoRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
  body: Buffer;
  /** http://host:port of this server (for verification URIs). */
  baseUrl: string;
}

export const OIDC_PATHS = ['/client/register', '/device_authorization', '/token'] as const;
export const DEVICE_PAGE_PATH = '/device';
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export class OidcError extends Error {
  constructor(
    readonly code: string,
    readonly error: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function defaultSsoAccounts(): SandboxSsoAccount[] {
  return [
    {
      accountId: SANDBOX_ACCOUNT_ID,
      accountName: 'Sandbox',
      emailAddress: 'sandbox@example.com',
      roles: ['SandboxAdmin', 'SandboxReadOnly'],
    },
  ];
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`Sandbox SSO: ${what} must be a positive integer.`);
  return v;
}

export function jsonReply(status: number, payload: unknown, requestId: string): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-RequestId': requestId },
    body: JSON.stringify(payload),
  };
}

function oidcErrorReply(err: OidcError, requestId: string): ApiResponse {
  const response = jsonReply(
    err.status,
    { error: err.error, error_description: err.message, message: err.message },
    requestId,
  );
  response.headers['x-amzn-ErrorType'] = err.code;
  return response;
}

function parseJson(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new OidcError('InvalidRequestException', 'invalid_request', 'The request body is not valid JSON.');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new OidcError(
      'InvalidRequestException',
      'invalid_request',
      'The request body must be a JSON object.',
    );
  }
  return data as Record<string, unknown>;
}

function str(input: Record<string, unknown>, key: string, required: true): string;
function str(input: Record<string, unknown>, key: string, required?: false): string | undefined;
function str(input: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) {
    if (required)
      throw new OidcError('InvalidRequestException', 'invalid_request', `Missing required parameter ${key}.`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') {
    throw new OidcError(
      'InvalidRequestException',
      'invalid_request',
      `Parameter ${key} must be a non-empty string.`,
    );
  }
  return v;
}

const token = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** The sandbox's IAM Identity Center: OIDC clients, device sign-ins, tokens and the user's assignments. */
export class SandboxSso {
  private readonly clients = new Map<string, OidcClient>();
  private readonly devices = new Map<string, DeviceAuthorization>();
  private readonly accessTokens = new Map<string, SsoAccessToken>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  readonly accounts: SandboxSsoAccount[];
  readonly userName: string;
  readonly accessTokenTtlSeconds: number;
  readonly roleCredentialsTtlSeconds: number;
  readonly deviceCodeTtlSeconds: number;
  readonly intervalSeconds: number;

  constructor(
    readonly store: CredentialStore,
    options: SandboxSsoOptions = {},
    readonly now: () => number = Date.now,
  ) {
    this.accounts = (options.accounts ?? defaultSsoAccounts()).map((a) => {
      if (!/^\d{12}$/.test(a.accountId))
        throw new Error(`Sandbox SSO: account id "${a.accountId}" must be 12 digits.`);
      return { ...a, roles: [...a.roles] };
    });
    this.userName = options.userName ?? SANDBOX_USER_NAME;
    this.accessTokenTtlSeconds = positiveInt(options.accessTokenTtlSeconds, 28_800, 'accessTokenTtlSeconds');
    this.roleCredentialsTtlSeconds = positiveInt(
      options.roleCredentialsTtlSeconds,
      3600,
      'roleCredentialsTtlSeconds',
    );
    this.deviceCodeTtlSeconds = positiveInt(options.deviceCodeTtlSeconds, 600, 'deviceCodeTtlSeconds');
    this.intervalSeconds = positiveInt(options.intervalSeconds, 1, 'intervalSeconds');
  }

  // -----------------------------------------------------------------------------------------
  // OIDC API
  // -----------------------------------------------------------------------------------------

  /** Serves POST /client/register, /device_authorization and /token. */
  handleOidc(req: SsoRequest, requestId: string): ApiResponse {
    try {
      if (req.method !== 'POST') {
        throw new OidcError('InvalidRequestException', 'invalid_request', `${req.path} accepts POST only.`);
      }
      const input = parseJson(req.body);
      let out: Record<string, unknown>;
      if (req.path === '/client/register') out = this.registerClient(input);
      else if (req.path === '/device_authorization') out = this.startDeviceAuthorization(input, req.baseUrl);
      else out = this.createToken(input);
      return jsonReply(200, out, requestId);
    } catch (err) {
      if (err instanceof OidcError) return oidcErrorReply(err, requestId);
      throw err;
    }
  }

  private registerClient(input: Record<string, unknown>): Record<string, unknown> {
    const clientName = str(input, 'clientName', true);
    const clientType = str(input, 'clientType', true);
    if (clientType !== 'public') {
      throw new OidcError(
        'InvalidClientMetadataException',
        'invalid_client_metadata',
        `Invalid clientType ${clientType.slice(0, 40)}: only public clients are supported.`,
      );
    }
    const scopesIn = input.scopes;
    if (scopesIn !== undefined && (!Array.isArray(scopesIn) || scopesIn.some((s) => typeof s !== 'string'))) {
      throw new OidcError('InvalidScopeException', 'invalid_scope', 'scopes must be a list of strings.');
    }
    const now = this.now();
    const client: OidcClient = {
      clientId: token(16),
      clientSecret: token(96),
      clientName,
      scopes: (scopesIn as string[] | undefined) ?? [],
      expiresAt: now + 90 * 86_400_000,
    };
    this.clients.set(client.clientId, client);
    return {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      clientIdIssuedAt: Math.floor(now / 1000),
      clientSecretExpiresAt: Math.floor(client.expiresAt / 1000),
    };
  }

  private client(input: Record<string, unknown>): OidcClient {
    const clientId = str(input, 'clientId', true);
    const clientSecret = str(input, 'clientSecret', true);
    const client = this.clients.get(clientId);
    if (!client || client.clientSecret !== clientSecret) {
      throw new OidcError(
        'InvalidClientException',
        'invalid_client',
        'Invalid client id or client secret.',
        401,
      );
    }
    if (client.expiresAt <= this.now()) {
      throw new OidcError(
        'InvalidClientException',
        'invalid_client',
        'The client registration has expired.',
        401,
      );
    }
    return client;
  }

  private startDeviceAuthorization(input: Record<string, unknown>, baseUrl: string): Record<string, unknown> {
    const client = this.client(input);
    const startUrl = str(input, 'startUrl', true);
    if (!/^https?:\/\/\S+$/.test(startUrl)) {
      throw new OidcError(
        'InvalidRequestException',
        'invalid_request',
        `Invalid start URL ${startUrl.slice(0, 100)}.`,
      );
    }
    const now = this.now();
    const code = [...randomBytes(8)].map((b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join('');
    const device: DeviceAuthorization = {
      deviceCode: token(48),
      userCode: `${code.slice(0, 4)}-${code.slice(4)}`,
      clientId: client.clientId,
      clientName: client.clientName,
      startUrl,
      status: 'pending',
      createdAt: now,
      expiresAt: now + this.deviceCodeTtlSeconds * 1000,
      intervalSeconds: this.intervalSeconds,
      slowDownNext: false,
      pageNonce: token(24),
    };
    this.pruneDevices(now);
    this.devices.set(device.deviceCode, device);
    const verificationUri = `${baseUrl}${DEVICE_PAGE_PATH}`;
    return {
      deviceCode: device.deviceCode,
      userCode: device.userCode,
      verificationUri,
      verificationUriComplete: `${verificationUri}?user_code=${encodeURIComponent(device.userCode)}`,
      expiresIn: this.deviceCodeTtlSeconds,
      interval: device.intervalSeconds,
    };
  }

  private createToken(input: Record<string, unknown>): Record<string, unknown> {
    const client = this.client(input);
    const grantType = str(input, 'grantType', true);
    const now = this.now();
    if (grantType === DEVICE_GRANT) {
      const deviceCode = str(input, 'deviceCode', true);
      const device = this.devices.get(deviceCode);
      if (!device || device.clientId !== client.clientId) {
        throw new OidcError('InvalidGrantException', 'invalid_grant', 'Invalid device code provided.');
      }
      if (device.status === 'redeemed') {
        throw new OidcError('InvalidGrantException', 'invalid_grant', 'The device code was already used.');
      }
      if (device.expiresAt <= now) {
        throw new OidcError('ExpiredTokenException', 'expired_token', 'Device code has expired.');
      }
      if (device.status === 'denied') {
        throw new OidcError(
          'AccessDeniedException',
          'access_denied',
          'The user denied the authorization request.',
        );
      }
      const last = device.lastPollAt;
      device.lastPollAt = now;
      if (device.slowDownNext) {
        device.slowDownNext = false;
        throw new OidcError('SlowDownException', 'slow_down', 'Client is polling too quickly; slow down.');
      }
      if (device.status === 'pending') {
        // 20% grace: timers and the network jitter a little.
        if (last !== undefined && now - last < device.intervalSeconds * 800) {
          throw new OidcError('SlowDownException', 'slow_down', 'Client is polling too quickly; slow down.');
        }
        throw new OidcError(
          'AuthorizationPendingException',
          'authorization_pending',
          'Authorization is still pending.',
        );
      }
      device.status = 'redeemed';
      return this.issueTokens(client, device.userName ?? this.userName, device.startUrl);
    }
    if (grantType === 'refresh_token') {
      const refreshToken = str(input, 'refreshToken', true);
      const record = this.refreshTokens.get(refreshToken);
      if (!record || record.revoked || record.clientId !== client.clientId) {
        throw new OidcError('InvalidGrantException', 'invalid_grant', 'Invalid refresh token provided.');
      }
      // Refresh tokens rotate, as Identity Center's do.
      record.revoked = true;
      return this.issueTokens(client, record.userName, record.startUrl);
    }
    throw new OidcError(
      'UnsupportedGrantTypeException',
      'unsupported_grant_type',
      `Unsupported grant type ${grantType.slice(0, 80)}: the sandbox supports ${DEVICE_GRANT} and refresh_token.`,
    );
  }

  private issueTokens(client: OidcClient, userName: string, startUrl: string): Record<string, unknown> {
    const now = this.now();
    const access: SsoAccessToken = {
      accessToken: `aoa${token(96)}`,
      userName,
      startUrl,
      clientId: client.clientId,
      expiresAt: now + this.accessTokenTtlSeconds * 1000,
      revoked: false,
    };
    this.pruneTokens(now);
    this.accessTokens.set(access.accessToken, access);
    const out: Record<string, unknown> = {
      accessToken: access.accessToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTokenTtlSeconds,
    };
    // Identity Center issues refresh tokens to clients registered with scopes (sso:account:access).
    if (client.scopes.length > 0) {
      const refresh: RefreshToken = {
        refreshToken: `aor${token(96)}`,
        clientId: client.clientId,
        userName,
        startUrl,
        revoked: false,
      };
      this.refreshTokens.set(refresh.refreshToken, refresh);
      out.refreshToken = refresh.refreshToken;
    }
    return out;
  }

  private pruneDevices(now: number): void {
    for (const [k, d] of this.devices) if (d.expiresAt < now - 3600_000) this.devices.delete(k);
  }

  private pruneTokens(now: number): void {
    for (const [k, t] of this.accessTokens) if (t.expiresAt < now - 86_400_000) this.accessTokens.delete(k);
  }

  // -----------------------------------------------------------------------------------------
  // Tokens, for the portal API
  // -----------------------------------------------------------------------------------------

  /** The live access token record, or undefined when the token is unknown, revoked or expired. */
  validAccessToken(accessToken: string | undefined): SsoAccessToken | undefined {
    if (!accessToken) return undefined;
    const t = this.accessTokens.get(accessToken);
    if (!t || t.revoked || t.expiresAt <= this.now()) return undefined;
    return t;
  }

  logout(accessToken: string): boolean {
    const t = this.accessTokens.get(accessToken);
    if (!t) return false;
    t.revoked = true;
    return true;
  }

  // -----------------------------------------------------------------------------------------
  // The user's side (admin API and the verification page)
  // -----------------------------------------------------------------------------------------

  /** Sign-in requests, newest first (no secrets). */
  listAuthorizations(): Array<{
    userCode: string;
    clientName: string;
    startUrl: string;
    status: DeviceAuthorizationStatus | 'expired';
    expiresAt: string;
  }> {
    const now = this.now();
    return [...this.devices.values()]
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((d) => ({
        userCode: d.userCode,
        clientName: d.clientName,
        startUrl: d.startUrl,
        status: d.status === 'pending' && d.expiresAt <= now ? 'expired' : d.status,
        expiresAt: new Date(d.expiresAt).toISOString(),
      }));
  }

  private byUserCode(userCode: string): DeviceAuthorization | undefined {
    const wanted = userCode.trim().toUpperCase();
    let found: DeviceAuthorization | undefined;
    for (const d of this.devices.values()) if (d.userCode === wanted) found = d;
    return found;
  }

  /**
   * Play the user on a sign-in request: approve or deny it, make it expire now, or make the
   * next poll get SlowDownException. Throws an Error saying why when it cannot.
   */
  act(userCode: string, action: DeviceAction, userName?: string): { userCode: string; status: string } {
    const d = this.byUserCode(userCode);
    if (!d) throw new Error(`No sign-in request with the code ${userCode.slice(0, 20)}.`);
    const now = this.now();
    if (action === 'slow-down') {
      d.slowDownNext = true;
    } else if (action === 'expire') {
      d.expiresAt = Math.min(d.expiresAt, now);
    } else {
      if (d.status !== 'pending')
        throw new Error(`The sign-in request ${d.userCode} is already ${d.status}.`);
      if (d.expiresAt <= now) throw new Error(`The sign-in request ${d.userCode} has expired.`);
      d.status = action === 'approve' ? 'approved' : 'denied';
      if (userName) d.userName = userName;
    }
    return {
      userCode: d.userCode,
      status: d.expiresAt <= now && d.status === 'pending' ? 'expired' : d.status,
    };
  }

  /** End every SSO session: all access and refresh tokens stop working (as a sign-out or a session limit does). */
  revokeAll(): { accessTokens: number; refreshTokens: number } {
    let a = 0;
    let r = 0;
    for (const t of this.accessTokens.values()) {
      if (!t.revoked) a++;
      t.revoked = true;
    }
    for (const t of this.refreshTokens.values()) {
      if (!t.revoked) r++;
      t.revoked = true;
    }
    return { accessTokens: a, refreshTokens: r };
  }

  /** GET/POST /device: the verification page where a person approves a sign-in. */
  handleDevicePage(req: SsoRequest): ApiResponse {
    const page = (title: string, body: string, status = 200): ApiResponse => ({
      status,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      },
      body: `<!doctype html><html><head><meta charset="utf-8"><title>${xmlEscape(title)}</title><style>body{font:16px system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}code{font-size:1.4em;letter-spacing:.1em}button{font-size:1em;margin-right:1em;padding:.4em 1.2em}</style></head><body><h1>${xmlEscape(title)}</h1>${body}<p><small>EC2 Connect sandbox: a local emulation of IAM Identity Center. Nothing here reaches AWS.</small></p></body></html>`,
    });
    const now = this.now();
    if (req.method === 'POST') {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const d = this.byUserCode(form.get('user_code') ?? '');
      if (!d || form.get('nonce') !== d.pageNonce) {
        return page('Sign-in request not found', '<p>Start the sign-in again from EC2 Connect.</p>', 400);
      }
      if (d.status !== 'pending' || d.expiresAt <= now) {
        return page(
          'Sign-in request closed',
          `<p>The request ${xmlEscape(d.userCode)} is no longer pending.</p>`,
          409,
        );
      }
      const approve = form.get('decision') === 'approve';
      d.status = approve ? 'approved' : 'denied';
      return approve
        ? page('Request approved', '<p>You can close this window and return to EC2 Connect.</p>')
        : page('Request denied', '<p>The application was not given access.</p>');
    }
    const userCode = req.query.get('user_code');
    if (!userCode) {
      return page(
        'Authorize request',
        `<form method="get" action="${DEVICE_PAGE_PATH}"><p>Enter the code shown by the application:</p><p><input name="user_code" autocomplete="off" required> <button>Next</button></p></form>`,
      );
    }
    const d = this.byUserCode(userCode);
    if (!d || d.status !== 'pending' || d.expiresAt <= now) {
      return page(
        'Code not valid',
        '<p>That code is unknown, used or expired. Start the sign-in again.</p>',
        404,
      );
    }
    return page(
      'Authorize request',
      `<p>Allow <b>${xmlEscape(d.clientName)}</b> to access your data for <b>${xmlEscape(d.startUrl)}</b> as <b>${xmlEscape(this.userName)}</b>?</p>` +
        `<p>Code: <code>${xmlEscape(d.userCode)}</code></p>` +
        `<form method="post" action="${DEVICE_PAGE_PATH}"><input type="hidden" name="user_code" value="${xmlEscape(d.userCode)}"><input type="hidden" name="nonce" value="${xmlEscape(d.pageNonce)}">` +
        '<button name="decision" value="approve">Allow</button><button name="decision" value="deny">Deny</button></form>',
    );
  }
}
