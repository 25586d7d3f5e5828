/**
 * What a sandbox session runs: a shell or command in a PTY (Standard_Stream,
 * InteractiveCommands) or a command on pipes with stdout and stderr apart
 * (NonInteractiveCommands), behind one small interface.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import * as pty from 'node-pty';

export interface SessionProcess {
  readonly pid: number | undefined;
  onData(fn: (data: Buffer, stream: 'stdout' | 'stderr') => void): void;
  /** Called once, after all output has been delivered. */
  onExit(fn: (exitCode: number) => void): void;
  write(data: Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(): void;
}

export interface SpawnSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

/**
 * How long a killed PTY process has to exit after SIGHUP before it gets SIGKILL: a shell that
 * ignores SIGHUP (`trap '' HUP`), or one blocked writing to a PTY whose output was paused, would
 * otherwise outlive its session.
 */
export const KILL_GRACE_MS = 1_000;

export function spawnPty(spec: SpawnSpec): SessionProcess {
  const p = pty.spawn(spec.file, spec.args, {
    name: 'xterm-256color',
    cols: spec.cols,
    rows: spec.rows,
    cwd: spec.cwd,
    env: spec.env,
    encoding: null,
  });
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  p.onExit(() => {
    exited = true;
    clearTimeout(killTimer);
  });
  return {
    pid: p.pid,
    onData: (fn) => {
      p.onData((d: string | Buffer) => fn(typeof d === 'string' ? Buffer.from(d, 'utf8') : d, 'stdout'));
    },
    onExit: (fn) => {
      p.onExit((e) => fn(e.exitCode));
    },
    write: (d) => p.write(d),
    resize: (c, r) => p.resize(c, r),
    pause: () => p.pause(),
    resume: () => p.resume(),
    kill: () => {
      if (exited || killTimer) return;
      try {
        p.resume(); // let output a blocked writer is waiting on drain, so it can act on the signal
        p.kill();
      } catch {
        // already gone
      }
      killTimer = setTimeout(() => {
        if (exited) return;
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, KILL_GRACE_MS);
      killTimer.unref();
    },
  };
}

export function spawnPipes(spec: SpawnSpec): SessionProcess {
  const child: ChildProcess = spawnChild(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let exitCode: number | undefined;
  let open = 2;
  let exitFn: ((code: number) => void) | undefined;
  const maybeExit = (): void => {
    if (open === 0 && exitCode !== undefined) exitFn?.(exitCode);
  };
  child.stdin?.on('error', () => {}); // the command may exit before reading its input
  child.on('error', () => {
    exitCode ??= 127;
    open = 0;
    maybeExit();
  });
  child.on('exit', (code, signal) => {
    exitCode = code ?? (signal ? 128 : 1);
    maybeExit();
  });
  for (const s of [child.stdout, child.stderr]) {
    s?.on('end', () => {
      open--;
      maybeExit();
    });
  }
  return {
    pid: child.pid,
    onData: (fn) => {
      child.stdout?.on('data', (d: Buffer) => fn(d, 'stdout'));
      child.stderr?.on('data', (d: Buffer) => fn(d, 'stderr'));
    },
    onExit: (fn) => {
      exitFn = fn;
      maybeExit();
    },
    write: (d) => {
      child.stdin?.write(d);
    },
    resize: () => {},
    pause: () => {
      child.stdout?.pause();
      child.stderr?.pause();
    },
    resume: () => {
      child.stdout?.resume();
      child.stderr?.resume();
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
