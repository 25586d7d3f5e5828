/**
 * CredentialResolver against the sandbox, with a temporary AWS config: static keys,
 * assume-role chains, MFA prompts (right, wrong, cancelled, timed out, nobody to ask),
 * external_id, configuration errors named with their fix, credential_process, environment
 * credentials, and the control plane using the resolver's provider.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialResolver } from '../../../main/core/credentials/resolver.js';
import {
  CredentialError,
  PromptCancelledError,
  PromptTimeoutError,
} from '../../../main/core/credentials/types.js';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { SANDBOX_MFA_SERIAL } from '../../../main/sandbox/credentials.js';
import {
  REGION,
  ROLE,
  ScriptedPrompter,
  rejection,
  startCredentialsFixture,
  whoami,
  wrongCode,
  type CredentialsFixture,
} from './fixture.js';

let fx: CredentialsFixture;
const resolvers: CredentialResolver[] = [];
function resolver(options: ConstructorParameters<typeof CredentialResolver>[0] = {}): CredentialResolver {
  const r = new CredentialResolver(options);
  resolvers.push(r);
  return r;
}

beforeAll(async () => {
  fx = await startCredentialsFixture();
});
afterAll(async () => {
  await fx.close();
});
afterEach(() => {
  for (const r of resolvers.splice(0)) r.dispose();
});

describe('static keys and assume-role chains', () => {
  it('static keys come from the credentials file, and a control plane works with the provider', async () => {
    const r = resolver();
    const creds = await r.resolve('base');
    expect(creds).toMatchObject({
      accessKeyId: fx.sandbox.credentials.accessKeyId,
      secretAccessKey: fx.sandbox.credentials.secretAccessKey,
    });
    expect(creds.expiration).toBeUndefined();
    const cp = new ControlPlane({
      region: REGION,
      endpoint: fx.sandbox.endpoint,
      credentials: r.provider('base'),
      maxAttempts: 1,
    });
    try {
      expect((await cp.listInstances()).length).toBeGreaterThan(5);
      expect((await cp.getCallerIdentity()).arn).toBe('arn:aws:iam::123456789012:user/sandbox-user');
    } finally {
      cp.dispose();
    }
  });

  it('assumes a role with source_profile, and a chain of two roles', async () => {
    const r = resolver();
    const admin = await r.resolve('admin');
    expect(admin.sessionToken).toBeTruthy();
    expect(admin.expiration!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(await whoami(fx.sandbox, admin)).toBe(
      'arn:aws:sts::123456789012:assumed-role/SandboxAdmin/admin-session',
    );
    const chained = await r.resolve('chained');
    expect(await whoami(fx.sandbox, chained)).toBe(
      'arn:aws:sts::123456789012:assumed-role/SandboxReadOnly/chained-session',
    );
    // The second hop really was signed by the first role: STS applies the role-chaining limit.
    const err = await rejection(r.resolve('chained-long'));
    expect(err).toBeInstanceOf(CredentialError);
    expect(err.message).toMatch(
      /^Profile "chained-long": .*1 hour session limit for roles assumed by role chaining/,
    );
  });

  it('a role profile may be its own source (keys in the credentials file), and credential_source = Environment', async () => {
    const r = resolver();
    expect(await whoami(fx.sandbox, await r.resolve('selfie'))).toContain('assumed-role/SandboxReadOnly/');
    expect((await r.describe('selfie')).chain).toEqual(['selfie', 'selfie']);
    process.env.AWS_ACCESS_KEY_ID = fx.sandbox.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = fx.sandbox.credentials.secretAccessKey;
    try {
      expect(await whoami(fx.sandbox, await r.resolve('env-role'))).toContain('assumed-role/SandboxAdmin/');
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('caches credentials per profile until they near expiry', async () => {
    const r = resolver();
    const a = await r.resolve('admin');
    const b = await r.resolve('admin');
    expect(b).toBe(a);
    const c = await r.resolve('admin', { forceRefresh: true });
    expect(c.accessKeyId).not.toBe(a.accessKeyId);
  });

  it('external_id: the right one works, a wrong one names the refusal', async () => {
    const r = resolver();
    expect(await whoami(fx.sandbox, await r.resolve('partner'))).toContain('assumed-role/SandboxPartner/');
    const err = (await rejection(r.resolve('partner-wrong'))) as unknown as CredentialError;
    expect(err.code).toBe('assume-role-denied');
    expect(err.message).toContain(
      'Profile "partner-wrong": STS refused to assume arn:aws:iam::123456789012:role/SandboxPartner',
    );
    expect(err.fix).toMatch(/trust policy and external_id/);
  });
});

describe('MFA', () => {
  it('asks the prompter for the code of the profile mfa_serial, and the right code works', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const r = resolver({ prompter });
    const creds = await r.resolve('mfa');
    expect(await whoami(fx.sandbox, creds)).toContain('assumed-role/SandboxMfa/');
    expect(prompter.mfaCalls).toHaveLength(1);
    expect(prompter.mfaCalls[0]).toMatchObject({
      profile: 'mfa',
      serial: SANDBOX_MFA_SERIAL,
      context: { attempt: 1 },
    });
    expect(prompter.mfaCalls[0]!.signal.aborted).toBe(true); // withdrawn once answered
    // Cached: no second prompt.
    await r.resolve('mfa');
    expect(prompter.mfaCalls).toHaveLength(1);
  });

  it('a wrong code is asked again with the reason, then fails naming the problem', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    prompter.answerMfa = () => wrongCode();
    const r = resolver({ prompter });
    const err = (await rejection(r.resolve('mfa'))) as unknown as CredentialError;
    expect(err.code).toBe('mfa-invalid');
    expect(err.needsUser).toBe(true);
    expect(err.message).toMatch(
      /^Profile "mfa": STS refused the MFA code for arn:aws:iam::123456789012:mfa\/sandbox-user \(MultiFactorAuthentication failed with invalid MFA one time pass code\)\. Enter the code the device shows now/,
    );
    expect(prompter.mfaCalls.map((c) => c.context?.attempt)).toEqual([1, 2, 3]);
    expect(prompter.mfaCalls[1]!.context?.retryReason).toMatch(
      /^STS refused the code \d{6} \(MultiFactorAuthentication failed with invalid MFA one time pass code\)$/,
    );
    expect(prompter.mfaCalls[0]!.context?.roleArn).toBe(ROLE('SandboxMfa'));
  });

  it('a wrong code then the right one succeeds', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const right = prompter.answerMfa;
    prompter.answerMfa = (call) => (call.context?.attempt === 1 ? wrongCode() : right(call));
    const r = resolver({ prompter });
    expect(await whoami(fx.sandbox, await r.resolve('mfa'))).toContain('SandboxMfa');
    expect(prompter.mfaCalls).toHaveLength(2);
  });

  it('cancelled, timed out, malformed, or nobody to ask', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    prompter.answerMfa = () => Promise.reject(new PromptCancelledError());
    const cancelled = (await rejection(resolver({ prompter }).resolve('mfa'))) as unknown as CredentialError;
    expect(cancelled.code).toBe('prompt-cancelled');
    expect(cancelled.message).toContain(
      `Profile "mfa": the MFA prompt for ${SANDBOX_MFA_SERIAL} was cancelled`,
    );

    const silent = new ScriptedPrompter(fx.sandbox);
    silent.answerMfa = () => new Promise<string>(() => undefined);
    const timedOut = (await rejection(
      resolver({ prompter: silent, mfaTimeoutMs: 300 }).resolve('mfa'),
    )) as unknown as CredentialError;
    expect(timedOut.code).toBe('prompt-timeout');
    expect(silent.mfaCalls[0]!.signal.reason).toBeInstanceOf(PromptTimeoutError);

    const typo = new ScriptedPrompter(fx.sandbox);
    typo.answerMfa = () => '12345';
    const malformed = (await rejection(
      resolver({ prompter: typo, mfaAttempts: 1 }).resolve('mfa'),
    )) as unknown as CredentialError;
    expect(malformed.code).toBe('mfa-invalid');
    expect(malformed.message).toContain('"12345" is not an MFA code');

    const nobody = (await rejection(resolver().resolve('mfa'))) as unknown as CredentialError;
    expect(nobody.code).toBe('mfa-required');
    expect(nobody.message).toBe(
      `Profile "mfa": assuming the role ${ROLE('SandboxMfa')} needs a code from the MFA device ${SANDBOX_MFA_SERIAL}. EC2 Connect asks for it in the app or on an interactive terminal: run the command in a terminal, or use the app`,
    );
    const nonInteractive = (await rejection(
      resolver({ prompter }).resolve('mfa', { interactive: false }),
    )) as unknown as CredentialError;
    expect(nonInteractive.code).toBe('mfa-required');
  });
});

describe('configuration errors name the profile and the fix', () => {
  it.each([
    [
      'loop-a',
      'source-profile-loop',
      /source_profile goes round in a loop: loop-a -> loop-b -> loop-a\. Make the chain end .*\[profile loop-b\]/,
    ],
    [
      'no-role',
      'missing-role-arn',
      /profile "no-role" has source_profile = base but no role_arn\. Add role_arn = /,
    ],
    ['no-source', 'missing-source', /has role_arn but neither source_profile nor credential_source/],
    [
      'nope',
      'profile-not-found',
      /^Profile "nope": there is no such profile in .*config or .*credentials\. Check the name/,
    ],
    [
      'sso-broken',
      'profile-invalid',
      /uses sso_session = nowhere, but there is no \[sso-session nowhere\] section/,
    ],
  ])('%s: %s', async (profile, code, message) => {
    const err = (await rejection(resolver().resolve(profile))) as unknown as CredentialError;
    expect(err).toBeInstanceOf(CredentialError);
    expect(err.code).toBe(code);
    expect(err.profile).toBe(profile);
    expect(err.message).toMatch(message);
    expect(err.fix.length).toBeGreaterThan(10);
    // The same check, without resolving anything.
    await expect(resolver().describe(profile)).rejects.toMatchObject({ code });
  });

  it('describes profiles: kind, chain, MFA devices', async () => {
    const r = resolver();
    expect(await r.describe('chained')).toMatchObject({
      kind: 'assume-role',
      chain: ['chained', 'admin', 'base'],
      source: { kind: 'static', profile: 'base' },
    });
    const status = await r.status('mfa');
    expect(status).toMatchObject({ kind: 'assume-role', mfaSerials: [SANDBOX_MFA_SERIAL] });
    expect((await r.describe('proc')).kind).toBe('process');
  });
});

describe('credential_process', () => {
  it('runs the command and uses the JSON it prints', async () => {
    const creds = await resolver().resolve('proc');
    expect(creds.accessKeyId).toBe(fx.sandbox.credentials.accessKeyId);
    expect(await whoami(fx.sandbox, creds)).toBe('arn:aws:iam::123456789012:user/sandbox-user');
  });

  it('a failing command is reported with its stderr; junk output says what is expected', async () => {
    const err = (await rejection(resolver().resolve('proc-fail'))) as unknown as CredentialError;
    expect(err.code).toBe('process-failed');
    expect(err.message).toContain(
      'Profile "proc-fail": credential_process failed: token broker: refresh token revoked for alice',
    );
    expect(err.fix).toMatch(/^Run it yourself to see why: node .*fail\.mjs$/);
    const junk = (await rejection(resolver().resolve('proc-junk'))) as unknown as CredentialError;
    expect(junk.code).toBe('process-failed');
    expect(junk.message).toMatch(/credential_process returned invalid JSON/);
    expect(junk.fix).toMatch(/"Version": 1/);
  });
});

describe('environment credentials', () => {
  it('the built-in "environment" profile takes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY', async () => {
    const missing = (await rejection(resolver().resolve('environment'))) as unknown as CredentialError;
    expect(missing.code).toBe('environment-missing');
    process.env.AWS_ACCESS_KEY_ID = fx.sandbox.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = fx.sandbox.credentials.secretAccessKey;
    try {
      const r = resolver();
      const creds = await r.resolve('environment');
      expect(creds.accessKeyId).toBe(fx.sandbox.credentials.accessKeyId);
      expect((await r.describe('environment')).kind).toBe('environment');
      const cp = new ControlPlane({
        region: REGION,
        endpoint: fx.sandbox.endpoint,
        credentials: r.provider('environment'),
        maxAttempts: 1,
      });
      try {
        expect((await cp.getCallerIdentity()).account).toBe('123456789012');
      } finally {
        cp.dispose();
      }
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });
});

describe('the control plane and the resolver', () => {
  it('a credentials problem reaches the caller as the CredentialError, not as an AWS call failure', async () => {
    const cp = new ControlPlane({
      region: REGION,
      endpoint: fx.sandbox.endpoint,
      credentials: resolver().provider('no-role'),
      maxAttempts: 1,
    });
    try {
      const err = await rejection(cp.listInstances());
      expect(err).toBeInstanceOf(CredentialError);
      expect(err.message).toMatch(/^Profile "no-role": /);
      expect(cp.circuitState).toBe('closed');
    } finally {
      cp.dispose();
    }
  });
});
