/**
 * The sandbox's IAM Identity Center: SSO OIDC (RegisterClient, StartDeviceAuthorization,
 * CreateToken with the device-code and refresh-token grants, AWS's error shapes as the SDK
 * reads them), the portal (GetRoleCredentials through the SDK's own fromSSO provider,
 * ListAccounts, ListAccountRoles, Logout), the admin API that plays the user, and the
 * verification page.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromIni, fromSSO } from '@aws-sdk/credential-providers';
import { CreateTokenCommand, SSOOIDCClient } from '@aws-sdk/nested-clients/sso-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';
import { tempAwsConfig, type TempAwsConfig } from '../helpers/aws-profile.js';

let sandbox: SandboxHandle;
let aws: TempAwsConfig;
const START_URL = 'https://sandbox.awsapps.com/start';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function oidc(
  pathname: string,
  body: unknown,
): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const res = await fetch(`${sandbox.endpoint}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    type: res.headers.get('x-amzn-errortype'),
    json: (await res.json()) as Record<string, unknown>,
  };
}

async function admin(
  method: string,
  pathname: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sandbox.endpoint}/__sandbox${pathname}`, {
    method,
    headers: { 'x-sandbox-admin-token': sandbox.adminToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function portal(pathname: string, token: string | undefined, method = 'GET') {
  const res = await fetch(`${sandbox.endpoint}${pathname}`, {
    method,
    headers: token ? { 'x-amz-sso_bearer_token': token } : {},
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('x-amzn-errortype'),
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Register a client (with scopes: refresh tokens) and start a device authorization. */
async function startSignIn(scopes?: string[]) {
  const reg = await oidc('/client/register', {
    clientName: 'test',
    clientType: 'public',
    ...(scopes ? { scopes } : {}),
  });
  const client = { clientId: reg.json.clientId as string, clientSecret: reg.json.clientSecret as string };
  const auth = await oidc('/device_authorization', { ...client, startUrl: START_URL });
  return {
    client,
    auth: auth.json as {
      deviceCode: string;
      userCode: string;
      verificationUri: string;
      verificationUriComplete: string;
      expiresIn: number;
      interval: number;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, region: 'eu-west-1' });
  aws = await tempAwsConfig('');
});
afterAll(async () => {
  await aws.restore();
  await sandbox.close();
});

