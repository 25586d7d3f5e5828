/**
 * Port forwarding end to end against the sandbox, whose agent dials real local servers: an
 * HTTP server, a TCP echo server, a server that greets first. Multiplexed and one-at-a-time
 * modes, a refused target, a local port in use, a dropped data channel, a session ended by the
 * service, the SSH-style stream session, and resources released after many forwards.
 */
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PortForward, type PortForwardOptions } from '../../../../main/core/ssm/port/port-forward.js';
import { openPortStream } from '../../../../main/core/ssm/port/port-stream.js';
import { PortForwardError } from '../../../../main/core/ssm/port/local-listener.js';
import { startFixture, type Fixture } from '../../../helpers/sandbox.js';

let fx: Fixture;
const servers: net.Server[] = [];
const forwards: PortForward[] = [];

function listen(server: net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** An echo server; `greeting` is sent first on every connection (as SSH or SMTP servers do). */
function echoServer(greeting?: string): Promise<number> {
  return listen(
    net.createServer((s) => {
      s.on('error', () => undefined);
      if (greeting) s.write(greeting);
      s.pipe(s);
    }),
  );
}

function httpServer(): Promise<number> {
  return listen(
    http.createServer((req, res) => {
      const body = `hello ${req.url}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }),
  );
}

async function forward(options: Partial<PortForwardOptions> & { remotePort: number }): Promise<PortForward> {
  const f = await PortForward.open({ controlPlane: fx.cp, target: fx.instanceId, ...options });
  forwards.push(f);
  return f;
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

/** Send `data` on a new connection and read until `expectBytes` came back (or the socket closed). */
function roundTrip(
  port: number,
  data: Buffer,
  expectBytes = data.length,
): Promise<{ data: Buffer; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(data));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= expectBytes) {
        s.destroy();
        resolve({ data: Buffer.concat(chunks) });
      }
    });
    s.on('error', (error: NodeJS.ErrnoException) => resolve({ data: Buffer.concat(chunks), error }));
    s.on('close', () => resolve({ data: Buffer.concat(chunks) }));
  });
}

beforeAll(async () => {
  fx = await startFixture();
});
afterEach(async () => {
  for (const f of forwards.splice(0)) await f.close().catch(() => undefined);
  for (const s of servers.splice(0)) s.close();
});
afterAll(async () => {
  await fx.close();
});

describe('PortForward (multiplexed, current agents)', () => {
  it('serves 100 parallel HTTP requests through one session', async () => {
    const port = await httpServer();
    const f = await forward({ remotePort: port });
    expect(f.mode).toBe('multiplexed');
    expect(f.localAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const bodies = await Promise.all(Array.from({ length: 100 }, (_, i) => get(f.localPort, `/r${i}`)));
    expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => `hello /r${i}`));
    await new Promise((r) => setTimeout(r, 100));
    expect(f.stats).toMatchObject({ totalConnections: 100, failedConnections: 0, activeConnections: 0 });
    expect(fx.sandbox.registry.list('Active').filter((s) => s.status === 'Connected')).toHaveLength(1);
  }, 60_000);

  it('carries 4 MiB each way on each of 4 connections, byte for byte', async () => {
    const port = await echoServer();
    const f = await forward({ remotePort: port });
    const payloads = Array.from({ length: 4 }, (_, i) =>
      Buffer.alloc(4 * 1024 * 1024, i + 1).fill(Math.random() * 255, 0, 1000),
    );
    const results = await Promise.all(payloads.map((p) => roundTrip(f.localPort, p)));
    results.forEach((r, i) => expect(r.data.equals(payloads[i]!)).toBe(true));
    expect(f.stats.bytesOut).toBeGreaterThanOrEqual(16 * 1024 * 1024);
  }, 120_000);

  it('resets only the connection whose target refused, with the reason; the forward keeps working', async () => {
    const server = net.createServer((s) => s.pipe(s));
    const port = await listen(server);
    const f = await forward({ remotePort: port });
    const events: string[] = [];
    f.onConnection((e) => events.push(e.kind === 'opened' ? 'opened' : `${e.kind}: ${e.reason}`));
    // A connection opened while the target listens, kept open across the refusal.
    const kept = net.connect({ host: '127.0.0.1', port: f.localPort });
    kept.on('error', () => undefined);
    await new Promise((r) => kept.once('connect', r));
    kept.write('before');
    await new Promise((r) => kept.once('data', r));
    // The target stops listening: a new connection is refused, and only it fails.
    server.close(); // stops accepting; the kept connection stays open
    const refused = await roundTrip(f.localPort, Buffer.from('x'));
    expect(refused.data.length).toBe(0);
    expect(refused.error?.code).toBe('ECONNRESET');
    expect(events.find((e) => e.startsWith('failed'))).toMatch(
      new RegExp(`could not connect to port ${port} on ${fx.instanceId} \\(ConnectToPortError\\)`),
    );
    // The kept connection still echoes.
    kept.write('after');
    const echoed = await new Promise<string>((r) => kept.once('data', (d: Buffer) => r(d.toString())));
    expect(echoed).toBe('after');
    kept.destroy();
    expect(f.state).toBe('open');
  }, 60_000);

  it('open connections continue across a dropped data channel', async () => {
    const port = await echoServer();
    const f = await forward({ remotePort: port, reconnect: { baseDelayMs: 50, jitter: 0 } });
    const s = net.connect({ host: '127.0.0.1', port: f.localPort });
    await new Promise((r) => s.once('connect', r));
    const received: Buffer[] = [];
    s.on('data', (d: Buffer) => received.push(d));
    const first = Buffer.alloc(256 * 1024, 1);
    s.write(first);
    f.session.simulateNetworkDrop();
    const second = Buffer.alloc(256 * 1024, 2);
    s.write(second);
    const deadline = Date.now() + 20_000;
    while (Buffer.concat(received).length < first.length + second.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(Buffer.concat(received).equals(Buffer.concat([first, second]))).toBe(true);
    expect(f.session.reconnects).toBeGreaterThanOrEqual(1);
    s.destroy();
  }, 60_000);

  it('when the service ends the session, every connection is reset, the port closes and onClosed says why', async () => {
    const port = await echoServer();
    const f = await forward({ remotePort: port });
    const s = net.connect({ host: '127.0.0.1', port: f.localPort });
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    s.on('error', () => undefined);
    const ended = new Promise<{ reason: string; how: string }>((r) => f.onClosed(r));
    fx.sandbox.registry.terminate(f.sessionId, 'terminated by an administrator');
    expect(await ended).toMatchObject({ how: 'ended' });
    await closed;
    const after = await roundTrip(f.localPort, Buffer.from('x'));
    expect(after.error?.code).toBe('ECONNREFUSED');
  }, 60_000);
});

describe('PortForward (one connection at a time, agents up to 3.0.196.0)', () => {
  it('serves connections in turn, and a greeting sent before the client spoke is not lost', async () => {
    const port = await echoServer('HELLO\n');
    fx.sandbox.fleet.update(fx.instanceId, { agentVersion: '3.0.161.0' });
    try {
      const f = await forward({ remotePort: port });
      expect(f.mode).toBe('basic');
      await new Promise((r) => setTimeout(r, 200)); // the greeting arrives before anyone connected
      const one = await roundTrip(f.localPort, Buffer.from('one\n'), 'HELLO\none\n'.length);
      expect(one.data.toString()).toBe('HELLO\none\n');
      // The agent dials again for the next connection (after DisconnectToPort).
      const [two, three] = await Promise.all([
        roundTrip(f.localPort, Buffer.from('two\n'), 'HELLO\ntwo\n'.length),
        roundTrip(f.localPort, Buffer.from('three\n'), 'HELLO\nthree\n'.length),
      ]);
      expect(two.data.toString()).toBe('HELLO\ntwo\n');
      expect(three.data.toString()).toBe('HELLO\nthree\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(f.stats.totalConnections).toBe(3);
    } finally {
      fx.sandbox.fleet.update(fx.instanceId, { agentVersion: '3.3.1142.0' });
    }
  }, 60_000);
});

describe('the sandbox demo page', () => {
  it('port 80 of an instance answers with a page naming it, in both modes (no server on this machine)', async () => {
    const name = fx.sandbox.fleet.list().find((i) => i.instanceId === fx.instanceId)!.name;
    const f = await forward({ remotePort: 80 });
    const page = await get(f.localPort, '/hello?x=1');
    expect(page).toContain(`<h1>${name}</h1>`);
    expect(page).toContain(`GET /hello?x=1`);
    fx.sandbox.fleet.update(fx.instanceId, { agentVersion: '3.0.161.0' });
    try {
      const basic = await forward({ remotePort: 80 });
      expect(basic.mode).toBe('basic');
      expect(await get(basic.localPort, '/one')).toContain('GET /one');
      expect(await get(basic.localPort, '/two')).toContain('GET /two');
    } finally {
      fx.sandbox.fleet.update(fx.instanceId, { agentVersion: '3.3.1142.0' });
    }
  }, 60_000);
});

describe('PortForward errors', () => {
  it('a local port in use fails by name before any session starts', async () => {
    const busy = net.createServer();
    const busyPort = await listen(busy);
    const before = fx.sandbox.registry.list('Active').length;
    const err = await PortForward.open({
      controlPlane: fx.cp,
      target: fx.instanceId,
      remotePort: 80,
      localPort: busyPort,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortForwardError);
    expect((err as PortForwardError).code).toBe('port-in-use');
    expect((err as Error).message).toContain(`Local port ${busyPort} on 127.0.0.1 is already in use`);
    expect(fx.sandbox.registry.list('Active').length).toBe(before);
  });

  it('a remote host: reached when it is a loopback name, refused with the reason otherwise', async () => {
    const port = await httpServer();
    const ok = await forward({ remotePort: port, host: 'localhost' });
    expect(await get(ok.localPort, '/remote')).toBe('hello /remote');
    const far = await forward({ remotePort: port, host: 'db.internal.example' });
    const events: string[] = [];
    far.onConnection((e) => e.kind === 'failed' && events.push(e.reason));
    const r = await roundTrip(far.localPort, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    expect(r.error?.code).toBe('ECONNRESET');
    expect(events[0]).toMatch(/could not connect to db\.internal\.example:\d+ \(through i-[0-9a-f]+\)/);
  }, 60_000);
});

describe('openPortStream (ssh-proxy)', () => {
  it('carries one stream on the given streams and ends the session when input ends', async () => {
    const port = await echoServer('SSH-2.0-Sandbox\r\n');
    const input = new PassThrough();
    const output = new PassThrough();
    const got: Buffer[] = [];
    output.on('data', (d: Buffer) => got.push(d));
    const stream = await openPortStream({ controlPlane: fx.cp, target: fx.instanceId, port, input, output });
    input.write('ping\n');
    const deadline = Date.now() + 10_000;
    while (!Buffer.concat(got).toString().includes('ping') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(Buffer.concat(got).toString()).toBe('SSH-2.0-Sandbox\r\nping\n');
    input.end();
    expect((await stream.done).how).not.toBe('failed');
  }, 60_000);
});

describe('lifecycle', () => {
  it('20 forwards opened, used and closed leave no sockets, listeners or sessions behind', async () => {
    const port = await echoServer();
    const handles = (): number =>
      (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    // One forward first, so lazily created pools and timers exist in the baseline.
    const warm = await forward({ remotePort: port });
    await roundTrip(warm.localPort, Buffer.from('warm'));
    await warm.close();
    await new Promise((r) => setTimeout(r, 200));
    const baseline = handles();
    for (let i = 0; i < 20; i++) {
      const f = await PortForward.open({ controlPlane: fx.cp, target: fx.instanceId, remotePort: port });
      await Promise.all([0, 1, 2].map(() => roundTrip(f.localPort, Buffer.from('abc'))));
      await f.close();
      f.dispose();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(handles()).toBeLessThanOrEqual(baseline + 2);
    expect(fx.sandbox.registry.list('Active').filter((s) => s.status === 'Connected')).toHaveLength(0);
  }, 120_000);
});
