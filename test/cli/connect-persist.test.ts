/**
 * `ec2-connect connect --persist tmux|screen` (a child process in a pseudo-terminal) against a
 * sandbox run by this test (`--endpoint`): the shell starts inside tmux or screen; a drop that
 * outlasts the service's reconnect window (the sandbox's expireSessions) is re-attached by a new
 * session that joins the same tmux/screen session (shell variables kept), with status lines on
 * stderr, input typed meanwhile dropped and the terminal in raw mode throughout; the tries are
 * bounded and Ctrl-C stops them (exit 255); persistence off, or without automatic re-attach, a
 * lost session exits 255 saying what was kept; Windows instances get a plain shell; the sandbox
 * leaves no tmux or screen behind. Then the tries themselves (main/cli/reattach.ts) in-process.
 */
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstSentence, reattachWithTries, rejoinHint } from '../../main/cli/reattach.js';
import {
  PERSISTENT_NAME_PATTERN,
  effectivePersistence,
  isLostConnection,
  reattachDelayMs,
} from '../../main/core/sessions/persistent.js';
import type { SsmSession } from '../../main/core/ssm/session.js';
import { runCliProcess } from '../helpers/cli.js';
import { startFixture, type Fixture } from '../helpers/sandbox.js';
import { haveTool, processesNamed } from '../helpers/processes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'main/cli/bin.ts'];
const WEB1 = 'i-0b5bb7865829a72f8';

/** A clean environment: the test's data folder, no history, fast reconnects (500 ms apart). */
function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? ROOT,
    ...(process.env.EC2_CONNECT_HOME ? { EC2_CONNECT_HOME: process.env.EC2_CONNECT_HOME } : {}),
    EC2_CONNECT_NO_HISTORY: '1',
    EC2_CONNECT_AGGRESSIVE_RECONNECTION: 'true',
    TERM: 'xterm-256color',
    LANG: process.env.LANG ?? 'C.UTF-8',
    ...extra,
  };
}

