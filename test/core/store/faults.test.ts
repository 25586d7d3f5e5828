/**
 * Faults: a corrupt, garbled or foreign file is moved aside (bytes intact) and a new store works;
 * a full disk or read-only file turns history off with a clear reason and nothing throws; files
 * are private (0600, folder 0700).
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID } from '../../../main/core/store/migrations.js';
import { openHistoryStore, type HistoryStoreOptions } from '../../../main/core/store/sqlite-store.js';
import type { StoreStatus } from '../../../main/core/store/types.js';
import { T0, captureLogger, end, fileMode, metric, start, tempDir } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);
const nodeTsx = [process.execPath, '--import', 'tsx'];
/** How to run a child without root's power over permissions: as we are, or as nobody through runuser; null: cannot. */
const readOnlyRunner: string[] | null =
  process.getuid?.() !== 0
    ? nodeTsx
    : spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0
      ? ['runuser', '-u', 'nobody', '--', ...nodeTsx]
      : null;

describe('store faults', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => {
    tmp.cleanup();
  });
  const open = (o: HistoryStoreOptions = {}) =>
    openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false, ...o });
  const asideFiles = (kind: string) =>
    fs.readdirSync(tmp.dir).filter((f) => f.startsWith(`sessions.db.${kind}-`));

  function expectFreshStoreWorks(store: ReturnType<typeof open>): void {
    expect(store.status.available).toBe(true);
    store.recordSessionStart(start('new'));
    store.recordMetrics([metric('new', T0)]);
    store.recordSessionEnd('new', end());
    expect(store.listSessions().map((s) => s.id)).toEqual(['new']);
    expect(store.getSession('new')!.metrics.points).toHaveLength(1);
  }

  it('moves a file of random bytes aside, with its -wal and -shm, and starts a new store', () => {
    const garbage = crypto.randomBytes(64 * 1024);
    fs.writeFileSync(tmp.file, garbage);
    fs.writeFileSync(tmp.file + '-wal', 'old wal');
    fs.writeFileSync(tmp.file + '-shm', 'old shm');
    const { logger, lines } = captureLogger();
    const store = open({ logger, now: () => Date.parse('2026-03-04T05:06:07.089Z') });
    const aside = `${tmp.file}.corrupt-2026-03-04T05-06-07.089Z`;
    expect(fs.readFileSync(aside).equals(garbage)).toBe(true);
    expect(fs.readFileSync(aside + '-wal', 'utf8')).toBe('old wal');
    expect(fs.readFileSync(aside + '-shm', 'utf8')).toBe('old shm');
    expect(store.movedAside).toMatchObject({ reason: 'corrupt', to: aside });
    expect(store.status.notice).toBe(
      `The history file ${tmp.file} was damaged (not an SQLite database (its header is wrong)); it was moved to ` +
        `${aside} and a new, empty history was started. Nothing was deleted.`,
    );
    const warn = lines.find((l) => l.level === 40)!;
    expect(warn.msg).toContain(tmp.file);
    expect(warn.msg).toContain(aside);
    expectFreshStoreWorks(store);
    store.close();
  });

  it('moves a garbled SQLite file aside (pages overwritten in the middle) and starts a new store', () => {
    const first = open();
    for (let i = 0; i < 2000; i++) {
      first.recordSessionStart(
        start(`s${i}`, { startedAt: T0 + i, instanceName: `host-${i}-${'x'.repeat(50)}` }),
      );
      first.recordEvent({ sessionId: `s${i}`, at: T0 + i, kind: 'opened', detail: 'y'.repeat(40) });
    }
    first.close();
    expect(fs.existsSync(tmp.file + '-wal')).toBe(false);
    const bytes = fs.readFileSync(tmp.file);
    const pageSize = 4096;
    expect(bytes.length).toBeGreaterThan(40 * pageSize);
    crypto.randomBytes(8 * pageSize).copy(bytes, 20 * pageSize);
    fs.writeFileSync(tmp.file, bytes);

    const store = open();
    const [aside] = asideFiles('corrupt');
    expect(aside).toBeDefined();
    expect(fs.readFileSync(path.join(tmp.dir, aside!)).equals(bytes)).toBe(true);
    expect(store.movedAside!.detail).toMatch(/integrity check failed|SQLITE_CORRUPT/);
    expectFreshStoreWorks(store);
    store.close();
  });

  it("moves another application's SQLite database aside as foreign", () => {
    const other = new Database(tmp.file);
    other.exec(
      `CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT); INSERT INTO moz_places (url) VALUES ('x');`,
    );
    other.close();
    const bytes = fs.readFileSync(tmp.file);
    const store = open();
    const [aside] = asideFiles('foreign');
    expect(aside).toBeDefined();
    expect(fs.readFileSync(path.join(tmp.dir, aside!)).equals(bytes)).toBe(true);
    expect(store.status.notice).toMatch(
      /not an EC2 Connect history database \(application_id 0, tables moz_places\)/,
    );
    expectFreshStoreWorks(store);
    store.close();
  });

  it('treats a database with another application_id as foreign, even without tables', () => {
    const other = new Database(tmp.file);
    other.pragma('application_id = 1234');
    other.close();
    const store = open();
    expect(asideFiles('foreign')).toHaveLength(1);
    expect(store.movedAside!.detail).toContain('application_id 1234');
    expectFreshStoreWorks(store);
    store.close();
    // Our own file is recognised and kept.
    const again = open();
    expect(again.movedAside).toBeNull();
    expect(again.listSessions().map((s) => s.id)).toEqual(['new']);
    const db = new Database(tmp.file, { readonly: true });
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    db.close();
    again.close();
  });

  it('accepts an empty file as a new database', () => {
    fs.writeFileSync(tmp.file, '');
    const store = open();
    expect(store.movedAside).toBeNull();
    expectFreshStoreWorks(store);
    store.close();
  });

  it('turns history off when the disk is full, says why, and never throws', () => {
    const { logger, lines } = captureLogger();
    const store = open({ logger, testHooks: { maxPageCount: 40 } });
    const changes: StoreStatus[] = [];
    store.onStatusChanged((s) => changes.push(s));
    store.recordSessionStart(start('kept'));
    store.flush();
    expect(store.status.available).toBe(true);
    store.recordSessionStart(start('s1'));
    store.recordMetrics(Array.from({ length: 20_000 }, (_, i) => metric('s1', T0 + i)));
    store.flush();
    const problem =
      `History is off: the disk holding ${tmp.file} is full (SQLITE_FULL). Free some space; ` +
      'EC2 Connect keeps working without history.';
    expect(store.status).toEqual({ available: false, problem, file: tmp.file });
    expect(changes).toEqual([store.status]);
    const err = lines.find((l) => l.level === 50)!;
    expect(err.msg).toBe(`${problem} (20001 queued records were not written)`);
    expect(err.lost).toBe(20001);
    // Later writes are dropped quietly; what was committed can still be read.
    expect(() => {
      store.recordSessionStart(start('s2'));
      store.recordSessionCounters('s2', { bytesIn: 1, bytesOut: 1, reconnects: 0 });
      store.recordEvent({ sessionId: 's2', at: T0, kind: 'x', detail: '' });
      store.recordMetrics([metric('s2', T0)]);
      store.recordSessionEnd('s2', end());
      store.cacheInstances('p', 'r', [], T0);
      store.flush();
    }).not.toThrow();
    expect(store.writerStats.pending).toBe(0);
    expect(store.flushScheduled).toBe(false);
    expect(store.listSessions().map((s) => s.id)).toEqual(['kept']);
    expect(changes).toHaveLength(1);
    store.close();
    // Nothing half-written: the file is sound.
    const db = new Database(tmp.file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT count(*) FROM metrics').pluck().get()).toBe(0);
    db.close();
  });

  it('turns history off when the file is read-only (emulated: opened read-only)', () => {
    open().close();
    const store = open({ testHooks: { readonly: true } });
    expect(store.status.available).toBe(true);
    const changes: StoreStatus[] = [];
    store.onStatusChanged((s) => changes.push(s));
    store.recordSessionStart(start('s1'));
    expect(() => store.flush()).not.toThrow();
    expect(store.status.available).toBe(false);
    expect(store.status.problem).toMatch(
      new RegExp(
        `^History is off: ${tmp.file.replace(/[.]/g, '\\.')} cannot be written, the file or its folder is read-only \\(SQLITE_READONLY\\)\\. ` +
          `Make ${tmp.dir.replace(/[.]/g, '\\.')} writable, or set EC2_CONNECT_DB to a writable file; EC2 Connect keeps working without history\\.$`,
      ),
    );
    expect(changes).toHaveLength(1);
    store.close();
  });

  it.skipIf(!readOnlyRunner)(
    'turns history off in a read-only folder (a child process; as root, run as nobody, since root ignores permissions)',
    () => {
      const r = spawnSync(readOnlyRunner![0]!, [...readOnlyRunner!.slice(1), fixture('readonly-child.ts')], {
        cwd: root,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir() },
      });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as {
        dir: string;
        threw: unknown;
        existingAfterWrite: StoreStatus;
        fresh: StoreStatus;
      };
      expect(out.threw).toBe(false);
      const readOnly = (f: string, code: string) =>
        `History is off: ${f} cannot be written, the file or its folder is read-only (${code}). ` +
        `Make ${out.dir} writable, or set EC2_CONNECT_DB to a writable file; EC2 Connect keeps working without history.`;
      const file = path.join(out.dir, 'sessions.db');
      const code = /\((SQLITE_READONLY\w*)\)/.exec(out.existingAfterWrite.problem ?? '')?.[1] ?? 'none';
      expect(out.existingAfterWrite).toEqual({ available: false, file, problem: readOnly(file, code) });
      const fresh = path.join(out.dir, 'new.db');
      expect(out.fresh).toEqual({ available: false, file: fresh, problem: readOnly(fresh, 'EACCES') });
    },
  );

  it('is off with a clear reason when the folder cannot be created, and does not throw', () => {
    const notADir = path.join(tmp.dir, 'plain-file');
    fs.writeFileSync(notADir, 'x');
    const file = path.join(notADir, 'sub', 'sessions.db');
    const store = openHistoryStore({ file, cleanupIntervalHours: 0, closeOnExit: false });
    expect(store.status).toEqual({
      available: false,
      file,
      problem:
        `History is off: ${file} cannot be opened or created (ENOTDIR). Check that ${path.dirname(file)} is a ` +
        'writable folder, or set EC2_CONNECT_DB to another file; EC2 Connect keeps working without history.',
    });
    store.recordSessionStart(start('s1'));
    store.flush();
    expect(store.listSessions()).toEqual([]);
    expect(() => store.stats()).toThrow(/History is off/);
    store.close();
  });

  it('keeps the database, its -wal and -shm private (0600) and creates its folder 0700', () => {
    const old = process.umask(0);
    try {
      const file = path.join(tmp.dir, 'new', 'folder', 'sessions.db');
      const store = openHistoryStore({ file, cleanupIntervalHours: 0, closeOnExit: false });
      store.recordSessionStart(start('s1'));
      store.flush();
      for (const f of [file, file + '-wal', file + '-shm']) expect([f, fileMode(f)]).toEqual([f, 0o600]);
      expect(fileMode(path.dirname(file))).toBe(0o700);
      store.close();
      // An existing file that is readable by others is made private.
      fs.chmodSync(file, 0o644);
      const again = openHistoryStore({ file, cleanupIntervalHours: 0, closeOnExit: false });
      expect(fileMode(file)).toBe(0o600);
      for (const f of [file + '-wal', file + '-shm']) expect(fileMode(f)).toBe(0o600);
      again.close();
    } finally {
      process.umask(old);
    }
  });
});
