/**
 * IAM Identity Center (AWS SSO) for the sandbox, part 2: the SSO portal API, REST-JSON
 * without SigV4, authorized by the access token from SSO OIDC in the
 * `x-amz-sso_bearer_token` header (as the SDK's SSO client and the AWS CLI send it):
 *
 *   GET  /federation/credentials?account_id=&role_name=   GetRoleCredentials
 *   GET  /assignment/accounts?max_result=&next_token=     ListAccounts
 *   GET  /assignment/roles?account_id=&max_result=&...    ListAccountRoles
 *   POST /logout                                          Logout
 *
 * GetRoleCredentials returns temporary credentials registered in the credential store, for
 * the identity `arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<role>_<16 hex>/<user>`.
 * A missing, unknown, revoked or expired token is UnauthorizedException ("Session token not
 * found or invalid"); a role the user is not assigned is ForbiddenException ("No access").
 */
import { createHash } from 'node:crypto';
import { roleIdFor } from '../credentials.js';
import type { ApiResponse } from './errors.js';
import { jsonReply, type SandboxSso, type SsoRequest } from './sso-oidc.js';

export const PORTAL_PATHS = [
  '/federation/credentials',
  '/assignment/accounts',
  '/assignment/roles',
  '/logout',
] as const;
export const SSO_BEARER_HEADER = 'x-amz-sso_bearer_token';

class PortalError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function errorReply(err: PortalError, requestId: string): ApiResponse {
  const response = jsonReply(err.status, { message: err.message }, requestId);
  response.headers['x-amzn-ErrorType'] = err.code;
  return response;
}

function page<T>(items: T[], query: URLSearchParams, key: string): { items: T[]; nextToken?: string } {
  const max = Number(query.get('max_result') ?? '100');
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw new PortalError('InvalidRequestException', 'max_result must be an integer from 1 to 100.', 400);
  }
  const tokenText = query.get('next_token');
  let offset = 0;
  if (tokenText) {
    const m = /^(\d+):(.+)$/.exec(Buffer.from(tokenText, 'base64url').toString('utf8'));
    if (!m || m[2] !== key) throw new PortalError('InvalidRequestException', 'Invalid next_token.', 400);
    offset = Number(m[1]);
  }
  const slice = items.slice(offset, offset + max);
  const next =
    offset + max < items.length ? Buffer.from(`${offset + max}:${key}`).toString('base64url') : undefined;
  return { items: slice, ...(next ? { nextToken: next } : {}) };
}

/** The permission-set role name suffix Identity Center adds (stable per account and role). */
function reservedSuffix(accountId: string, roleName: string): string {
  return createHash('sha256').update(`${accountId}/${roleName}`).digest('hex').slice(0, 16);
}

/** Serves the portal API for `sso`. */
export function handlePortal(sso: SandboxSso, req: SsoRequest, requestId: string): ApiResponse {
  try {
    const expectMethod = req.path === '/logout' ? 'POST' : 'GET';
    if (req.method !== expectMethod) {
      throw new PortalError('InvalidRequestException', `${req.path} accepts ${expectMethod} only.`, 400);
    }
    const bearer = req.header(SSO_BEARER_HEADER);
    const session = sso.validAccessToken(bearer);
    if (!session) throw new PortalError('UnauthorizedException', 'Session token not found or invalid', 401);

    if (req.path === '/logout') {
      sso.logout(bearer!);
      return { status: 200, headers: { 'x-amzn-RequestId': requestId }, body: '' };
    }
    if (req.path === '/assignment/accounts') {
      const { items, nextToken } = page(sso.accounts, req.query, 'accounts');
      return jsonReply(
        200,
        {
          accountList: items.map((a) => ({
            accountId: a.accountId,
            accountName: a.accountName,
            ...(a.emailAddress ? { emailAddress: a.emailAddress } : {}),
          })),
          ...(nextToken ? { nextToken } : {}),
        },
        requestId,
      );
    }
    const accountId = req.query.get('account_id');
    if (!accountId) throw new PortalError('InvalidRequestException', 'account_id is required.', 400);
    const account = sso.accounts.find((a) => a.accountId === accountId);
    if (req.path === '/assignment/roles') {
      const roles = account?.roles ?? [];
      const { items, nextToken } = page(roles, req.query, `roles/${accountId}`);
      return jsonReply(
        200,
        { roleList: items.map((roleName) => ({ roleName, accountId })), ...(nextToken ? { nextToken } : {}) },
        requestId,
      );
    }
    // GetRoleCredentials
    const roleName = req.query.get('role_name');
    if (!roleName) throw new PortalError('InvalidRequestException', 'role_name is required.', 400);
    if (!account || !account.roles.includes(roleName))
      throw new PortalError('ForbiddenException', 'No access', 403);
    const now = sso.now();
    const expiration = new Date(Math.floor((now + sso.roleCredentialsTtlSeconds * 1000) / 1000) * 1000);
    const reservedRole = `AWSReservedSSO_${roleName}_${reservedSuffix(accountId, roleName)}`;
    const arn = `arn:aws:sts::${accountId}:assumed-role/${reservedRole}/${session.userName}`;
    const record = sso.store.issueTemporary(
      expiration,
      {
        userName: session.userName,
        arn,
        accountId,
        userId: `${roleIdFor(`arn:aws:iam::${accountId}:role/${reservedRole}`)}:${session.userName}`,
      },
      now,
    );
    return jsonReply(
      200,
      {
        roleCredentials: {
          accessKeyId: record.accessKeyId,
          secretAccessKey: record.secretAccessKey,
          sessionToken: record.sessionToken,
          expiration: expiration.getTime(),
        },
      },
      requestId,
    );
  } catch (err) {
    if (err instanceof PortalError) return errorReply(err, requestId);
    throw err;
  }
}
