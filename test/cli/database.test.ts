/** `ec2-connect database stats|cleanup` through the real CLI, on a prepared history file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes, formatCleanup, parseDays } from '../../main/cli/commands/database.js';
import { openHistoryStore } from '../../main/core/store/sqlite-store.js';
import { runCliProcess, type CliResult } from '../helpers/cli.js';

const DAY = 86_400_000;

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliProcess(args, env);
}

describe('ec2-connect database', () => {
  let dir: string;
  let file: string;
  const now = Date.now();
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-cli-db-'));
    file = path.join(dir, 'sessions.db');
    const store = openHistoryStore({ file, cleanupIntervalHours: 0, closeOnExit: false });
    const session = (id: string, startedAt: number, endedAt: number) => {
      store.recordSessionStart({
        id,
        awsSessionId: id,
        instanceId: 'i-1',
        instanceName: 'web-1',
        profile: 'sandbox',
        region: 'us-east-1',
        source: 'cli',
        user: 'alice',
        startedAt,
        openMs: 5,
      });
      store.recordEvent({ sessionId: id, at: startedAt, kind: 'opened', detail: '' });
      store.recordEvent({ sessionId: id, at: endedAt, kind: 'closed', detail: '' });
      store.recordMetrics(
        Array.from({ length: 100 }, (_, i) => ({
          sessionId: id,
          t: startedAt + i * 1000,
          latencyP50: 1,
          latencyP99: 2,
          inBytesPerSec: 1,
          outBytesPerSec: 1,
        })),
      );
      store.recordSessionEnd(id, {
        endedAt,
        outcome: 'ended',
        endReason: null,
        exitCode: 0,
        bytesIn: 1,
        bytesOut: 1,
        reconnects: 0,
      });
    };
    session('old-1', now - 50 * DAY, now - 45 * DAY);
    session('old-2', now - 40 * DAY, now - 40 * DAY + 1000);
    session('recent', now - 2 * DAY, now - DAY);
    store.close();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stats --json: file, sizes, rows per table, oldest and newest', async () => {
    const r = await cli(['database', 'stats', '--json', '--db', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      exists: true,
      file,
      schemaVersion: 3, // migration v3 (issue 7): metrics p95/retransmits/reconnects, process_metrics
      journalMode: 'wal',
      rows: { sessions: 3, session_events: 6, metrics: 300, instance_cache: 0 },
      oldestSession: new Date(now - 50 * DAY).toISOString(),
      newestSession: new Date(now - 2 * DAY).toISOString(),
    });
    expect(s.fileBytes).toBe(fs.statSync(file).size);
    expect(typeof s.walBytes).toBe('number');
  });

  it('stats as a table, and EC2_CONNECT_DB picks the file', async () => {
    const r = await cli(['database', 'stats'], { EC2_CONNECT_DB: file });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`File            ${file}`);
    expect(r.stdout).toMatch(/^Size\s+\d+\.\d (KiB|MiB) \(WAL .*\)$/m);
    expect(r.stdout).toMatch(/^TABLE\s+ROWS$/m);
    expect(r.stdout).toMatch(/^metrics\s+300$/m);
    expect(r.stdout).toMatch(/^session_events\s+6$/m);
    expect(r.stdout).toContain(`Oldest session  ${new Date(now - 50 * DAY).toISOString()}`);
  });

  it('cleanup --days 30 --json removes what ended before and reports it', async () => {
    const r = await cli(['database', 'cleanup', '--days', '30', '--json', '--db', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      file,
      olderThanDays: 30,
      sessions: 2,
      events: 4,
      metrics: 200,
      instanceCache: 0,
    });
    expect(Math.abs((out.cutoff as number) - (now - 30 * DAY))).toBeLessThan(60_000);
    const after = JSON.parse((await cli(['database', 'stats', '--json', '--db', file])).stdout) as {
      rows: Record<string, number>;
    };
    expect(after.rows).toEqual({ sessions: 1, session_events: 2, metrics: 100, instance_cache: 0 });
    // Again, in words, with --vacuum: nothing left to remove.
    const again = await cli(['database', 'cleanup', '--days', '30', '--vacuum', '--db', file]);
    expect(again.code).toBe(0);
    const day = new Date(now - 30 * DAY).toISOString().slice(0, 10);
    expect(again.stdout).toMatch(
      new RegExp(
        `^Removed 0 sessions, 0 events and 0 metric rows older than 30 days \\(before ${day}\\)\\.\\n` +
          'Compacted ',
      ),
    );
  });

  it('refuses --days that is not a whole number above 0 (usage error, exit 2)', async () => {
    for (const days of ['0', 'x']) {
      const r = await cli(['database', 'cleanup', '--days', days, '--db', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--days must be a whole number of days greater than 0');
      expect(r.stdout).toBe('');
    }
    const missing = await cli(['database', 'cleanup', '--db', file]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--days <N>' not specified/);
  });

  it('prints the problem and exits 1 when the store cannot be used', async () => {
    const future = path.join(dir, 'future.db');
    const store = openHistoryStore({ file: future, cleanupIntervalHours: 0, closeOnExit: false });
    store.close();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(future);
    db.prepare(`INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'x', 0)`).run();
    db.close();
    const r = await cli(['database', 'stats', '--db', future]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^ec2-connect: History is off: .*future\.db was created by a newer EC2 Connect \(schema 99/,
    );
    const c = await cli(['database', 'cleanup', '--days', '3', '--db', future]);
    expect(c.code).toBe(1);
  });

  it('says so when there is no history file yet, and creates none', async () => {
    const none = path.join(dir, 'none', 'sessions.db');
    const r = await cli(['database', 'stats', '--db', none]);
    expect(r).toMatchObject({ code: 0, stdout: `No history yet: ${none} does not exist.\n` });
    expect(fs.existsSync(path.dirname(none))).toBe(false);
  });

  it('formats counts, sizes and days', () => {
    expect(parseDays('30')).toBe(30);
    for (const bad of ['0', '-3', '1.5', 'x', '', '1e3'])
      expect(() => parseDays(bad)).toThrow(/greater than 0/);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(
      formatCleanup({
        olderThanDays: 30,
        cutoff: Date.parse('2026-10-26T10:00:00Z'),
        sessions: 12,
        events: 340,
        metrics: 52_000,
        instanceCache: 0,
      }),
    ).toBe('Removed 12 sessions, 340 events and 52,000 metric rows older than 30 days (before 2026-10-26).');
    expect(
      formatCleanup({ olderThanDays: 1, cutoff: 0, sessions: 1, events: 1, metrics: 1, instanceCache: 2 }),
    ).toBe(
      'Removed 1 session, 1 event and 1 metric row older than 1 day (before 1970-01-01) (and 2 cached instance lists).',
    );
  });
});
