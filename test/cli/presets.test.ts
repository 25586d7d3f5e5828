/**
 * Run-as, login shell, shell profile and session presets in the real `ec2-connect` CLI (a child
 * process through tsx, its embedded sandbox): `connect --run-as alice --login-shell` lands in
 * alice's login shell; `presets save|list|delete` manage session-presets.json, which `connect`
 * then uses by default (`--no-preset` skips it, `--preset` picks one); unsafe user names and
 * conflicting options are refused with status 2 before any session starts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, repoRoot, runCliProcess } from '../helpers/cli.js';

const WEB1 = 'i-0b5bb7865829a72f8';

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-presets-cli-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/** This file's own data folder: its presets file is its own. */
const env = (): Record<string, string> => ({ EC2_CONNECT_HOME: home, EC2_CONNECT_NO_HISTORY: '1' });

/** The CLI in a pseudo-terminal, as a user runs it. */
class PtyCli {
  readonly p: pty.IPty;
  private buf = '';
  private done = false;
  readonly exit: Promise<number>;

  constructor(args: string[]) {
    this.p = pty.spawn(cliArgv[0]!, [...cliArgv.slice(1), ...args], {
      name: 'xterm-256color',
      cols: 120,
      rows: 30,
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        TERM: 'xterm-256color',
        LANG: process.env.LANG ?? 'C.UTF-8',
        ...env(),
      },
    });
    this.p.onData((d) => {
      this.buf += d;
    });
    this.exit = new Promise((resolve) =>
      this.p.onExit((e) => {
        this.done = true;
        resolve(e.exitCode);
      }),
    );
  }

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

  async waitFor(pattern: RegExp | string, from = 0, timeoutMs = 25_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.text(from);
      if (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)) return t;
      if (Date.now() > deadline || this.done)
        throw new Error(
          `${this.done ? 'the CLI exited' : 'timed out'} waiting for ${String(pattern)}; last output: ${JSON.stringify(this.buf.slice(-500))}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Type a line and wait for `expected` after it. */
  async type(line: string, expected: RegExp | string): Promise<string> {
    const from = this.mark();
    this.p.write(`${line}\r`);
    return this.waitFor(expected, from);
  }

  async close(): Promise<number> {
    if (!this.done) this.p.write('exit\r');
    const code = await Promise.race([this.exit, new Promise<number>((r) => setTimeout(() => r(-1), 15_000))]);
    if (!this.done) this.p.kill('SIGKILL');
    return code;
  }
}

describe('ec2-connect connect --run-as / --login-shell', { timeout: 90_000 }, () => {
  it('--run-as alice --login-shell: whoami is alice, $0 a login shell (-bash), the profile typed', async () => {
    const cli = new PtyCli([
      'connect',
      '-i',
      'web-1',
      '--run-as',
      'alice',
      '--login-shell',
      '--shell-profile',
      'export FROM_PROFILE=yes',
      '--no-preset',
    ]);
    try {
      await cli.waitFor('[alice@ip-10-0-1-11 ~]$ ');
      await cli.type('echo "W=$(whoami) 0=$0 P=$FROM_PROFILE"', /W=alice 0=-bash P=yes\n/);
      // exec replaced the agent's shell: leaving alice's shell ends the session normally.
      expect(await cli.close()).toBe(0);
    } finally {
      cli.p.kill();
    }
  });

  it('refuses an unsafe user name and conflicting options with status 2, before any session', async () => {
    const bad = await runCliProcess(['connect', '-i', 'web-1', '--run-as', 'root;reboot'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/The run-as user "root;reboot" contains ";", a shell metacharacter/);
    expect(bad.stderr).not.toContain('Starting session');
    const both = await runCliProcess(['connect', '-i', 'web-1', '-c', 'uptime', '--run-as', 'bob'], env());
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/put sudo -u <user> in the command itself/);
    const preset = await runCliProcess(['connect', '-i', 'web-1', '--preset', 'x', '--login-shell'], env());
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/--preset cannot be combined/);
  });
});

describe('ec2-connect presets', { timeout: 90_000 }, () => {
  it('save, list and delete presets; connect uses the instance preset unless --no-preset', async () => {
    const saved = await runCliProcess(
      [
        'presets',
        'save',
        '--instance',
        'web-1',
        '--run-as',
        'alice',
        '--login-shell',
        '--name',
        'alice-login',
      ],
      env(),
    );
    expect(saved.stderr).toBe('');
    expect(saved.code).toBe(0);
    expect(saved.stdout).toMatch(
      new RegExp(`Saved session preset "alice-login" \\(${WEB1}, sandbox\\): shell, as alice, login shell`),
    );
    const tagged = await runCliProcess(
      ['presets', 'save', '--tag', 'Team=web', '--shell-profile', 'cd /tmp', '--all-profiles'],
      env(),
    );
    expect(tagged.code).toBe(0);

    const list = await runCliProcess(['presets', 'list'], env());
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+PROFILE\s+FOR\s+RUNS/);
    expect(list.stdout).toMatch(
      new RegExp(`alice-login\\s+sandbox\\s+${WEB1}\\s+shell, as alice, login shell`),
    );
    expect(list.stdout).toMatch(/-\s+\(all\)\s+tag Team=web\s+shell, profile: cd \/tmp/);
    const json = JSON.parse((await runCliProcess(['presets', 'list', '--json'], env())).stdout) as unknown[];
    expect(json).toHaveLength(2);
    const file = path.join(home, 'session-presets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    // The instance's preset applies by default...
    const cli = new PtyCli(['connect', '-i', 'web-1']);
    try {
      await cli.waitFor(
        /using session preset "alice-login" .*: shell, as alice, login shell \(--no-preset to skip it\)/,
      );
      await cli.waitFor('[alice@ip-10-0-1-11 ~]$ ');
      await cli.type('whoami', /\n\r?alice\n/);
      expect(await cli.close()).toBe(0);
    } finally {
      cli.p.kill();
    }
    // ...web-2 gets the tag's preset (its shell profile), and --no-preset is the plain shell.
    const web2 = new PtyCli(['connect', '-i', 'web-2']);
    try {
      await web2.waitFor('[ssm-user@ip-10-0-2-12 tmp]$ ');
      await web2.close();
    } finally {
      web2.p.kill();
    }
    const plain = new PtyCli(['connect', '-i', 'web-1', '--no-preset']);
    try {
      await plain.waitFor('[ssm-user@ip-10-0-1-11 ~]$ ');
      expect(plain.text()).not.toContain('using session preset');
      await plain.close();
    } finally {
      plain.p.kill();
    }

    const unknown = await runCliProcess(['connect', '-i', 'web-1', '--preset', 'nope'], env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No session preset is named "nope" \(presets: "alice-login"/);

    const deleted = await runCliProcess(['presets', 'delete', 'alice-login'], env());
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(/Deleted session preset "alice-login"/);
    const again = await runCliProcess(['presets', 'delete', 'alice-login'], env());
    expect(again.code).toBe(2);
    const badSave = await runCliProcess(['presets', 'save', '--tag', 'Team=web', '--run-as', 'a b'], env());
    expect(badSave.code).toBe(2);
    expect(badSave.stderr).toMatch(/contains a space/);
    const neither = await runCliProcess(['presets', 'save', '--run-as', 'alice'], env());
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/either --instance <id\|name> or --tag <key=value>/);
  });
});
