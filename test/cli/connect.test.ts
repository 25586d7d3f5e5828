/**
 * The real `ec2-connect` command line, run as a child process (through tsx) against its
 * embedded sandbox or a standalone `ec2-connect sandbox`: an interactive shell in a
 * pseudo-terminal (raw mode, Ctrl-C, resize, exit), connection failures and their exit
 * status, non-interactive commands, piped input and the standalone sandbox's shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'main/cli/bin.ts'];
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
/** The embedded sandbox's web-1 (see main/sandbox/fleet.ts defaultFleet). */
const WEB1_PROMPT = '[ssm-user@ip-10-0-1-11 ~]$ ';

/**
 * A clean environment: no AWS_* or EC2_CONNECT_* variables from the developer's shell, so
 * the default profile is the sandbox and a standalone sandbox is signed with its well-known key.
 */
function cliEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? ROOT,
    // The test run's own data folder (vitest.config.ts), never the real ~/.config/ec2-connect.
    ...(process.env.EC2_CONNECT_HOME ? { EC2_CONNECT_HOME: process.env.EC2_CONNECT_HOME } : {}),
    TERM: 'xterm-256color',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function exited(child: ChildProcess, timeoutMs: number, what: string): Promise<Finished> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  return new Promise<Finished>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `${what} did not exit within ${timeoutMs} ms; stdout: ${JSON.stringify(Buffer.concat(out).toString().slice(-500))}; stderr: ${JSON.stringify(Buffer.concat(err).toString().slice(-500))}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // 'close' (not 'exit'): every byte of stdout and stderr has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function kill(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Run `ec2-connect ...args` to completion, without a terminal; `input` (if any) is piped to stdin and then closed. */
async function runCli(args: string[], input?: string, timeoutMs = 25_000): Promise<Finished> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    const done = exited(child, timeoutMs, `ec2-connect ${args.join(' ')}`);
    child.stdin.on('error', () => {}); // it may exit before reading its input
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
    return await done;
  } finally {
    kill(child);
  }
}

/** The CLI in a pseudo-terminal, as a user runs it. */
class PtyCli {
  readonly p: pty.IPty;
  private buf = '';
  private waiters: Array<() => void> = [];
  readonly exit: Promise<{ exitCode: number; signal?: number }>;
  private done = false;

  constructor(args: string[], cols: number, rows: number) {
    this.p = pty.spawn(process.execPath, [...CLI, ...args], {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: ROOT,
      env: cliEnv(),
    });
    this.p.onData((d) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    this.exit = new Promise((resolve) =>
      this.p.onExit((e) => {
        this.done = true;
        resolve(e);
      }),
    );
  }

  /**
   * Output from `from` on, with line ends as `\n` and without readline's bracketed-paste
   * toggles. The CLI's terminal is in Node's raw mode, which (as libuv sets it) keeps output
   * post-processing (ONLCR): the shell's `\r\n` reaches the terminal as `\r\r\n`, which
   * displays the same.
   */
  text(from = 0): string {
    return this.buf
      .slice(from)
      .replaceAll('\x1b[?2004h', '')
      .replaceAll('\x1b[?2004l', '')
      .replace(/\r+\n/g, '\n');
  }

  mark(): number {
    return this.buf.length;
  }

  /** Resolve with the output from `from` on once it matches `pattern`. */
  async waitFor(pattern: RegExp | string, from = 0, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.text(from);
      if (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)) return t;
      const left = deadline - Date.now();
      if (left <= 0 || this.done)
        throw new Error(
          `${this.done ? 'the CLI exited' : 'timed out'} waiting for ${String(pattern)}; last output: ${JSON.stringify(this.buf.slice(-400))}`,
        );
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  /** Type a command line and return exactly what it printed (between unique markers). */
  async run(cmd: string, timeoutMs = 15_000): Promise<string> {
    const tag = Math.random().toString(36).slice(2, 8);
    const from = this.mark();
    // The quotes keep the typed (echoed) line from matching the markers.
    this.p.write(`echo B${tag}""EGIN; ${cmd}; echo E${tag}""ND\r`);
    const text = await this.waitFor(`E${tag}ND\n`, from, timeoutMs);
    const start = text.indexOf(`B${tag}EGIN\n`) + `B${tag}EGIN\n`.length;
    return text.slice(start, text.lastIndexOf(`E${tag}ND\n`));
  }

  kill(): void {
    if (this.done) return;
    try {
      this.p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('ec2-connect connect in a terminal', () => {
  it('runs an interactive shell: raw mode, Ctrl-C, resize and exit', async () => {
    const cli = new PtyCli(['connect', '--instance-id', 'web-1'], 100, 30);
    try {
      await cli.waitFor(WEB1_PROMPT, 0, 25_000);
      expect(cli.text()).toMatch(/Starting session with SessionId: sandbox-user-[0-9a-f]{17}/);

      // A command runs and its output comes back.
      let from = cli.mark();
      cli.p.write('echo $((6*7))\r');
      await cli.waitFor(/\n\r?42\n/, from);

      // Raw mode: the outer terminal does not echo (or buffer) what is typed, so a line
      // appears exactly once, echoed by the remote shell. In cooked mode it would appear twice.
      const token = `raw-${Math.random().toString(36).slice(2, 8)}`;
      from = cli.mark();
      cli.p.write(`: ${token}\r`);
      await cli.waitFor(`: ${token}\n`, from);
      await cli.waitFor(WEB1_PROMPT, from);
      expect(cli.text(from).split(token).length - 1).toBe(1);

      // Ctrl-C typed in the terminal reaches the remote shell and interrupts the command;
      // the session carries on.
      from = cli.mark();
      const t0 = Date.now();
      cli.p.write('sleep 30; echo NOT""INTERRUPTED\r');
      await cli.waitFor('NOT""INTERRUPTED\n', from); // the echoed line: the shell has it
      await sleep(400);
      cli.p.write('\x03');
      expect(await cli.run('echo after-$((1+1))')).toBe('after-2\n');
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(cli.text(from)).not.toContain('NOTINTERRUPTED');

      // The terminal size at start, then a resize of the outer terminal (SIGWINCH ->
      // stdout 'resize' in the CLI -> size message to the agent).
      expect(await cli.run('stty size')).toBe('30 100\n');
      cli.p.resize(132, 43);
      let size = '';
      for (let i = 0; i < 20 && size !== '43 132\n'; i++) {
        if (i > 0) await sleep(250); // the signal and the next keystrokes race in the CLI
        size = await cli.run('stty size');
      }
      expect(size).toBe('43 132\n');

      // `exit` ends the session; the CLI says so and exits 0.
      from = cli.mark();
      cli.p.write('exit\r');
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        cli.exit,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`the CLI did not exit; output: ${JSON.stringify(cli.text().slice(-400))}`)),
            20_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      expect(result.exitCode).toBe(0);
      expect(cli.text(from)).toMatch(/Exiting session with sessionId: sandbox-user-[0-9a-f]{17}/);
    } finally {
      cli.kill();
    }
  }, 60_000);
});

describe('ec2-connect connect without a terminal', () => {
  it('exits 255 naming the cause when the instance is not connected', async () => {
    const r = await runCli(['connect', '--instance-id', 'db-replica']); // running, agent ConnectionLost
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/TargetNotConnected/);
    expect(r.stderr).toMatch(/not connected/);
    expect(r.stdout).toBe('');
  }, 30_000);

  it('exits 255 and lists the known names for an unknown instance name', async () => {
    const r = await runCli(['connect', '--instance-id', 'no-such-name']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/no instance is named "no-such-name"/);
    for (const name of ['web-1', 'web-2', 'api-1', 'db-primary', 'bastion']) expect(r.stderr).toContain(name);
  }, 30_000);

  it('exits 2 for --non-interactive without --command', async () => {
    const r = await runCli(['connect', '--instance-id', 'web-1', '--non-interactive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--non-interactive needs --command/);
  }, 30_000);

  it('runs a non-interactive command: stdout and stderr apart, its exit status', async () => {
    const r = await runCli([
      'connect',
      '--instance-id',
      'web-1',
      '--command',
      'echo hi; echo oops >&2; exit 7',
      '--non-interactive',
    ]);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toContain('oops\n');
    expect(r.stderr).not.toContain('hi\n');
    // No session banners in the way of a script's output.
    expect(r.stderr).not.toMatch(/Starting session|Exiting session/);
  }, 30_000);

  it('records the session in the shared history, with how it ended', async () => {
    const r = await runCli(['connect', '--instance-id', 'web-1', '--command', 'exit 3', '--non-interactive']);
    expect(r.code).toBe(3);
    const { defaultDatabaseFile, openHistoryStore } = await import('../../main/core/store/index.js');
    const store = openHistoryStore({ file: defaultDatabaseFile() });
    try {
      const rows = store.listSessions({ instance: 'web-1' });
      const row = rows.find((x) => x.exitCode === 3);
      expect(row).toMatchObject({
        source: 'cli',
        instanceName: 'web-1',
        outcome: 'ended',
        profile: 'sandbox',
      });
      const detail = store.getSession(row!.id)!;
      expect(detail.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'closed']));
    } finally {
      store.close();
    }
  }, 30_000);

  it('runs piped input in the shell and exits 0 when the input ends', async () => {
    // Known race (see the test report): the ^D the CLI sends when stdin ends can reach the
    // remote pty before the shell's readline is up, and is then lost; the shell never exits
    // and this times out (a few percent of runs).
    const r = await runCli(['connect', '--instance-id', 'web-1'], 'echo piped-$((2+3))\n');
    expect(r.stdout).toContain('piped-5');
    expect(r.stderr).toMatch(/Exiting session with sessionId/);
    expect(r.code).toBe(0);
  }, 30_000);

  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  }, 30_000);
});

describe('ec2-connect against a standalone sandbox', () => {
  it('connects with --endpoint, and the sandbox stops cleanly on SIGINT', async () => {
    const sandbox = spawn(process.execPath, [...CLI, 'sandbox', '--json', '--port', '0'], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const done = exited(sandbox, 55_000, 'ec2-connect sandbox');
      const line = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(
          () => reject(new Error(`no JSON line from the sandbox; stdout: ${JSON.stringify(text)}`)),
          25_000,
        );
        sandbox.stdout.on('data', (d: Buffer) => {
          text += d.toString('utf8');
          const nl = text.indexOf('\n');
          if (nl >= 0) {
            clearTimeout(timer);
            resolve(text.slice(0, nl));
          }
        });
        sandbox.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the sandbox exited (${code}) before printing its JSON line`));
        });
      });
      const info = JSON.parse(line) as {
        endpoint: string;
        region: string;
        accessKeyId: string;
        secretAccessKey: string;
        adminToken: string;
        instances: Array<{ instanceId: string; name: string; state: string; pingStatus: string }>;
      };
      expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(info.region).toBe('us-east-1');
      expect(info.accessKeyId).toBeTruthy();
      expect(info.adminToken).toBeTruthy();
      const web1 = info.instances.find((i) => i.name === 'web-1');
      expect(web1).toMatchObject({ state: 'running', pingStatus: 'Online' });

      const r = await runCli([
        'connect',
        '--endpoint',
        info.endpoint,
        '--instance-id',
        web1!.instanceId,
        '--command',
        'echo standalone',
        '--non-interactive',
      ]);
      // Known race (see the test report): output that arrives in the same socket read as
      // HandshakeComplete is emitted before SsmSession.open() resolves, before the CLI listens;
      // stdout is then empty. Likeliest here: a warm standalone sandbox, a cold CLI process.
      expect(r.stdout).toBe('standalone\n');
      expect(r.code).toBe(0);

      // The sandbox ends on SIGINT once everything is released: nothing may hold its event loop.
      const t0 = Date.now();
      sandbox.kill('SIGINT');
      const stopped = await done;
      expect(stopped.signal).toBeNull();
      expect(stopped.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      kill(sandbox);
    }
  }, 60_000);
});