describe('SSO OIDC', () => {
  it('runs the device flow: pending, slow down, approval by the admin API, then tokens once', async () => {
    const { client, auth } = await startSignIn(['sso:account:access']);
    expect(auth.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(auth.verificationUri).toBe(`${sandbox.endpoint}/device`);
    expect(auth.verificationUriComplete).toBe(`${sandbox.endpoint}/device?user_code=${auth.userCode}`);
    expect(auth.expiresIn).toBe(600);
    expect(auth.interval).toBe(1);

    const poll = () => oidc('/token', { ...client, grantType: DEVICE_GRANT, deviceCode: auth.deviceCode });
    const pending = await poll();
    expect(pending.status).toBe(400);
    expect(pending.type).toBe('AuthorizationPendingException');
    expect(pending.json.error).toBe('authorization_pending');
    const tooSoon = await poll();
    expect(tooSoon.type).toBe('SlowDownException');
    expect(tooSoon.json.error).toBe('slow_down');

    const listed = await admin('GET', '/sso');
    expect(listed.json.authorizations).toContainEqual(
      expect.objectContaining({
        userCode: auth.userCode,
        status: 'pending',
        startUrl: START_URL,
        clientName: 'test',
      }),
    );
    expect((await admin('POST', '/sso/device', { userCode: auth.userCode, action: 'approve' })).json).toEqual(
      {
        userCode: auth.userCode,
        status: 'approved',
      },
    );
    await sleep(1_000);
    const token = await poll();
    expect(token.status).toBe(200);
    expect(token.json).toMatchObject({ tokenType: 'Bearer', expiresIn: 28_800 });
    expect(token.json.accessToken).toEqual(expect.any(String));
    expect(token.json.refreshToken).toEqual(expect.any(String));
    const again = await poll();
    expect(again.type).toBe('InvalidGrantException');
  });

  it('speaks the SDK: CreateToken errors arrive as the SDK exception classes', async () => {
    const { client, auth } = await startSignIn();
    const sdk = new SSOOIDCClient({ region: 'eu-west-1', endpoint: sandbox.endpoint, maxAttempts: 1 });
    try {
      const create = () =>
        sdk.send(new CreateTokenCommand({ ...client, grantType: DEVICE_GRANT, deviceCode: auth.deviceCode }));
      await expect(create()).rejects.toMatchObject({
        name: 'AuthorizationPendingException',
        error: 'authorization_pending',
      });
      await admin('POST', '/sso/device', { userCode: auth.userCode, action: 'slow-down' });
      await sleep(1_000);
      await expect(create()).rejects.toMatchObject({ name: 'SlowDownException' });
      await admin('POST', '/sso/device', { userCode: auth.userCode, action: 'deny' });
      await sleep(1_000);
      await expect(create()).rejects.toMatchObject({ name: 'AccessDeniedException', error: 'access_denied' });

      const second = await startSignIn();
      await admin('POST', '/sso/device', { userCode: second.auth.userCode, action: 'expire' });
      await expect(
        sdk.send(
          new CreateTokenCommand({
            ...second.client,
            grantType: DEVICE_GRANT,
            deviceCode: second.auth.deviceCode,
          }),
        ),
      ).rejects.toMatchObject({ name: 'ExpiredTokenException', error: 'expired_token' });

      await expect(
        sdk.send(
          new CreateTokenCommand({
            clientId: client.clientId,
            clientSecret: 'wrong',
            grantType: DEVICE_GRANT,
            deviceCode: 'x',
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidClientException', $metadata: { httpStatusCode: 401 } });
      await expect(
        sdk.send(new CreateTokenCommand({ ...client, grantType: 'authorization_code', code: 'x' })),
      ).rejects.toMatchObject({ name: 'UnsupportedGrantTypeException' });
    } finally {
      sdk.destroy();
    }
  });

  it('rejects malformed requests and unknown clients', async () => {
    expect((await oidc('/client/register', { clientType: 'public' })).type).toBe('InvalidRequestException');
    expect((await oidc('/client/register', { clientName: 'x', clientType: 'confidential' })).type).toBe(
      'InvalidClientMetadataException',
    );
    const unknown = await oidc('/device_authorization', {
      clientId: 'nope',
      clientSecret: 'nope',
      startUrl: START_URL,
    });
    expect(unknown.status).toBe(401);
    expect(unknown.type).toBe('InvalidClientException');
    const admin404 = await admin('POST', '/sso/device', { userCode: 'ZZZZ-ZZZZ' });
    expect(admin404.status).toBe(409);
  });
});

/** Sign in through the raw API and return the token response and client. */
async function signedIn(scopes?: string[]) {
  const { client, auth } = await startSignIn(scopes);
  await admin('POST', '/sso/device', { userCode: auth.userCode });
  const token = await oidc('/token', { ...client, grantType: DEVICE_GRANT, deviceCode: auth.deviceCode });
  return { client, token: token.json as { accessToken: string; expiresIn: number; refreshToken?: string } };
}

describe('SSO portal', () => {
  it('GetRoleCredentials through the SDK fromSSO provider with the token cache, usable on STS', async () => {
    const { token } = await signedIn();
    // The legacy cache file the SDK reads for a start URL: ~/.aws/sso/cache/<sha1(start url)>.json.
    await mkdir(aws.ssoCacheDir, { recursive: true });
    const file = path.join(aws.ssoCacheDir, `${createHash('sha1').update(START_URL).digest('hex')}.json`);
    await writeFile(
      file,
      JSON.stringify({
        startUrl: START_URL,
        region: 'eu-west-1',
        accessToken: token.accessToken,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    const creds = await fromSSO({
      ssoStartUrl: START_URL,
      ssoAccountId: '123456789012',
      ssoRegion: 'eu-west-1',
      ssoRoleName: 'SandboxAdmin',
      clientConfig: { endpoint: sandbox.endpoint },
    })();
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(creds.expiration!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    const stsClient = new STSClient({
      endpoint: sandbox.endpoint,
      region: sandbox.region,
      credentials: creds,
      maxAttempts: 1,
    });
    try {
      const id = await stsClient.send(new GetCallerIdentityCommand({}));
      expect(id.Arn).toMatch(
        /^arn:aws:sts::123456789012:assumed-role\/AWSReservedSSO_SandboxAdmin_[0-9a-f]{16}\/sandbox-user$/,
      );
    } finally {
      stsClient.destroy();
    }
    // A role the user is not assigned.
    await expect(
      fromSSO({
        ssoStartUrl: START_URL,
        ssoAccountId: '123456789012',
        ssoRegion: 'eu-west-1',
        ssoRoleName: 'SandboxMfa',
        clientConfig: { endpoint: sandbox.endpoint },
      })(),
    ).rejects.toThrow(/ForbiddenException|No access/);
  });

  it('lists accounts and roles, refuses bad tokens, and logs out', async () => {
    const { token } = await signedIn();
    const accounts = await portal('/assignment/accounts?max_result=10', token.accessToken);
    expect(accounts.json).toEqual({
      accountList: [
        { accountId: '123456789012', accountName: 'Sandbox', emailAddress: 'sandbox@example.com' },
      ],
    });
    const roles = await portal('/assignment/roles?account_id=123456789012&max_result=1', token.accessToken);
    expect(roles.json.roleList).toEqual([{ roleName: 'SandboxAdmin', accountId: '123456789012' }]);
    const next = await portal(
      `/assignment/roles?account_id=123456789012&max_result=1&next_token=${roles.json.nextToken as string}`,
      token.accessToken,
    );
    expect(next.json).toEqual({ roleList: [{ roleName: 'SandboxReadOnly', accountId: '123456789012' }] });

    const none = await portal(
      '/federation/credentials?account_id=123456789012&role_name=SandboxAdmin',
      undefined,
    );
    expect(none).toMatchObject({
      status: 401,
      type: 'UnauthorizedException',
      json: { message: 'Session token not found or invalid' },
    });
    expect((await portal('/logout', token.accessToken, 'POST')).status).toBe(200);
    const after = await portal(
      '/federation/credentials?account_id=123456789012&role_name=SandboxAdmin',
      token.accessToken,
    );
    expect(after.status).toBe(401);
  });

  it('the SDK refreshes an sso-session token with the refresh token (CreateToken refresh_token grant)', async () => {
    const { client, token } = await signedIn(['sso:account:access']);
    await aws.write(
      [
        '[profile dev]',
        'sso_session = corp',
        'sso_account_id = 123456789012',
        'sso_role_name = SandboxReadOnly',
        '',
        '[sso-session corp]',
        `sso_start_url = ${START_URL}`,
        'sso_region = eu-west-1',
        'sso_registration_scopes = sso:account:access',
        '',
      ].join('\n'),
    );
    await mkdir(aws.ssoCacheDir, { recursive: true });
    const file = path.join(aws.ssoCacheDir, `${createHash('sha1').update('corp').digest('hex')}.json`);
    // Expiring within the SDK's 5-minute window: it refreshes before use.
    await writeFile(
      file,
      JSON.stringify({
        startUrl: START_URL,
        region: 'eu-west-1',
        accessToken: token.accessToken,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        registrationExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        refreshToken: token.refreshToken,
      }),
    );
    const creds = await fromIni({
      profile: 'dev',
      ignoreCache: true,
      clientConfig: { endpoint: sandbox.endpoint },
    })();
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    const rewritten = JSON.parse(await readFile(file, 'utf8')) as {
      accessToken: string;
      refreshToken: string;
      expiresAt: string;
    };
    expect(rewritten.accessToken).not.toBe(token.accessToken);
    expect(rewritten.refreshToken).not.toBe(token.refreshToken);
    expect(Date.parse(rewritten.expiresAt)).toBeGreaterThan(Date.now() + 28_000_000);
    // The old refresh token was rotated out.
    const reuse = await oidc('/token', {
      ...client,
      grantType: 'refresh_token',
      refreshToken: token.refreshToken,
    });
    expect(reuse.type).toBe('InvalidGrantException');
    // Revoking ends every session.
    expect((await admin('POST', '/sso/revoke')).status).toBe(200);
    const revoked = await portal('/assignment/accounts', rewritten.accessToken);
    expect(revoked.status).toBe(401);
  });
});

describe('the verification page', () => {
  it('shows the request and approves it only with the form nonce', async () => {
    const { client, auth } = await startSignIn();
    const page = await fetch(auth.verificationUriComplete);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain(auth.userCode);
    expect(html).toContain(START_URL);
    const nonce = /name="nonce" value="([^"]+)"/.exec(html)![1]!;

    const forged = await fetch(`${sandbox.endpoint}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: auth.userCode, decision: 'approve', nonce: 'guess' }).toString(),
    });
    expect(forged.status).toBe(400);
    const ok = await fetch(`${sandbox.endpoint}/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ user_code: auth.userCode, decision: 'approve', nonce }).toString(),
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Request approved');
    const token = await oidc('/token', { ...client, grantType: DEVICE_GRANT, deviceCode: auth.deviceCode });
    expect(token.status).toBe(200);
    expect((await fetch(`${sandbox.endpoint}/device?user_code=${auth.userCode}`)).status).toBe(404);
  });
});
