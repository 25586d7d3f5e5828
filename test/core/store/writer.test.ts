/** The write queue: batching, flush on close, the bounded queue, idle timers, coalescing, faults of one record, busy. */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openHistoryStore, type HistoryStoreOptions } from '../../../main/core/store/sqlite-store.js';
import { T0, captureLogger, end, metric, start, tempDir } from './helpers.js';

describe('write queue', () => {
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
  const transactions = () => sql.filter((q) => q.startsWith('BEGIN')).length;
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
  afterEach(() => {
    vi.useRealTimers();
    tmp.cleanup();
  });

  it('commits many records in one transaction, on flush, and nothing before', () => {
    const store = open();
    sql.length = 0;
    store.recordSessionStart(start('s1'));
    for (let i = 0; i < 50; i++)
      store.recordEvent({ sessionId: 's1', at: T0 + i, kind: 'state', detail: String(i) });
    store.recordMetrics(Array.from({ length: 300 }, (_, i) => metric('s1', T0 + i * 1000)));
    store.recordSessionCounters('s1', { bytesIn: 5, bytesOut: 6, reconnects: 0 });
    expect(transactions()).toBe(0);
    expect(count('metrics')).toBe(0);
    store.flush();
    expect(transactions()).toBe(1);
    expect(sql.filter((q) => q === 'COMMIT')).toHaveLength(1);
    expect(count('session_events')).toBe(50);
    expect(count('metrics')).toBe(300);
    expect(store.writerStats).toMatchObject({ transactions: 1, recordsWritten: 352, pending: 0 });
    store.close();
  });

  it('flushes when batchSize records wait, on a later tick (never on the caller stack)', async () => {
    const store = open({ batchSize: 100 });
    sql.length = 0;
    store.recordSessionStart(start('s1'));
    store.recordMetrics(Array.from({ length: 99 }, (_, i) => metric('s1', T0 + i)));
    expect(transactions()).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(transactions()).toBe(1);
    expect(count('metrics')).toBe(99);
    store.close();
  });

  it('flushes after flushIntervalMs, and keeps no timer while idle', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const store = open({ flushIntervalMs: 1000 });
    sql.length = 0;
    expect(store.flushScheduled).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    store.recordEvent({ sessionId: 's1', at: T0, kind: 'opened', detail: '' });
    expect(store.flushScheduled).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(transactions()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(transactions()).toBe(1);
    expect(store.flushScheduled).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    // Still idle a minute later: nothing ran.
    vi.advanceTimersByTime(60_000);
    expect(transactions()).toBe(1);
    store.close();
  });

  it('commits what waits on close', () => {
    const store = open();
    store.recordSessionStart(start('s1'));
    store.recordEvent({ sessionId: 's1', at: T0, kind: 'opened', detail: '' });
    store.recordMetrics([metric('s1', T0), metric(null, T0, { cpuPercent: 3, memoryBytes: 1e6 })]);
    store.recordSessionEnd('s1', end());
    store.close();
    expect(count('sessions')).toBe(1);
    expect(count('session_events')).toBe(1);
    expect(count('metrics')).toBe(2);
    // After close: records are ignored and nothing throws.
    expect(() => store.recordEvent({ sessionId: 's1', at: T0, kind: 'x', detail: '' })).not.toThrow();
    expect(store.listSessions()).toEqual([]);
  });

  it('bounds the queue by dropping the oldest metric samples, never sessions or events, and logs once a minute', () => {
    const { logger, lines } = captureLogger();
    let now = T0;
    const store = open({ maxQueue: 10, batchSize: 1_000_000, logger, now: () => now });
    store.recordSessionStart(start('s1'));
    store.recordEvent({ sessionId: 's1', at: T0, kind: 'opened', detail: '' });
    store.recordMetrics(Array.from({ length: 20 }, (_, i) => metric('s1', T0 + i * 1000)));
    store.recordEvent({ sessionId: 's1', at: T0 + 1, kind: 'state', detail: '' });
    // 2 + 20 + 1 records for a bound of 10: the 13 oldest samples went.
    expect(store.writerStats).toMatchObject({ pending: 10, droppedMetrics: 13 });
    store.flush();
    expect(count('sessions')).toBe(1);
    expect(count('session_events')).toBe(2);
    const db = new Database(tmp.file, { readonly: true });
    expect(db.prepare('SELECT t FROM metrics ORDER BY t').pluck().all()).toEqual(
      Array.from({ length: 7 }, (_, i) => T0 + (13 + i) * 1000),
    );
    db.close();
    // Past the bound with no sample left to drop: events are still all kept.
    for (let i = 0; i < 15; i++)
      store.recordEvent({ sessionId: 's1', at: T0 + 2 + i, kind: 'state', detail: '' });
    expect(store.writerStats.pending).toBe(15);
    store.flush();
    expect(count('session_events')).toBe(17);
    // Another overflow within the minute: counted, not logged again.
    now += 1000;
    store.recordMetrics(Array.from({ length: 12 }, (_, i) => metric('s1', T0 + 100_000 + i)));
    expect(store.writerStats.droppedMetrics).toBe(15);
    const warnings = lines.filter((l) => /queue full/.test(l.msg));
    expect(warnings).toHaveLength(1);
    now += 61_000;
    store.recordMetrics(Array.from({ length: 12 }, (_, i) => metric('s1', T0 + 200_000 + i)));
    expect(store.writerStats.droppedMetrics).toBe(27);
    expect(lines.filter((l) => /queue full/.test(l.msg))).toHaveLength(2);
    store.close();
  });

  it('coalesces counter updates, and the end record is final', () => {
    const store = open();
    sql.length = 0;
    store.recordSessionStart(start('s1'));
    for (let i = 1; i <= 100; i++)
      store.recordSessionCounters('s1', { bytesIn: i, bytesOut: 2 * i, reconnects: 1 });
    expect(store.writerStats.pending).toBe(2);
    store.flush();
    expect(sql.filter((q) => q.startsWith('UPDATE sessions SET bytes_in'))).toHaveLength(1);
    expect(store.listSessions()[0]).toMatchObject({
      bytesIn: 100,
      bytesOut: 200,
      reconnects: 1,
      outcome: 'open',
    });
    store.recordSessionEnd('s1', end({ bytesIn: 500, bytesOut: 600, reconnects: 2 }));
    store.recordSessionCounters('s1', { bytesIn: 1, bytesOut: 1, reconnects: 0 });
    store.flush();
    expect(store.listSessions()[0]).toMatchObject({
      bytesIn: 500,
      bytesOut: 600,
      reconnects: 2,
      outcome: 'ended',
    });
    store.close();
  });

  it('skips a record the database refuses and writes the rest of its batch', () => {
    const { logger, lines } = captureLogger();
    const store = open({ logger });
    const db = new Database(tmp.file);
    db.exec(
      `CREATE TRIGGER poison BEFORE INSERT ON session_events WHEN NEW.kind = 'poison'
       BEGIN SELECT RAISE(ABORT, 'poisoned record'); END`,
    );
    db.close();
    store.recordEvent({ sessionId: 's1', at: T0, kind: 'opened', detail: '' });
    store.recordEvent({ sessionId: 's1', at: T0 + 1, kind: 'poison', detail: '' });
    store.recordEvent({ sessionId: 's1', at: T0 + 2, kind: 'closed', detail: '' });
    store.flush();
    expect(count('session_events')).toBe(2);
    expect(store.writerStats.rejected).toBe(1);
    expect(store.status.available).toBe(true);
    expect(lines.some((l) => /refused by the database/.test(l.msg))).toBe(true);
    store.close();
  });

  it('keeps the batch and retries when another process holds the lock past the busy timeout', () => {
    const store = open({ busyTimeoutMs: 50 });
    const other = new Database(tmp.file);
    other.prepare('BEGIN IMMEDIATE').run();
    store.recordSessionStart(start('s1'));
    store.recordEvent({ sessionId: 's1', at: T0, kind: 'opened', detail: '' });
    store.recordMetrics([metric('s1', T0)]);
    store.flush();
    expect(store.writerStats).toMatchObject({ busyRetries: 1, pending: 3, transactions: 0 });
    expect(store.status.available).toBe(true);
    expect(store.flushScheduled).toBe(true);
    other.prepare('COMMIT').run();
    other.close();
    store.flush();
    expect(store.writerStats).toMatchObject({ pending: 0, transactions: 1 });
    expect(count('metrics')).toBe(1);
    expect(count('session_events')).toBe(1);
    store.close();
  });

  it('skips metric samples of a session it never recorded (counted), and keeps process-wide ones', () => {
    const store = open();
    store.recordMetrics([metric('nobody', T0), metric(null, T0, { cpuPercent: 12.5, memoryBytes: 123 })]);
    store.flush();
    expect(store.writerStats.orphanMetrics).toBe(1);
    expect(store.processWideMetrics().points).toEqual([
      expect.objectContaining({ t: T0, cpuPercent: 12.5, memoryBytes: 123 }),
    ]);
    store.close();
  });
});
