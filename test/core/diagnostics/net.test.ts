import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { rankRegions } from '../../../main/core/diagnostics/index.js';
import { measureConnect, pingAws, proxyConnect } from '../../../main/core/diagnostics/net.js';
import { Network } from '../../../main/core/net/network.js';
import { startConnectProxy } from '../net/connect-proxy.js';
import { blackHole, closedPort, fakeProxy, until } from './fixtures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/tls');
const CA = path.join(FIXTURES, 'ca.pem');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function server(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}

describe('measureConnect', () => {
  it('times a TCP connect, and names a refused one', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const ok = await measureConnect(hole.url);
    expect(ok).toMatchObject({ ok: true, tls: false, tlsMs: null, error: null });
    expect(ok.totalMs).toBeGreaterThan(0);
    const port = await closedPort();
    const refused = await measureConnect(`ws://127.0.0.1:${port}`);
    expect(refused).toMatchObject({ ok: false, code: 'ECONNREFUSED', endpoint: `127.0.0.1:${port}` });
    expect(refused.error).toMatch(/connection refused by 127\.0\.0\.1:\d+/);
  });
  it('rejects with the abort reason when aborted, and closes its socket', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const ac = new AbortController();
    ac.abort(new Error('deadline'));
    await expect(measureConnect(hole.url, { signal: ac.signal })).rejects.toThrow('deadline');
  });
});

describe('pingAws', () => {
  it('reads the status, the AWS error name, the request id and the Date header', async () => {
    const url = await server((req, res) => {
      expect(req.headers['x-amz-target']).toBe('AmazonSSM.DescribeInstanceInformation');
      res.writeHead(400, {
        'x-amzn-RequestId': 'req-1',
        'x-amzn-ErrorType': 'MissingAuthenticationTokenException:http://internal.amazon.com/',
        date: 'Tue, 01 Jan 2030 00:00:00 GMT',
      });
      res.end('{"__type":"MissingAuthenticationTokenException","message":"Missing Authentication Token"}');
    });
    const p = await pingAws(url, { now: () => Date.parse('2030-01-01T00:00:03Z') });
    expect(p).toMatchObject({
      ok: true,
      status: 400,
      requestId: 'req-1',
      errorType: 'MissingAuthenticationTokenException',
      serverDateMs: Date.parse('2030-01-01T00:00:00Z'),
    });
    expect(p.localDateMs).toBeLessThanOrEqual(Date.parse('2030-01-01T00:00:03Z'));
    expect(p.roundTripMs).toBeGreaterThanOrEqual(0);
  });
  it('times out on a server that never answers, and aborts cleanly: the server sees the connection close', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const slow = await pingAws(hole.url, { timeoutMs: 150 });
    expect(slow).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(slow.error).toMatch(/no answer from 127\.0\.0\.1:\d+ within 150 ms/);
    const ac = new AbortController();
    const pending = pingAws(hole.url, { signal: ac.signal, timeoutMs: 60_000 });
    await until(() => hole.open() === 1);
    ac.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await until(() => hole.open() === 0);
  });
});

describe('proxyConnect', () => {
  it('reports whether the proxy opens a tunnel', async () => {
    const refusing = await fakeProxy(403, 'Forbidden');
    const open = await fakeProxy(200, 'Connection established');
    cleanups.push(
      () => refusing.close(),
      () => open.close(),
    );
    const no = await proxyConnect(refusing.url, 'ssmmessages.us-east-1.amazonaws.com', 443);
    expect(no).toMatchObject({ ok: false, status: 403, statusText: 'Forbidden' });
    expect(refusing.requests).toEqual(['ssmmessages.us-east-1.amazonaws.com:443']);
    const yes = await proxyConnect(open.url, 'ssm.us-east-1.amazonaws.com', 443);
    expect(yes).toMatchObject({ ok: true, status: 200 });
    const port = await closedPort();
    const dead = await proxyConnect(`http://127.0.0.1:${port}`, 'x', 443);
    expect(dead).toMatchObject({ ok: false, status: null, code: 'ECONNREFUSED' });
  });
});

describe('rankRegions', () => {
  it('ranks reachable endpoints fastest first and unreachable ones last, with their errors', async () => {
    const a = await blackHole();
    const b = await blackHole();
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const port = await closedPort();
    const endpoints: Record<string, string> = {
      'eu-west-1': `http://127.0.0.1:${port}`,
      'us-east-1': a.url,
      'ap-south-1': b.url,
    };
    const ranked = await rankRegions(Object.keys(endpoints), (r) => endpoints[r]!);
    expect(ranked.map((r) => r.ok)).toEqual([true, true, false]);
    expect(ranked[2]).toMatchObject({ region: 'eu-west-1', latencyMs: null, endpoint: `127.0.0.1:${port}` });
    expect(ranked[2]!.error).toMatch(/connection refused/);
    expect(ranked[0]!.latencyMs!).toBeLessThanOrEqual(ranked[1]!.latencyMs!);
  });
});

/** A Network through a fresh test CONNECT proxy (it maps *.sandbox.test to 127.0.0.1). */
async function viaProxy(options: { caBundle?: string } = {}) {
  const proxy = await startConnectProxy();
  const network = new Network({ proxy: proxy.url, ...options });
  cleanups.push(async () => {
    network.dispose();
    await proxy.close();
  });
  return { proxy, network };
}

/** A TLS server with the test certificate (test/fixtures/tls), closing each connection at once. */
async function tlsServer(): Promise<number> {
  const s = tls.createServer(
    {
      key: readFileSync(path.join(FIXTURES, 'server.key')),
      cert: readFileSync(path.join(FIXTURES, 'server.pem')),
    },
    (socket) => socket.end(),
  );
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return (s.address() as net.AddressInfo).port;
}

