/**
 * `ec2-connect diagnose` as a child process (through tsx): against its embedded sandbox, and
 * against a standalone `ec2-connect sandbox` with a fleet of broken instances and faults set over
 * the admin API. Text and JSON output, exit status 0 / 1 / 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs, { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiagnosticReportSchema, type DiagnosticReport } from '../../preload/api.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'main/cli/bin.ts'];
const HOME = mkdtempSync(path.join(os.tmpdir(), 'ec2c-diagnose-cli-'));
afterAll(() => rmSync(HOME, { recursive: true, force: true }));

/** No AWS_* or proxy variables from the developer's shell; a data folder of its own (no running app, no history). */
function cliEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? ROOT,
    EC2_CONNECT_HOME: HOME,
    LANG: process.env.LANG ?? 'C.UTF-8',
    NO_COLOR: '1',
  };
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCli(args: string[], timeoutMs = 30_000): Promise<Finished> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `ec2-connect ${args.join(' ')} did not exit within ${timeoutMs} ms; stdout: ${Buffer.concat(out).toString()}`,
        ),
      );
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - t0,
      });
    });
  });
}

function json(r: Finished): DiagnosticReport {
  return DiagnosticReportSchema.parse(JSON.parse(r.stdout));
}

describe('ec2-connect diagnose on the embedded sandbox', () => {
  it('preventive: one line per check, a summary, exit 0 when nothing failed', async () => {
    const r = await runCli(['diagnose', 'preventive', '--instance-id', 'web-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Diagnostics (preventive) for profile sandbox, region us-east-1, instance web-1');
    for (const title of [
      'Credentials valid',
      'SSM endpoint reachable',
      'Instance registered and online',
      'SSM agent version',
      'Permission to start a session',
      'Data-channel endpoint reachable',
      'Clock in sync',
      'Proxy settings',
    ]) {
      expect(lines.some((l) => l.startsWith(`✓ ${title}`))).toBe(true);
    }
    expect(r.stdout).toMatch(
      /✓ Credentials valid\s+arn:aws:iam::123456789012:user\/sandbox-user \(account 123456789012\)\n/,
    );
    expect(lines[lines.length - 1]).toMatch(/^8 passed, 0 warnings, 0 failed in [\d.]+ s$/);
  }, 40_000);

  it('--format json prints a DiagnosticReport', async () => {
    const r = await runCli([
      'diagnose',
      'preventive',
      '-i',
      'web-1',
      '--format',
      'json',
      '--parallel',
      '2',
      '--timeout',
      '5',
    ]);
    expect(r.code).toBe(0);
    const report = json(r);
    expect(report).toMatchObject({ kind: 'preventive', profile: 'sandbox', instanceId: 'web-1' });
    expect(report.summary).toEqual({ pass: 8, warn: 0, fail: 0, skip: 0 });
  }, 40_000);

  it('usage errors exit 2', async () => {
    const missing = await runCli(['diagnose', 'preventive']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '-i, --instance-id <id\|name>' not specified/);
    const parallel = await runCli(['diagnose', 'preventive', '-i', 'web-1', '--parallel', '0']);
    expect(parallel.code).toBe(2);
    expect(parallel.stderr).toMatch(/--parallel must be a whole number from 1 to 16/);
    const timeout = await runCli(['diagnose', 'full', '--timeout', 'soon']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/--timeout must be a number of seconds/);
    const format = await runCli(['diagnose', 'full', '--format', 'xml']);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/Allowed choices are text, json/);
  }, 60_000);
});

