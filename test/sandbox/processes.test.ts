/** The sandbox's PTY process wrapper: kill() ends the process even when it ignores SIGHUP. */
import { describe, expect, it } from 'vitest';
import { KILL_GRACE_MS, spawnPty } from '../../main/sandbox/agent/processes.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('spawnPty kill', () => {
  it('a shell that ignores SIGHUP gets SIGKILL after the grace period', async () => {
    const p = spawnPty({
      file: '/bin/bash',
      args: ['--noprofile', '--norc', '-c', "trap '' HUP; echo ready; exec sleep 60"],
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      cols: 80,
      rows: 24,
    });
    let out = '';
    p.onData((d) => (out += d.toString()));
    const exited = new Promise<number>((resolve) => p.onExit(resolve));
    await expect.poll(() => out, { timeout: 10_000 }).toContain('ready');
    const t0 = Date.now();
    p.kill();
    p.kill(); // a second kill is a no-op
    await exited;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(KILL_GRACE_MS - 50);
    expect(alive(p.pid!)).toBe(false);
  }, 20_000);

  it('a shell that acts on SIGHUP exits at once, with no SIGKILL pending', async () => {
    const p = spawnPty({
      file: '/bin/bash',
      args: ['--noprofile', '--norc', '-i'],
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PS1: '$ ' },
      cols: 80,
      rows: 24,
    });
    let out = '';
    p.onData((d) => (out += d.toString()));
    const exited = new Promise<number>((resolve) => p.onExit(resolve));
    await expect.poll(() => out, { timeout: 10_000 }).toContain('$ ');
    const t0 = Date.now();
    p.kill();
    await exited;
    expect(Date.now() - t0).toBeLessThan(KILL_GRACE_MS);
  }, 20_000);
});