describe('through the proxy the Network routes a host to', () => {
  it('measureConnect times the tunnel; loopback stays direct', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const { proxy, network } = await viaProxy();
    const port = new URL(hole.url).port;
    const r = await measureConnect(`ws://dc.sandbox.test:${port}`, { network });
    expect(r).toMatchObject({
      ok: true,
      endpoint: `dc.sandbox.test:${port}`,
      proxy: proxy.url,
      proxySource: 'connection.proxy',
      tcpMs: null,
      tlsMs: null,
      failedAt: null,
    });
    expect(r.tunnelMs).toBeGreaterThan(0);
    expect(r.totalMs).toBeGreaterThanOrEqual(r.tunnelMs!);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`dc.sandbox.test:${port}`]);
    const direct = await measureConnect(hole.url, { network });
    expect(direct).toMatchObject({ ok: true, proxy: null, tunnelMs: null });
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('TLS runs inside the tunnel and trusts the CA bundle, as real connections do', async () => {
    const port = await tlsServer();
    const url = `https://tls.sandbox.test:${port}`;
    const bare = await measureConnect(url, { network: (await viaProxy()).network });
    expect(bare).toMatchObject({ ok: false, failedAt: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(bare.error).toMatch(/the TLS certificate of tls\.sandbox\.test:\d+ is not trusted/);
    const trusted = await measureConnect(url, { network: (await viaProxy({ caBundle: CA })).network });
    expect(trusted).toMatchObject({ ok: true, tls: true, failedAt: null });
    expect(trusted.tlsMs).toBeGreaterThan(0);
    // Each figure is rounded to 0.01 ms on its own, so their sum may pass the total by that much.
    expect(trusted.totalMs! + 0.011).toBeGreaterThanOrEqual(trusted.tunnelMs! + trusted.tlsMs!);
  });

  it('a proxy that is down, or never answers CONNECT: failures name the proxy; abort closes the connection', async () => {
    const port = await closedPort();
    const network = new Network({ proxy: `http://carol:pw@127.0.0.1:${port}` });
    cleanups.push(async () => network.dispose());
    const down = await measureConnect('https://ssm.sandbox.test', { network });
    expect(down).toMatchObject({ ok: false, failedAt: 'proxy', code: 'ECONNREFUSED', proxyStatus: null });
    expect(down.error).toMatch(
      /^cannot connect to the proxy http:\/\/carol:\*\*\*@127\.0\.0\.1:\d+ \(connection\.proxy\) to reach ssm\.sandbox\.test:443: connection refused/,
    );
    expect(JSON.stringify(down)).not.toContain(':pw@');

    // A proxy that accepts and stays silent.
    const held = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      held.add(s);
      s.on('close', () => held.delete(s));
      s.resume(); // read, so that the client closing is seen
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of held) s.destroy();
          silent.close(() => r());
        }),
    );
    const mute = new Network({ proxy: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` });
    cleanups.push(async () => mute.dispose());
    const late = await pingAws('https://ssm.sandbox.test', { network: mute, timeoutMs: 150 });
    expect(late).toMatchObject({ ok: false, failedAt: 'proxy', code: 'ETIMEDOUT' });
    expect(late.error).toMatch(/did not open a tunnel to ssm\.sandbox\.test:443 within 150 ms/);
    await until(() => held.size === 0);
    const ac = new AbortController();
    const pending = measureConnect('https://ssm.sandbox.test', { network: mute, signal: ac.signal });
    await until(() => held.size === 1);
    ac.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await until(() => held.size === 0);
  });

  it('pingAws sends its request through the tunnel, with the endpoint in the Host header', async () => {
    const url = await server((_req, res) => {
      res.writeHead(400, {
        'x-amzn-RequestId': 'req-2',
        'x-amzn-ErrorType': 'MissingAuthenticationTokenException',
      });
      res.end('{}');
    });
    const port = new URL(url).port;
    const { proxy, network } = await viaProxy();
    const p = await pingAws(`http://api.sandbox.test:${port}`, { network });
    expect(p).toMatchObject({ ok: true, status: 400, requestId: 'req-2', proxy: proxy.url, tlsMs: null });
    expect(p.tunnelMs).toBeGreaterThan(0);
    expect(p.connectMs).toBeGreaterThanOrEqual(p.tunnelMs!);
    expect(proxy.tunnels).toHaveLength(1);
    expect(proxy.tunnels[0]!.firstBytes).toMatch(/^POST \/ HTTP\/1\.1\r\n/);
    expect(proxy.tunnels[0]!.firstBytes).toMatch(
      new RegExp(`\\r\\nHost: api\\.sandbox\\.test:${port}\\r\\n`, 'i'),
    );
  });

  it('proxyConnect names the setting the proxy comes from, and keeps the reason phrase', async () => {
    const refusing = await fakeProxy(403, 'Forbidden');
    cleanups.push(() => refusing.close());
    const no = await proxyConnect({ value: refusing.url, source: 'HTTPS_PROXY' }, 'ssm.example.com', 443);
    expect(no).toMatchObject({ ok: false, status: 403, statusText: 'Forbidden', code: 'EPROXY' });
    expect(no.error).toMatch(/^the proxy http:\/\/127\.0\.0\.1:\d+ \(HTTPS_PROXY\) refused the tunnel/);
    expect(no.ms).toBeGreaterThan(0);
    const socks = await proxyConnect('socks5://127.0.0.1:1080', 'x', 443);
    expect(socks).toMatchObject({ ok: false, code: 'EPROTONOSUPPORT' });
  });
});
