/**
 * `ec2-connect ssh-proxy` as a real OpenSSH ProxyCommand: ssh, scp and rsync reach a real sshd
 * (on the loopback, as the sandbox instance's port 22 stand-in) through AWS-StartSSHSession on
 * the sandbox. Needs ssh, sshd and rsync (.ci/run installs them); skipped with a reason if absent.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const which = (cmd: string): string | null => {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin']) {
    if (fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
};
const sshd = which('sshd');
const missing = ['ssh', 'scp', 'rsync', 'ssh-keygen'].filter((c) => !which(c));
if (!sshd) missing.push('sshd');
if (missing.length)
  console.warn(
    `ssh-proxy tests skipped: ${missing.join(', ')} not installed (apt-get install openssh-server openssh-client rsync)`,
  );
// sshd refuses to start as root without its privilege-separation folder, and as another user
// it can only serve that user: both are fine for a test.
const canRunSshd =
  sshd !== null && (process.getuid?.() !== 0 || fs.existsSync('/run/sshd') || tryMkdir('/run/sshd'));

function tryMkdir(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

describe.skipIf(missing.length > 0 || !canRunSshd)(
  'ec2-connect ssh-proxy with OpenSSH',
  { timeout: 120_000 },
  () => {
    let dir: string;
    let sandbox: SandboxHandle;
    let daemon: ChildProcess;
    let sshPort: number;
    let sshArgs: string[];

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-ssh-'));
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
      fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
      sshPort = await freePort();
      fs.writeFileSync(
        path.join(dir, 'sshd_config'),
        [
          `Port ${sshPort}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${path.join(dir, 'host_key')}`,
          `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
          `PidFile ${path.join(dir, 'sshd.pid')}`,
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'StrictModes no',
          'UsePAM no',
          'Subsystem sftp internal-sftp',
          '',
        ].join('\n'),
      );
      daemon = spawn(sshd!, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const deadline = Date.now() + 10_000;
      for (;;) {
        const up = await new Promise<boolean>((res) => {
          const s = net.connect({ host: '127.0.0.1', port: sshPort }, () => {
            s.destroy();
            res(true);
          });
          s.on('error', () => res(false));
        });
        if (up) break;
        if (Date.now() > deadline) throw new Error(`sshd did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      sandbox = await startSandbox({ port: 0 });
      const proxy = [process.execPath, '--import', 'tsx', path.join(root, 'main/cli/bin.ts')].join(' ');
      sshArgs = [
        '-i',
        path.join(dir, 'client_key'),
        '-p',
        String(sshPort),
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        '-o',
        `ProxyCommand=${proxy} ssh-proxy --instance-id %h --port %p --endpoint ${sandbox.endpoint}`,
      ];
    });

    afterAll(async () => {
      daemon?.kill();
      await sandbox?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const env = (): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      EC2_CONNECT_HOME: dir,
      EC2_CONNECT_NO_HISTORY: '1',
    });
    const user = os.userInfo().username;

    it('ssh runs a command through the proxy (the host is the instance Name tag)', async () => {
      const r = await run('ssh', [...sshArgs, `${user}@web-1`, 'echo hello-through-ssm; exit 3'], {
        env: env(),
      }).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect((r as { stdout: string }).stdout).toBe('hello-through-ssm\n');
      expect((r as { code?: number }).code).toBe(3);
      // The session ended with the connection (not left for the service to time out).
      const active = () =>
        sandbox.registry.list('Active').filter((s) => s.documentName === 'AWS-StartSSHSession');
      const deadline = Date.now() + 5_000;
      while (active().length > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(active()).toEqual([]);
    });

    it('scp copies 3 MiB up and back byte for byte, and rsync syncs a folder', async () => {
      const src = path.join(dir, 'payload.bin');
      fs.writeFileSync(src, randomBytes(3 * 1024 * 1024));
      const scpArgs = sshArgs.map((a) => (a === '-p' ? '-P' : a));
      await run('scp', [...scpArgs, src, `${user}@web-1:${path.join(dir, 'uploaded.bin')}`], { env: env() });
      await run(
        'scp',
        [...scpArgs, `${user}@web-1:${path.join(dir, 'uploaded.bin')}`, path.join(dir, 'back.bin')],
        {
          env: env(),
        },
      );
      expect(fs.readFileSync(path.join(dir, 'back.bin')).equals(fs.readFileSync(src))).toBe(true);

      const tree = path.join(dir, 'tree');
      fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(tree, 'a.txt'), 'alpha\n');
      fs.writeFileSync(path.join(tree, 'sub', 'b.txt'), 'beta\n');
      const sshCommand = ['ssh', ...sshArgs.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
      await run('rsync', ['-a', '-e', sshCommand, `${tree}/`, `${user}@web-1:${path.join(dir, 'synced')}/`], {
        env: env(),
      });
      expect(fs.readFileSync(path.join(dir, 'synced', 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
    });

    it('an instance that does not exist fails with a message on stderr and nothing on stdout', async () => {
      const r = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          'main/cli/bin.ts',
          'ssh-proxy',
          '--instance-id',
          'no-such-host',
          '--endpoint',
          sandbox.endpoint,
        ],
        { cwd: root, env: env() },
      ).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect((r as { code: number }).code).toBe(255);
      expect((r as { stdout: string }).stdout).toBe('');
      expect((r as { stderr: string }).stderr).toMatch(/no instance is named "no-such-host"/);
    });
  },
);
