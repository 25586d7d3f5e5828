/** Retention: cleanup by age (counts and survivors), trimming metrics per session, the periodic run, VACUUM. */
import os from 'node:os';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openHistoryStore, type HistoryStoreOptions } from '../../../main/core/store/sqlite-store.js';
import { T0, captureLogger, deadPid, end, metric, start, tempDir } from './helpers.js';

const DAY = 86_400_000;

describe('retention', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    vi.useRealTimers();
    tmp.cleanup();
  });
  const open = (o: HistoryStoreOptions = {}) =>
    openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false, ...o });
  const now = T0 + 100 * DAY;

  it('removes sessions that ended (or died) before the cutoff with their events and metrics, and old orphans', () => {
    const dead = open({ owner: { pid: deadPid(), host: os.hostname() } });
    dead.recordSessionStart(start('dead-old', { startedAt: now - 40 * DAY }));
    dead.recordEvent({ sessionId: 'dead-old', at: now - 40 * DAY, kind: 'opened', detail: '' });
    dead.recordMetrics([metric('dead-old', now - 40 * DAY)]);
    dead.recordSessionStart(start('dead-recent', { startedAt: now - 10 * DAY }));
    dead.close();
    const remote = open({ owner: { pid: 4242, host: 'elsewhere.example' } });
    remote.recordSessionStart(start('remote-old', { startedAt: now - 50 * DAY }));
    remote.close();

    const store = open({ now: () => now });
    // Ended 31 days ago: goes, with 3 events and 5 samples.
    store.recordSessionStart(start('old', { startedAt: now - 32 * DAY }));
    store.recordSessionEnd('old', end({ endedAt: now - 31 * DAY }));
    store.recordEvent({ sessionId: 'old', at: now - 32 * DAY, kind: 'opened', detail: '' });
    store.recordEvent({ sessionId: 'old', at: now - 31 * DAY, kind: 'state', detail: '' });
    store.recordEvent({ sessionId: 'old', at: now - 31 * DAY, kind: 'closed', detail: '' });
    store.recordMetrics(Array.from({ length: 5 }, (_, i) => metric('old', now - 32 * DAY + i * 1000)));
    // Started long ago but ended 29 days ago: stays.
    store.recordSessionStart(start('long', { startedAt: now - 60 * DAY }));
    store.recordSessionEnd('long', end({ endedAt: now - 29 * DAY }));
    store.recordMetrics([metric('long', now - 60 * DAY)]);
    // No end, but its owner (this process) lives: stays, however old.
    store.recordSessionStart(start('live-old', { startedAt: now - 45 * DAY }));
    store.recordEvent({ sessionId: 'live-old', at: now - 45 * DAY, kind: 'opened', detail: '' });
    // Events and samples of no session: old ones go, recent ones stay.
    store.recordEvent({ sessionId: 'ghost', at: now - 40 * DAY, kind: 'error', detail: '' });
    store.recordEvent({ sessionId: 'ghost', at: now - 1 * DAY, kind: 'error', detail: '' });
    store.recordMetrics([
      metric(null, now - 35 * DAY, { cpuPercent: 1 }),
      metric(null, now - 34 * DAY, { cpuPercent: 1 }),
      metric(null, now - DAY, { cpuPercent: 1 }),
    ]);
    store.cacheInstances('old-profile', 'us-east-1', [], now - 40 * DAY);
    store.cacheInstances('sandbox', 'us-east-1', [], now - DAY);
    store.flush();

    const r = store.cleanup({ olderThanDays: 30 });
    expect(r).toEqual({
      olderThanDays: 30,
      cutoff: now - 30 * DAY,
      sessions: 3, // old, dead-old, remote-old
      events: 3 + 1 + 1, // old's, dead-old's, ghost's old one
      metrics: 5 + 1 + 2, // old's, dead-old's, two process-wide
      processMetrics: 0,
      instanceCache: 1,
    });
    expect(
      store
        .listSessions()
        .map((s) => s.id)
        .sort(),
    ).toEqual(['dead-recent', 'live-old', 'long']);
    expect(store.getSession('long')!.metrics.points).toHaveLength(1);
    expect(store.getSession('live-old')!.events).toHaveLength(1);
    expect(store.processWideMetrics().points).toHaveLength(1);
    expect(store.cachedInstances('sandbox', 'us-east-1')).toBeDefined();
    expect(store.cachedInstances('old-profile', 'us-east-1')).toBeUndefined();
    const db = new Database(tmp.file, { readonly: true });
    expect(db.prepare(`SELECT at FROM session_events WHERE session_id = 'ghost'`).pluck().all()).toEqual([
      now - DAY,
    ]);
    db.close();
    // Nothing more to remove.
    expect(store.cleanup({ olderThanDays: 30 })).toMatchObject({ sessions: 0, events: 0, metrics: 0 });
    store.close();
  });

  it('trims metrics to the newest N of each session and of the process-wide series', () => {
    const store = open();
    store.recordSessionStart(start('a'));
    store.recordSessionStart(start('b'));
    store.recordSessionStart(start('c'));
    store.recordMetrics(Array.from({ length: 50 }, (_, i) => metric('a', T0 + i * 1000)));
    store.recordMetrics(Array.from({ length: 5 }, (_, i) => metric('b', T0 + i * 1000)));
    store.recordMetrics(Array.from({ length: 30 }, (_, i) => metric(null, T0 + i * 1000)));
    // Two samples at the same time: the later written one counts as newer.
    store.recordMetrics([metric('c', T0, { latencyP50: 1 }), metric('c', T0, { latencyP50: 2 })]);
    const r = store.trimMetrics(10);
    expect(r).toEqual({ series: 2, metrics: 40 + 20 });
    const times = (id: string) => store.getSession(id, 5000)!.metrics.points.map((p) => p.t);
    expect(times('a')).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (40 + i) * 1000));
    expect(times('b')).toHaveLength(5);
    expect(store.processWideMetrics({ maxPoints: 5000 }).points.map((p) => p.t)).toEqual(
      Array.from({ length: 10 }, (_, i) => T0 + (20 + i) * 1000),
    );
    expect(store.trimMetrics(1)).toEqual({ series: 4, metrics: 9 + 4 + 9 + 1 });
    expect(store.getSession('c')!.metrics.points).toEqual([expect.objectContaining({ latencyP50: 2 })]);
    expect(store.trimMetrics(0)).toEqual({ series: 0, metrics: 0 });
    store.close();
  });

  it('runs on its own: first a minute after opening, then every cleanupIntervalHours', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { logger, lines } = captureLogger();
    const store = open({
      now: () => now,
      logger,
      cleanupIntervalHours: 2,
      retentionDays: 30,
      maxMetricsPerSession: 3,
    });
    store.recordSessionStart(start('old', { startedAt: now - 40 * DAY }));
    store.recordSessionEnd('old', end({ endedAt: now - 40 * DAY }));
    store.recordSessionStart(start('new', { startedAt: now - DAY }));
    store.recordMetrics(Array.from({ length: 10 }, (_, i) => metric('new', now - DAY + i * 1000)));
    store.flush();
    const runs = () => lines.filter((l) => l.msg === 'history retention done');
    vi.advanceTimersByTime(59_999);
    expect(runs()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(runs()).toHaveLength(1);
    expect(runs()[0]).toMatchObject({ cleanup: { sessions: 1 }, trim: { metrics: 7 } });
    expect(store.listSessions().map((s) => s.id)).toEqual(['new']);
    vi.advanceTimersByTime(2 * 3_600_000 - 1);
    expect(runs()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(runs()).toHaveLength(2);
    store.close();
    vi.advanceTimersByTime(10 * 3_600_000);
    expect(runs()).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('VACUUMs on start-up when asked, giving the free pages back', () => {
    const store = open();
    store.recordSessionStart(start('a', { startedAt: T0 - 400 * DAY }));
    store.recordSessionEnd('a', end({ endedAt: T0 - 400 * DAY }));
    store.recordMetrics(
      Array.from({ length: 20_000 }, (_, i) => metric('a', T0 - 400 * DAY + i * 1000, { inBytesPerSec: i })),
    );
    store.flush();
    expect(store.cleanup({ olderThanDays: 1 }).metrics).toBe(20_000);
    const before = store.stats();
    expect(before.freePages).toBeGreaterThan(50);
    store.close();
    const again = open({ vacuumOnStartup: true });
    const after = again.stats();
    expect(after.freePages).toBe(0);
    expect(after.pageCount).toBeLessThan(before.pageCount);
    expect(after.walBytes).toBe(0);
    again.close();
  });
});
