/** `ec2-connect metrics` through the real CLI, on a history file filled through the store. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatMs,
  formatRate,
  formatSpan,
  parseDuration,
  shortIds,
} from '../../main/cli/commands/metrics.js';
import { openHistoryStore } from '../../main/core/store/sqlite-store.js';
import type { MetricsSummary, ProcessMetricsSeries } from '../../main/core/store/types.js';
import { runCliProcess, type CliResult } from '../helpers/cli.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const nodeTsx = [process.execPath, '--import', 'tsx', 'main/cli/bin.ts'];
/** As root, a child run as nobody (through runuser) is refused files like anyone else; null: cannot. */
const asOtherUser: string[] | null =
  process.getuid?.() !== 0
    ? nodeTsx
    : spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0
      ? ['runuser', '-u', 'nobody', '--', ...nodeTsx]
      : null;

async function cli(
  args: string[],
  env: Record<string, string> = {},
  runner: string[] = nodeTsx,
): Promise<CliResult> {
  return runCliProcess(args, env, runner);
}

/** RFC 4180 records (no quoted line breaks in this data). */
function parseCsv(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((line) =>
      line
        .match(/("([^"]|"")*"|[^,]*)(,|$)/g)!
        .slice(0, -1)
        .map((f) => f.replace(/,$/, '')),
    );
}

const ID_A = '3f2a1b4c-1111-4111-8111-111111111111';
const ID_B = '7c9d0e1f-2222-4222-8222-222222222222';
const ID_OLD = '0b1c2d3e-3333-4333-8333-333333333333';
const ID_TWIN1 = 'aaaabbbb-cccc-4ddd-8eee-000000000001';
const ID_TWIN2 = 'aaaabbbb-cccc-4ddd-8eee-000000000002';

