/**
 * Test helpers for the network tests: a tiny HTTP CONNECT proxy that maps made-up host names
 * (`*.sandbox.test`) to this machine, records every tunnel (target, credentials, what the
 * client sent first) and can require Proxy-Authorization; plus a shell check over a session.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import type { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { SsmSession } from '../../../main/core/ssm/session.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import type { SandboxHandle } from '../../../main/sandbox/server.js';
import { OutputCollector } from '../../helpers/sandbox.js';

export interface Tunnel {
  /** host:port asked for in CONNECT. */
  target: string;
  /** The first bytes the client sent through the tunnel (latin1), up to 4 KiB. */
  firstBytes: string;
  /** Everything the client sent (latin1), up to 256 KiB: several requests on a kept-alive tunnel. */
  sent: string;
}

export interface ConnectProxy {
  /** http://127.0.0.1:PORT (no credentials). */
  url: string;
  port: number;
  tunnels: Tunnel[];
  /** CONNECT requests answered with an error status. */
  refused: Array<{ target: string; status: number }>;
  /** Requests that were not CONNECT (absolute-form forwarding): nothing should send any. */
  plainRequests: string[];
  /** The proxy URL with these credentials in it (percent-encoded). */
  urlWith(user: string, password: string): string;
  close(): Promise<void>;
}

/** Maps `*.sandbox.test` and loopback names to 127.0.0.1; anything else is unknown (502). */
function defaultResolve(host: string): string | null {
  if (host === 'sandbox.test' || host.endsWith('.sandbox.test')) return '127.0.0.1';
  if (host === '127.0.0.1' || host === 'localhost') return '127.0.0.1';
  return null;
}

export async function startConnectProxy(
  options: { auth?: { user: string; password: string }; resolve?: (host: string) => string | null } = {},
): Promise<ConnectProxy> {
  const resolve = options.resolve ?? defaultResolve;
  const expected = options.auth
    ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`
    : undefined;
  const tunnels: Tunnel[] = [];
  const refused: ConnectProxy['refused'] = [];
  const plainRequests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    plainRequests.push(`${req.method} ${req.url}`);
    res.writeHead(405, { connection: 'close' }).end('this test proxy only tunnels (CONNECT)');
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    const refuse = (status: number, text: string, extra = ''): void => {
      refused.push({ target, status });
      client.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (expected && req.headers['proxy-authorization'] !== expected) {
      refuse(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="test"\r\n');
      return;
    }
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    const address = m ? resolve(m[1]!.toLowerCase()) : null;
    if (!m || !address) {
      refuse(502, 'Bad Gateway');
      return;
    }
    const upstream = net.connect(Number(m[2]), address);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.once('connect', () => {
      const tunnel: Tunnel = { target, firstBytes: '', sent: '' };
      tunnels.push(tunnel);
      const record = (chunk: Buffer): void => {
        if (!tunnel.firstBytes) tunnel.firstBytes = chunk.subarray(0, 4096).toString('latin1');
        if (tunnel.sent.length < 256 * 1024) tunnel.sent += chunk.toString('latin1');
      };
      if (head.length) record(head);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      client.on('data', record);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    refused,
    plainRequests,
    urlWith: (user, password) =>
      `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function linuxInstance(sandbox: SandboxHandle): string {
  const i = sandbox.fleet.list().find((x) => canStartSession(x) && x.platformType === 'Linux');
  if (!i) throw new Error('no running, online Linux instance in the sandbox fleet');
  return i.instanceId;
}

/** Opens a session, runs a command in its shell, checks the answer; returns the session (caller closes). */
export async function shellWorks(controlPlane: ControlPlane, target: string): Promise<SsmSession> {
  const session = await SsmSession.open({ controlPlane, target, cols: 100, rows: 30 });
  const out = new OutputCollector(session);
  session.write('echo net-ok-$((6*7))\n');
  await out.waitFor('net-ok-42', 15_000);
  return session;
}

/** Every text an error shows anywhere: message, stack, causes, own fields, inspect and JSON. */
export function everyText(err: unknown): string {
  const parts: string[] = [inspect(err, { depth: 8 })];
  let e: unknown = err;
  for (let i = 0; e && i < 8; i++) {
    const x = e as { message?: unknown; stack?: unknown; cause?: unknown };
    parts.push(String(x.message), String(x.stack));
    try {
      parts.push(JSON.stringify(e));
    } catch {
      // circular: inspect above covers it
    }
    e = x.cause;
  }
  return parts.join('\n');
}

export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  }
  throw new Error('expected a rejection');
}
