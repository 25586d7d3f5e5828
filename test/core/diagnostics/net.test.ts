import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rankRegions } from '../../../main/core/diagnostics/index.js';
import { measureConnect, pingAws, proxyConnect } from '../../../main/core/diagnostics/net.js';
import { blackHole, closedPort, fakeProxy, until } from './fixtures.js';

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
