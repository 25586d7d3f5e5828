/** Reads: filters, computed outcomes, paging, one session with events, downsampled metrics, the instance cache. */
import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HistorySessionSchema } from '../../../preload/api.js';
import { openHistoryStore, type SqliteHistoryStore } from '../../../main/core/store/sqlite-store.js';
import type { InstanceSummary } from '../../../main/core/ssm/types.js';
import { T0, deadPid, end, metric, start, tempDir } from './helpers.js';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('history queries', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: SqliteHistoryStore;
  const open = (owner?: { pid: number; host: string }) =>
    openHistoryStore({
      file: tmp.file,
      cleanupIntervalHours: 0,
      closeOnExit: false,
      ...(owner ? { owner } : {}),
    });

  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    store?.close();
    tmp.cleanup();
  });

  function seed(): void {
    // Recorded by a process that is gone: no end, so their outcome is computed as 'unknown'.
    const gone = open({ pid: deadPid(), host: os.hostname() });
    gone.recordSessionStart(
      start('dead', { instanceId: 'i-dead', instanceName: 'Café-Server', startedAt: T0 + 1 * MIN }),
    );
    gone.recordSessionStart(
      start('dead-ended', { instanceId: 'i-dead2', instanceName: 'x', startedAt: T0 + 2 * MIN }),
    );
    gone.recordSessionEnd('dead-ended', end({ endedAt: T0 + 3 * MIN, outcome: 'failed', exitCode: null }));
    gone.close();
    // Another machine's session without an end: cannot be checked, stays open.
    const elsewhere = open({ pid: 1, host: 'another-host.example' });
    elsewhere.recordSessionStart(
      start('remote', { instanceId: 'i-remote', instanceName: 'remote', startedAt: T0 + 3 * MIN }),
    );
    elsewhere.close();

    store = open();
    store.recordSessionStart(
      start('live', { instanceId: 'i-0aaa', instanceName: 'WEB-prod-1', startedAt: T0 + 10 * MIN }),
    );
    store.recordSessionStart(
      start('ended', {
        instanceId: 'i-0bbb',
        instanceName: 'db-1',
        profile: 'prod',
        startedAt: T0 + 5 * MIN,
        source: 'cli',
      }),
    );
    store.recordSessionEnd(
      'ended',
      end({ endedAt: T0 + 6 * MIN, outcome: 'ended', bytesIn: 10, bytesOut: 20, reconnects: 2 }),
    );
    store.recordSessionStart(
      start('term', { instanceId: 'i-0ccc', instanceName: 'web-2', startedAt: T0 + 4 * MIN }),
    );
    store.recordSessionEnd('term', end({ endedAt: T0 + 4.5 * MIN, outcome: 'terminated', exitCode: 130 }));
  }

  const ids = (filter?: Parameters<SqliteHistoryStore['listSessions']>[0]) =>
    store.listSessions(filter).map((s) => s.id);

  it('lists newest first, as valid HistorySession objects, with computed open/unknown outcomes', () => {
    seed();
    const all = store.listSessions();
    expect(all.map((s) => s.id)).toEqual(['live', 'ended', 'term', 'remote', 'dead-ended', 'dead']);
    for (const s of all) expect(HistorySessionSchema.parse(s)).toEqual(s);
    const by = Object.fromEntries(all.map((s) => [s.id, s]));
    expect(by.live).toMatchObject({ outcome: 'open', endedAt: null, exitCode: null });
    expect(by.dead).toMatchObject({ outcome: 'unknown', endedAt: null });
    expect(by.remote).toMatchObject({ outcome: 'open' });
    expect(by['dead-ended']).toMatchObject({ outcome: 'failed', endedAt: iso(T0 + 3 * MIN) });
    expect(by.ended).toEqual({
      id: 'ended',
      awsSessionId: 'aws-ended',
      instanceId: 'i-0bbb',
      instanceName: 'db-1',
      profile: 'prod',
      region: 'us-east-1',
      source: 'cli',
      user: 'alice',
      startedAt: iso(T0 + 5 * MIN),
      endedAt: iso(T0 + 6 * MIN),
      outcome: 'ended',
      endReason: 'the shell exited',
      exitCode: 0,
      bytesIn: 10,
      bytesOut: 20,
      reconnects: 2,
      openMs: 42,
    });
  });

  it('filters by instance (id or name, substring, any case), profile, time and outcome', () => {
    seed();
    expect(ids({ instance: 'web' })).toEqual(['live', 'term']);
    expect(ids({ instance: 'I-0A' })).toEqual(['live']);
    expect(ids({ instance: 'café' })).toEqual(['dead']);
    expect(ids({ instance: 'CAFÉ' })).toEqual(['dead']);
    expect(ids({ instance: '%' })).toEqual([]);
    expect(ids({ instance: '_' })).toEqual([]);
    expect(ids({ profile: 'prod' })).toEqual(['ended']);
    expect(ids({ from: iso(T0 + 4 * MIN), to: iso(T0 + 10 * MIN) })).toEqual(['ended', 'term']);
    expect(ids({ from: iso(T0 + 10 * MIN) })).toEqual(['live']);
    expect(ids({ outcome: 'open' })).toEqual(['live', 'remote']);
    expect(ids({ outcome: 'unknown' })).toEqual(['dead']);
    expect(ids({ outcome: 'ended' })).toEqual(['ended']);
    expect(ids({ outcome: 'terminated' })).toEqual(['term']);
    expect(ids({ outcome: 'failed' })).toEqual(['dead-ended']);
    expect(ids({ outcome: 'open', instance: 'remote' })).toEqual(['remote']);
  });

  it('pages with limit and before', () => {
    store = open();
    for (let i = 0; i < 250; i++) store.recordSessionStart(start(`s${i}`, { startedAt: T0 + i * 1000 }));
    const first = store.listSessions();
    expect(first).toHaveLength(100);
    expect(first[0]!.id).toBe('s249');
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = store.listSessions({ limit: 60, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((s) => s.id));
      before = page[page.length - 1]!.startedAt;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `s${249 - i}`));
  });

  it('reads one session with its events in order and its metrics downsampled', () => {
    store = open();
    store.recordSessionStart(start('s1'));
    store.recordEvent({ sessionId: 's1', at: T0 + 5, kind: 'state', detail: 'b' });
    store.recordEvent({ sessionId: 's1', at: T0, kind: 'opened', detail: 'a' });
    store.recordEvent({ sessionId: 's1', at: T0 + 5, kind: 'reconnected', detail: 'c' });
    store.recordEvent({ sessionId: 'other', at: T0 + 1, kind: 'opened', detail: '' });
    // 1000 samples a second apart: t = T0 + i s, p50 = i, p99 = 2i, in = 10i, out = 1.
    store.recordMetrics(
      Array.from({ length: 1000 }, (_, i) =>
        metric('s1', T0 + i * 1000, {
          latencyP50: i,
          latencyP99: 2 * i,
          inBytesPerSec: 10 * i,
          outBytesPerSec: 1,
        }),
      ),
    );
    const d = store.getSession('s1', 100)!;
    expect(d.session.id).toBe('s1');
    expect(d.events).toEqual([
      { at: iso(T0), kind: 'opened', detail: 'a' },
      { at: iso(T0 + 5), kind: 'state', detail: 'b' },
      { at: iso(T0 + 5), kind: 'reconnected', detail: 'c' },
    ]);
    // Span 999 s + 1 ms over 100 points: buckets of ceil(999001 / 100) = 9991 ms, 10 samples each.
    expect(d.metrics.bucketMs).toBe(9991);
    expect(d.metrics.points).toHaveLength(100);
    expect(d.metrics.points[0]).toEqual({
      t: T0,
      latencyP50: 4.5,
      latencyP95: null,
      latencyP99: 18,
      inBytesPerSec: 45,
      outBytesPerSec: 1,
      retransmissions: 0,
      reconnects: 0,
    });
    // Bucket b holds samples i with floor(i*1000 / 9991) = b.
    const b37 = Array.from({ length: 1000 }, (_, i) => i).filter((i) => Math.floor((i * 1000) / 9991) === 37);
    const avg = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    expect(d.metrics.points[37]).toEqual({
      t: T0 + 37 * 9991,
      latencyP50: avg(b37),
      latencyP95: null,
      latencyP99: 2 * Math.max(...b37),
      inBytesPerSec: 10 * avg(b37),
      outBytesPerSec: 1,
      retransmissions: 0,
      reconnects: 0,
    });
    // Enough points for every sample: buckets are never narrower than one second.
    const full = store.getSession('s1', 5000)!;
    expect(full.metrics.bucketMs).toBe(1000);
    expect(full.metrics.points).toHaveLength(1000);
    expect(full.metrics.points[999]).toMatchObject({ t: T0 + 999_000, latencyP50: 999 });
    // A time range.
    const part = store.sessionMetrics('s1', { from: T0 + 100_000, to: T0 + 199_000, maxPoints: 10 })!;
    // Buckets start at the first sample in the range: ceil((99000 + 1) / 10) = 9901 ms.
    expect(part.bucketMs).toBe(9901);
    expect(part.points).toHaveLength(10);
    expect(part.points[0]!.t).toBe(T0 + 100_000);
    expect(part.points[0]!.latencyP50).toBe(104.5);
    // Default: 300 points at most.
    expect(store.getSession('s1')!.metrics.points.length).toBeLessThanOrEqual(300);
    expect(store.getSession('nope')).toBeUndefined();
  });

  it('keeps null latencies null (no input sent) and a session without samples has none', () => {
    store = open();
    store.recordSessionStart(start('quiet'));
    store.recordSessionStart(start('s2'));
    store.recordMetrics([metric('s2', T0, { latencyP50: null, latencyP99: null })]);
    expect(store.getSession('quiet')!.metrics).toEqual({ bucketMs: 1000, points: [] });
    expect(store.getSession('s2')!.metrics.points).toEqual([
      {
        t: T0,
        latencyP50: null,
        latencyP95: null,
        latencyP99: null,
        inBytesPerSec: 100,
        outBytesPerSec: 10,
        retransmissions: 0,
        reconnects: 0,
      },
    ]);
  });

  it('caches instance lists per profile and region; an older list does not replace a newer one', () => {
    store = open();
    const inst: InstanceSummary = {
      instanceId: 'i-1',
      name: 'web-1',
      state: 'running',
      pingStatus: 'Online',
      platform: 'Linux',
      tags: { Name: 'web-1' },
    };
    expect(store.cachedInstances('sandbox', 'us-east-1')).toBeUndefined();
    store.cacheInstances('sandbox', 'us-east-1', [inst], T0);
    store.cacheInstances('sandbox', 'eu-west-1', [], T0);
    expect(store.cachedInstances('sandbox', 'us-east-1')).toEqual({ instances: [inst], fetchedAt: T0 });
    store.cacheInstances('sandbox', 'us-east-1', [inst, { ...inst, instanceId: 'i-2' }], T0 + 10);
    store.flush();
    store.cacheInstances('sandbox', 'us-east-1', [], T0 + 5);
    expect(store.cachedInstances('sandbox', 'us-east-1')!.instances.map((i) => i.instanceId)).toEqual([
      'i-1',
      'i-2',
    ]);
    expect(store.cachedInstances('sandbox', 'eu-west-1')).toEqual({ instances: [], fetchedAt: T0 });
  });
});
