/**
 * SSO (IAM Identity Center) profiles through the resolver, against the sandbox: the device
 * sign-in (pending until the "user" approves through the admin API), the token cache written
 * as the AWS CLI writes it and reused without prompting (by another resolver and by the
 * SDK's own provider), expired or revoked tokens turning into a new prompt, denied / expired
 * / slowed-down / cancelled sign-ins, the explicit login, and nobody to ask.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fromIni } from '@aws-sdk/credential-providers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialResolver } from '../../../main/core/credentials/resolver.js';
import { registrationCacheId } from '../../../main/core/credentials/sso-cache.js';
import {
  CredentialError,
  PromptCancelledError,
  PromptCompleted,
  PromptTimeoutError,
} from '../../../main/core/credentials/types.js';
import {
  LEGACY_START_URL,
  REGION,
  START_URL,
  ScriptedPrompter,
  adminSso,
  rejection,
  startCredentialsFixture,
  whoami,
  type CredentialsFixture,
} from './fixture.js';

let fx: CredentialsFixture;
const resolvers: CredentialResolver[] = [];
function resolver(options: ConstructorParameters<typeof CredentialResolver>[0] = {}): CredentialResolver {
  const r = new CredentialResolver(options);
  resolvers.push(r);
  return r;
}
const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const tokenFile = (): string => path.join(fx.aws.ssoCacheDir, `${sha1('corp')}.json`);

async function sandboxAuthorizations(): Promise<Array<{ userCode: string; status: string }>> {
  const res = await fetch(`${fx.sandbox.endpoint}/__sandbox/sso`, {
    headers: { 'x-sandbox-admin-token': fx.sandbox.adminToken },
  });
  return ((await res.json()) as { authorizations: Array<{ userCode: string; status: string }> })
    .authorizations;
}

beforeAll(async () => {
  fx = await startCredentialsFixture({ sso: { deviceCodeTtlSeconds: 30 } });
});
afterAll(async () => {
  await fx.close();
});
afterEach(() => {
  for (const r of resolvers.splice(0)) r.dispose();
});

describe('SSO device sign-in', () => {
  it('signs in (pending until approved), writes the token cache as the CLI does, and resolves role credentials', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    let approve!: () => void;
    const shown = new Promise<void>((resolve) => {
      prompter.onSso = () => {
        approve = () => void adminSso(fx.sandbox, prompter.ssoCalls[0]!.userCode);
        resolve();
      };
    });
    const r = resolver({ prompter });
    let settled = false;
    const pending = r.resolve('sso-dev').finally(() => (settled = true));
    await shown;
    const call = prompter.ssoCalls[0]!;
    expect(call).toMatchObject({
      profile: 'sso-dev',
      startUrl: START_URL,
      verificationUri: `${fx.sandbox.endpoint}/device`,
      verificationUriComplete: `${fx.sandbox.endpoint}/device?user_code=${call.userCode}`,
    });
    expect(call.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(call.expiresAt.getTime()).toBeGreaterThan(Date.now() + 20_000);
    // Still waiting for the user: the sandbox keeps answering authorization_pending.
    await new Promise((res) => setTimeout(res, 1_500));
    expect(settled).toBe(false);
    expect(await sandboxAuthorizations()).toContainEqual(
      expect.objectContaining({ userCode: call.userCode, status: 'pending' }),
    );
    approve();
    const creds = await pending;
    expect(call.signal.reason).toBeInstanceOf(PromptCompleted);
    expect(await whoami(fx.sandbox, creds)).toMatch(
      /assumed-role\/AWSReservedSSO_SandboxAdmin_[0-9a-f]{16}\/sandbox-user$/,
    );

    // The cache file: ~/.aws/sso/cache/<sha1(session name)>.json, 0600, the CLI's fields and time format.
    const info = await stat(tokenFile());
    expect(info.mode & 0o777).toBe(0o600);
    expect((await stat(fx.aws.ssoCacheDir)).mode & 0o777).toBe(0o700);
    const text = await readFile(tokenFile(), 'utf8');
    const token = JSON.parse(text) as Record<string, string>;
    expect(Object.keys(token)).toEqual([
      'startUrl',
      'region',
      'accessToken',
      'expiresAt',
      'clientId',
      'clientSecret',
      'registrationExpiresAt',
      'refreshToken',
    ]);
    expect(token).toMatchObject({ startUrl: START_URL, region: REGION });
    expect(token.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(token.expiresAt)).toBeGreaterThan(Date.now() + 28_000_000);
    expect(text.startsWith('{"startUrl": ')).toBe(true); // Python's json.dumps spacing
    // The client registration, cached under the CLI's key.
    const regFile = path.join(
      fx.aws.ssoCacheDir,
      `${registrationCacheId({ startUrl: START_URL, region: REGION, scopes: ['sso:account:access'], sessionName: 'corp' })}.json`,
    );
    expect(JSON.parse(await readFile(regFile, 'utf8'))).toMatchObject({
      clientId: token.clientId,
      clientSecret: token.clientSecret,
      scopes: ['sso:account:access'],
    });

    // A second resolver (another process, say) reuses the token without asking.
    const quiet = new ScriptedPrompter(fx.sandbox);
    const second = resolver({ prompter: quiet });
    expect(await whoami(fx.sandbox, await second.resolve('sso-ro'))).toContain(
      'AWSReservedSSO_SandboxReadOnly_',
    );
    // A role on top of the SSO profile, too.
    expect(await whoami(fx.sandbox, await second.resolve('sso-role'))).toContain(
      'assumed-role/SandboxPartner/',
    );
    expect(quiet.ssoCalls).toHaveLength(0);
    // And so does the SDK's own provider (as `aws` would).
    const sdk = await fromIni({
      profile: 'sso-dev',
      ignoreCache: true,
      clientConfig: { endpoint: fx.sandbox.endpoint },
    })();
    expect(sdk.accessKeyId).toMatch(/^ASIA/);
    // The same registration is reused on the next sign-in.
    await second.login('sso-dev');
    expect(JSON.parse(await readFile(tokenFile(), 'utf8')).clientId).toBe(token.clientId);
  });

  it('an expired token (no refresh token) prompts a new sign-in; so does one the service revoked', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const r = resolver({ prompter });
    await r.login('sso-dev');
    expect(prompter.ssoCalls).toHaveLength(1);

    const token = JSON.parse(await readFile(tokenFile(), 'utf8')) as Record<string, string>;
    delete token.refreshToken;
    token.expiresAt = '2020-01-01T00:00:00Z';
    await writeFile(tokenFile(), JSON.stringify(token));
    const noPrompter = (await rejection(resolver().resolve('sso-dev'))) as unknown as CredentialError;
    expect(noPrompter.code).toBe('sso-token-expired');
    expect(noPrompter.message).toBe(
      `Profile "sso-dev": the IAM Identity Center sign-in for sso-session corp (${START_URL}) has expired or was revoked. Sign in with \`ec2-connect login --profile sso-dev\` (or "Sign in" in the app)`,
    );
    expect(await whoami(fx.sandbox, await r.resolve('sso-dev', { forceRefresh: true }))).toContain(
      'AWSReservedSSO_SandboxAdmin',
    );
    expect(prompter.ssoCalls).toHaveLength(2);

    // Revoked on the service side while the file still looks valid: GetRoleCredentials says
    // Unauthorized, and the resolver signs in again.
    await fetch(`${fx.sandbox.endpoint}/__sandbox/sso/revoke`, {
      method: 'POST',
      headers: { 'x-sandbox-admin-token': fx.sandbox.adminToken },
    });
    expect(await whoami(fx.sandbox, await r.resolve('sso-ro'))).toContain('AWSReservedSSO_SandboxReadOnly');
    expect(prompter.ssoCalls).toHaveLength(3);
  });

  it('legacy profiles (sso_start_url in the profile) cache under sha1(start URL), without a refresh token', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const creds = await resolver({ prompter }).resolve('sso-legacy');
    expect(await whoami(fx.sandbox, creds)).toContain('AWSReservedSSO_SandboxReadOnly');
    const token = JSON.parse(
      await readFile(path.join(fx.aws.ssoCacheDir, `${sha1(LEGACY_START_URL)}.json`), 'utf8'),
    ) as Record<string, string>;
    expect(token.startUrl).toBe(LEGACY_START_URL);
    expect(token.refreshToken).toBeUndefined();
  });

  it('not signed in and nobody to ask: says how to sign in', async () => {
    await writeFile(tokenFile(), '');
    const err = (await rejection(resolver().resolve('sso-dev'))) as unknown as CredentialError;
    expect(err.code).toBe('sso-login-required');
    expect(err.message).toBe(
      `Profile "sso-dev": not signed in to IAM Identity Center: no SSO token cached for sso-session corp (${START_URL}). Sign in with \`ec2-connect login --profile sso-dev\` (or "Sign in" in the app)`,
    );
  });

  it('denied, expired, slowed down and cancelled sign-ins', async () => {
    await writeFile(tokenFile(), '');
    const prompter = new ScriptedPrompter(fx.sandbox);
    prompter.onSso = (call) => void adminSso(fx.sandbox, call.userCode, 'deny');
    const denied = (await rejection(resolver({ prompter }).login('sso-dev'))) as unknown as CredentialError;
    expect(denied.code).toBe('sso-login-denied');
    expect(denied.message).toMatch(
      /^Profile "sso-dev": the sign-in request [A-Z]{4}-[A-Z]{4} was denied in the browser\. Sign in with/,
    );

    prompter.onSso = (call) => void adminSso(fx.sandbox, call.userCode, 'expire');
    const expired = (await rejection(resolver({ prompter }).login('sso-dev'))) as unknown as CredentialError;
    expect(expired.code).toBe('sso-login-expired');
    expect(prompter.ssoCalls.at(-1)!.signal.reason).toBeInstanceOf(PromptTimeoutError);

    prompter.onSso = async (call) => {
      await adminSso(fx.sandbox, call.userCode, 'slow-down');
      await adminSso(fx.sandbox, call.userCode, 'approve');
    };
    const started = Date.now();
    const ok = await resolver({ prompter, ssoSlowDownSeconds: 1 }).login('sso-dev');
    expect(ok.expiresAt.getTime()).toBeGreaterThan(Date.now());
    // One slow_down: the interval went from 1 s to 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);

    await writeFile(tokenFile(), '');
    prompter.onSso = () => Promise.reject(new PromptCancelledError());
    const cancelled = (await rejection(
      resolver({ prompter }).resolve('sso-dev'),
    )) as unknown as CredentialError;
    expect(cancelled.code).toBe('prompt-cancelled');
    expect(cancelled.message).toMatch(/the SSO sign-in was cancelled/);
  });

  it('one sign-in serves concurrent resolutions of profiles sharing the sso-session', async () => {
    await writeFile(tokenFile(), '');
    const prompter = new ScriptedPrompter(fx.sandbox);
    const r = resolver({ prompter });
    const [a, b] = await Promise.all([r.resolve('sso-dev'), r.resolve('sso-ro')]);
    expect(await whoami(fx.sandbox, a)).toContain('SandboxAdmin');
    expect(await whoami(fx.sandbox, b)).toContain('SandboxReadOnly');
    expect(prompter.ssoCalls).toHaveLength(1);
  });

  it('an unassigned role, login on a non-SSO profile, and status', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const r = resolver({ prompter });
    const forbidden = (await rejection(r.resolve('sso-denied-role'))) as unknown as CredentialError;
    expect(forbidden.code).toBe('sso-no-access');
    expect(forbidden.message).toContain('may not use the role SandboxMfa in account 123456789012');
    const notSso = (await rejection(r.login('base'))) as unknown as CredentialError;
    expect(notSso.code).toBe('not-sso');
    const status = await r.status('sso-role');
    expect(status.sso).toMatchObject({
      sessionName: 'corp',
      startUrl: START_URL,
      signedIn: true,
      tokenFile: tokenFile(),
    });
  });
});
