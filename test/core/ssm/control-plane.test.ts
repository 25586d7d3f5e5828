/** The control-plane client against the sandbox: joined instance list and failure messages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { AwsCallError } from '../../../main/core/ssm/errors.js';
import { startFixture, type Fixture } from '../../helpers/sandbox.js';

describe('ControlPlane', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  it('lists EC2 instances joined with their SSM status and says why offline ones are unavailable', async () => {
    const list = await fx.cp.listInstances();
    expect(list).toHaveLength(fx.sandbox.fleet.list().length);
    const byName = new Map(list.map((i) => [i.name, i]));
    expect(byName.get('web-1')).toMatchObject({ state: 'running', pingStatus: 'Online' });
    expect(byName.get('web-1')?.unavailableReason).toBeUndefined();
    expect(byName.get('db-replica')?.unavailableReason).toMatch(/stopped reporting/);
    expect(byName.get('worker-2')?.unavailableReason).toMatch(/the instance is stopped/);
    expect(byName.get('ftp-legacy')).toMatchObject({ pingStatus: 'NotRegistered' });
    expect(byName.get('ftp-legacy')?.unavailableReason).toMatch(/never registered/);
  });

  it('makes the EC2, STS and KMS clients (and loads their SDK modules) only when first used', async () => {
    const cp = new ControlPlane({
      region: fx.sandbox.region,
      endpoint: fx.sandbox.endpoint,
      credentials: fx.sandbox.credentials,
      maxAttempts: 1,
    });
    try {
      const s = await cp.startSession({ target: fx.instanceId });
      await cp.terminateSession(s.sessionId);
      expect(cp.lazyClientsMade).toEqual([]); // a session by instance id needs SSM only
      const [a, b] = await Promise.all([cp.ec2Client(), cp.ec2Client()]);
      expect(a).toBe(b); // one client, however many callers wait for it
      expect((await cp.listInstances()).length).toBeGreaterThan(0);
      expect((await cp.getCallerIdentity()).arn).toContain('arn:aws:');
      expect(cp.lazyClientsMade).toEqual(['EC2', 'STS']);
    } finally {
      cp.dispose();
    }
    expect(cp.lazyClientsMade).toEqual([]);
    // Asked for after dispose: a clear error, and no client left behind.
    await expect(cp.kmsClient()).rejects.toThrow(/closed before KMS was first used/);
    expect(cp.lazyClientsMade).toEqual([]);
  });

  it('names expired credentials and says what to do', async () => {
    fx.sandbox.credentialStore.addTemporary({
      accessKeyId: 'ASIASANDBOXEXPIRED01',
      secretAccessKey: 'expired-secret',
      sessionToken: 'expired-session-token',
      expiration: new Date(Date.now() - 60_000),
    });
    const cp = new ControlPlane({
      region: fx.sandbox.region,
      endpoint: fx.sandbox.endpoint,
      credentials: {
        accessKeyId: 'ASIASANDBOXEXPIRED01',
        secretAccessKey: 'expired-secret',
        sessionToken: 'expired-session-token',
      },
      maxAttempts: 1,
    });
    try {
      const err = await cp.startSession({ target: fx.instanceId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AwsCallError);
      expect((err as AwsCallError).code).toBe('ExpiredTokenException');
      expect((err as Error).message).toMatch(
        /StartSession failed \(ExpiredTokenException\).*expired.*Log in again/s,
      );
    } finally {
      cp.dispose();
    }
  });

  it('names a wrong secret and an unreachable endpoint', async () => {
    const wrong = new ControlPlane({
      region: fx.sandbox.region,
      endpoint: fx.sandbox.endpoint,
      credentials: { accessKeyId: fx.sandbox.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    const down = new ControlPlane({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' },
      maxAttempts: 1,
      connectionTimeoutMs: 2000,
    });
    try {
      await expect(wrong.describeInstanceInformation()).rejects.toThrow(
        /InvalidSignatureException.*secret key is wrong/s,
      );
      await expect(down.getCallerIdentity()).rejects.toThrow(
        /cannot reach the AWS endpoint for us-east-1 \(ECONNREFUSED/,
      );
    } finally {
      wrong.dispose();
      down.dispose();
    }
  });

  it('retries throttled calls and fails clearly when throttling persists', async () => {
    const cp = new ControlPlane({
      region: fx.sandbox.region,
      endpoint: fx.sandbox.endpoint,
      credentials: {
        accessKeyId: fx.sandbox.credentials.accessKeyId,
        secretAccessKey: fx.sandbox.credentials.secretAccessKey,
      },
      maxAttempts: 2,
    });
    fx.sandbox.faults.set({ controlPlane: { throttleRate: 1 } });
    try {
      const err = (await cp.describeSessions('Active').catch((e: unknown) => e)) as AwsCallError;
      expect(err.code).toBe('ThrottlingException');
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/throttling requests; try again/);
    } finally {
      fx.sandbox.faults.reset();
      cp.dispose();
    }
  });
});