/** The CLI in a pseudo-terminal, as a user runs it (stdout and stderr both reach the terminal). */
class PtyCli {
  readonly p: pty.IPty;
  private buf = '';
  private done = false;
  readonly exit: Promise<number>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.p = pty.spawn(process.execPath, [...CLI, ...args], {
      name: 'xterm-256color',
      cols: 120,
      rows: 30,
      cwd: ROOT,
      env: cliEnv(env),
    });
    this.p.onData((d) => (this.buf += d));
    this.exit = new Promise((resolve) =>
      this.p.onExit((e) => {
        this.done = true;
        resolve(e.exitCode);
      }),
    );
  }

  /** Output from `from` on, line ends as `\n`. */
  text(from = 0): string {
    return this.buf.slice(from).replace(/\r+\n/g, '\n');
  }

  mark(): number {
    return this.buf.length;
  }

  /** Where `text` was last printed (a position for waitFor). */
  lastIndexOf(text: string): number {
    return Math.max(0, this.buf.lastIndexOf(text));
  }

  async waitFor(pattern: RegExp | string, from = 0, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.text(from);
      if (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)) return t;
      if (Date.now() > deadline || this.done)
        throw new Error(
          `${this.done ? 'the CLI exited' : 'timed out'} waiting for ${String(pattern)}; it ends: ${JSON.stringify(this.buf.slice(-600))}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Wait until tmux or screen has taken the screen (the alternate screen) and its shell prompts, after `from`. */
  async multiplexerUp(from = 0): Promise<void> {
    await this.waitFor('\x1b[?1049h', from);
    const at = this.buf.indexOf('\x1b[?1049h', from);
    await this.waitFor('$ ', at);
  }

  async exited(timeoutMs = 20_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exit,
        new Promise<number>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the CLI did not exit; it ends: ${JSON.stringify(this.buf.slice(-600))}`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
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

/** The tmux/screen session named in the CLI's output. */
function sessionName(text: string): string {
  const name = /(?:tmux|screen) session (ec2c-[a-z0-9]{8})/.exec(text)?.[1];
  if (!name) throw new Error(`no tmux/screen session named in ${JSON.stringify(text.slice(-600))}`);
  expect(name).toMatch(PERSISTENT_NAME_PATTERN);
  return name;
}

describe('what the CLI shares with the app (main/core/sessions/persistent.ts)', () => {
  it('persistence only for shells, never on Windows; lost = closed while reconnecting, not by us', () => {
    expect(effectivePersistence('tmux', {})).toEqual({ mode: 'tmux' });
    expect(effectivePersistence('screen', { documentName: 'Custom-Shell', platform: 'Ubuntu' })).toEqual({
      mode: 'screen',
    });
    expect(effectivePersistence('tmux', { documentName: 'AWS-StartInteractiveCommand' })).toEqual({
      mode: 'off',
      plainBecause: 'command',
    });
    expect(effectivePersistence('tmux', { documentName: 'AWS-StartNonInteractiveCommand' }).mode).toBe('off');
    expect(effectivePersistence('screen', { platform: 'Microsoft Windows Server 2022 Datacenter' })).toEqual({
      mode: 'off',
      plainBecause: 'windows',
    });
    expect(effectivePersistence('off', { platform: 'Windows' })).toEqual({ mode: 'off' });
    expect(isLostConnection(true, { how: 'ended' })).toBe(true);
    expect(isLostConnection(true, { how: 'failed' })).toBe(true);
    expect(isLostConnection(true, { how: 'terminated' })).toBe(false);
    expect(isLostConnection(false, { how: 'ended' })).toBe(false);
  });
});

describe.skipIf(!haveTool('tmux') || !haveTool('screen'))('ec2-connect connect --persist', () => {
  let fx: Fixture;
  const names: string[] = [];
  const clis: PtyCli[] = [];

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    for (const c of clis) c.kill();
    await fx.close();
    // Closing the sandbox ended every tmux server and screen session its shells started.
    for (const name of names) expect(processesNamed(name)).toEqual([]);
  });

  function connect(args: string[], env?: Record<string, string>): PtyCli {
    const cli = new PtyCli(['connect', '--endpoint', fx.sandbox.endpoint, '-i', 'web-1', ...args], env);
    clis.push(cli);
    return cli;
  }

  /** The service ends the session (the drop outlasted its reconnect window). */
  function expire(): void {
    fx.sandbox.faults.expireSessions();
  }

  it('tmux: re-attaches after a failed try, input typed meanwhile dropped, the shell variable kept', async () => {
    const cli = connect(['--persist', 'tmux']);
    await cli.multiplexerUp();
    cli.p.write('export VAR=kept-in-tmux\r');
    await cli.waitFor('VAR=kept-in-tmux');
    // The instance's agent is unreachable too: the first re-attach fails.
    fx.sandbox.fleet.update(WEB1, { pingStatus: 'ConnectionLost' });
    let from = cli.mark();
    try {
      expire();
      const lost = await cli.waitFor(
        /ec2-connect: connection to web-1 lost for longer than the service keeps sessions; re-attaching to tmux session ec2c-[a-z0-9]{8} \(attempt 1 of 5 in 1 s, Ctrl-C stops\)…/,
        from,
      );
      names.push(sessionName(lost));
      await cli.waitFor(
        /ec2-connect: attempt 1 of 5 failed: StartSession failed \(TargetNotConnected\): i-0b5bb7865829a72f8 is not connected\. Next: attempt 2 of 5 in 2 s…/,
        from,
      );
      // Typed while no session exists: dropped (not echoed, as the terminal is still raw, and not sent later).
      cli.p.write('echo typed-blind\r');
    } finally {
      fx.sandbox.fleet.update(WEB1, { pingStatus: 'Online' });
    }
    const done = await cli.waitFor(
      /ec2-connect: re-attached to tmux session (ec2c-[a-z0-9]{8}) on web-1 \(session sandbox-user-[0-9a-f]+\)\./,
      from,
    );
    expect(sessionName(done)).toBe(names.at(-1));
    await cli.multiplexerUp(cli.lastIndexOf('re-attached to tmux'));
    from = cli.mark();
    cli.p.write('echo "var=$VAR-$((1+1))"\r');
    await cli.waitFor('var=kept-in-tmux-2', from);
    expect(cli.text()).not.toContain('typed-blind');
    // One tmux session of that name: the new session joined it.
    expect(processesNamed(names.at(-1)!).some((l) => /tmux/.test(l))).toBe(true);
    // Leaving tmux ends the session as the shell would: exit status 0.
    cli.p.write('exit\r');
    expect(await cli.exited()).toBe(0);
  }, 60_000);

  it('screen, from the configuration (session.persistence, session.auto_reattach): re-attaches', async () => {
    const cli = connect([], {
      EC2_CONNECT_SESSION_PERSISTENCE: 'screen',
      EC2_CONNECT_AUTO_REATTACH: 'true',
    });
    await cli.multiplexerUp();
    cli.p.write('export VAR=kept-in-screen\r');
    await cli.waitFor('VAR=kept-in-screen');
    const from = cli.mark();
    expire();
    const lost = await cli.waitFor(/re-attaching to screen session ec2c-[a-z0-9]{8} \(attempt 1 of 5/, from);
    names.push(sessionName(lost));
    await cli.waitFor(/re-attached to screen session ec2c-[a-z0-9]{8} on web-1/, from);
    await cli.multiplexerUp(cli.lastIndexOf('re-attached to screen'));
    const mark = cli.mark();
    cli.p.write('echo "var=$VAR-$((2+2))"\r');
    await cli.waitFor('var=kept-in-screen-4', mark);
    expect(processesNamed(names.at(-1)!).some((l) => /SCREEN/.test(l))).toBe(true);
    cli.p.write('exit\r');
    expect(await cli.exited()).toBe(0);
  }, 60_000);

  it('--persist off (above EC2_CONNECT_SESSION_PERSISTENCE): a lost session exits 255 saying nothing was kept', async () => {
    const cli = connect(['--persist', 'off'], { EC2_CONNECT_SESSION_PERSISTENCE: 'tmux' });
    await cli.waitFor('$ ');
    const from = cli.mark();
    expire();
    expect(await cli.exited()).toBe(255);
    expect(cli.text(from)).toMatch(
      /ec2-connect: connection to web-1 lost for longer than the service keeps sessions \(Session sandbox-user-[0-9a-f]+ no longer exists\.\); nothing was kept running there \(--persist tmux or screen keeps the shell running across such drops\)\./,
    );
    expect(cli.text()).not.toContain('tmux new-session');
    // A plain shell never took the alternate screen: nothing to restore.
    expect(cli.text()).not.toContain('\x1b[?1049l');
  }, 60_000);

  it('persistence without automatic re-attach: exits 255 naming the tmux session that keeps running', async () => {
    const cli = connect([], { EC2_CONNECT_SESSION_PERSISTENCE: 'tmux' });
    await cli.multiplexerUp();
    const from = cli.mark();
    expire();
    expect(await cli.exited()).toBe(255);
    const text = cli.text(from);
    const name = sessionName(text);
    names.push(name);
    // tmux's client died with the session: the CLI takes the terminal out of the alternate screen
    // (and tmux's modes) before saying what happened, so the message stays on the normal screen.
    expect(text.indexOf('\x1b[?1049l')).toBeGreaterThan(-1);
    expect(text.indexOf('\x1b[?1049l')).toBeLessThan(text.indexOf('lost for longer'));
    expect(text.replace(/\n/g, '')).toContain(
      `tmux session ${name} keeps running on web-1: connect again and run \`tmux attach -t ${name}\` to continue there, or let ec2-connect re-attach by itself (--auto-reattach, session.auto_reattach).`,
    );
    expect(processesNamed(name).some((l) => /tmux/.test(l))).toBe(true);
  }, 60_000);

  it('Ctrl-C stops the re-attach: exit 255 with where the tmux session keeps running', async () => {
    const cli = connect(['--persist', 'tmux']);
    await cli.multiplexerUp();
    fx.sandbox.fleet.update(WEB1, { pingStatus: 'ConnectionLost' });
    try {
      const from = cli.mark();
      expire();
      names.push(sessionName(await cli.waitFor(/re-attaching to tmux session ec2c-/, from)));
      await cli.waitFor('attempt 1 of 5 failed', from);
      cli.p.write('\x03');
      expect(await cli.exited()).toBe(255);
      expect(cli.text(from)).toContain(
        `ec2-connect: re-attach stopped; tmux session ${names.at(-1)} keeps running on web-1`,
      );
    } finally {
      fx.sandbox.fleet.update(WEB1, { pingStatus: 'Online' });
    }
  }, 60_000);

  it('a Windows instance gets a plain shell, with a message', async () => {
    const cli = new PtyCli([
      'connect',
      '--endpoint',
      fx.sandbox.endpoint,
      '-i',
      'win-build-1',
      '--persist',
      'tmux',
    ]);
    clis.push(cli);
    await cli.waitFor(/PS C:.*> /);
    expect(cli.text()).toContain(
      'ec2-connect: win-build-1 is a Windows instance, which has no tmux: a plain shell, not kept running across a lost connection',
    );
    expect(cli.text()).not.toContain('tmux new-session');
    cli.p.write('exit\r');
    expect(await cli.exited()).toBe(0);
  }, 60_000);

  it('refuses --persist with --command (exit 2) and an unknown mode', async () => {
    const env = cliEnv();
    const withCommand = await runCliProcess(
      ['connect', '--endpoint', fx.sandbox.endpoint, '-i', 'web-1', '--persist', 'tmux', '-c', 'uptime'],
      env,
    );
    expect(withCommand.code).toBe(2);
    expect(withCommand.stderr).toContain('--persist tmux applies to shell sessions');
    const unknown = await runCliProcess(['connect', '-i', 'web-1', '--persist', 'byobu'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--persist <mode>.*byobu.*tmux/s);
  }, 60_000);

  describe('the tries (main/cli/reattach.ts)', () => {
    const persistence = { tool: 'tmux' as const, name: 'ec2c-0a1b2c3d' };

    it('follow the app schedule, give up after the last one with the last error', async () => {
      expect([1, 2, 3, 4, 5, 6].map((n) => reattachDelayMs(n))).toEqual([
        1_000, 2_000, 5_000, 10_000, 30_000, 30_000,
      ]);
      expect(firstSentence('StartSession failed: i-1 is not connected. The instance is off.')).toBe(
        'StartSession failed: i-1 is not connected.',
      );
      const lines: string[] = [];
      fx.sandbox.fleet.update(WEB1, { pingStatus: 'ConnectionLost' });
      try {
        const outcome = await reattachWithTries<SsmSession>({
          open: () => fx.open({ target: WEB1 }),
          discard: (s) => s.terminate(),
          where: 'web-1',
          persistence,
          status: (l) => lines.push(l),
          signal: new AbortController().signal,
          delaysMs: [10, 10, 10],
          networkWatch: false,
        });
        expect(outcome).toMatchObject({ ok: false, stopped: false, attempts: 3 });
        expect(!outcome.ok && outcome.lastError).toMatch(/TargetNotConnected/);
      } finally {
        fx.sandbox.fleet.update(WEB1, { pingStatus: 'Online' });
      }
      expect(lines).toHaveLength(3);
      expect(lines[0]).toContain('re-attaching to tmux session ec2c-0a1b2c3d (attempt 1 of 3 in 10 ms');
      expect(lines[2]).toMatch(/^ec2-connect: attempt 2 of 3 failed: .*Next: attempt 3 of 3 in 10 ms…$/);
      expect(rejoinHint('web-1', { tool: 'screen', name: 'ec2c-0a1b2c3d' })).toBe(
        'screen session ec2c-0a1b2c3d keeps running on web-1: connect again and run `screen -x ec2c-0a1b2c3d` to continue there',
      );
      expect(() => rejoinHint('web-1', { tool: 'tmux', name: 'x; reboot' })).toThrow(
        /not a persistent session name/,
      );
    });

    it('try at once when the network changes, and stop when told', async () => {
      let flips = 0;
      const provider = () => ({
        eth0: [
          {
            address: `10.0.0.${flips++ < 3 ? 1 : 2}`,
            netmask: '255.255.255.0',
            family: 'IPv4' as const,
            mac: '00:00:00:00:00:00',
            internal: false,
            cidr: null,
          },
        ],
      });
      const lines: string[] = [];
      const opened = await reattachWithTries<SsmSession>({
        open: () => fx.open({ target: WEB1 }),
        discard: (s) => s.terminate(),
        where: 'web-1',
        persistence,
        status: (l) => lines.push(l),
        signal: new AbortController().signal,
        delaysMs: [120_000],
        networkWatch: { intervalMs: 20, provider },
      });
      expect(opened.ok).toBe(true);
      expect(lines[1]).toBe('ec2-connect: the network changed; re-attaching now (attempt 1 of 1)…');
      if (opened.ok) await opened.value.terminate();

      const stop = new AbortController();
      const stopped = reattachWithTries<SsmSession>({
        open: () => fx.open({ target: WEB1 }),
        discard: (s) => s.terminate(),
        where: 'web-1',
        persistence,
        status: () => undefined,
        signal: stop.signal,
        delaysMs: [120_000],
        networkWatch: false,
      });
      stop.abort();
      await expect(stopped).resolves.toEqual({ ok: false, stopped: true, attempts: 0, lastError: null });
    });
  });
});
