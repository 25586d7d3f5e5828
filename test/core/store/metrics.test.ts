/**
 * Schema v3 reads and writes: p95, retransmissions and reconnects of session samples, per-role
 * process metrics (queued, downsampled, retained), the per-session metrics summary, and what
 * these do when the database is closed, off or damaged (reads empty, writes never throw).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHistoryStore, type HistoryStoreOptions } from '../../../main/core/store/sqlite-store.js';
import type { ProcessMetricsRecord } from '../../../main/core/store/types.js';
import { T0, captureLogger, end, metric, start, tempDir } from './helpers.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const proc = (t: number, role: string, over: Partial<ProcessMetricsRecord> = {}): ProcessMetricsRecord => ({
  t,
  role,
  processes: 1,
  cpuPercent: 1,
  memoryBytes: 1000,
  ...over,
});

describe('metrics in the store (schema v3)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sql: string[];
  const open = (o: HistoryStoreOptions = {}) =>
    openHistoryStore({
      file: tmp.file,
      cleanupIntervalHours: 0,
      closeOnExit: false,
      flushIntervalMs: 60_000,
      testHooks: { verbose: (q) => sql.push(String(q)) },
      ...o,
    });
  const count = (table: string): number => {
    const db = new Database(tmp.file, { readonly: true });
    try {
      return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    } finally {
      db.close();
    }
  };
  beforeEach(() => {
    tmp = tempDir();
    sql = [];
  });
  afterEach(() => tmp.cleanup());

  it('stores p95, retransmissions and reconnects; buckets take the max p95 and sum the counts', () => {
    const store = open();
    store.recordSessionStart(start('s1'));
    // 100 samples a second apart: p95 = i, retransmissions = i % 3, a reconnect every 10th.
    store.recordMetrics(
      Array.from({ length: 100 }, (_, i) =>
        metric('s1', T0 + i * 1000, {
          latencyP50: 1,
          latencyP95: i,
          latencyP99: 2 * i,
          retransmissions: i % 3,
          reconnects: i % 10 === 0 ? 1 : 0,
        }),
      ),
    );
    const full = store.getSession('s1', 1000)!.metrics;
    expect(full.points).toHaveLength(100);
    expect(full.points[4]).toEqual({
      t: T0 + 4000,
      latencyP50: 1,
      latencyP95: 4,
      latencyP99: 8,
      inBytesPerSec: 100,
      outBytesPerSec: 10,
      retransmissions: 1,
      reconnects: 0,
    });
    // 10 buckets of ceil(99001 / 10) = 9901 ms: 10 samples each (i = 10b .. 10b + 9).
    const d = store.getSession('s1', 10)!.metrics;
    expect(d.bucketMs).toBe(9901);
    expect(d.points).toHaveLength(10);
    expect(d.points[3]).toEqual({
      t: T0 + 3 * 9901,
      latencyP50: 1,
      latencyP95: 39,
      latencyP99: 78,
      inBytesPerSec: 100,
      outBytesPerSec: 10,
      retransmissions: [30, 31, 32, 33, 34, 35, 36, 37, 38, 39].reduce((a, i) => a + (i % 3), 0),
      reconnects: 1,
    });
    expect(d.points.reduce((a, p) => a + p.reconnects, 0)).toBe(10);
    expect(d.points.reduce((a, p) => a + p.retransmissions, 0)).toBe(
      Array.from({ length: 100 }, (_, i) => i % 3).reduce((a, x) => a + x, 0),
    );
    // The same through sessionMetrics, over a range.
    const part = store.sessionMetrics('s1', { from: T0 + 50_000, to: T0 + 59_000, maxPoints: 1 })!;
    expect(part.points).toEqual([
      expect.objectContaining({ t: T0 + 50_000, latencyP95: 59, reconnects: 1, cpuPercent: null }),
    ]);
    store.close();
  });

  it('sanitizes the new fields: absent or invalid counts are 0, a missing p95 is null', () => {
    const store = open();
    store.recordSessionStart(start('s1'));
    store.recordMetrics([
      metric('s1', T0),
      metric('s1', T0 + 1000, { latencyP95: Number.NaN, retransmissions: -4, reconnects: 2.6 }),
      metric('s1', T0 + 2000, {
        latencyP95: 'x' as unknown as number,
        retransmissions: Infinity,
        reconnects: null as unknown as number,
      }),
    ]);
    const points = store.getSession('s1', 1000)!.metrics.points;
    expect(points.map((p) => [p.latencyP95, p.retransmissions, p.reconnects])).toEqual([
      [null, 0, 0],
      [null, 0, 3],
      [null, 0, 0],
    ]);
    store.close();
  });

  it('queues process metrics and commits them with the other records in one transaction', () => {
    const store = open();
    sql.length = 0;
    store.recordSessionStart(start('s1'));
    store.recordMetrics([metric('s1', T0)]);
    store.recordProcessMetrics([proc(T0, 'main'), proc(T0, 'renderer', { processes: 2 })]);
    store.recordProcessMetrics([]);
    expect(count('process_metrics')).toBe(0);
    expect(store.writerStats.pending).toBe(4);
    store.flush();
    expect(sql.filter((q) => q.startsWith('BEGIN'))).toHaveLength(1);
    expect(count('process_metrics')).toBe(2);
    expect(count('metrics')).toBe(1);
    expect(store.writerStats).toMatchObject({ transactions: 1, recordsWritten: 4, pending: 0 });
    store.close();
  });

  it('sanitizes process records: no role skips it, numbers are clamped, a long role is cut', () => {
    const store = open();
    store.recordProcessMetrics([
      proc(T0, ''),
      null as unknown as ProcessMetricsRecord,
      proc(T0, 'pty', { processes: -1, cpuPercent: Number.NaN, memoryBytes: 12.7 }),
      proc(T0, 'x'.repeat(100), { cpuPercent: 250 }),
    ]);
    const r = store.processMetrics();
    expect(r.series).toEqual([
      { role: 'pty', points: [{ t: T0, cpuPercent: 0, memoryBytes: 13, processes: 0 }] },
      { role: 'x'.repeat(40), points: [{ t: T0, cpuPercent: 250, memoryBytes: 1000, processes: 1 }] },
    ]);
    store.close();
  });

  it('downsamples process metrics per role into shared buckets: CPU averaged, memory and count the maximum', () => {
    const store = open();
    const records: ProcessMetricsRecord[] = [];
    // 600 s of one sample per 5 s: main (cpu i, mem 1000 + i), renderer (cpu 2, 1 or 3 processes).
    for (let i = 0; i < 120; i++) {
      const t = T0 + i * 5000;
      records.push(proc(t, 'main', { cpuPercent: i, memoryBytes: 1000 + i }));
      records.push(proc(t, 'renderer', { cpuPercent: 2, memoryBytes: 500, processes: i % 2 ? 3 : 1 }));
      if (i >= 60) records.push(proc(t, 'pty', { cpuPercent: 0.5, memoryBytes: 10 }));
    }
    records.push(proc(T0 + 10_000, 'gpu'), proc(T0 + 10_000, 'aaa-other'), proc(T0 + 10_000, 'child'));
    store.recordProcessMetrics(records);
    const r = store.processMetrics({ maxPoints: 12 });
    // Span 595 s + 1 ms over 12 points: buckets of ceil(595001 / 12) = 49584 ms.
    expect(r.bucketMs).toBe(49_584);
    expect(r.series.map((s) => s.role)).toEqual(['main', 'renderer', 'gpu', 'pty', 'child', 'aaa-other']);
    const main = r.series[0]!.points;
    expect(main).toHaveLength(12);
    const inBucket = (b: number) =>
      Array.from({ length: 120 }, (_, i) => i).filter((i) => Math.floor((i * 5000) / 49_584) === b);
    const b3 = inBucket(3);
    expect(main[3]).toEqual({
      t: T0 + 3 * 49_584,
      cpuPercent: b3.reduce((a, i) => a + i, 0) / b3.length,
      memoryBytes: 1000 + Math.max(...b3),
      processes: 1,
    });
    expect(r.series[1]!.points.every((p) => p.cpuPercent === 2 && p.processes === 3)).toBe(true);
    // pty starts half-way: its points use the same bucket starts.
    const pty = r.series.find((s) => s.role === 'pty')!.points;
    expect(pty[0]!.t).toBe(T0 + Math.floor(300_000 / 49_584) * 49_584);
    expect(pty.every((p) => main.some((m) => m.t === p.t))).toBe(true);
    // Enough points: buckets are never narrower than a second, one point per sample.
    const fine = store.processMetrics({ maxPoints: 100_000 });
    expect(fine.bucketMs).toBe(1000);
    expect(fine.series[0]!.points).toHaveLength(120);
    // A time range: only the samples inside it, buckets starting at the first of them.
    const part = store.processMetrics({ from: T0 + 100_000, to: T0 + 149_999, maxPoints: 1 });
    expect(part.bucketMs).toBe(45_001);
    expect(part.series.map((s) => s.role)).toEqual(['main', 'renderer']);
    expect(part.series[0]!.points).toEqual([
      { t: T0 + 100_000, cpuPercent: 24.5, memoryBytes: 1029, processes: 1 },
    ]);
    expect(store.processMetrics({ from: T0 + 10 * DAY })).toEqual({ bucketMs: 1000, series: [] });
    // Default: 300 points at most.
    expect(store.processMetrics().series[0]!.points.length).toBeLessThanOrEqual(300);
    store.close();
  });

  it('summarizes the metrics of each session, newest first, with the listSessions filter', () => {
    const store = open();
    store.recordSessionStart(start('a', { startedAt: T0, instanceName: 'web-1' }));
    store.recordSessionStart(start('b', { startedAt: T0 + 1000, instanceName: 'db-1', profile: 'prod' }));
    store.recordSessionStart(start('quiet', { startedAt: T0 + 2000 }));
    store.recordSessionEnd('a', end({ endedAt: T0 + 60_000 }));
    store.recordMetrics([
      metric('a', T0, {
        latencyP50: 2,
        latencyP95: 8,
        latencyP99: 10,
        inBytesPerSec: 100,
        outBytesPerSec: 10,
        retransmissions: 1,
      }),
      metric('a', T0 + 1000, {
        latencyP50: 4,
        latencyP95: 6,
        latencyP99: 30,
        inBytesPerSec: 300,
        outBytesPerSec: 30,
        retransmissions: 2,
        reconnects: 1,
      }),
      metric('a', T0 + 2000, {
        latencyP50: null,
        latencyP95: null,
        latencyP99: null,
        inBytesPerSec: 200,
        outBytesPerSec: 20,
      }),
      metric('b', T0 + 1000, { latencyP95: 3, reconnects: 2 }),
    ]);
    const all = store.metricsSummary();
    expect(all.map((s) => s.sessionId)).toEqual(['quiet', 'b', 'a']);
    expect(all[2]).toEqual({
      sessionId: 'a',
      instanceId: 'i-0123456789abcdef0',
      instanceName: 'web-1',
      profile: 'sandbox',
      region: 'us-east-1',
      startedAt: iso(T0),
      endedAt: iso(T0 + 60_000),
      outcome: 'ended',
      samples: 3,
      latencyP50: 3,
      latencyP95: 8,
      latencyP99: 30,
      inBytesPerSec: 200,
      outBytesPerSec: 20,
      retransmissions: 3,
      reconnects: 1,
    });
    expect(all[0]).toMatchObject({
      sessionId: 'quiet',
      outcome: 'open',
      endedAt: null,
      samples: 0,
      latencyP50: null,
      latencyP95: null,
      latencyP99: null,
      inBytesPerSec: 0,
      outBytesPerSec: 0,
      retransmissions: 0,
      reconnects: 0,
    });
    expect(store.metricsSummary({ profile: 'prod' }).map((s) => s.sessionId)).toEqual(['b']);
    expect(store.metricsSummary({ instance: 'WEB' }).map((s) => s.sessionId)).toEqual(['quiet', 'a']);
    expect(store.metricsSummary({ from: iso(T0 + 500) }).map((s) => s.sessionId)).toEqual(['quiet', 'b']);
    expect(store.metricsSummary({ outcome: 'ended' }).map((s) => s.sessionId)).toEqual(['a']);
    expect(store.metricsSummary({ limit: 1 }).map((s) => s.sessionId)).toEqual(['quiet']);
    expect(store.metricsSummary({ from: iso(T0 + DAY) })).toEqual([]);
    store.close();
  });

  it('finds sessions by a prefix of their id', () => {
    const store = open();
    const ids = ['3f2a1b4c-0000-4000-8000-000000000001', '3f2a1b4c-0000-4000-8000-000000000002', 'abc'];
    ids.forEach((id, i) => store.recordSessionStart(start(id, { startedAt: T0 + i })));
    expect(store.findSessions('3f2a1b4c').map((s) => s.id)).toEqual([ids[1], ids[0]]);
    expect(store.findSessions('3f2a1b4c-0000-4000-8000-000000000001').map((s) => s.id)).toEqual([ids[0]]);
    expect(store.findSessions('3F2A1B4C')).toEqual([]);
    expect(store.findSessions('ab').map((s) => s.id)).toEqual(['abc']);
    expect(store.findSessions('')).toEqual([]);
    expect(store.findSessions('3f2a1b4c', 1)).toHaveLength(1);
    store.close();
  });

  it('retention removes process metrics older than the cutoff and trims each role to the newest N', () => {
    const now = T0 + 100 * DAY;
    const store = open({ now: () => now });
    store.recordProcessMetrics([
      proc(now - 40 * DAY, 'main'),
      proc(now - 31 * DAY, 'renderer'),
      proc(now - 29 * DAY, 'main'),
      proc(now - DAY, 'renderer'),
    ]);
    const r = store.cleanup({ olderThanDays: 30 });
    expect(r).toMatchObject({ sessions: 0, metrics: 2, processMetrics: 2 });
    const rows = () => {
      const db = new Database(tmp.file, { readonly: true });
      try {
        return db.prepare('SELECT role, t FROM process_metrics ORDER BY t').all();
      } finally {
        db.close();
      }
    };
    expect(rows()).toEqual([
      { role: 'main', t: now - 29 * DAY },
      { role: 'renderer', t: now - DAY },
    ]);
    expect(store.cleanup({ olderThanDays: 30 })).toMatchObject({ metrics: 0, processMetrics: 0 });

    const t1 = now - 60_000;
    store.recordProcessMetrics([
      ...Array.from({ length: 20 }, (_, i) => proc(t1 + i * 1000, 'main', { cpuPercent: i })),
      ...Array.from({ length: 3 }, (_, i) => proc(t1 + i * 1000, 'gpu')),
      // Two at the same time: the later written one counts as newer.
      proc(t1, 'pty', { cpuPercent: 1 }),
      proc(t1, 'pty', { cpuPercent: 2 }),
    ]);
    const trimmed = store.trimMetrics(5);
    // main has 21 (one from before), gpu 3, pty 2, renderer 1.
    expect(trimmed).toEqual({ series: 1, metrics: 21 - 5 });
    const main = store.processMetrics({ maxPoints: 100_000 }).series[0]!;
    expect(main.points.map((p) => p.cpuPercent)).toEqual([15, 16, 17, 18, 19]);
    // main 5 -> 1, gpu 3 -> 1, pty 2 -> 1; renderer has only one.
    expect(store.trimMetrics(1)).toEqual({ series: 3, metrics: 4 + 2 + 1 });
    const pty = store.processMetrics({ maxPoints: 100_000 }).series.find((s) => s.role === 'pty')!;
    expect(pty.points).toEqual([expect.objectContaining({ cpuPercent: 2 })]);
    store.close();
  });

  it('the periodic retention prunes process metrics too', () => {
    const now = T0 + 100 * DAY;
    const store = open({ now: () => now, retentionDays: 30, maxMetricsPerSession: 2 });
    store.recordProcessMetrics([
      proc(now - 40 * DAY, 'main'),
      ...Array.from({ length: 5 }, (_, i) => proc(now - i * 1000, 'main')),
    ]);
    const r = store.runMaintenance();
    expect(r.cleanup).toMatchObject({ processMetrics: 1 });
    expect(r.trim).toEqual({ series: 1, metrics: 3 });
    expect(count('process_metrics')).toBe(2);
    store.close();
  });

  it('drops the oldest samples of either kind when the queue is full', () => {
    const store = open({ maxQueue: 10 });
    store.recordSessionStart(start('s1'));
    store.recordProcessMetrics(Array.from({ length: 6 }, (_, i) => proc(T0 + i * 1000, 'main')));
    store.recordMetrics(Array.from({ length: 6 }, (_, i) => metric('s1', T0 + i * 1000)));
    expect(store.writerStats.droppedMetrics).toBe(3);
    store.flush();
    expect(count('sessions')).toBe(1);
    expect(count('process_metrics')).toBe(3);
    expect(count('metrics')).toBe(6);
    store.close();
  });

  it('closed: reads are empty and writes do nothing, without throwing', () => {
    const store = open();
    store.recordSessionStart(start('s1'));
    store.recordMetrics([metric('s1', T0)]);
    store.recordProcessMetrics([proc(T0, 'main')]);
    store.close();
    expect(() => {
      store.recordMetrics([metric('s1', T0 + 1000, { latencyP95: 1 })]);
      store.recordProcessMetrics([proc(T0 + 1000, 'main')]);
      store.flush();
    }).not.toThrow();
    expect(store.processMetrics()).toEqual({ bucketMs: 1000, series: [] });
    expect(store.metricsSummary()).toEqual([]);
    expect(store.findSessions('s1')).toEqual([]);
    expect(store.sessionMetrics('s1')).toBeUndefined();
    expect(store.processWideMetrics()).toEqual({ bucketMs: 1000, points: [] });
    // What was written before closing is there.
    expect(count('process_metrics')).toBe(1);
    expect(count('metrics')).toBe(1);
  });

  it('off because the file cannot be opened: reads are empty and writes never throw', () => {
    const notADir = `${tmp.dir}/plain-file`;
    fs.writeFileSync(notADir, 'x');
    const store = open({ file: `${notADir}/sessions.db` });
    expect(store.status.available).toBe(false);
    expect(() => {
      store.recordSessionStart(start('s1'));
      store.recordMetrics([metric('s1', T0)]);
      store.recordProcessMetrics([proc(T0, 'main')]);
      store.flush();
    }).not.toThrow();
    expect(store.processMetrics()).toEqual({ bucketMs: 1000, series: [] });
    expect(store.metricsSummary()).toEqual([]);
    expect(store.findSessions('s1')).toEqual([]);
    store.close();
  });

  it('off after the disk filled up: process metrics are dropped quietly, what was committed still reads', () => {
    const store = open({ testHooks: { maxPageCount: 40 } });
    store.recordProcessMetrics([proc(T0, 'main', { cpuPercent: 7 })]);
    store.flush();
    store.recordProcessMetrics(Array.from({ length: 20_000 }, (_, i) => proc(T0 + i, 'renderer')));
    expect(() => store.flush()).not.toThrow();
    expect(store.status.available).toBe(false);
    expect(store.status.problem).toMatch(/is full \(SQLITE_FULL\)/);
    expect(() => store.recordProcessMetrics([proc(T0, 'main')])).not.toThrow();
    expect(store.writerStats.pending).toBe(0);
    expect(store.processMetrics().series).toEqual([
      { role: 'main', points: [{ t: T0, cpuPercent: 7, memoryBytes: 1000, processes: 1 }] },
    ]);
    store.close();
  });

  it('damaged while open: the read that meets the damage is empty, history turns off, nothing throws', () => {
    const { logger, lines } = captureLogger();
    const store = open({ logger });
    store.recordSessionStart(start('s1'));
    store.recordMetrics([metric('s1', T0)]);
    store.recordProcessMetrics([proc(T0, 'main')]);
    store.flush();
    // What SQLite answers when a page it reads is damaged (random bytes behind a live connection
    // are not caught deterministically: cached pages hide them), injected into the open connection.
    const db = (store as unknown as { db: Database.Database }).db;
    db.prepare = () => {
      throw Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    };
    let series: ReturnType<typeof store.processMetrics> | undefined;
    let summary: ReturnType<typeof store.metricsSummary> | undefined;
    expect(() => {
      series = store.processMetrics();
      summary = store.metricsSummary();
    }).not.toThrow();
    expect(series).toEqual({ bucketMs: 1000, series: [] });
    expect(summary).toEqual([]);
    expect(store.findSessions('s1')).toEqual([]);
    expect(store.status.available).toBe(false);
    expect(store.status.problem).toBe(
      `History is off: ${tmp.file} is damaged (SQLITE_CORRUPT). It is checked, moved aside and replaced by a ` +
        'new file when EC2 Connect next starts; EC2 Connect keeps working without history.',
    );
    expect(lines.some((l) => l.level === 50 && /is damaged/.test(l.msg))).toBe(true);
    expect(() => {
      store.recordProcessMetrics([proc(T0 + 1000, 'main')]);
      store.recordMetrics([metric('s1', T0 + 1000)]);
      store.flush();
    }).not.toThrow();
    expect(store.writerStats.pending).toBe(0);
    expect(() => store.close()).not.toThrow();
    expect(count('process_metrics')).toBe(1);
  });

  it('a damaged file found at start is moved aside; the new store has no metrics and records new ones', () => {
    const first = open();
    first.recordProcessMetrics([proc(T0, 'main')]);
    first.close();
    fs.writeFileSync(tmp.file, crypto.randomBytes(8192));
    const store = open();
    expect(store.movedAside).toMatchObject({ reason: 'corrupt' });
    expect(store.processMetrics()).toEqual({ bucketMs: 1000, series: [] });
    expect(store.metricsSummary()).toEqual([]);
    store.recordProcessMetrics([proc(T0, 'gpu')]);
    expect(store.processMetrics().series.map((s) => s.role)).toEqual(['gpu']);
    store.close();
  });
});
