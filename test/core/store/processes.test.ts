/**
 * Several processes on one file: two writers and a reader at once (WAL, busy timeout: nothing
 * lost, no SQLITE_BUSY surfaced), and a writer killed with SIGKILL in the middle of its batches
 * (every batch it reported committed is there, no batch is half there, the file is sound).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHistoryStore } from '../../../main/core/store/sqlite-store.js';
import { captureLogger, tempDir } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);

function child(name: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fixture(name), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(
  p: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('several processes on one store', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('two writers and a reader at once: every row arrives, nobody sees SQLITE_BUSY', async () => {
    const N = 5000;
    // No file yet: the two children race to create and migrate it.
    const a = collect(child('writer-child.ts', [tmp.file, 'alpha', String(N)]));
    const b = collect(child('writer-child.ts', [tmp.file, 'beta', String(N)]));
    let done = false;
    const both = Promise.all([a, b]).finally(() => (done = true));

    const { logger, lines } = captureLogger();
    let reads = 0;
    let reader: ReturnType<typeof openHistoryStore> | undefined;
    let raw: Database.Database | undefined;
    let maxSeen = 0;
    while (!done) {
      try {
        reader ??= openHistoryStore({ file: tmp.file, logger, cleanupIntervalHours: 0, closeOnExit: false });
        raw ??= new Database(tmp.file, { readonly: true, timeout: 5000 });
      } catch {
        // The file may not exist yet for the read-only connection.
      }
      if (reader && raw) {
        const listed = reader.listSessions({ limit: 20 });
        expect(listed.length).toBeLessThanOrEqual(20);
        const n = raw.prepare('SELECT count(*) FROM sessions').pluck().get() as number;
        expect(n).toBeGreaterThanOrEqual(maxSeen);
        maxSeen = n;
        if (listed[0]) expect(reader.getSession(listed[0].id)).toBeDefined();
        reads++;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await both;
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as {
        status: { available: boolean };
        writer: { busyRetries: number; recordsWritten: number; droppedMetrics: number; rejected: number };
      };
      expect(out.status.available).toBe(true);
      expect(out.writer).toMatchObject({
        busyRetries: 0,
        recordsWritten: 3 * N,
        droppedMetrics: 0,
        rejected: 0,
      });
    }
    expect(reads).toBeGreaterThan(10);
    expect(reader!.status.available).toBe(true);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    reader!.close();
    raw!.close();

    const db = new Database(tmp.file, { readonly: true });
    for (const p of ['alpha', 'beta']) {
      expect(db.prepare('SELECT count(*) FROM sessions WHERE instance_name = ?').pluck().get(p)).toBe(N);
      expect(db.prepare('SELECT count(*) FROM session_events WHERE detail = ?').pluck().get(p)).toBe(N);
      expect(
        db
          .prepare('SELECT count(*) FROM metrics JOIN sessions ON seq = session_seq WHERE instance_name = ?')
          .pluck()
          .get(p),
      ).toBe(N);
    }
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 60_000);

  it('kill -9 in the middle of writing loses nothing that was committed', async () => {
    const p = child('kill-child.ts', [tmp.file]);
    const result = collect(p);
    const committed: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const rl = createInterface({ input: p.stdout! });
      rl.on('line', (line) => {
        const m = /^committed (\d+)$/.exec(line);
        if (m) committed.push(Number(m[1]));
        if (committed.length === 25) {
          p.kill('SIGKILL');
          resolve();
        }
      });
      p.on('exit', (code) => reject(new Error(`the child exited (${code}) before it was killed`)));
    });
    const r = await result;
    expect(r.signal).toBe('SIGKILL');
    expect(committed).toEqual(Array.from({ length: 25 }, (_, i) => i));

    // Reopened through the store (recovery from the WAL), then checked directly.
    const store = openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false });
    expect(store.status.available).toBe(true);
    expect(store.movedAside).toBeNull();
    store.close();
    const db = new Database(tmp.file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const present = new Set(db.prepare('SELECT id FROM sessions').pluck().all() as string[]);
    for (const k of committed) expect(present.has(`b${k}`)).toBe(true);
    // Every batch is all there or not at all.
    const perSession = db
      .prepare(
        `SELECT s.id, (SELECT count(*) FROM session_events e WHERE e.session_id = s.id) AS events,
                (SELECT count(*) FROM metrics m WHERE m.session_seq = s.seq) AS metrics FROM sessions s`,
      )
      .all() as Array<{ id: string; events: number; metrics: number }>;
    expect(perSession.length).toBeGreaterThanOrEqual(committed.length);
    for (const s of perSession) expect(s).toEqual({ id: s.id, events: 10, metrics: 2000 });
    expect(db.prepare('SELECT count(*) FROM session_events').pluck().get()).toBe(10 * perSession.length);
    db.close();
  }, 60_000);
});
