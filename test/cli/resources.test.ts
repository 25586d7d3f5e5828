/**
 * `ec2-connect resources` through the real CLI, against a status server this test starts (with
 * hand-built, schema-checked answers) under a temporary EC2_CONNECT_HOME; and the view as text.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceSnapshotSchema, SessionInfoSchema } from '../../preload/api.js';
import {
  fitLines,
  formatUptime,
  parseInterval,
  renderResourcesView,
} from '../../main/cli/commands/resources.js';
import { startStatusServer, statusDir, type StatusServer } from '../../main/core/monitor/status-server.js';
import { CLIENT_VERSION } from '../../main/core/version.js';
import { deadPid } from '../core/store/helpers.js';
import {
  QUIET_ID,
  SESSION_ID,
  T,
  fixtureHandlers,
  metricsFixture,
  sessionsFixture,
  snapshotFixture,
} from '../core/monitor/status-fixtures.js';
import { repoRoot as root, runCliProcess, type CliResult } from '../helpers/cli.js';

const CLI = ['--import', 'tsx', 'main/cli/bin.ts'];

async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runCliProcess(args, env, [process.execPath, ...CLI]);
}

describe.skipIf(process.platform === 'win32')('ec2-connect resources', () => {
  let tmp: string;
  let home: string;
  let server: StatusServer;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-cli-res-'));
    home = path.join(tmp, 'home');
    server = await startStatusServer({
      dir: statusDir({ EC2_CONNECT_HOME: home }),
      kind: 'desktop',
      handlers: fixtureHandlers(),
    });
  });
  afterAll(async () => {
    await server.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const env = () => ({ EC2_CONNECT_HOME: home });

  it('--once --json prints the snapshot and the sessions as one JSON document', async () => {
    const r = await cli(['resources', '--once', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      pid: process.pid,
      kind: 'desktop',
      version: CLIENT_VERSION,
      socket: server.socketPath,
    });
    expect(ResourceSnapshotSchema.parse(doc.resources)).toEqual(snapshotFixture());
    expect((doc.sessions as unknown[]).map((s) => SessionInfoSchema.parse(s))).toEqual(sessionsFixture());
    expect(doc.metrics).toEqual(metricsFixture());
    // --json alone is the same document.
    const again = await cli(['resources', '--json'], env());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual(doc);
  });

  it('--once prints the text view once', async () => {
    const r = await cli(['resources', '--once'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(
      new RegExp(
        `^EC2 Connect ${CLIENT_VERSION.replace(/\./g, '\\.')}  pid ${process.pid} \\(desktop\\)  up \\S+( \\S+)?  sampled 2026-03-04T05:06:07Z every 5 s\n`,
      ),
    );
    expect(out).toContain(
      'Governor: warn - memory at 90 % of its limit (690.0 MiB of 768.0 MiB) (pressure 0.90)  |  Low power: on (battery)\n',
    );
    expect(out).toContain(
      'Limits: memory 768.0 MiB (settings), CPU 50 % of the machine (default)  |  UI every 1000 ms, economy rendering\n',
    );
    // Processes by memory, largest first.
    const rows = out.split('\n').filter((l) => /^\d+\s+(main|renderer|gpu|pty)\s/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/))).toEqual([
      ['4300', 'renderer', '12.3', '420.0 MiB', 'yes'],
      ['4242', 'main', '3.5', '180.0 MiB', 'yes'],
      ['4301', 'gpu', '1.0', '90.0 MiB', 'yes'],
      ['5001', 'pty', '0.0', '4.0 MiB', 'no'],
    ]);
    expect(out).toMatch(/^PID\s+ROLE\s+CPU%\s+MEM\s+GOVERNED$/m);
    expect(out).toContain(
      'Total governed: CPU 2.1 % of the machine (8 cores; recent average 2.5 %, limit 50 %), memory 690.0 MiB of 768.0 MiB (90 %), main heap 64.0 MiB\n',
    );
    expect(out).toContain(
      'Leak watch: heap steady (heap growth +12 %, GC max pause 3.3 ms over 42 GCs, 17 handles)\n',
    );
    expect(out).toMatch(/^ssm\s+127\.0\.0\.1:4566\s+us-east-1\s+1\.4 ms\s+2026-03-04T05:06:02Z$/m);
    expect(out).toMatch(/^ec2\s+ec2\.eu-west-1\.amazonaws\.com:443\s+eu-west-1\s+failed: ECONNREFUSED\s+/m);
    expect(out).toMatch(/^ID\s+INSTANCE\s+STATE\s+P50\s+P99\s+IN\s+OUT$/m);
    expect(out).toMatch(
      /^3f2a1b4c\s+web-1 \(i-0123456789abcdef0\)\s+open\s+2\.3 ms\s+13 ms\s+3\.0 KiB\/s\s+64 B\/s$/m,
    );
    expect(out).toMatch(/^7c9d0e1f\s+i-0fedcba9876543210\s+reconnecting\s+-\s+-\s+-\s+-$/m);
  });

  it('without --once, and stdout not a terminal: one frame per interval, separated by a blank line, until Ctrl-C', async () => {
    const child = spawn(process.execPath, [...CLI, 'resources', '--interval', '0.2'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env() },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while ((out.match(/^EC2 Connect /gm) ?? []).length < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    const frames = out.trimEnd().split('\n\n');
    expect(frames.length).toBeGreaterThanOrEqual(3);
    for (const f of frames) {
      expect(f).toMatch(/^EC2 Connect /);
      expect(f).toContain('Sessions (2; latest sample):');
    }
    expect(out).not.toContain('\x1b[');
  });

  it('on a terminal: the alternate screen, cursor hidden, redrawn in place; q quits and restores the terminal', async () => {
    const p = pty.spawn(process.execPath, [...CLI, 'resources', '--interval', '0.2'], {
      name: 'xterm-256color',
      cols: 100,
      rows: 40,
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env() },
    });
    let out = '';
    p.onData((d) => (out += d));
    const exited = new Promise<number>((resolve) => p.onExit((e) => resolve(e.exitCode)));
    /** Frames drawn: each starts with the cursor put home. */
    const frames = () => out.split('\x1b[HEC2 Connect ').length - 1;
    const deadline = Date.now() + 20_000;
    while (frames() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    p.write('q');
    expect(await exited).toBe(0);
    expect(out.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true);
    expect(frames()).toBeGreaterThanOrEqual(2);
    expect(out.endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
    // Lines fit the 100 columns.
    const frame = out.split('\x1b[H')[1]!.split('\x1b[J')[0]!;
    const lines = frame
      .split('\x1b[K')
      .map((l) => l.replace(/^[\r\n]+/, ''))
      .filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
  });

  it('says EC2 Connect is not running when no status socket is found (exit 1), and removes dead ones', async () => {
    const emptyHome = path.join(tmp, 'empty-home');
    const r = await cli(['resources', '--once', '--json'], { EC2_CONNECT_HOME: emptyHome });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const dir = path.join(emptyHome, 'run');
    expect(r.stderr).toBe(
      `ec2-connect: EC2 Connect is not running: no status socket in ${dir}. Start the app (npm start) or web mode ` +
        '(npm run web) and run this again; if it runs with EC2_CONNECT_HOME set, set the same here.\n',
    );
    // A descriptor of a process that died is not "running", and is cleaned up.
    fs.mkdirSync(dir, { recursive: true });
    const dead = deadPid();
    fs.writeFileSync(
      path.join(dir, `${dead}.json`),
      JSON.stringify({
        pid: dead,
        kind: 'web',
        socket: path.join(dir, `${dead}.sock`),
        startedAt: new Date().toISOString(),
        version: '0.1.0',
      }),
    );
    const again = await cli(['resources'], { EC2_CONNECT_HOME: emptyHome });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('EC2 Connect is not running: no status socket in');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  describe('with several running', () => {
    let other: http.Server;
    let otherSocket: string;
    let answer: unknown = snapshotFixture({ prometheus: 'http://127.0.0.1:9464/metrics' });
    beforeAll(async () => {
      // A second "EC2 Connect" (our parent process's pid, started earlier), serving its own answers.
      const dir = statusDir({ EC2_CONNECT_HOME: home });
      otherSocket = path.join(dir, `${process.ppid}.sock`);
      other = http.createServer((req, res) => {
        const body =
          req.url === '/v1/resources'
            ? answer
            : { sessions: [], metrics: { intervalMs: 1000, sessions: [] } };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => other.listen(otherSocket, resolve));
      fs.writeFileSync(
        path.join(dir, `${process.ppid}.json`),
        JSON.stringify({
          pid: process.ppid,
          kind: 'web',
          socket: otherSocket,
          startedAt: '2026-01-01T00:00:00.000Z',
          version: '0.0.9',
        }),
      );
    });
    afterAll(async () => {
      fs.rmSync(path.join(statusDir({ EC2_CONNECT_HOME: home }), `${process.ppid}.json`), { force: true });
      await new Promise((resolve) => other.close(resolve));
    });

    it('uses the newest unless --pid names another', async () => {
      const newest = JSON.parse((await cli(['resources', '--json'], env())).stdout) as Record<
        string,
        unknown
      >;
      expect(newest).toMatchObject({ pid: process.pid, kind: 'desktop' });
      const chosen = await cli(['resources', '--json', '--pid', String(process.ppid)], env());
      expect(chosen.code).toBe(0);
      expect(JSON.parse(chosen.stdout)).toMatchObject({
        pid: process.ppid,
        kind: 'web',
        version: '0.0.9',
        resources: { prometheus: 'http://127.0.0.1:9464/metrics' },
        sessions: [],
      });
      const none = await cli(['resources', '--once', '--pid', '1'], env());
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(
        new RegExp(
          `^ec2-connect: no EC2 Connect with pid 1 serves its status; running: ${process.pid} \\(desktop, started .*\\), ${process.ppid} \\(web, started 2026-01-01T00:00:00Z\\)\\.\n$`,
        ),
      );
    });

    it('an answer that does not fit the schema is a clear error (exit 1)', async () => {
      answer = { sample: null, governor: { level: 'panic' } };
      const r = await cli(['resources', '--once', '--pid', String(process.ppid)], env());
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        new RegExp(
          `^ec2-connect: EC2 Connect \\(pid ${process.ppid}, version 0\\.0\\.9\\) answered /v1/resources in an unexpected form \\(.+\\); is it the same version as this CLI\\?\n$`,
        ),
      );
    });
  });

  it('refuses a bad --interval or --pid (usage error, exit 2)', async () => {
    for (const args of [
      ['--interval', '0'],
      ['--interval', 'x'],
      ['--pid', '-3'],
    ]) {
      const r = await cli(['resources', ...args], env());
      expect([args, r.code]).toEqual([args, 2]);
    }
    expect(() => parseInterval('0.1')).toThrow(/--interval must be a number of seconds/);
    expect(parseInterval('1.5')).toBe(1.5);
  });
});

