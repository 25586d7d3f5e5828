import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { EndpointProbeSchema } from '../../../preload/api.js';
import { parseEndpoint, probeAll, probeEndpoint } from '../../../main/core/monitor/endpoint-probe.js';
import { Network } from '../../../main/core/net/network.js';
import { closedPort, startConnectProxy } from '../net/connect-proxy.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/tls');

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('parseEndpoint', () => {
  it('reads URLs and host:port, with TLS for https, wss and port 443', () => {
    expect(parseEndpoint('https://ssm.eu-west-1.amazonaws.com')).toEqual({
      host: 'ssm.eu-west-1.amazonaws.com',
      port: 443,
      tls: true,
    });
    expect(parseEndpoint('http://127.0.0.1:8080/x')).toEqual({ host: '127.0.0.1', port: 8080, tls: false });
    expect(
      parseEndpoint('wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s?role=publish_subscribe'),
    ).toMatchObject({ port: 443, tls: true });
    expect(parseEndpoint('ws://127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000, tls: false });
    expect(parseEndpoint('ssmmessages.us-east-1.amazonaws.com:443')).toMatchObject({ tls: true });
    expect(parseEndpoint('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000, tls: false });
    expect(parseEndpoint('[::1]:5000')).toEqual({ host: '::1', port: 5000, tls: false });
    expect(parseEndpoint('not a url')).toBeUndefined();
    expect(parseEndpoint('hostonly')).toBeUndefined();
  });
});

describe('probeEndpoint', () => {
  it('measures a TCP connect and never throws on failures', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const ok = await probeEndpoint({
      service: 'ssm',
      profile: 'p',
      region: 'r',
      url: `http://127.0.0.1:${port}`,
    });
    expect(EndpointProbeSchema.parse(ok)).toEqual(ok);
    expect(ok.ok).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    const refused = await probeEndpoint({
      service: 'ssm',
      profile: 'p',
      region: 'r',
      url: `http://127.0.0.1:${port}`,
    });
    expect(refused).toMatchObject({ ok: false, latencyMs: null });
    expect(refused.error).toMatch(/ECONNREFUSED/);
    const bad = await probeEndpoint({ service: 'sts', profile: 'p', region: 'r', url: '::::' });
    expect(bad.error).toMatch(/not an endpoint URL/);
  });

  it('times out on an endpoint that never answers the TLS handshake', async () => {
    // A TCP server that accepts and stays silent: a TLS probe waits for the handshake in vain.
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const r = await probeEndpoint(
      { service: 'ssm', profile: 'p', region: 'r', url: `https://127.0.0.1:${port}` },
      200,
    );
    expect(r).toMatchObject({ ok: false, error: 'no answer within 200 ms' });
    for (const s of sockets) s.destroy();
    await new Promise<void>((res) => server.close(() => res()));
  });

  it.runIf(hasOpenssl())('includes the TLS handshake for https endpoints', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'probe-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-days',
          '1',
          '-keyout',
          path.join(dir, 'k.pem'),
          '-out',
          path.join(dir, 'c.pem'),
        ],
        { stdio: 'ignore' },
      );
      let handshakes = 0;
      const server = tls.createServer(
        { key: readFileSync(path.join(dir, 'k.pem')), cert: readFileSync(path.join(dir, 'c.pem')) },
        (s) => {
          handshakes++;
          s.end();
        },
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      // A self-signed certificate fails verification: the probe reports the handshake's error.
      const r = await probeEndpoint({
        service: 'ssm',
        profile: 'p',
        region: 'r',
        url: `https://127.0.0.1:${port}`,
      });
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/SELF_SIGNED|self-signed|certificate/i);
      await new Promise<void>((res) => server.close(() => res()));
      expect(handshakes).toBeLessThanOrEqual(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('probes each target once', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const t = { service: 'ssm' as const, profile: 'p', region: 'r', url: `http://127.0.0.1:${port}` };
    expect(await probeAll([t, t, { ...t, service: 'ssmmessages' }])).toHaveLength(2);
    await new Promise<void>((r) => server.close(() => r()));
  });
});

describe("probeEndpoint along the profile's route", () => {
  it('goes through the proxy its Network routes the host to, and trusts the CA bundle', async () => {
    // A TLS endpoint with the test certificate (test/fixtures/tls), reached as tls.sandbox.test,
    // a name only the test proxy resolves.
    const server = tls.createServer(
      {
        key: readFileSync(path.join(FIXTURES, 'server.key')),
        cert: readFileSync(path.join(FIXTURES, 'server.pem')),
      },
      (s) => s.end(),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const proxy = await startConnectProxy({ auth: { user: 'u', password: 'secret' } });
    const url = `wss://tls.sandbox.test:${port}/v1/data-channel/s`;
    const target = { service: 'ssmmessages' as const, profile: 'p', region: 'r', url };
    const bare = new Network({ proxy: proxy.urlWith('u', 'secret') });
    const trusting = new Network({
      proxy: proxy.urlWith('u', 'secret'),
      caBundle: path.join(FIXTURES, 'ca.pem'),
    });
    try {
      const refused = await probeEndpoint({ ...target, network: bare });
      expect(refused).toMatchObject({
        ok: false,
        latencyMs: null,
        proxy: `http://u:***@127.0.0.1:${proxy.port}`,
      });
      expect(refused.error).toMatch(
        /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: .* \(through the proxy http:\/\/u:\*\*\*@127\.0\.0\.1:\d+\)$/,
      );
      const ok = await probeEndpoint({ ...target, network: trusting });
      expect(EndpointProbeSchema.parse(ok)).toEqual(ok);
      expect(ok).toMatchObject({ ok: true, error: null, endpoint: `tls.sandbox.test:${port}` });
      expect(ok.proxy).toBe(`http://u:***@127.0.0.1:${proxy.port}`);
      expect(ok.latencyMs).toBeGreaterThan(0);
      expect(proxy.tunnels.map((t) => t.target)).toEqual([
        `tls.sandbox.test:${port}`,
        `tls.sandbox.test:${port}`,
      ]);
      // Without the Network: direct, and the name does not resolve.
      const direct = await probeEndpoint(target, 2000);
      expect(direct).toMatchObject({ ok: false, proxy: null });
      expect(JSON.stringify([refused, ok])).not.toContain('secret');
    } finally {
      bare.dispose();
      trusting.dispose();
      await proxy.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('says which proxy could not be reached', async () => {
    const port = await closedPort();
    const network = new Network({ env: { HTTPS_PROXY: `127.0.0.1:${port}` } });
    const r = await probeEndpoint({
      service: 'ssm',
      profile: 'p',
      region: 'r',
      url: 'https://ssm.sandbox.test',
      network,
    });
    network.dispose();
    expect(r).toMatchObject({ ok: false, proxy: `http://127.0.0.1:${port}` });
    expect(r.error).toMatch(
      /^cannot connect to the proxy http:\/\/127\.0\.0\.1:\d+ \(HTTPS_PROXY\) to reach ssm\.sandbox\.test:443: connection refused/,
    );
  });
});
