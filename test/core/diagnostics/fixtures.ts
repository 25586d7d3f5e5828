/**
 * For diagnostics tests: small local servers (a fake HTTP proxy, a black hole, a closed port) and
 * the preventive run of web-1 on the sandbox with a lookup of one check.
 */
import http from 'node:http';
import net from 'node:net';
import { runDiagnostics, type DiagnosticsOptions } from '../../../main/core/diagnostics/index.js';
import type { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import type { DiagnosticCheck, DiagnosticReport } from '../../../preload/api.js';

export interface FakeProxy {
  url: string;
  /** The CONNECT targets asked for. */
  requests: string[];
  close(): Promise<void>;
}

/** An HTTP proxy that answers CONNECT with `status` (and nothing else). */
export async function fakeProxy(status: number, reason: string): Promise<FakeProxy> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const m = /^CONNECT (\S+) HTTP/.exec(buf);
      requests.push(m?.[1] ?? buf.split('\r\n')[0]!);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\n\r\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface BlackHole {
  url: string;
  /** Connections open now. */
  open(): number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** An HTTP server that accepts connections and requests and never answers. */
export async function blackHole(): Promise<BlackHole> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = http.createServer(() => {
    // never answer
  });
  server.on('connection', (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    open: () => sockets.size,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port on 127.0.0.1 that refuses connections (it was listened on, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The sandbox's web-1, the instance the diagnostics tests check. */
export const WEB1 = 'i-0b5bb7865829a72f8';

/** Preventive diagnostics of web-1 on the sandbox profile through `cp`, with `over` applied. */
export function runPreventive(
  cp: ControlPlane,
  over: Partial<DiagnosticsOptions> = {},
): Promise<DiagnosticReport> {
  return runDiagnostics({
    kind: 'preventive',
    controlPlane: cp,
    profile: 'sandbox',
    instanceId: WEB1,
    env: {},
    credentialSource: { kind: 'sandbox' },
    ...over,
  });
}

/** The check `id` of a report; throws naming the checks there are when it is missing. */
export function check(report: DiagnosticReport, id: string): DiagnosticCheck {
  const c = report.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
  return c;
}
