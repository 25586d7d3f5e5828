/**
 * `ec2-connect forward` through the real CLI against a standalone sandbox: forward, report, stop;
 * a busy local port; `forward list` and `forward close` against a running foreground forward and
 * against a status socket served here (several matches, ended forwards, the table).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStatusServer } from '../../main/core/monitor/status-server.js';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';
import {
  matchForwards,
  renderForwardTable,
  type ProcessForward,
} from '../../main/cli/commands/forward-status.js';
import {
  ENDED_FORWARD_ID,
  FORWARD_ID,
  T,
  forwardFixture,
  portHandlers,
  portsFixture,
} from '../core/monitor/status-fixtures.js';
import { cliArgv, repoRoot, runCliProcess, type CliResult } from '../helpers/cli.js';

let home: string;
let sandbox: SandboxHandle;
let web: http.Server;
let webPort: number;

const env = (dir = home): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: dir,
  EC2_CONNECT_HOME: dir,
});

const cli = (args: string[], dir = home): Promise<CliResult> =>
  runCliProcess(args, { HOME: dir, EC2_CONNECT_HOME: dir });

/** Start a foreground forward to the web server; resolves once it listens. */
async function startForward(extra: string[] = []) {
  const proc = spawn(
    cliArgv[0]!,
    [
      ...cliArgv.slice(1),
      'forward',
      '-i',
      'web-1',
      '--remote-port',
      String(webPort),
      '--endpoint',
      sandbox.endpoint,
      ...extra,
    ],
    { cwd: repoRoot, env: env() },
  );
  const state = { out: '', err: '' };
  proc.stdout.on('data', (d: Buffer) => (state.out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (state.err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!/Press Ctrl-C/.test(state.err) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  expect(state.err).toMatch(/Press Ctrl-C/);
  return { proc, state, exited, address: state.out.trim() };
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-forward-'));
  sandbox = await startSandbox({ port: 0 });
  web = http.createServer((req, res) => res.end(`forwarded ${req.url}`));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webPort = (web.address() as net.AddressInfo).port;
});
afterAll(async () => {
  web.close();
  await sandbox.close();
  fs.rmSync(home, { recursive: true, force: true });
});

function get(port: number, p: string): Promise<string> {
  return new Promise((res, rej) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => res(body));
      })
      .on('error', rej);
  });
}

