/**
 * The real `ec2-connect` with AWS profiles, as child processes against a sandbox in this
 * process and a temporary AWS config: `login` (the device sign-in, approved through the
 * admin API, the token cached for later commands), an MFA code typed on the terminal (no
 * echo), and the errors that name the profile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_MFA_SECRET, totp } from '../../main/sandbox/credentials.js';
import { adminSso, startCredentialsFixture, type CredentialsFixture } from '../core/credentials/fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'main/cli/bin.ts'];

let fx: CredentialsFixture;

beforeAll(async () => {
  fx = await startCredentialsFixture();
});
afterAll(async () => {
  await fx.close();
});

function env(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: fx.aws.dir,
    AWS_CONFIG_FILE: fx.aws.configFile,
    AWS_SHARED_CREDENTIALS_FILE: fx.aws.credentialsFile,
    ...(process.env.EC2_CONNECT_HOME ? { EC2_CONNECT_HOME: process.env.EC2_CONNECT_HOME } : {}),
    TERM: 'xterm-256color',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr matches. */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exit: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: env(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end();
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  void exit.then(() => clearTimeout(timer));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    async waitForStderr(re, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(err);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`stderr never matched ${String(re)}: ${err}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 200);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
  };
}

describe('ec2-connect login', () => {
  it('signs in with the device flow, caches the token, and later commands reuse it without asking', async () => {
    const login = run(['login', '--profile', 'sso-dev', '--no-browser']);
    const m = await login.waitForStderr(/check that it shows the code ([A-Z]{4}-[A-Z]{4})/);
    expect(login.stderr()).toContain(
      'Sign in to IAM Identity Center (https://sandbox.awsapps.com/start) for the profile "sso-dev".',
    );
    expect(login.stderr()).toContain(`Open ${fx.sandbox.endpoint}/device?user_code=${m[1]}`);
    await adminSso(fx.sandbox, m[1]!);
    expect(await login.exit).toBe(0);
    expect(login.stderr()).toContain('Signed in.');
    expect(login.stdout()).toMatch(
      /^Signed in: profile "sso-dev" is arn:aws:sts::123456789012:assumed-role\/AWSReservedSSO_SandboxAdmin_[0-9a-f]{16}\/sandbox-user\n/,
    );
    const token = JSON.parse(
      await readFile(
        path.join(fx.aws.ssoCacheDir, `${createHash('sha1').update('corp').digest('hex')}.json`),
        'utf8',
      ),
    ) as { startUrl: string };
    expect(token.startUrl).toBe('https://sandbox.awsapps.com/start');

    const list = run(['list', '--profile', 'sso-ro', '--json']);
    expect(await list.exit).toBe(0);
    expect(list.stderr()).not.toContain('Sign in');
    expect((JSON.parse(list.stdout()) as unknown[]).length).toBeGreaterThan(5);
  }, 60_000);

  it('names the problem: not an SSO profile, no --profile, a broken profile', async () => {
    const notSso = run(['login', '--profile', 'base']);
    expect(await notSso.exit).toBe(1);
    expect(notSso.stderr()).toContain('ec2-connect: Profile "base": it does not use IAM Identity Center');
    const none = run(['login']);
    expect(await none.exit).toBe(2);
    const loop = run(['list', '--profile', 'loop-a']);
    expect(await loop.exit).toBe(1);
    expect(loop.stderr()).toContain(
      'ec2-connect: Profile "loop-a": source_profile goes round in a loop: loop-a -> loop-b -> loop-a. Make the chain end',
    );
    const failing = run(['list', '--profile', 'proc-fail']);
    expect(await failing.exit).toBe(1);
    expect(failing.stderr()).toContain(
      'credential_process failed: token broker: refresh token revoked for alice',
    );
  }, 60_000);
});

describe('MFA on the terminal', () => {
  it('asks for the code without echoing it, then lists the instances', async () => {
    const p = pty.spawn(process.execPath, [...CLI, 'list', '--profile', 'mfa'], {
      name: 'xterm-256color',
      cols: 200,
      rows: 40,
      cwd: ROOT,
      env: env(),
    });
    let buf = '';
    p.onData((d) => (buf += d));
    const exit = new Promise<number>((resolve) => p.onExit((e) => resolve(e.exitCode)));
    try {
      const deadline = Date.now() + 20_000;
      while (!buf.includes('MFA code for arn:aws:iam::123456789012:mfa/sandbox-user (profile "mfa"): ')) {
        if (Date.now() > deadline) throw new Error(`no MFA prompt: ${buf}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const mark = buf.length;
      const code = totp(SANDBOX_MFA_SECRET);
      p.write(`${code}\r`);
      expect(await exit).toBe(0);
      const after = buf.slice(mark);
      expect(after).not.toContain(code);
      expect(after).toMatch(/NAME\s+INSTANCE ID\s+STATE/);
    } finally {
      try {
        p.kill();
      } catch {
        // already gone
      }
    }
  }, 60_000);
});
