/** The status socket: files and their modes, stale sockets, routes, dispose, and the client's discovery. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  STATUS_KINDS,
  StatusRequestError,
  getJson,
  listRunning,
  pidAlive,
  postJson,
} from '../../../main/core/monitor/status-client.js';
import {
  socketAnswers,
  socketPathFor,
  startStatusServer,
  statusDir,
  type StatusServer,
} from '../../../main/core/monitor/status-server.js';
import { CLIENT_VERSION } from '../../../main/core/version.js';
import { deadPid } from '../store/helpers.js';
import {
  ENDED_FORWARD_ID,
  FORWARD_ID,
  fixtureHandlers,
  metricsFixture,
  portHandlers,
  portsFixture,
  sessionsFixture,
  snapshotFixture,
} from './status-fixtures.js';

const mode = (f: string) => fs.statSync(f).mode & 0o777;

/** A raw request, for methods and paths getJson does not make. */
function request(
  socketPath: string,
  method: string,
  urlPath: string,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** A Unix socket file left behind by a process killed while listening (nothing answers on it). */
async function staleSocket(file: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => child.on('exit', resolve));
  expect(fs.lstatSync(file).isSocket()).toBe(true);
}

describe.skipIf(process.platform === 'win32')('status server', () => {
  let tmp: string;
  let dir: string;
  const servers: StatusServer[] = [];
  const start = async (o: Partial<Parameters<typeof startStatusServer>[0]> = {}) => {
    const s = await startStatusServer({ dir, kind: 'desktop', handlers: fixtureHandlers(), ...o });
    servers.push(s);
    return s;
  };
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-status-'));
    dir = path.join(tmp, 'run');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('listens on <dir>/<pid>.sock (0600) in a 0700 folder and describes itself in <dir>/<pid>.json (0600)', async () => {
    const before = Date.now();
    const s = await start({ kind: 'web' });
    expect(s.socketPath).toBe(path.join(dir, `${process.pid}.sock`));
    expect(s.descriptorFile).toBe(path.join(dir, `${process.pid}.json`));
    expect(mode(dir)).toBe(0o700);
    expect(fs.lstatSync(s.socketPath).isSocket()).toBe(true);
    expect(mode(s.socketPath)).toBe(0o600);
    expect(mode(s.descriptorFile)).toBe(0o600);
    const d = JSON.parse(fs.readFileSync(s.descriptorFile, 'utf8')) as Record<string, unknown>;
    expect(d).toEqual({
      pid: process.pid,
      kind: 'web',
      socket: s.socketPath,
      startedAt: expect.any(String),
      version: CLIENT_VERSION,
    });
    expect(Date.parse(d.startedAt as string)).toBeGreaterThanOrEqual(before - 1000);
    // Nothing else is left in the folder (no temporary descriptor).
    expect(fs.readdirSync(dir).sort()).toEqual([`${process.pid}.json`, `${process.pid}.sock`]);
  });

  it('makes an existing folder private', async () => {
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    await start();
    expect(mode(dir)).toBe(0o700);
  });

  it('serves GET /v1/resources and GET /v1/sessions as JSON from the handlers', async () => {
    const handlers = fixtureHandlers();
    const s = await start({ handlers });
    expect(await getJson(s.socketPath, '/v1/resources')).toEqual(snapshotFixture());
    expect(await getJson(s.socketPath, '/v1/sessions')).toEqual({
      sessions: sessionsFixture(),
      metrics: metricsFixture(),
    });
    expect(handlers.calls).toEqual({ 'resources.get': 1, 'sessions.list': 1, 'metrics.history': 1 });
    // A query string does not change the route.
    expect(await getJson(s.socketPath, '/v1/resources?x=1')).toEqual(snapshotFixture());
  });

  it('answers 404 (JSON) for other paths, 405 for other methods, 500 when a handler fails', async () => {
    const s = await start({
      handlers: fixtureHandlers({
        'sessions.list': async () => {
          throw new Error('session manager gone');
        },
      }),
    });
    for (const p of [
      '/',
      '/v1',
      '/v1/resources/x',
      '/v2/resources',
      '/metrics',
      '/v1/ports/x',
      '/v1/ports/a/b/close',
    ]) {
      const r = await request(s.socketPath, 'GET', p);
      expect([p, r.status]).toEqual([p, 404]);
      expect(r.body).toEqual({ error: expect.stringContaining('no such status route') });
    }
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await request(s.socketPath, method, '/v1/resources');
      expect(r).toEqual({ status: 405, body: { error: `${method} is not allowed here; only GET` } });
    }
    expect(await request(s.socketPath, 'GET', '/v1/sessions')).toEqual({
      status: 500,
      body: { error: 'session manager gone' },
    });
    const err = await getJson(s.socketPath, '/v1/nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusRequestError);
    expect((err as StatusRequestError).status).toBe(404);
    expect((err as Error).message).toMatch(/^\/v1\/nope: HTTP 404: no such status route/);
  });

  it('dispose closes the server and removes the socket and the descriptor (twice is fine)', async () => {
    const s = await start();
    await s.dispose();
    expect(fs.existsSync(s.socketPath)).toBe(false);
    expect(fs.existsSync(s.descriptorFile)).toBe(false);
    expect(await socketAnswers(s.socketPath)).toBe(false);
    await s.dispose();
    await expect(getJson(s.socketPath, '/v1/resources', 1000)).rejects.toThrow(/cannot reach .* \(ENOENT\)/);
  });

  it('removes a stale socket file (its process died while listening) before listening', async () => {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${process.pid}.sock`);
    await staleSocket(file);
    expect(await socketAnswers(file)).toBe(false);
    const s = await start();
    expect(s.socketPath).toBe(file);
    expect(await getJson(s.socketPath, '/v1/resources')).toEqual(snapshotFixture());
  });

  it('refuses to take over a socket someone answers on, or a path that is not a socket', async () => {
    const first = await start();
    await expect(startStatusServer({ dir, kind: 'web', handlers: fixtureHandlers() })).rejects.toThrow(
      `another EC2 Connect server already answers on ${first.socketPath}`,
    );
    // The first one still works.
    expect(await getJson(first.socketPath, '/v1/resources')).toEqual(snapshotFixture());
    await first.dispose();
    fs.writeFileSync(first.socketPath, 'not a socket');
    await expect(startStatusServer({ dir, kind: 'web', handlers: fixtureHandlers() })).rejects.toThrow(
      /exists and is not a socket/,
    );
    fs.unlinkSync(first.socketPath);
  });

  it('falls back to a socket in the temp folder when <dir>/<pid>.sock is longer than 100 bytes', async () => {
    dir = path.join(tmp, 'a'.repeat(60), 'b'.repeat(40), 'run');
    const s = await start();
    const uid = process.getuid!();
    expect(s.socketPath).toBe(path.join(os.tmpdir(), `ec2c-${uid}-${process.pid}.sock`));
    expect(s.descriptorFile).toBe(path.join(dir, `${process.pid}.json`));
    expect(mode(s.socketPath)).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(s.descriptorFile, 'utf8')).socket).toBe(s.socketPath);
    expect(listRunning(dir).map((r) => r.socket)).toEqual([s.socketPath]);
    expect(await getJson(s.socketPath, '/v1/resources')).toEqual(snapshotFixture());
    await s.dispose();
    expect(fs.existsSync(s.socketPath)).toBe(false);
  });

  it('names the socket: in the folder, the temp folder fallback, a named pipe on Windows', () => {
    expect(socketPathFor('/run/x', 123, 'linux')).toBe('/run/x/123.sock');
    expect(socketPathFor('/' + 'x'.repeat(120), 123, 'darwin')).toMatch(/\/ec2c-\d+-123\.sock$/);
    expect(socketPathFor('C:\\Users\\a\\AppData', 123, 'win32')).toMatch(
      /^\\\\\.\\pipe\\ec2-connect-[^\\/\s]+-123$/,
    );
    expect(statusDir({ EC2_CONNECT_HOME: '/data/ec2c' })).toBe(path.resolve('/data/ec2c/run'));
  });

  describe('listRunning', () => {
    const write = (pid: number, over: Record<string, unknown> = {}) => {
      fs.mkdirSync(dir, { recursive: true });
      const socket = path.join(dir, `${pid}.sock`);
      fs.writeFileSync(
        path.join(dir, `${pid}.json`),
        JSON.stringify({
          pid,
          kind: 'desktop',
          socket,
          startedAt: new Date().toISOString(),
          version: '0.1.0',
          ...over,
        }),
      );
      return socket;
    };

    it('lists live servers newest first, and drops (deleting) those of dead processes with their sockets', async () => {
      const s = await start();
      const dead = deadPid();
      const deadSocket = write(dead);
      await staleSocket(deadSocket);
      // Another live process (our parent), started earlier.
      write(process.ppid, { kind: 'web', startedAt: '2020-01-01T00:00:00.000Z' });
      const running = listRunning(dir);
      expect(running.map((r) => [r.pid, r.kind])).toEqual([
        [process.pid, 'desktop'],
        [process.ppid, 'web'],
      ]);
      expect(running[0]).toMatchObject({
        socket: s.socketPath,
        descriptorFile: s.descriptorFile,
        version: CLIENT_VERSION,
      });
      expect(fs.existsSync(path.join(dir, `${dead}.json`))).toBe(false);
      expect(fs.existsSync(deadSocket)).toBe(false);
      expect(pidAlive(dead)).toBe(false);
      expect(pidAlive(process.pid)).toBe(true);
    });

    it('skips malformed descriptors and other files, without deleting them; a missing folder lists none', () => {
      expect(listRunning(path.join(tmp, 'nothing-here'))).toEqual([]);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, '123.json'), '{ not json');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
      write(process.pid, { kind: 'something' });
      write(process.ppid, { pid: 1 }); // the name and the pid disagree
      expect(listRunning(dir)).toEqual([]);
      expect(fs.readdirSync(dir).sort()).toEqual(
        ['123.json', `${process.pid}.json`, `${process.ppid}.json`, 'notes.txt'].sort(),
      );
    });
  });

  describe('port forwards', () => {
    it('GET /v1/ports lists them; POST /v1/ports/<id>/close closes one (404 for an unknown id, 400 for a bad one)', async () => {
      const ports = portHandlers();
      const s = await start({ handlers: { ...fixtureHandlers(), ...ports } });
      expect(await getJson(s.socketPath, '/v1/ports')).toEqual(portsFixture());
      expect(await postJson(s.socketPath, `/v1/ports/${FORWARD_ID}/close`)).toEqual({ closed: FORWARD_ID });
      expect(ports.closed).toEqual([FORWARD_ID]);
      const after = await getJson<{ forwards: Array<{ id: string; state: string }> }>(
        s.socketPath,
        '/v1/ports',
      );
      expect(after.forwards.map((f) => [f.id, f.state])).toEqual([
        [FORWARD_ID, 'closed'],
        [ENDED_FORWARD_ID, 'failed'],
      ]);
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect(await request(s.socketPath, 'POST', `/v1/ports/${unknown}/close`)).toEqual({
        status: 404,
        body: { error: `no port forward has the id ${unknown} here` },
      });
      expect(await request(s.socketPath, 'POST', '/v1/ports/nope/close')).toEqual({
        status: 400,
        body: { error: 'nope is not a forward id (a UUID from /v1/ports)' },
      });
      expect(ports.closed).toEqual([FORWARD_ID]);
    });

    it('the close route takes only POST, the list only GET', async () => {
      const s = await start({ handlers: { ...fixtureHandlers(), ...portHandlers() } });
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const r = await request(s.socketPath, method, `/v1/ports/${FORWARD_ID}/close`);
        expect(r).toEqual({ status: 405, body: { error: `${method} is not allowed here; only POST` } });
      }
      expect(await request(s.socketPath, 'POST', '/v1/ports')).toEqual({
        status: 405,
        body: { error: 'POST is not allowed here; only GET' },
      });
    });

    it('a process without port handlers (an older app) answers 404 for the port routes', async () => {
      const s = await start();
      const r = await request(s.socketPath, 'GET', '/v1/ports');
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: expect.stringContaining('no such status route: /v1/ports') });
    });

    it("a foreground forward (kind 'forward') serves only the port routes, and is listed only when asked for", async () => {
      const ports = portHandlers();
      const s = await start({ kind: 'forward', handlers: ports });
      expect(JSON.parse(fs.readFileSync(s.descriptorFile, 'utf8'))).toMatchObject({ kind: 'forward' });
      expect(await getJson(s.socketPath, '/v1/ports')).toEqual(portsFixture());
      for (const p of ['/v1/resources', '/v1/sessions']) {
        expect(await request(s.socketPath, 'GET', p)).toEqual({
          status: 404,
          body: { error: `no such status route: ${p}; this process (forward) serves /v1/ports` },
        });
      }
      // `ec2-connect resources` (the default kinds) does not pick it; `forward list` does.
      expect(listRunning(dir)).toEqual([]);
      expect(listRunning(dir, STATUS_KINDS).map((r) => r.kind)).toEqual(['forward']);
    });

    it('dispose lets a request in flight finish (the close that stops a forward process) before cutting connections', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const ports = portHandlers();
      const s = await start({
        kind: 'forward',
        handlers: {
          ...ports,
          'ports.close': async (req) => {
            await gate;
            return ports['ports.close'](req);
          },
        },
      });
      const answer = postJson(s.socketPath, `/v1/ports/${FORWARD_ID}/close`);
      await new Promise((r) => setTimeout(r, 100)); // the request is in the handler
      const disposed = s.dispose();
      await new Promise((r) => setTimeout(r, 50));
      release();
      expect(await answer).toEqual({ closed: FORWARD_ID });
      await disposed;
      expect(fs.existsSync(s.socketPath)).toBe(false);
    });
  });

  it('getJson gives up after its timeout', async () => {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'slow.sock');
    const slow = http.createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => slow.listen(file, resolve));
    try {
      await expect(getJson(file, '/v1/resources', 200)).rejects.toThrow(
        `no answer from ${file} within 200 ms`,
      );
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});