describe('ec2-connect forward', { timeout: 60_000 }, () => {
  it('prints the local address, forwards, reports each connection, and stops cleanly on Ctrl-C', async () => {
    const { proc, state, exited } = await startForward();
    const deadline = Date.now() + 30_000;
    const address = state.out.trim();
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(state.err).toMatch(
      new RegExp(`Forwarding ${address} -> port ${webPort} on i-[0-9a-f]+ \\(session \\S+, multiplexed\\)`),
    );
    const port = Number(address.split(':')[1]);
    expect(await get(port, '/one')).toBe('forwarded /one');
    expect(await get(port, '/two')).toBe('forwarded /two');
    while ((state.err.match(/closed after/g) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(state.err).toMatch(/\[#1\] connection from 127\.0\.0\.1:\d+/);
    expect(state.err).toMatch(/\[#2\] closed after \d+ B out, \d+ B in/);
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(state.err).toMatch(/Stopped: 2 connection\(s\)/);
  });

  it('a local port already in use exits 255 naming it, and a bad port is a usage error', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      const r = await cli([
        'forward',
        '-i',
        'web-1',
        '--remote-port',
        '80',
        '--local-port',
        String(busyPort),
        '--endpoint',
        sandbox.endpoint,
      ]);
      expect(r.code).toBe(255);
      expect(r.stderr).toContain(`Local port ${busyPort} on 127.0.0.1 is already in use`);
      const bad = await cli(['forward', '-i', 'web-1', '--remote-port', '70000']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--remote-port must be a port number from 1 to 65535, got "70000"');
    } finally {
      busy.close();
    }
  });
});

describe('ec2-connect forward list / close', { timeout: 60_000 }, () => {
  it('lists a running foreground forward, closes it by a prefix of its id, and the forward exits 0', async () => {
    const fw = await startForward(['-q']);
    try {
      const port = Number(fw.address.split(':')[1]);
      expect(await get(port, '/x')).toBe('forwarded /x');
      const json = await cli(['forward', 'list', '--json']);
      expect(json.code).toBe(0);
      const listed = JSON.parse(json.stdout) as { forwards: ProcessForward[]; unreachable: unknown[] };
      expect(listed.unreachable).toEqual([]);
      expect(listed.forwards).toHaveLength(1);
      const f = listed.forwards[0]!;
      expect(f).toMatchObject({
        process: { pid: fw.proc.pid, kind: 'forward' },
        instanceName: 'web-1',
        remotePort: webPort,
        localAddress: fw.address,
        state: 'open',
        mode: 'multiplexed',
        totalConnections: 1,
      });

      const table = await cli(['forward', 'list']);
      expect(table.code).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ID\s+PROCESS\s+LOCAL\s+TARGET\s+STATE\s+CONNS\s+IN\s+OUT\s+UP$/);
      expect(lines[1]).toMatch(
        new RegExp(
          `^${f.id.slice(0, 8)}\\s+forward ${fw.proc.pid}\\s+${fw.address.replace(/\./g, '\\.')}\\s+web-1:${webPort}\\s+open\\s+0/1\\s`,
        ),
      );

      const closed = await cli(['forward', 'close', f.id.slice(0, 6)]);
      expect(closed.stderr).toBe('');
      expect(closed.code).toBe(0);
      expect(closed.stdout).toBe(
        `Closed ${f.id} (${fw.address} -> web-1:${webPort}, forward ${fw.proc.pid}).\n`,
      );
      expect(await fw.exited).toBe(0);
      expect(fw.state.err).toContain('the forward ended: closed by `ec2-connect forward close`');

      // Gone with its process: nothing to list or close any more.
      const after = await cli(['forward', 'list']);
      expect(after).toMatchObject({ code: 0, stdout: '' });
      expect(after.stderr).toMatch(/No port forwards/);
      const again = await cli(['forward', 'close', f.id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`no open port forward has an id starting with "${f.id}"`);
    } finally {
      fw.proc.kill('SIGINT');
      await fw.exited;
    }
  });

  it('close: several matches, an ended forward, or none exit 1 saying so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-forward-status-'));
    const ports = portHandlers();
    const twin = forwardFixture({
      id: FORWARD_ID.replace(/^(.{9})..../, '$1aaaa'),
      localAddress: '127.0.0.1:16000',
    });
    const server = await startStatusServer({
      dir: path.join(dir, 'run'),
      kind: 'web',
      handlers: {
        'ports.list': async () => ({ ...portsFixture(), forwards: [...portsFixture().forwards, twin] }),
        'ports.close': ports['ports.close'],
      },
    });
    try {
      const several = await cli(['forward', 'close', FORWARD_ID.slice(0, 8)], dir);
      expect(several.code).toBe(1);
      expect(several.stderr).toContain(
        `"${FORWARD_ID.slice(0, 8)}" matches 2 open forwards; give more of the id:`,
      );
      expect(several.stderr).toContain(`  ${FORWARD_ID}  web ${process.pid}  127.0.0.1:15432 -> db-1:5432`);
      expect(several.stderr).toContain(`  ${twin.id}  web ${process.pid}  127.0.0.1:16000 -> db-1:5432`);
      const ended = await cli(['forward', 'close', ENDED_FORWARD_ID.slice(0, 13)], dir);
      expect(ended.code).toBe(1);
      expect(ended.stderr).toContain(
        `the forward ${ENDED_FORWARD_ID} (db-1:5432) is already failed: the session was terminated`,
      );
      const none = await cli(['forward', 'close', 'ffff'], dir);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no open port forward has an id starting with "ffff"');
      expect(ports.closed).toEqual([]);
      const one = await cli(['forward', 'close', FORWARD_ID.slice(0, 13)], dir);
      expect(one).toMatchObject({ code: 0, stderr: '' });
      expect(ports.closed).toEqual([FORWARD_ID]);
    } finally {
      await server.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('forward --help shows the options and the subcommands; forward without -i is a usage error', async () => {
    const help = await cli(['forward', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: ec2-connect forward \[options\] \[command\]/);
    expect(help.stdout).toMatch(/-i, --instance-id <id\|name>/);
    expect(help.stdout).toMatch(/^\s+list \[options\]/m);
    expect(help.stdout).toMatch(/^\s+close <id>/m);
    const missing = await cli(['forward', '--remote-port', '80']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '-i, --instance-id <id|name>' not specified");
    const noPort = await cli(['forward', '-i', 'web-1']);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toContain("required option '--remote-port <port>' not specified");
  });
});

describe('forward list table', () => {
  const at = (f: Partial<ProcessForward> = {}): ProcessForward => ({
    ...forwardFixture(),
    process: { pid: 4242, kind: 'desktop' },
    ...f,
  });

  it('open forwards first with their uptime, ended ones after with why', () => {
    const text = renderForwardTable(
      [
        at({
          id: ENDED_FORWARD_ID,
          state: 'failed',
          endedAt: T - 1,
          reason: 'the session was terminated',
          activeConnections: 0,
        }),
        at({ host: 'db.internal', process: { pid: 77, kind: 'forward' } }),
      ],
      T,
    );
    expect(text.split('\n')).toEqual([
      'ID          PROCESS       LOCAL            TARGET                     STATE   CONNS  IN       OUT    UP',
      '7d0c4f5e-1  forward 77    127.0.0.1:15432  db.internal:5432 via db-1  open    1/3    2.0 KiB  300 B  1m 05s',
      '7d0c4f5e-9  desktop 4242  127.0.0.1:15432  db-1:5432                  failed  0/3    2.0 KiB  300 B  -',
      '',
      'Ended:',
      '  7d0c4f5e-9: failed: the session was terminated',
    ]);
  });

  it('matches open forwards by prefix, case-insensitively; ended ones separately', () => {
    const list = [at(), at({ id: ENDED_FORWARD_ID, endedAt: T, state: 'closed' })];
    expect(matchForwards(list, '7D0C4F5E-1').live.map((f) => f.id)).toEqual([FORWARD_ID]);
    const both = matchForwards(list, '7d0c');
    expect([both.live.length, both.ended.length]).toEqual([1, 1]);
  });
});
