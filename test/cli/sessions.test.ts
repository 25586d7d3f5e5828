/** `ec2-connect sessions` and `terminate` against a sandbox, through the real CLI. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from '../helpers/sandbox.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'main/cli/bin.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('ec2-connect sessions / terminate', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  it('lists active sessions, terminates one, and shows it in the history', async () => {
    const s = await fx.open();
    const ep = ['--endpoint', fx.sandbox.endpoint];
    const active = await cli(['sessions', ...ep]);
    expect(active.code).toBe(0);
    expect(active.stdout).toMatch(/^SESSION ID\s+TARGET\s+STATUS/);
    expect(active.stdout).toContain(s.sessionId);
    expect(active.stdout).toMatch(new RegExp(`${s.sessionId}\\s+${fx.instanceId}\\s+Connected`));

    const closed = new Promise((r) => s.onClosed(r));
    const term = await cli(['terminate', s.sessionId, ...ep]);
    expect(term).toMatchObject({ code: 0, stdout: `terminated ${s.sessionId}\n` });
    await expect(closed).resolves.toMatchObject({
      how: 'ended',
      reason: expect.stringMatching(/terminated/),
    });

    const history = await cli(['sessions', '--history', '--json', ...ep]);
    const rows = JSON.parse(history.stdout) as Array<{ SessionId: string; Status: string }>;
    expect(rows.find((r) => r.SessionId === s.sessionId)?.Status).toBe('Terminated');
    const none = await cli(['sessions', '--target', fx.instanceId, ...ep]);
    expect(none.stderr).toContain('no active sessions');
  }, 60_000);
});
