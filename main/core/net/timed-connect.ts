/**
 * One connection opened the way EC2 Connect opens its own, timed stage by stage, for the
 * diagnostics and the endpoint probes: directly, or through a CONNECT tunnel when the Network
 * routes the host through a proxy (tunnel.ts, so failures read as they do for real
 * connections); then, for https/wss, the TLS handshake with the Network's trusted CAs.
 *
 * Bounded by a timeout and cancellable with an AbortSignal (it then rejects with the signal's
 * reason); it never rejects otherwise: a failure is a result that says at which stage, with the
 * error code and the error in words. Nothing is left open on failure; on success the socket is
 * the caller's to use and destroy.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describeNetError, errorCode } from '../diagnostics/net-errors.js';
import { hostPort, type ParsedEndpoint } from './endpoint.js';
import { abortReason, ProxyError } from './errors.js';
import type { Network } from './network.js';
import type { ProxyServer } from './proxy-server.js';
import { openTunnel } from './tunnel.js';

export interface TimedConnectOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** The route and trusted CAs (default: a direct connection and Node's CAs). */
  network?: Network;
  /** Tunnel through this proxy whatever the network's route (null: directly). */
  proxy?: ProxyServer | null;
}

interface RouteInfo {
  /** host:port of the endpoint. */
  endpoint: string;
  /** The proxy tunnelled through (password as ***), or null for a direct connection. */
  proxy: string | null;
  /** Its setting (connection.proxy, HTTPS_PROXY, ...), or null. */
  proxySource: string | null;
}

export interface Connected extends RouteInfo {
  ok: true;
  /** Connected (and secured for TLS); the caller's. It keeps a no-op error listener. */
  socket: net.Socket;
  /** TCP connect to the endpoint, ms (null through a proxy). */
  tcpMs: number | null;
  /** Reaching the proxy and getting its tunnel, ms (null directly). */
  tunnelMs: number | null;
  /** TLS handshake with the endpoint, ms (null without TLS). */
  tlsMs: number | null;
  totalMs: number;
}

/** Where a connection failed: at the proxy (reaching it, or its answer to CONNECT), connecting directly, or in the TLS handshake. */
export type ConnectStage = 'proxy' | 'connect' | 'tls';

export interface ConnectFailed extends RouteInfo {
  ok: false;
  failedAt: ConnectStage;
  /** ECONNREFUSED, ENOTFOUND, TIMEOUT, a TLS certificate code, EPROXY (the proxy refused), ... */
  code: string;
  /** In words (a ProxyError's message at the proxy stage). */
  error: string;
  /** Node's own message ('' for a timeout). */
  message: string;
  /** The proxy's answer to CONNECT when it refused (407, 403, 502, ...), else null. */
  proxyStatus: number | null;
  proxyStatusText: string | null;
  /** From the start to the failure, ms. */
  elapsedMs: number;
}

export type TimedConnection = Connected | ConnectFailed;

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Destroys a socket for good (later errors ignored). */
export function discard(socket: net.Socket): void {
  socket.removeAllListeners();
  socket.on('error', () => {});
  socket.destroy();
}

type Outcome = { ok: true } | { ok: false; code: string; message: string };

/** Waits for `event` on `socket`, at most `waitMs`; rejects only when the signal aborts. */
function settle(
  socket: net.Socket,
  event: 'connect' | 'secureConnect',
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off(event, onReady);
      socket.off('error', onError);
    };
    const onReady = (): void => {
      cleanup();
      resolve({ ok: true });
    };
    const onError = (err: Error): void => {
      cleanup();
      resolve({ ok: false, code: errorCode(err) ?? 'ECONNRESET', message: err.message });
    };
    const onAbort = (): void => {
      cleanup();
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve({ ok: false, code: 'TIMEOUT', message: '' });
    }, waitMs);
    socket.once(event, onReady);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The proxy `network` routes `target` through, or null. */
function proxyServerFor(network: Network | undefined, target: ParsedEndpoint): ProxyServer | null {
  if (!network) return null;
  return network.proxyServerFor(`${target.tls ? 'https' : 'http'}://${hostPort(target.host, target.port)}`);
}

export async function timedConnect(
  target: ParsedEndpoint,
  options: TimedConnectOptions,
): Promise<TimedConnection> {
  const { timeoutMs, signal, network } = options;
  if (signal?.aborted) throw abortReason(signal);
  const endpoint = hostPort(target.host, target.port);
  const proxy = options.proxy !== undefined ? options.proxy : proxyServerFor(network, target);
  const route: RouteInfo = { endpoint, proxy: proxy?.display ?? null, proxySource: proxy?.source ?? null };
  const t0 = performance.now();
  const elapsed = (): number => round(performance.now() - t0);
  const failed = (
    failedAt: ConnectStage,
    code: string,
    message: string,
    error = describeNetError(code, message, endpoint, timeoutMs),
    status: { code: number | null; text: string | null } = { code: null, text: null },
  ): ConnectFailed => ({
    ok: false,
    ...route,
    failedAt,
    code,
    error,
    message,
    proxyStatus: status.code,
    proxyStatusText: status.text,
    elapsedMs: elapsed(),
  });

  // 1. A byte stream to the endpoint: a tunnel through the proxy, or a TCP connection.
  let socket: net.Socket;
  let tcpMs: number | null = null;
  let tunnelMs: number | null = null;
  const ca = network?.trustedCertificates;
  if (proxy) {
    try {
      socket = await openTunnel(proxy, target.host, target.port, {
        timeoutMs,
        ...(ca ? { ca } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (!(err instanceof ProxyError)) throw err;
      return failed('proxy', err.code, err.message, err.message, { code: err.status, text: err.statusText });
    }
    socket.on('error', () => {});
    tunnelMs = elapsed();
  } else {
    socket = net.connect({ host: target.host, port: target.port });
    const r = await settle(socket, 'connect', timeoutMs, signal).catch((err: unknown) => {
      discard(socket);
      throw err;
    });
    if (!r.ok) {
      discard(socket);
      return failed('connect', r.code, r.message);
    }
    socket.on('error', () => {});
    tcpMs = elapsed();
  }
  if (!target.tls) return { ok: true, ...route, socket, tcpMs, tunnelMs, tlsMs: null, totalMs: elapsed() };

  // 2. TLS with the endpoint, over that stream, trusting what real connections trust.
  const before = performance.now();
  const secured = tls.connect({
    socket,
    host: target.host,
    ...(net.isIP(target.host) ? {} : { servername: target.host }),
    ALPNProtocols: ['http/1.1'],
    ...(ca ? { ca: [...ca] } : {}),
  });
  const r = await settle(secured, 'secureConnect', Math.max(1, timeoutMs - elapsed()), signal).catch(
    (err: unknown) => {
      discard(secured);
      discard(socket);
      throw err;
    },
  );
  if (!r.ok) {
    discard(secured);
    discard(socket);
    return failed('tls', r.code, r.message);
  }
  secured.on('error', () => {});
  const tlsMs = round(performance.now() - before);
  return { ok: true, ...route, socket: secured, tcpMs, tunnelMs, tlsMs, totalMs: elapsed() };
}
