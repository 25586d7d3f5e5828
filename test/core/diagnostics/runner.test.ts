import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runChecks, validateSpecs } from '../../../main/core/diagnostics/runner.js';
import type { CheckResult, CheckSpec } from '../../../main/core/diagnostics/types.js';
import type { DiagnosticCheck } from '../../../preload/api.js';

const pass = (figure = 'ok'): CheckResult => ({ status: 'pass', figure, detail: 'fine', fix: null });

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('runChecks', () => {
  it('runs independent checks in parallel, at most `parallel` at a time, and reports in spec order', async () => {
    let running = 0;
    let peak = 0;
    const spec = (id: string, ms: number): CheckSpec => ({
      id,
      title: id.toUpperCase(),
      async run() {
        running++;
        peak = Math.max(peak, running);
        await sleep(ms);
        running--;
        return pass(`${ms} ms`);
      },
    });
    const finished: string[] = [];
    const t0 = Date.now();
    const out = await runChecks(
      [spec('a', 250), spec('b', 20), spec('c', 60), spec('d', 20), spec('e', 20)],
      {
        parallel: 2,
        onCheck: (c) => finished.push(c.id),
      },
    );
    expect(peak).toBe(2);
    expect(out.map((c) => c.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(out.every((c) => c.status === 'pass')).toBe(true);
    // Completion order, not spec order: the slow first check finishes last.
    expect(finished[finished.length - 1]).toBe('a');
    expect(Date.now() - t0).toBeLessThan(600);
    expect(out[0]).toMatchObject({ title: 'A', figure: '250 ms', fix: null });
    expect(out[0]!.durationMs).toBeGreaterThanOrEqual(200);
  });

  it('fails a check past its deadline with "did not finish within N s", names its step, aborts it and leaks no timer', async () => {
    const before = timeouts();
    let aborted = false;
    const hang: CheckSpec = {
      id: 'hang',
      title: 'Hangs',
      timeoutFix: 'Look at the endpoint.',
      async run(ctx) {
        ctx.step('waiting for the moon');
        ctx.signal.addEventListener('abort', () => (aborted = true));
        await sleep(60_000, undefined, { signal: ctx.signal });
        return pass();
      },
    };
    const t0 = Date.now();
    const [r] = await runChecks([hang], { timeoutMs: 150 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r).toMatchObject({
      status: 'fail',
      figure: 'did not finish within 0.15 s',
      fix: 'Look at the endpoint.',
    });
    expect(r!.detail).toBe('It was still waiting for the moon after 0.15 s; that work was stopped.');
    expect(aborted).toBe(true);
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  it('skips a check whose requirement failed, with the reason; `after` only waits', async () => {
    const order: string[] = [];
    const specs: CheckSpec[] = [
      {
        id: 'creds',
        title: 'Credentials valid',
        async run() {
          await sleep(30);
          order.push('creds');
          return { status: 'fail', figure: 'expired', detail: 'They expired.', fix: 'Log in.' };
        },
      },
      {
        id: 'instance',
        title: 'Instance online',
        requires: ['creds'],
        async run() {
          order.push('instance');
          return pass();
        },
      },
      {
        id: 'agent',
        title: 'Agent',
        requires: ['instance'],
        async run() {
          order.push('agent');
          return pass();
        },
      },
      {
        id: 'reader',
        title: 'Reader',
        after: ['creds'],
        async run(ctx) {
          order.push('reader');
          const c = ctx.result('creds');
          return pass(`creds was ${c?.status}`);
        },
      },
    ];
    const out = await runChecks(specs);
    expect(order).toEqual(['creds', 'reader']);
    expect(out[1]).toMatchObject({
      status: 'skip',
      detail: 'Not checked: it needs "Credentials valid", which failed (expired).',
      fix: null,
      durationMs: 0,
    });
    expect(out[2]).toMatchObject({
      status: 'skip',
      detail: 'Not checked: it needs "Instance online", which was skipped.',
    });
    expect(out[3]).toMatchObject({ status: 'pass', figure: 'creds was fail' });
  });

  it('hands data from one check to the next, keeps it out of onCheck, and drops the fix of a pass', async () => {
    const seen: DiagnosticCheck[] = [];
    const out = await runChecks(
      [
        {
          id: 'a',
          title: 'A',
          async run() {
            return { status: 'pass', figure: null, detail: 'x', fix: 'ignored', data: { url: 'wss://x' } };
          },
        },
        {
          id: 'b',
          title: 'B',
          after: ['a'],
          async run(ctx) {
            return pass(ctx.result<{ url: string }>('a')?.data?.url);
          },
        },
      ],
      { onCheck: (c) => seen.push(c) },
    );
    expect(out[0]!.fix).toBeNull();
    expect(out[1]!.figure).toBe('wss://x');
    expect(seen[0]).not.toHaveProperty('data');
  });

  it('reports a check that throws as failed, and keeps going', async () => {
    const out = await runChecks([
      {
        id: 'boom',
        title: 'Boom',
        async run() {
          throw new Error('kaput');
        },
      },
      { id: 'ok', title: 'OK', run: async () => pass() },
    ]);
    expect(out[0]).toMatchObject({ status: 'fail', detail: 'The check could not run: kaput' });
    expect(out[1]!.status).toBe('pass');
  });

  it('cancels: running checks are aborted, the rest skipped, and the run resolves', async () => {
    const ac = new AbortController();
    let abortedInside = false;
    const slow = (id: string): CheckSpec => ({
      id,
      title: id,
      async run(ctx) {
        try {
          await sleep(60_000, undefined, { signal: ctx.signal });
        } catch (e) {
          abortedInside = true;
          throw e;
        }
        return pass();
      },
    });
    setTimeout(() => ac.abort(), 50);
    const out = await runChecks([slow('a'), slow('b'), { ...slow('c'), requires: ['a'] }], {
      parallel: 1,
      signal: ac.signal,
    });
    expect(abortedInside).toBe(true);
    expect(out.map((c) => c.status)).toEqual(['skip', 'skip', 'skip']);
    expect(out[0]!.detail).toBe('Cancelled before it finished.');
    expect(out[1]!.detail).toBe('Cancelled before it started.');
  });

  it('waits (up to its grace) for an abandoned check to release what it holds', async () => {
    let released = false;
    const spec: CheckSpec = {
      id: 'slow-cleanup',
      title: 'Slow cleanup',
      graceMs: 1000,
      async run() {
        await sleep(300); // ignores the signal, like a request that cannot be cancelled
        released = true;
        return pass();
      },
    };
    const out = await runChecks([spec], { timeoutMs: 50 });
    expect(out[0]!.status).toBe('fail');
    expect(released).toBe(true);
  });

  it('rejects duplicate ids, unknown dependencies and cycles', () => {
    const s = (id: string, deps: string[] = []): CheckSpec => ({
      id,
      title: id,
      requires: deps,
      run: async () => pass(),
    });
    expect(() => validateSpecs([s('a'), s('a')])).toThrow(/defined twice/);
    expect(() => validateSpecs([s('a', ['x'])])).toThrow(/unknown check "x"/);
    expect(() => validateSpecs([s('a', ['b']), s('b', ['a'])])).toThrow(/cycle a -> b -> a/);
  });
});
