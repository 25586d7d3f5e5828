/**
 * The CLI says when a session is KMS-encrypted: `connect` prints one stderr line naming the key
 * (interactive sessions; stdout untouched), records it in the history, and `sessions` shows the
 * key in its KMS KEY column (and as KmsKey with --json) for the sessions this machine opened
 * encrypted ("-" for the others).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KMS_ALIAS } from '../../main/sandbox/api/kms-keys.js';
import { canStartSession } from '../../main/sandbox/fleet.js';
import { cliArgv, repoRoot, runCliProcess } from '../helpers/cli.js';
import { startFixture, type Fixture } from '../helpers/sandbox.js';

let fx: Fixture;
let dir: string;
let plainInstance: string;

beforeAll(async () => {
  fx = await startFixture();
  fx.sandbox.fleet.update(fx.instanceId, { kmsKeyId: DEFAULT_KMS_ALIAS });
  plainInstance = fx.sandbox.fleet
    .list()
    .find(
      (i) => i.instanceId !== fx.instanceId && canStartSession(i) && i.platformType === 'Linux',
    )!.instanceId;
  dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-cli-enc-'));
});
afterAll(async () => {
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    EC2_CONNECT_DB: path.join(dir, 'sessions.db'),
    ...(process.env.EC2_CONNECT_HOME ? { EC2_CONNECT_HOME: process.env.EC2_CONNECT_HOME } : {}),
  };
}

/**
 * `ec2-connect connect` to an instance with its stdin left open; once the session has started
 * it is ended from elsewhere (TerminateSession), so nothing depends on the remote shell's timing.
 */
async function connectAndEnd(
  instanceId: string,
): Promise<{ code: number | null; stdout: string; stderr: string; sessionId: string }> {
  const child = spawn(
    cliArgv[0]!,
    [...cliArgv.slice(1), 'connect', '--endpoint', fx.sandbox.endpoint, '-i', instanceId],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env() },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    await expect.poll(() => /SessionId: (\S+)/.exec(stderr)?.[1], { timeout: 30_000 }).toBeTruthy();
    const sessionId = /SessionId: (\S+)/.exec(stderr)![1]!;
    await fx.cp.terminateSession(sessionId);
    const code = await closed;
    return { code, stdout, stderr, sessionId };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('KMS encryption in the CLI', () => {
  it('connect names the key on stderr, and sessions shows it in KMS KEY for the encrypted session only', async () => {
    const secure = await connectAndEnd(fx.instanceId);
    expect(secure.code).toBe(0);
    expect(secure.stderr).toContain(
      `ec2-connect: session encrypted with KMS key ${DEFAULT_KMS_ALIAS}\n\nStarting session with SessionId: ${secure.sessionId}\n`,
    );
    expect(secure.stdout).not.toContain('KMS');

    const plain = await connectAndEnd(plainInstance);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('encrypted');

    const r = await runCliProcess(['sessions', '--history', '--endpoint', fx.sandbox.endpoint], {
      HOME: dir,
      ...env(),
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SESSION ID\s+TARGET\s+STATUS\s+STARTED\s+ENDED\s+DOCUMENT\s+KMS KEY\s+OWNER$/);
    const column = lines[0]!.indexOf('KMS KEY');
    const row = (id: string) => lines.find((l) => l.startsWith(id)) ?? `no row for ${id}`;
    expect(row(secure.sessionId).slice(column).split(/\s+/)[0]).toBe(DEFAULT_KMS_ALIAS);
    expect(row(plain.sessionId).slice(column).split(/\s+/)[0]).toBe('-');

    // The same in JSON: DescribeSessions' objects, with KmsKey on the encrypted one only.
    const j = await runCliProcess(['sessions', '--history', '--json', '--endpoint', fx.sandbox.endpoint], {
      HOME: dir,
      ...env(),
    });
    expect(j.code).toBe(0);
    const listed = JSON.parse(j.stdout) as Array<{ SessionId: string; Target: string; KmsKey?: string }>;
    const byId = new Map(listed.map((s) => [s.SessionId, s]));
    expect(byId.get(secure.sessionId)).toMatchObject({ Target: fx.instanceId, KmsKey: DEFAULT_KMS_ALIAS });
    expect(byId.get(plain.sessionId)).toMatchObject({ Target: plainInstance });
    expect(byId.get(plain.sessionId)).not.toHaveProperty('KmsKey');
  }, 90_000);

  it('shows "-" for every session when there is no history to look in', async () => {
    const s = await fx.open({ target: plainInstance });
    try {
      const r = await runCliProcess(['sessions', '--endpoint', fx.sandbox.endpoint], {
        HOME: dir,
        EC2_CONNECT_DB: path.join(dir, 'none', 'sessions.db'),
      });
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      const column = lines[0]!.indexOf('KMS KEY');
      const row = lines.find((l) => l.startsWith(s.sessionId));
      expect(row?.slice(column).split(/\s+/)[0]).toBe('-');
      expect(r.stderr).toBe('');
      // A listing never creates the history database.
      expect(existsSync(path.join(dir, 'none', 'sessions.db'))).toBe(false);
    } finally {
      await s.terminate();
    }
  }, 60_000);
});
