/**
 * The app's prompter: prompts as `credentials.prompt` payloads (checked against the bridge
 * schema), answered with `credentials.answer`, each ended by one `credentials.promptDone`
 * (answered, cancelled, expired), with the resolver and the sandbox behind it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialPromptSchema, type CredentialPrompt } from '../../../preload/api.js';
import {
  CredentialPromptBroker,
  PromptAnswerError,
  type PromptDone,
} from '../../../main/core/credentials/prompt-broker.js';
import { CredentialResolver } from '../../../main/core/credentials/resolver.js';
import type { CredentialError } from '../../../main/core/credentials/types.js';
import { SANDBOX_MFA_SECRET, SANDBOX_MFA_SERIAL, totp } from '../../../main/sandbox/credentials.js';
import {
  ROLE,
  adminSso,
  rejection,
  startCredentialsFixture,
  whoami,
  wrongCode,
  type CredentialsFixture,
} from './fixture.js';

let fx: CredentialsFixture;
const disposables: Array<{ dispose(): void }> = [];

beforeAll(async () => {
  fx = await startCredentialsFixture();
});
afterAll(async () => {
  await fx.close();
});
afterEach(() => {
  for (const d of disposables.splice(0)) d.dispose();
});

function setup(options: { mfaTimeoutMs?: number } = {}) {
  const broker = new CredentialPromptBroker();
  const resolver = new CredentialResolver({ prompter: broker, ...options });
  disposables.push(resolver, broker);
  const prompts: CredentialPrompt[] = [];
  const done: PromptDone[] = [];
  const waiters: Array<(p: CredentialPrompt) => void> = [];
  broker.onPrompt((p) => {
    prompts.push(CredentialPromptSchema.parse(p));
    waiters.shift()?.(p);
  });
  broker.onPromptDone((d) => done.push(d));
  const nextPrompt = () => new Promise<CredentialPrompt>((resolve) => waiters.push(resolve));
  return { broker, resolver, prompts, done, nextPrompt };
}

describe('CredentialPromptBroker', () => {
  it('an MFA prompt answered with the code', async () => {
    const { broker, resolver, done, nextPrompt } = setup();
    const next = nextPrompt();
    const creds = resolver.resolve('mfa');
    const prompt = await next;
    expect(prompt).toMatchObject({
      kind: 'mfa',
      profile: 'mfa',
      mfaSerial: SANDBOX_MFA_SERIAL,
      roleArn: ROLE('SandboxMfa'),
    });
    expect(prompt.message).toBe(`Enter the code your MFA device shows now to use the profile "mfa".`);
    expect(prompt.problem).toBeUndefined();
    expect(broker.pending().map((p) => p.id)).toEqual([prompt.id]);
    expect(() => broker.answer(prompt.id, { code: '12' })).toThrow(PromptAnswerError);
    broker.answer(prompt.id, { code: totp(SANDBOX_MFA_SECRET) });
    expect(await whoami(fx.sandbox, await creds)).toContain('SandboxMfa');
    expect(done).toEqual([{ id: prompt.id, outcome: 'answered' }]);
    expect(broker.pending()).toEqual([]);
    expect(() => broker.answer(prompt.id, { cancel: true })).toThrow(/No credentials prompt .* is waiting/);
  });

  it('after a refused code, asks again with what STS said as the problem', async () => {
    const { broker, resolver, done, nextPrompt } = setup();
    let next = nextPrompt();
    const creds = resolver.resolve('mfa');
    const first = await next;
    next = nextPrompt();
    const wrong = wrongCode();
    broker.answer(first.id, { code: wrong });
    const second = await next;
    expect(second.id).not.toBe(first.id);
    expect(second.problem).toBe(
      `STS refused the code ${wrong} (MultiFactorAuthentication failed with invalid MFA one time pass code). Enter the code the device shows now.`,
    );
    expect(second.message).toBe(first.message);
    broker.answer(second.id, { code: totp(SANDBOX_MFA_SECRET) });
    expect(await whoami(fx.sandbox, await creds)).toContain('SandboxMfa');
    expect(done.map((d) => d.outcome)).toEqual(['answered', 'answered']);
  });

  it('cancelled, and expired when nobody answers in time', async () => {
    const { broker, resolver, done, nextPrompt } = setup({ mfaTimeoutMs: 300 });
    let next = nextPrompt();
    const cancelled = rejection(resolver.resolve('mfa'));
    const prompt = await next;
    broker.answer(prompt.id, { cancel: true });
    expect(((await cancelled) as unknown as CredentialError).code).toBe('prompt-cancelled');
    expect(done.at(-1)).toEqual({ id: prompt.id, outcome: 'cancelled' });

    next = nextPrompt();
    const timedOut = rejection(resolver.resolve('mfa'));
    const second = await next;
    expect(((await timedOut) as unknown as CredentialError).code).toBe('prompt-timeout');
    expect(done.at(-1)).toEqual({ id: second.id, outcome: 'expired' });
  });

  it('an SSO sign-in prompt carries the URL and code, and ends when the sign-in is approved', async () => {
    const { broker, resolver, done, nextPrompt } = setup();
    const next = nextPrompt();
    const login = resolver.login('sso-dev');
    const prompt = await next;
    expect(prompt.kind).toBe('sso');
    expect(prompt.sso).toMatchObject({
      verificationUri: `${fx.sandbox.endpoint}/device`,
      userCode: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
    });
    expect(prompt.message).toContain(
      'Sign in to IAM Identity Center (https://sandbox.awsapps.com/start) for the profile "sso-dev"',
    );
    expect(() => broker.answer(prompt.id, { code: '123456' })).toThrow(/takes no code/);
    await adminSso(fx.sandbox, prompt.sso!.userCode);
    const result = await login;
    expect(result.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(done).toEqual([{ id: prompt.id, outcome: 'answered' }]);

    // Cancelling the prompt cancels the sign-in.
    const again = nextPrompt();
    const cancelled = rejection(resolver.login('sso-dev'));
    broker.answer((await again).id, { cancel: true });
    expect(((await cancelled) as unknown as CredentialError).code).toBe('prompt-cancelled');
    expect(done.at(-1)?.outcome).toBe('cancelled');

    // Denied in the browser: the prompt was answered (not cancelled); the sign-in fails saying so.
    const third = nextPrompt();
    const denied = rejection(resolver.login('sso-dev'));
    const deniedPrompt = await third;
    await adminSso(fx.sandbox, deniedPrompt.sso!.userCode, 'deny');
    expect(((await denied) as unknown as CredentialError).code).toBe('sso-login-denied');
    expect(done.at(-1)).toEqual({ id: deniedPrompt.id, outcome: 'answered' });
  });
});
