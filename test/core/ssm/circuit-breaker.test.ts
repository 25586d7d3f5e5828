import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError } from '../../../main/core/ssm/circuit-breaker.js';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { ControlPlanePool } from '../../../main/core/sessions/control-plane-pool.js';
import { startFixture } from '../../helpers/sandbox.js';

describe('CircuitBreaker', () => {
  const fail = () => Promise.reject(new Error('ECONNREFUSED'));
  const ok = () => Promise.resolve('ok');
  const health = () => true;

  it('opens after the threshold, fails fast while open, lets one trial through after the cool-down', async () => {
    let now = 0;
    const b = new CircuitBreaker('us-east-1', { failureThreshold: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) await expect(b.run(fail, health)).rejects.toThrow('ECONNREFUSED');
    expect(b.current).toBe('open');
    const fast = await b.run(ok, health).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect((fast as Error).message).toMatch(/us-east-1 is failing .*last: ECONNREFUSED.*again in 1 s/);
    now = 1000;
    expect(b.current).toBe('half-open');
    await expect(b.run(fail, health)).rejects.toThrow('ECONNREFUSED'); // the trial fails: open again
    expect(b.current).toBe('open');
    now = 2000;
    await expect(b.run(ok, health)).resolves.toBe('ok');
    expect(b.current).toBe('closed');
  });

  it('does not count errors that say nothing about the endpoint health', async () => {
    const b = new CircuitBreaker('r', { failureThreshold: 1, cooldownMs: 1000 });
    await expect(
      b.run(
        () => Promise.reject(new Error('AccessDenied')),
        () => false,
      ),
    ).rejects.toThrow();
    expect(b.current).toBe('closed');
  });
});

describe('ControlPlane circuit and pool', () => {
  it('stops calling a throttled region after repeated failures without affecting another region', async () => {
    const fx = await startFixture();
    const creds = {
      accessKeyId: fx.sandbox.credentials.accessKeyId,
      secretAccessKey: fx.sandbox.credentials.secretAccessKey,
    };
    const pool = new ControlPlanePool(
      (_profile, region) =>
        new ControlPlane({
          region,
          endpoint: fx.sandbox.endpoint,
          credentials: creds,
          maxAttempts: 1,
          circuitBreaker: { failureThreshold: 3, cooldownMs: 60_000 },
        }),
    );
    try {
      const a = pool.get('sandbox', fx.sandbox.region);
      expect(pool.get('sandbox', fx.sandbox.region)).toBe(a); // shared
      fx.sandbox.faults.set({ controlPlane: { throttleRate: 1 } });
      for (let i = 0; i < 3; i++)
        await expect(a.describeSessions('Active')).rejects.toThrow(/ThrottlingException/);
      expect(a.circuitState).toBe('open');
      const t0 = performance.now();
      await expect(a.describeSessions('Active')).rejects.toThrow(/is failing .*Rate exceeded/);
      expect(performance.now() - t0).toBeLessThan(50); // failed fast, no request
      fx.sandbox.faults.reset();
      // Another region has its own circuit (its calls are refused by the sandbox's region check, but not by a breaker).
      const b = pool.get('sandbox', 'eu-west-1');
      await expect(b.getCallerIdentity()).rejects.toThrow(/SignatureDoesNotMatch|region/i);
      expect(pool.size).toBe(2);
    } finally {
      pool.dispose();
      await fx.close();
    }
  });
});
