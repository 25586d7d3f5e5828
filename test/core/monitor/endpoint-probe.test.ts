import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { EndpointProbeSchema } from '../../../preload/api.js';
import { parseEndpoint, probeAll, probeEndpoint } from '../../../main/core/monitor/endpoint-probe.js';

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