describe('renderResourcesView', () => {
  const header = {
    pid: 4242,
    kind: 'web' as const,
    startedAt: new Date(T - 7_380_000).toISOString(),
    version: '1.2.3',
  };
  const st = { sessions: sessionsFixture(), metrics: metricsFixture() };

  it('lays out header, processes, totals, leak watch, endpoints and sessions', () => {
    const text = renderResourcesView(snapshotFixture(), st, 0, header, T);
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'EC2 Connect 1.2.3  pid 4242 (web)  up 2h 03m  sampled 2026-03-04T05:06:07Z every 5 s',
      'Governor: warn - memory at 90 % of its limit (690.0 MiB of 768.0 MiB) (pressure 0.90)  |  Low power: on (battery)',
      'Limits: memory 768.0 MiB (settings), CPU 50 % of the machine (default)  |  UI every 1000 ms, economy rendering',
      'Last change 2026-03-04T05:05:07Z: normal -> warn: memory at 90 % of its limit',
    ]);
    expect(lines[4]).toBe('Processes (4, by memory; CPU% of one core):');
    expect(lines[5]).toMatch(/^PID\s+ROLE\s+CPU%\s+MEM\s+GOVERNED$/);
    expect(lines[6]!.split(/\s{2,}/)).toEqual(['4300', 'renderer', '12.3', '420.0 MiB', 'yes']);
    expect(lines.indexOf('Endpoints:')).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Leak watch: ')));
    expect(lines.at(-2)).toMatch(new RegExp(`^${SESSION_ID.slice(0, 8)}\\s`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${QUIET_ID.slice(0, 8)}\\s`));
    expect(text.endsWith('\n')).toBe(false);
  });

  it('says what is missing: no sample yet, no limits, no probes, no sessions; refusals and leak warnings stand out', () => {
    const base = snapshotFixture();
    const snap = ResourceSnapshotSchema.parse({
      ...base,
      sample: null,
      history: [],
      changes: [],
      probes: [],
      governor: {
        ...base.governor,
        level: 'refuse',
        pressure: null,
        memory: { usedBytes: 0, limitBytes: null },
        cpu: { percent: 0, limitPercent: null },
        reason: null,
        refusal: 'EC2 Connect uses 2.0 GiB of memory, over its 1.5 GiB limit; close some sessions first.',
        lowPower: { active: false, mode: 'off', reasons: [] },
        ui: { updateIntervalMs: 250, backgroundScrollback: 1000, economy: false },
      },
      leak: {
        ...base.leak,
        growthRatio: null,
        warning: true,
        summary: 'heap grew 60 % in 10 min; likely: sessions',
      },
    });
    const text = renderResourcesView(snap, { sessions: [], metrics: { intervalMs: 1000, sessions: [] } }, 0);
    expect(text.split('\n')).toEqual([
      'EC2 Connect  not sampled yet',
      'Governor: refuse  |  Low power: off (off)',
      'Limits: memory none, CPU none  |  UI every 250 ms, background scrollback 1000 lines',
      'New sessions are refused: EC2 Connect uses 2.0 GiB of memory, over its 1.5 GiB limit; close some sessions first.',
      'Processes: no sample yet',
      'Leak watch: WARNING heap grew 60 % in 10 min; likely: sessions (heap growth: not enough samples, GC max pause 3.3 ms over 42 GCs, 17 handles)',
      'Endpoints: none probed yet',
      'Sessions: none open',
    ]);
  });

  it('cuts lines to the width', () => {
    const text = renderResourcesView(snapshotFixture(), st, 40, header, T);
    for (const l of text.split('\n')) expect(l.length).toBeLessThanOrEqual(40);
    expect(text.split('\n')[0]).toBe('EC2 Connect 1.2.3  pid 4242 (web)  up 2…');
    expect(fitLines(['abc', 'abcdef'], 4)).toEqual(['abc', 'abc…']);
    expect(fitLines(['abcdef'], 0)).toEqual(['abcdef']);
    expect([
      formatUptime(42_000),
      formatUptime(312_000),
      formatUptime(7_380_000),
      formatUptime(100 * 3_600_000),
    ]).toEqual(['42s', '5m 12s', '2h 03m', '4d 4h']);
  });
});
