/** The schema: from an empty file, from v1 with data, a newer file refused untouched, schema_version rows. */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPLICATION_ID,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrate,
  schemaVersion,
} from '../../../main/core/store/migrations.js';
import { openHistoryStore } from '../../../main/core/store/sqlite-store.js';
import { T0, end, metric, start, tempDir } from './helpers.js';

const objects = (db: Database.Database): string[] =>
  (
    db
      .prepare(`SELECT type || ' ' || name AS o FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY o`)
      .all() as Array<{ o: string }>
  ).map((r) => r.o);

describe('migrations', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('are numbered 1, 2, ... in order, at least two of them', () => {
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(2);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('bring an empty database to the latest schema, one schema_version row per migration', () => {
    const db = new Database(tmp.file);
    expect(schemaVersion(db)).toBe(0);
    const r = migrate(db, { now: () => 1234 });
    expect(r).toEqual({ from: 0, to: LATEST_SCHEMA_VERSION, applied: MIGRATIONS.map((m) => m.version) });
    expect(
      db.prepare('SELECT version, description, applied_at FROM schema_version ORDER BY version').all(),
    ).toEqual(MIGRATIONS.map((m) => ({ version: m.version, description: m.description, applied_at: 1234 })));
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(objects(db)).toEqual(
      expect.arrayContaining([
        'table sessions',
        'table session_events',
        'table metrics',
        'table instance_cache',
        'table schema_version',
        'index sessions_started',
        'index sessions_instance',
        'index sessions_profile',
        'index sessions_unended',
        'index session_events_session',
        'index metrics_series',
        'table process_metrics',
        'index process_metrics_t',
      ]),
    );
    // Running again changes nothing.
    expect(migrate(db)).toEqual({ from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] });
    expect(db.prepare('SELECT count(*) FROM schema_version').pluck().get()).toBe(MIGRATIONS.length);
    db.close();
  });

  it('bring a v1 database with data forward, keeping the data', () => {
    const db = new Database(tmp.file);
    migrate(db, { target: 1 });
    expect(schemaVersion(db)).toBe(1);
    expect(objects(db)).not.toContain('table instance_cache');
    db.prepare(
      `INSERT INTO sessions (id, instance_id, instance_name, profile, region, source, "user", owner_pid, owner_host, started_at, ended_at, outcome, bytes_in)
       VALUES ('s1', 'i-1', 'web-1', 'prod', 'eu-west-1', 'cli', 'bob', 1, 'h', ?, ?, 'ended', 77)`,
    ).run(T0, T0 + 1000);
    db.prepare(
      `INSERT INTO session_events (session_id, at, kind, detail) VALUES ('s1', ?, 'opened', 'x')`,
    ).run(T0);
    db.prepare(`INSERT INTO metrics (session_seq, t, in_bps, out_bps) VALUES (1, ?, 5, 6)`).run(T0);
    db.close();

    // The store opens it and migrates it (from the previous schema) on the way.
    const store = openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0 });
    expect(store.status.available).toBe(true);
    const [s] = store.listSessions();
    expect(s).toMatchObject({
      id: 's1',
      instanceName: 'web-1',
      profile: 'prod',
      outcome: 'ended',
      bytesIn: 77,
    });
    const detail = store.getSession('s1')!;
    expect(detail.events).toEqual([{ at: new Date(T0).toISOString(), kind: 'opened', detail: 'x' }]);
    expect(detail.metrics.points).toHaveLength(1);
    // v2's table works.
    store.cacheInstances('prod', 'eu-west-1', [], T0);
    expect(store.cachedInstances('prod', 'eu-west-1')).toEqual({ instances: [], fetchedAt: T0 });
    expect(store.stats().schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    store.close();

    const again = new Database(tmp.file);
    expect(again.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual(
      MIGRATIONS.map((m) => m.version),
    );
    again.close();
  });

  it('bring a v2 database with data forward to v3 in place: new metrics columns, process_metrics', () => {
    const db = new Database(tmp.file);
    migrate(db, { target: 2 });
    expect(schemaVersion(db)).toBe(2);
    const columns = (table: string): string[] =>
      (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns('metrics')).not.toContain('latency_p95');
    expect(objects(db)).not.toContain('table process_metrics');
    db.prepare(
      `INSERT INTO sessions (id, instance_id, instance_name, profile, region, source, "user", owner_pid, owner_host, started_at, ended_at, outcome, reconnects)
       VALUES ('s1', 'i-1', 'web-1', 'prod', 'eu-west-1', 'app', 'bob', 1, 'h', ?, ?, 'ended', 2)`,
    ).run(T0, T0 + 60_000);
    const insert = db.prepare(
      'INSERT INTO metrics (session_seq, t, latency_p50, latency_p99, in_bps, out_bps) VALUES (1, ?, ?, ?, 10, 20)',
    );
    for (let i = 0; i < 10; i++) insert.run(T0 + i * 1000, i, 2 * i);
    db.prepare(`INSERT INTO metrics (session_seq, t, cpu_percent, memory_bytes) VALUES (0, ?, 3, 1000)`).run(
      T0,
    );
    db.prepare(
      `INSERT INTO instance_cache (profile, region, data, fetched_at) VALUES ('prod', 'eu-west-1', '[]', ?)`,
    ).run(T0);
    db.pragma('journal_mode = DELETE');
    db.close();
    const inodeBefore = fs.statSync(tmp.file).ino;

    const store = openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false });
    expect(store.status).toMatchObject({ available: true, problem: null });
    expect(store.status.notice).toBeUndefined();
    expect(store.stats().schemaVersion).toBe(3);
    // The old rows read with the new fields: no p95, no retransmissions or reconnects.
    const detail = store.getSession('s1', 5000)!;
    expect(detail.metrics.points).toHaveLength(10);
    expect(detail.metrics.points[9]).toEqual({
      t: T0 + 9000,
      latencyP50: 9,
      latencyP95: null,
      latencyP99: 18,
      inBytesPerSec: 10,
      outBytesPerSec: 20,
      retransmissions: 0,
      reconnects: 0,
    });
    expect(store.metricsSummary()).toEqual([
      expect.objectContaining({
        sessionId: 's1',
        samples: 10,
        latencyP50: 4.5,
        latencyP95: null,
        latencyP99: 18,
      }),
    ]);
    expect(store.processWideMetrics().points).toEqual([
      expect.objectContaining({ t: T0, cpuPercent: 3, memoryBytes: 1000 }),
    ]);
    expect(store.cachedInstances('prod', 'eu-west-1')).toEqual({ instances: [], fetchedAt: T0 });
    // New rows use the new columns and table.
    store.recordSessionStart(start('s2', { startedAt: T0 + 100_000 }));
    store.recordMetrics([metric('s2', T0 + 100_000, { latencyP95: 7, retransmissions: 3, reconnects: 1 })]);
    store.recordProcessMetrics([{ t: T0, role: 'main', processes: 1, cpuPercent: 1.5, memoryBytes: 5000 }]);
    expect(store.getSession('s2')!.metrics.points[0]).toMatchObject({
      latencyP95: 7,
      retransmissions: 3,
      reconnects: 1,
    });
    expect(store.processMetrics().series).toEqual([
      { role: 'main', points: [{ t: T0, cpuPercent: 1.5, memoryBytes: 5000, processes: 1 }] },
    ]);
    store.close();

    // Migrated in place: the same file, not a copy, and nothing moved aside.
    expect(fs.statSync(tmp.file).ino).toBe(inodeBefore);
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes('.corrupt-') || f.includes('.foreign-'))).toEqual(
      [],
    );
    const again = new Database(tmp.file, { readonly: true });
    expect(again.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all()).toEqual([
      1, 2, 3,
    ]);
    expect(again.pragma('user_version', { simple: true })).toBe(3);
    const cols = (
      again.prepare('PRAGMA table_info(metrics)').all() as Array<{
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
      }>
    ).filter((c) => ['latency_p95', 'retransmits', 'reconnects'].includes(c.name));
    expect(cols).toEqual([
      expect.objectContaining({ name: 'latency_p95', type: 'REAL', notnull: 0, dflt_value: null }),
      expect.objectContaining({ name: 'retransmits', type: 'INTEGER', notnull: 1, dflt_value: '0' }),
      expect.objectContaining({ name: 'reconnects', type: 'INTEGER', notnull: 1, dflt_value: '0' }),
    ]);
    expect(
      again
        .prepare(
          `SELECT count(*) FROM metrics WHERE latency_p95 IS NULL AND retransmits = 0 AND reconnects = 0`,
        )
        .pluck()
        .get(),
    ).toBe(11);
    again.close();
  });

  it('refuse a database of a newer schema, leaving the file untouched', () => {
    const db = new Database(tmp.file);
    migrate(db);
    db.prepare(
      `INSERT INTO schema_version (version, description, applied_at) VALUES (?, 'from the future', 0)`,
    ).run(LATEST_SCHEMA_VERSION + 5);
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = fs.readFileSync(tmp.file);

    const store = openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0 });
    expect(store.status.available).toBe(false);
    expect(store.status.problem).toBe(
      `History is off: ${tmp.file} was created by a newer EC2 Connect (schema ${LATEST_SCHEMA_VERSION + 5}, ` +
        `this version knows up to ${LATEST_SCHEMA_VERSION}); upgrade, or set EC2_CONNECT_DB to another file. ` +
        'EC2 Connect keeps working without history.',
    );
    // Writes and reads do nothing and do not throw.
    store.recordSessionStart(start('x'));
    store.recordMetrics([metric('x', T0)]);
    store.recordProcessMetrics([{ t: T0, role: 'main', processes: 1, cpuPercent: 1, memoryBytes: 1 }]);
    store.recordSessionEnd('x', end());
    store.flush();
    expect(store.listSessions()).toEqual([]);
    expect(store.getSession('x')).toBeUndefined();
    expect(store.processMetrics()).toEqual({ bucketMs: 1000, series: [] });
    expect(store.metricsSummary()).toEqual([]);
    store.close();

    expect(fs.readFileSync(tmp.file).equals(before)).toBe(true);
    expect(fs.readdirSync(tmp.dir)).toEqual(['sessions.db']);
  });

  it('run each migration in its own transaction: a failing one leaves the previous version intact', () => {
    const db = new Database(tmp.file);
    migrate(db, { target: 1 });
    // Sabotage v2: a table it creates exists already, so its CREATE fails half-way.
    db.exec('CREATE TABLE instance_cache (x)');
    expect(() => migrate(db)).toThrow(/instance_cache already exists/);
    expect(schemaVersion(db)).toBe(1);
    expect(objects(db)).not.toContain('index sessions_profile');
    db.close();
  });
});
