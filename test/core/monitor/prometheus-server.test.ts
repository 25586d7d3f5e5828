import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startPrometheusServer,
  type PrometheusServer,
} from '../../../main/core/monitor/prometheus-server.js';

const servers: PrometheusServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.dispose();
});

function request(port: number, path: string, init: { method?: string; host?: string } = {}) {
  return new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: init.method ?? 'GET',
        headers: init.host ? { host: init.host } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('startPrometheusServer', () => {
  it('serves the collected families at /metrics on loopback, and nothing else', async () => {
    let calls = 0;
    const s = await startPrometheusServer({
      port: 0,
      collect: () => {
        calls++;
        return [
          {
            name: 'ec2connect_sessions_open',
            help: 'Sessions open now.',
            type: 'gauge',
            points: [{ value: calls }],
          },
        ];
      },
    });
    servers.push(s);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/metrics`);
    const ok = await request(s.port, '/metrics');
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/text\/plain; version=0\.0\.4/);
    expect(ok.body).toBe(
      '# HELP ec2connect_sessions_open Sessions open now.\n# TYPE ec2connect_sessions_open gauge\nec2connect_sessions_open 1\n',
    );
    expect((await request(s.port, '/metrics?x=1')).body).toMatch(/ec2connect_sessions_open 2/);
    expect((await request(s.port, '/')).status).toBe(404);
    expect((await request(s.port, '/metrics', { method: 'POST' })).status).toBe(405);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) is refused.
    expect((await request(s.port, '/metrics', { host: 'evil.example:80' })).status).toBe(403);
    expect((await request(s.port, '/metrics', { host: `localhost:${s.port}` })).status).toBe(200);
  });

  it('answers 500 (and stays up) when rendering fails', async () => {
    const s = await startPrometheusServer({
      port: 0,
      collect: () => [{ name: 'bad name', type: 'gauge', points: [] }],
    });
    servers.push(s);
    const r = await request(s.port, '/metrics');
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/could not be rendered/);
  });

  it('says which setting to change when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startPrometheusServer({ port, collect: () => [] })).rejects.toThrow(
        new RegExp(`port ${port} is in use.*EC2_CONNECT_PROMETHEUS_PORT`),
      );
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('closes its port on dispose', async () => {
    const s = await startPrometheusServer({ port: 0, collect: () => [] });
    await s.dispose();
    await expect(request(s.port, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });
});