describe('ec2-connect diagnose against a standalone sandbox with faults', () => {
  let sandbox: ChildProcess;
  let info: { endpoint: string; adminToken: string };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ec2c-diagnose-fleet-'));

  const admin = async (p: string, body: unknown): Promise<void> => {
    const res = await fetch(`${info.endpoint}/__sandbox${p}`, {
      method: 'POST',
      headers: { 'x-sandbox-admin-token': info.adminToken },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    const fleet = path.join(dir, 'fleet.json');
    writeFileSync(
      fleet,
      JSON.stringify({
        instances: [
          { instanceId: 'i-0000000000000000a', name: 'ok-1' },
          { instanceId: 'i-0000000000000000b', name: 'denied-1', startSessionDenied: true },
          { instanceId: 'i-0000000000000000c', name: 'lost-1', pingStatus: 'ConnectionLost' },
          { instanceId: 'i-0000000000000000d', name: 'old-1', agentVersion: '3.0.900.0' },
        ],
      }),
    );
    sandbox = spawn(process.execPath, [...CLI, 'sandbox', '--json', '--port', '0', '--fleet', fleet], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`no JSON line from the sandbox: ${text}`)), 25_000);
      sandbox.stdout!.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        const nl = text.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(text.slice(0, nl));
        }
      });
      sandbox.once('exit', (code) => reject(new Error(`the sandbox exited (${code})`)));
    });
    info = JSON.parse(line) as typeof info;
  }, 40_000);

  afterAll(async () => {
    if (sandbox && sandbox.exitCode === null) {
      const gone = new Promise((r) => sandbox.once('exit', r));
      sandbox.kill('SIGINT');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (sandbox.exitCode === null) sandbox.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('AccessDenied on StartSession: exit 1, and the text names ssm:StartSession with the fix', async () => {
    const r = await runCli(['diagnose', 'preventive', '--endpoint', info.endpoint, '-i', 'denied-1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ Permission to start a session\s+AccessDenied on ssm:StartSession\n/);
    expect(r.stdout).toMatch(
      /\n {4}SSM refused StartSession for i-0000000000000000b \(AccessDeniedException: User: arn:aws:iam::123456789012:user\/sandbox-user is not authorized to perform: ssm:StartSession/,
    );
    expect(r.stdout).toMatch(
      /\n {4}Fix: Allow ssm:StartSession for arn:aws:iam::123456789012:user\/sandbox-user on the instance/,
    );
    expect(r.stdout).toMatch(/7 passed, 0 warnings, 1 failed in/);
  }, 40_000);

  it('an offline instance and an old agent are named', async () => {
    const lost = json(
      await runCli([
        'diagnose',
        'preventive',
        '--endpoint',
        info.endpoint,
        '-i',
        'lost-1',
        '--format',
        'json',
      ]),
    );
    expect(lost.checks.find((c) => c.id === 'instance')).toMatchObject({ status: 'fail' });
    expect(lost.checks.find((c) => c.id === 'instance')!.detail).toMatch(/PingStatus ConnectionLost/);
    const old = await runCli(['diagnose', 'preventive', '--endpoint', info.endpoint, '-i', 'old-1']);
    expect(old.code).toBe(0);
    expect(old.stdout).toMatch(
      /! SSM agent version\s+agent 3\.0\.900\.0\n {4}Agent 3\.0\.900\.0 opens shells, but lacks: non-interactive commands/,
    );
  }, 40_000);

  it('a check past --timeout fails with "did not finish within", and the command ends on time', async () => {
    await admin('/faults', { controlPlane: { delayMs: 20_000 } });
    try {
      const r = await runCli([
        'diagnose',
        'preventive',
        '--endpoint',
        info.endpoint,
        '-i',
        'ok-1',
        '--timeout',
        '1',
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /✗ Credentials valid\s+did not finish within 1 s\n {4}It was still waiting for STS GetCallerIdentity/,
      );
      expect(r.ms).toBeLessThan(15_000);
    } finally {
      await admin('/faults/reset', {});
    }
  }, 40_000);

  it('full: adds the region ranking, resources, store and recent failures', async () => {
    const r = await runCli([
      'diagnose',
      'full',
      '--endpoint',
      info.endpoint,
      '--format',
      'json',
      '--db',
      path.join(dir, 'none.db'),
    ]);
    const report = json(r);
    expect(report.kind).toBe('full');
    expect(report.instanceId).toBeNull();
    expect(report.regions).toEqual([
      expect.objectContaining({
        region: 'us-east-1',
        endpoint: info.endpoint.replace('http://', ''),
        ok: true,
      }),
    ]);
    const byId = new Map(report.checks.map((c) => [c.id, c]));
    expect(byId.get('instance')!.status).toBe('skip');
    expect(byId.get('resources')).toMatchObject({ status: 'skip' });
    expect(byId.get('resources')!.detail).toMatch(/no EC2 Connect app \(desktop or web mode\) is running/);
    expect(byId.get('store')).toMatchObject({ status: 'pass', figure: 'no history yet' });
    expect(byId.get('recent-failures')).toMatchObject({ status: 'pass', figure: 'none in 24 h' });
    expect(r.code).toBe(0);
  }, 40_000);
});

describe('readStoreHealth (diagnose full)', () => {
  it('reads the stats, the integrity check and the failures of the last 24 h', async () => {
    const { readStoreHealth } = await import('../../main/cli/commands/diagnose.js');
    const { openHistoryStore } = await import('../../main/core/store/index.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ec2c-diagnose-store-'));
    try {
      const file = path.join(dir, 'sessions.db');
      const now = Date.now();
      const store = openHistoryStore({ file, cleanupIntervalHours: 0, closeOnExit: false });
      const rec = (id: string, startedAt: number, outcome: 'failed' | 'ended'): void => {
        store.recordSessionStart({
          id,
          awsSessionId: `aws-${id}`,
          instanceId: 'i-0123456789abcdef0',
          instanceName: 'web-1',
          profile: 'sandbox',
          region: 'us-east-1',
          source: 'cli',
          user: 'me',
          startedAt,
          openMs: null,
        });
        store.recordSessionEnd(id, {
          endedAt: startedAt + 1000,
          outcome,
          endReason: outcome === 'failed' ? 'TargetNotConnected' : 'the shell exited',
          exitCode: null,
          bytesIn: 0,
          bytesOut: 0,
          reconnects: 0,
        });
      };
      rec('recent-failure', now - 3_600_000, 'failed');
      rec('old-failure', now - 3 * 86_400_000, 'failed');
      rec('fine', now - 60_000, 'ended');
      store.close();

      const health = readStoreHealth(file, now);
      expect(health.store.integrity).toEqual(['ok']);
      expect(health.store.status.available).toBe(true);
      expect(health.store.stats?.rows.sessions).toBe(3);
      expect(health.sessions?.map((s) => s.id)).toEqual(['recent-failure']);

      // A damaged file is reported, not opened (the store would move it aside).
      const bad = path.join(dir, 'bad.db');
      writeFileSync(bad, Buffer.alloc(8192, 7));
      const damaged = readStoreHealth(bad, now);
      expect(damaged.sessions).toBeNull();
      expect(damaged.store.integrity?.[0]).toMatch(/not a database/);
      expect(readStoreHealth(path.join(dir, 'missing.db'), now).store.exists).toBe(false);
      expect(fs.existsSync(bad)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