describe('ec2-connect metrics', () => {
  let dir: string;
  let file: string;
  let home: string;
  const now = Date.now();
  const startA = now - 2 * HOUR;
  const startB = now - HOUR;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-cli-metrics-'));
    home = path.join(dir, 'home');
    fs.mkdirSync(home);
    file = path.join(home, 'sessions.db');
    const store = openHistoryStore({ file, cleanupIntervalHours: 0, closeOnExit: false });
    const session = (id: string, startedAt: number, name: string, ended: boolean) => {
      store.recordSessionStart({
        id,
        awsSessionId: `aws-${id}`,
        instanceId: 'i-0123456789abcdef0',
        instanceName: name,
        profile: 'sandbox',
        region: 'us-east-1',
        source: 'app',
        user: 'alice',
        startedAt,
        openMs: 5,
      });
      if (ended)
        store.recordSessionEnd(id, {
          endedAt: startedAt + 600_000,
          outcome: 'ended',
          endReason: null,
          exitCode: 0,
          bytesIn: 1,
          bytesOut: 1,
          reconnects: 0,
        });
    };
    session(ID_A, startA, 'web-1', true);
    session(ID_B, startB, 'db-1', false);
    session(ID_OLD, now - 3 * DAY, 'old-box', true);
    session(ID_TWIN1, now - 10 * DAY, 'twin', true);
    session(ID_TWIN2, now - 10 * DAY + 1000, 'twin', true);
    // A: 120 samples a second apart: p50 = 2, p95 = 4 + i % 5 (max 8), p99 = 10 (30 at i = 60),
    // in 2048 B/s, out 100 B/s, a retransmission every 10th, one reconnect at i = 60.
    store.recordMetrics(
      Array.from({ length: 120 }, (_, i) => ({
        sessionId: ID_A,
        t: startA + i * 1000,
        latencyP50: 2,
        latencyP95: 4 + (i % 5),
        latencyP99: i === 60 ? 30 : 10,
        inBytesPerSec: 2048,
        outBytesPerSec: 100,
        retransmissions: i % 10 === 0 ? 1 : 0,
        reconnects: i === 60 ? 1 : 0,
      })),
    );
    store.recordMetrics([
      {
        sessionId: ID_B,
        t: startB,
        latencyP50: null,
        latencyP95: null,
        latencyP99: null,
        inBytesPerSec: 3 * 1024 * 1024,
        outBytesPerSec: 0,
      },
      {
        sessionId: ID_OLD,
        t: now - 3 * DAY,
        latencyP50: 1,
        latencyP99: 1,
        inBytesPerSec: 1,
        outBytesPerSec: 1,
      },
    ]);
    // Process metrics every minute for the last 30 minutes; pty stopped 10 minutes ago.
    for (let m = 30; m >= 1; m--) {
      const t = now - m * 60_000;
      store.recordProcessMetrics([
        { t, role: 'main', processes: 1, cpuPercent: 2.5, memoryBytes: 150 * 1024 * 1024 },
        { t, role: 'renderer', processes: 2, cpuPercent: 7, memoryBytes: 300 * 1024 * 1024 },
        ...(m > 10 ? [{ t, role: 'pty', processes: 3, cpuPercent: 0.5, memoryBytes: 12 * 1024 * 1024 }] : []),
      ]);
    }
    store.close();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const env = () => ({ EC2_CONNECT_HOME: home });

  it('lists the sessions of the last 24 h with latency, throughput, retransmissions and reconnects, then the processes', async () => {
    const r = await cli(['metrics'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^Sessions started in the last 24 h \(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\): 2$/,
    );
    expect(r.stdout).toMatch(
      /^SESSION\s+INSTANCE\s+STARTED\s+OUTCOME\s+SAMPLES\s+P50\s+P95\s+P99\s+IN\s+OUT\s+RETX\s+RECONN$/m,
    );
    const rowA = lines.find((l) => l.startsWith('3f2a1b4c '))!;
    expect(rowA.split(/\s{2,}/)).toEqual([
      '3f2a1b4c',
      'web-1',
      new Date(startA).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'ended',
      '120',
      '2.0 ms',
      '8.0 ms',
      '30 ms',
      '2.0 KiB/s',
      '100 B/s',
      '12',
      '1',
    ]);
    const rowB = lines.find((l) => l.startsWith('7c9d0e1f '))!;
    expect(rowB.split(/\s{2,}/)).toEqual([
      '7c9d0e1f',
      'db-1',
      new Date(startB).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'open',
      '1',
      '-',
      '-',
      '-',
      '3.0 MiB/s',
      '0 B/s',
      '0',
      '0',
    ]);
    // Newest first; the 3-day-old session is outside the default window.
    expect(lines.indexOf(rowB)).toBeLessThan(lines.indexOf(rowA));
    expect(r.stdout).not.toContain('0b1c2d3e');
    // The processes of the latest bucket: pty stopped before it.
    expect(r.stdout).toMatch(/^Processes at \S+ \(buckets of .*\):$/m);
    expect(r.stdout).toMatch(/^ROLE\s+PROCESSES\s+CPU%\s+MEMORY$/m);
    expect(r.stdout).toMatch(/^main\s+1\s+2\.5\s+150\.0 MiB$/m);
    expect(r.stdout).toMatch(/^renderer\s+2\s+7\.0\s+300\.0 MiB$/m);
    expect(r.stdout).not.toMatch(/^pty/m);
  });

  it('--since widens the window; twins get prefixes long enough to tell them apart', async () => {
    const r = await cli(['metrics', '--since', '30d'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Sessions started in the last 30 d .*: 5$/m);
    expect(r.stdout).toMatch(/^0b1c2d3e\s+old-box/m);
    expect(r.stdout).toMatch(/^aaaabbbb-cccc-4ddd-8eee-000000000001\s+twin/m);
    const bad = await cli(['metrics', '--since', 'yesterday'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since must be a duration such as 30m, 24h, 7d or 2w');
  });

  it('--json prints one document: the sessions summary and the process series', async () => {
    const r = await cli(['metrics', '--json', '--since', '7d'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      file: string;
      from: string;
      to: string;
      sessions: MetricsSummary[];
      processes: ProcessMetricsSeries;
    };
    expect(doc.file).toBe(file);
    expect(Date.parse(doc.to) - Date.parse(doc.from)).toBe(7 * DAY);
    expect(doc.sessions.map((s) => s.sessionId)).toEqual([ID_B, ID_A, ID_OLD]);
    expect(doc.sessions[1]).toEqual({
      sessionId: ID_A,
      instanceId: 'i-0123456789abcdef0',
      instanceName: 'web-1',
      profile: 'sandbox',
      region: 'us-east-1',
      startedAt: new Date(startA).toISOString(),
      endedAt: new Date(startA + 600_000).toISOString(),
      outcome: 'ended',
      samples: 120,
      latencyP50: 2,
      latencyP95: 8,
      latencyP99: 30,
      inBytesPerSec: 2048,
      outBytesPerSec: 100,
      retransmissions: 12,
      reconnects: 1,
    });
    expect(doc.processes.series.map((s) => s.role)).toEqual(['main', 'renderer', 'pty']);
    expect(doc.processes.series[0]!.points).toHaveLength(30);
  });

  it('--csv prints RFC 4180 CSV with a header row', async () => {
    const r = await cli(['metrics', '--csv'], env());
    expect(r.code).toBe(0);
    const rows = parseCsv(r.stdout);
    expect(rows[0]).toEqual([
      'session_id',
      'instance_id',
      'instance_name',
      'profile',
      'region',
      'started_at',
      'ended_at',
      'outcome',
      'samples',
      'latency_p50_ms',
      'latency_p95_ms',
      'latency_p99_ms',
      'in_bytes_per_sec',
      'out_bytes_per_sec',
      'retransmissions',
      'reconnects',
    ]);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toEqual([
      ID_B,
      'i-0123456789abcdef0',
      'db-1',
      'sandbox',
      'us-east-1',
      new Date(startB).toISOString(),
      '',
      'open',
      '1',
      '',
      '',
      '',
      String(3 * 1024 * 1024),
      '0',
      '0',
      '0',
    ]);
  });

  it('--json and --csv together is a usage error', async () => {
    const r = await cli(['metrics', '--json', '--csv'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--json' cannot be used with option '--csv'/);
    expect(r.stdout).toBe('');
  });

  it('--session PREFIX shows the session series, as a table, JSON or CSV', async () => {
    const r = await cli(['metrics', '--session', '3f2a1b4c'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^Session ${ID_A}: web-1 \\(i-0123456789abcdef0\\), sandbox/us-east-1, started .*, ended .* \\(ended\\)$`,
        'm',
      ),
    );
    // 119 s + 1 ms in at most 60 buckets: ceil(119001 / 60) = 1984 ms each, two samples in each.
    expect(r.stdout).toMatch(/^60 points, buckets of 1\.98 s /m);
    expect(r.stdout).toMatch(/^TIME\s+P50\s+P95\s+P99\s+IN\s+OUT\s+RETX\s+RECONN$/m);
    const first = r.stdout
      .split('\n')
      .find((l) => l.startsWith(new Date(startA).toISOString().slice(0, 19)))!;
    expect(first.split(/\s{2,}/)).toEqual([
      new Date(startA).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      '2.0 ms',
      '5.0 ms',
      '10 ms',
      '2.0 KiB/s',
      '100 B/s',
      '1',
      '0',
    ]);

    const j = await cli(['metrics', '--session', ID_A, '--json'], env());
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout) as {
      session: { id: string };
      bucketMs: number;
      points: Array<Record<string, number | null>>;
    };
    expect(doc.session.id).toBe(ID_A);
    expect(doc.bucketMs).toBe(1000);
    expect(doc.points).toHaveLength(120);
    expect(doc.points[60]).toEqual({
      t: startA + 60_000,
      latencyP50: 2,
      latencyP95: 4,
      latencyP99: 30,
      inBytesPerSec: 2048,
      outBytesPerSec: 100,
      retransmissions: 1,
      reconnects: 1,
    });

    const c = await cli(['metrics', '--session', '3f2a1b4c-1111', '--csv', '--points', '10'], env());
    expect(c.code).toBe(0);
    const rows = parseCsv(c.stdout);
    expect(rows[0]).toEqual([
      'time',
      'latency_p50_ms',
      'latency_p95_ms',
      'latency_p99_ms',
      'in_bytes_per_sec',
      'out_bytes_per_sec',
      'retransmissions',
      'reconnects',
    ]);
    expect(rows).toHaveLength(11);
    expect(rows.slice(1).reduce((a, row) => a + Number(row[6]), 0)).toBe(12);
    expect(rows.slice(1).reduce((a, row) => a + Number(row[7]), 0)).toBe(1);
  });

  it('--session: a clear error when the id is ambiguous, unknown or too short', async () => {
    const twins = await cli(['metrics', '--session', 'aaaabbbb'], env());
    expect(twins.code).toBe(1);
    expect(twins.stderr).toContain('ec2-connect: "aaaabbbb" matches 2 sessions; give more of the id:');
    expect(twins.stderr).toContain(ID_TWIN1);
    expect(twins.stderr).toContain(ID_TWIN2);
    const one = await cli(['metrics', '--session', 'aaaabbbb-cccc-4ddd-8eee-000000000002', '--json'], env());
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout).session.id).toBe(ID_TWIN2);
    const unknown = await cli(['metrics', '--session', 'ffffffff'], env());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      `ec2-connect: no recorded session id starts with "ffffffff" in ${file}; ` +
        '`ec2-connect metrics --since 30d` lists sessions with their ids.\n',
    );
    const short = await cli(['metrics', '--session', '3f2a'], env());
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('--session needs the session id or at least 8 of its first characters');
  });

  it('a missing database is an error naming the file and what to do (exit 1), without a stack trace', async () => {
    const missing = path.join(dir, 'nowhere', 'sessions.db');
    const r = await cli(['metrics'], { EC2_CONNECT_DB: missing });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `ec2-connect: no history database at ${missing}. EC2 Connect creates it when the app, web mode or ` +
        '`ec2-connect connect` opens a session; if yours is elsewhere, set EC2_CONNECT_DB or pass --db <file>.\n',
    );
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
    // A folder instead of a file.
    const folder = await cli(['metrics', '--db', dir]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      `ec2-connect: ${dir} is not a file; point EC2_CONNECT_DB or --db at the history database (sessions.db).\n`,
    );
  });

  it('a damaged database is an error that says where it went (exit 1)', async () => {
    const bad = path.join(dir, 'bad', 'sessions.db');
    fs.mkdirSync(path.dirname(bad));
    fs.writeFileSync(bad, 'this is not sqlite '.repeat(20));
    const r = await cli(['metrics', '--db', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^ec2-connect: The history file .*bad\/sessions\.db was damaged \(not an SQLite database .*\); it was moved to .*sessions\.db\.corrupt-.* There are no metrics to show from it\.\n$/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.skipIf(!asOtherUser)('a database this user cannot read is an error that says so (exit 1)', async () => {
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const lockedFile = path.join(locked, 'sessions.db');
    fs.copyFileSync(file, lockedFile);
    fs.chmodSync(lockedFile, 0o600);
    const r = await cli(['metrics'], { EC2_CONNECT_DB: lockedFile, HOME: os.tmpdir() }, asOtherUser!);
    fs.chmodSync(dir, 0o700);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ec2-connect: cannot read the history database ${lockedFile} (EACCES): run as the user that runs EC2 Connect ` +
        '(the file is private to it), or point EC2_CONNECT_DB or --db at another file.\n',
    );
  });

  it('an empty store says there are no metrics yet (exit 0); JSON and CSV stay well-formed', async () => {
    const emptyHome = path.join(dir, 'empty-home');
    openHistoryStore({
      file: path.join(emptyHome, 'sessions.db'),
      cleanupIntervalHours: 0,
      closeOnExit: false,
    }).close();
    const r = await cli(['metrics'], { EC2_CONNECT_HOME: emptyHome });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No metrics recorded yet in .*empty-home\/sessions\.db: /);
    const j = await cli(['metrics', '--json'], { EC2_CONNECT_HOME: emptyHome });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ sessions: [], processes: { series: [] } });
    const c = await cli(['metrics', '--csv'], { EC2_CONNECT_HOME: emptyHome });
    expect(c.code).toBe(0);
    expect(parseCsv(c.stdout)).toHaveLength(1);
    // A store with sessions, none recent.
    const q = await cli(['metrics', '--since', '1m'], env());
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(
      /^No metrics in the last 1 min \(since .*\); try a longer --since, e.g. --since 30d\.$/m,
    );
  });

  it('formats durations, latencies, rates and id prefixes', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('24h')).toBe(DAY);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
    expect(parseDuration('2W')).toBe(14 * DAY);
    for (const bad of ['', '7', 'd', '1.5h', '-1d', '0d', '7 days'])
      expect(() => parseDuration(bad)).toThrow(/--since/);
    expect(formatSpan(DAY)).toBe('24 h');
    expect(formatSpan(7 * DAY)).toBe('7 d');
    expect(formatSpan(90 * 60_000)).toBe('90 min');
    expect([formatMs(null), formatMs(0.84), formatMs(12.4), formatMs(1234)]).toEqual([
      '-',
      '0.8 ms',
      '12 ms',
      '1.23 s',
    ]);
    expect([formatRate(0), formatRate(512.4), formatRate(1536)]).toEqual(['0 B/s', '512 B/s', '1.5 KiB/s']);
    expect(shortIds(['abcdefgh1', 'abcdefgh2', 'xyz', 'qwertyuiop'])).toEqual([
      'abcdefgh1',
      'abcdefgh2',
      'xyz',
      'qwertyui',
    ]);
  });
});
