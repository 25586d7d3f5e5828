/**
 * resolveProfile for AWS profiles: credentials through a CredentialResolver (owned, or shared
 * by the caller), the profile's region and endpoint_url, and broken profiles refused up front.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialResolver } from '../../main/core/credentials/resolver.js';
import { CredentialError } from '../../main/core/credentials/types.js';
import { resolveProfile } from '../../main/sandbox/embedded-profile.js';
import {
  ScriptedPrompter,
  startCredentialsFixture,
  type CredentialsFixture,
} from '../core/credentials/fixture.js';

let fx: CredentialsFixture;
beforeAll(async () => {
  fx = await startCredentialsFixture();
});
afterAll(async () => {
  await fx.close();
});

describe('resolveProfile with AWS profiles', () => {
  it('an assume-role profile: its region and endpoint_url, credentials from an owned resolver', async () => {
    const resolved = await resolveProfile({ profile: 'admin' });
    try {
      expect(resolved).toMatchObject({
        profile: 'admin',
        region: 'eu-west-1',
        endpoint: fx.sandbox.endpoint,
      });
      expect(resolved.credentials).toBeInstanceOf(CredentialResolver);
      expect((await resolved.controlPlane.getCallerIdentity()).arn).toBe(
        'arn:aws:sts::123456789012:assumed-role/SandboxAdmin/admin-session',
      );
      expect((await resolved.controlPlane.listInstances()).length).toBeGreaterThan(5);
    } finally {
      await resolved.dispose();
    }
  });

  it('a shared resolver (the app) with its prompter; it outlives the profile', async () => {
    const prompter = new ScriptedPrompter(fx.sandbox);
    const shared = new CredentialResolver({ prompter });
    try {
      const resolved = await resolveProfile({ profile: 'mfa', credentials: shared });
      expect((await resolved.controlPlane.getCallerIdentity()).arn).toContain('SandboxMfa');
      await resolved.dispose();
      expect(prompter.mfaCalls).toHaveLength(1);
      expect((await shared.status('mfa')).cached?.expiration).toBeInstanceOf(Date);
    } finally {
      shared.dispose();
    }
  });

  it('a broken profile is refused at once, by name', async () => {
    const err = await resolveProfile({ profile: 'no-role' }).catch((e: unknown) => e as CredentialError);
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as CredentialError).code).toBe('missing-role-arn');
  });
});
