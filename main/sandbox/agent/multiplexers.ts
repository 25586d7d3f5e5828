/**
 * tmux and screen inside the sandbox's shells (persistent sessions, main/core/sessions/persistent.ts).
 *
 * Their servers outlive the session that started them (that is the point: a new session
 * re-attaches), so each sandbox keeps them to itself and takes them down when it closes:
 * - every instance gets its own socket folder under one short folder per sandbox
 *   (`TMUX_TMPDIR`, `SCREENDIR`), so a sandbox never sees another one's (or the user's own)
 *   tmux or screen sessions, as two machines would not;
 * - `stopMultiplexers` ends every tmux server and screen session found there (tmux
 *   kill-server, screen -X quit, then a signal to whatever is left) and removes the folder.
 *
 * The folder is short on purpose (under /tmp when it exists): a Unix socket path is limited to
 * 104 to 108 bytes, and tmux puts `tmux-<uid>/default` under TMUX_TMPDIR.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh socket root for one sandbox. */
export function createMultiplexerRoot(): string {
  const base = process.platform !== 'win32' && existsSync('/tmp') ? '/tmp' : tmpdir();
  return mkdtempSync(join(base, 'ec2c-mux-'));
}

/** The environment of a shell on `instanceId`: its own tmux and screen socket folders (made here, mode 0700). */
export function multiplexerEnv(root: string, instanceId: string): Record<string, string> {
  const dir = join(root, instanceId);
  const screenDir = join(dir, 'screen');
  mkdirSync(screenDir, { recursive: true, mode: 0o700 });
  return { TMUX_TMPDIR: dir, SCREENDIR: screenDir };
}

function run(file: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 5_000 }, () => resolve());
  });
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Pids of screen sessions under `screenDir` (their sockets are named `<pid>.<name>`). */
function screenSessions(screenDir: string): Array<{ pid: number; socket: string }> {
  const out: Array<{ pid: number; socket: string }> = [];
  for (const socket of list(screenDir)) {
    const pid = Number(/^(\d+)\./.exec(socket)?.[1]);
    if (Number.isInteger(pid) && pid > 0) out.push({ pid, socket });
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * End every tmux server and screen session started by the sandbox's shells, then remove the
 * socket root. Safe to call when neither tool is installed or nothing was started.
 */
export async function stopMultiplexers(root: string): Promise<void> {
  const screens: number[] = [];
  const steps: Array<Promise<void>> = [];
  for (const instance of list(root)) {
    const dir = join(root, instance);
    // tmux: one server per socket, in tmux-<uid>/ under TMUX_TMPDIR.
    for (const sub of list(dir).filter((d) => d.startsWith('tmux-'))) {
      for (const socket of list(join(dir, sub)))
        steps.push(run('tmux', ['-S', join(dir, sub, socket), 'kill-server'], {}));
    }
    const screenDir = join(dir, 'screen');
    for (const s of screenSessions(screenDir)) {
      screens.push(s.pid);
      steps.push(run('screen', ['-S', s.socket, '-X', 'quit'], { SCREENDIR: screenDir }));
    }
  }
  await Promise.all(steps);
  // A screen session that did not take the quit (a hung one): its server goes by signal.
  for (const pid of screens) {
    if (!alive(pid)) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  rmSync(root, { recursive: true, force: true });
}
