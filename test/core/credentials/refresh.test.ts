/**
 * Refresh before expiry: with 4-second credentials from the sandbox and a 2-second refresh
 * window, a control plane keeps working across several expiries without anyone acting; a
 * refresh that needs the user (MFA again, the SSO session revoked) becomes a prompt, not a
 * failed call; a cancelled refresh prompt does not re-prompt on every call.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialResolver, type CredentialsEvent } from '../../../main/core/credentials/resolver.js';
import { CredentialError, PromptCancelledError } from '../../../main/core/credentials/types.js';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import {
  REGION,
  ScriptedPrompter,
  rejection,
  startCredentialsFixture,
  whoami,
  type CredentialsFixture,
} from './fixture.js';

let fx: CredentialsFixture;
const disposables: Array<{ dispose(): void }> = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fx = await startCredentialsFixture({ sso: { roleCredentialsTtlSeconds: 4 } });
});
afterAll(async () => {
  await fx.close();
});
afterEach(() => {
  for (const d of disposables.splice(0)) d.dispose();
});

function setup(profile: string, prompter?: ScriptedPrompter) {
  const resolver = new CredentialResolver({ refreshMinutes: 2 / 60, ...(prompter ? { prompter } : {}) });
  const events: CredentialsEvent[] = [];
  resolver.onDidResolve((e) => events.push(e));
  const cp = new ControlPlane({
    region: REGION,
    endpoint: fx.sandbox.endpoint,
    credentials: resolver.provider(profile, { region: REGION }),
    maxAttempts: 1,
  });
  disposables.push(resolver, cp);
  return { resolver, cp, events };
}

/** Calls the control plane every 400 ms for `ms`; every call must succeed. */
async function keepCalling(cp: ControlPlane, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let calls = 0;
  while (Date.now() < until) {
    await cp.getCallerIdentity();
    calls++;
    await sleep(400);
  }
  return calls;
}

describe('refresh before expiry', () => {
  it('keeps a control plane working across expiries of 4-second role credentials', async () => {
    const { resolver, cp, events } = setup('short');
    expect((await cp.getCallerIdentity()).arn).toContain('assumed-role/SandboxAdmin/');
    const first = await resolver.resolve('short', { region: REGION });
    expect(first.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(4_000);
    expect(await keepCalling(cp, 7_000)).toBeGreaterThan(10);
    expect(events.filter((e) => e.background).length).toBeGreaterThanOrEqual(2);
    // The first credentials really expired meanwhile.
    await expect(whoami(fx.sandbox, first)).rejects.toMatchObject({ name: 'ExpiredToken' });
    const now = await resolver.resolve('short', { region: REGION });
    expect(now.accessKeyId).not.toBe(first.accessKeyId);
    expect(now.expiration!.getTime()).toBeGreaterThan(Date.now());
  });

  it('an MFA role: each refresh asks for a code in the background, calls never fail', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const { cp } = setup('mfa-short', prompter);
    await cp.getCallerIdentity();
    expect(prompter.mfaCalls).toHaveLength(1);
    await keepCalling(cp, 6_000);
    expect(prompter.mfaCalls.length).toBeGreaterThanOrEqual(3);
  });

  it('SSO: when the sign-in is revoked, the refresh signs in again through a prompt', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const { cp } = setup('sso-ro', prompter);
    expect((await cp.getCallerIdentity()).arn).toContain('AWSReservedSSO_SandboxReadOnly');
    const before = prompter.ssoCalls.length;
    await fetch(`${fx.sandbox.endpoint}/__sandbox/sso/revoke`, {
      method: 'POST',
      headers: { 'x-sandbox-admin-token': fx.sandbox.adminToken },
    });
    await keepCalling(cp, 6_000);
    expect(prompter.ssoCalls.length).toBe(before + 1);
  });

  it('a cancelled refresh prompt is not repeated on every call; after expiry the next call asks again', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const { cp, events } = setup('mfa-short', prompter);
    await cp.getCallerIdentity();
    // Timed from the credentials' own expiry, not from the test's start: on a loaded machine the
    // first resolution alone can take a good part of their 4 seconds.
    const expiresAt = events.at(-1)!.expiration!.getTime();
    prompter.answerMfa = () => Promise.reject(new PromptCancelledError());
    // Within the refresh window (the last 2 s) the old credentials keep working; one background
    // prompt only. (In the last moments before expiry a call resolves in the foreground, and asks.)
    while (Date.now() < expiresAt - 1_000) {
      try {
        await cp.getCallerIdentity();
      } catch {
        break;
      }
      await sleep(200);
    }
    const asked = prompter.mfaCalls.length;
    expect(asked).toBe(2);
    await sleep(Math.max(0, expiresAt - Date.now()) + 300);
    const err = await rejection(cp.getCallerIdentity());
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as unknown as CredentialError).code).toBe('prompt-cancelled');
    expect(prompter.mfaCalls.length).toBe(asked + 1);
  });
});
