/**
 * Network measurements for diagnostics, each on its own fresh connection, each cancellable with
 * an AbortSignal and bounded by a timeout, each releasing its socket and timer however it ends,
 * and each taking the route EC2 Connect's own connections take when given the Network (through
 * the proxy that applies to the host, trusting the CA bundle):
 *
 * - `measureConnect`: connect (+ TLS handshake for https/wss) time to an endpoint;
 * - `pingAws` (aws-ping.ts): an unsigned AWS JSON request, for the round trip, the service's
 *   request id and its clock;
 * - `proxyConnect`: whether an HTTP proxy opens a CONNECT tunnel to a host.
 *
 * All three open their connection with net/timed-connect.ts.
 */
import { parseEndpoint } from '../net/endpoint.js';
import { NetworkConfigError } from '../net/errors.js';
import type { Network } from '../net/network.js';
import { ProxyServer } from '../net/proxy-server.js';
import { discard, timedConnect, type ConnectStage } from '../net/timed-connect.js';
import type { ProxyVariable } from './proxy.js';

export { describeNetError, isCertificateError } from './net-errors.js';
export { pingAws, type AwsPing, type PingOptions } from './aws-ping.js';

export interface NetOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Route (proxy per host) and trusted CAs of EC2 Connect's connections (default: direct, Node's CAs). */
  network?: Network;
}

export interface ConnectTiming {
  ok: boolean;
  /** host:port */
  endpoint: string;
  tls: boolean;
  /** The proxy tunnelled through (password as ***), or null for a direct connection. */
  proxy: string | null;
  /** The proxy's setting (connection.proxy, HTTPS_PROXY, ...), or null. */
  proxySource: string | null;
  /** TCP connect time, ms (null through a proxy). */
  tcpMs: number | null;
  /** Through a proxy: reaching it and getting the tunnel, ms (null directly). */
  tunnelMs: number | null;
  /** TLS handshake with the endpoint after that, ms (null without TLS). */
  tlsMs: number | null;
  /** All of it, ms. */
  totalMs: number | null;
  /** In words, when it failed. */
  error: string | null;
  /** The error code (ECONNREFUSED, ENOTFOUND, TIMEOUT, a TLS certificate code, EPROXY, ...). */
  code: string | null;
  /** Where it failed, or null. */
  failedAt: ConnectStage | null;
  /** The proxy's answer when it refused the tunnel (407, 403, ...), else null. */
  proxyStatus: number | null;
}

/** Connect (+TLS) time; never rejects except when aborted (then with the signal's reason). */
export async function measureConnect(url: string, options: NetOptions = {}): Promise<ConnectTiming> {
  const parsed = parseEndpoint(url);
  const none = { proxy: null, proxySource: null, tcpMs: null, tunnelMs: null, tlsMs: null, totalMs: null };
  if (!parsed) {
    return {
      ok: false,
      endpoint: url,
      tls: false,
      ...none,
      error: `not an endpoint URL: ${url}`,
      code: 'EINVAL',
      failedAt: 'connect',
      proxyStatus: null,
    };
  }
  const c = await timedConnect(parsed, {
    timeoutMs: options.timeoutMs ?? 5000,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.network ? { network: options.network } : {}),
  });
  const route = { endpoint: c.endpoint, tls: parsed.tls, proxy: c.proxy, proxySource: c.proxySource };
  if (!c.ok) {
    return {
      ok: false,
      ...none,
      ...route,
      error: c.error,
      code: c.code,
      failedAt: c.failedAt,
      proxyStatus: c.proxyStatus,
    };
  }
  discard(c.socket);
  return {
    ok: true,
    ...route,
    tcpMs: c.tcpMs,
    tunnelMs: c.tunnelMs,
    tlsMs: c.tlsMs,
    totalMs: c.totalMs,
    error: null,
    code: null,
    failedAt: null,
    proxyStatus: null,
  };
}

export interface ProxyConnectResult {
  ok: boolean;
  /** The proxy's answer to CONNECT, e.g. 403, 407 (200 for any 2xx); null when it did not answer. */
  status: number | null;
  statusText: string | null;
  /** Until the proxy answered, ms (null when it did not). */
  ms: number | null;
  error: string | null;
  code: string | null;
}

/**
 * Ask an http:// (or https://) proxy for a CONNECT tunnel to host:port, with the proxy's own
 * setting (for messages) when known; never rejects except when aborted.
 */
export async function proxyConnect(
  proxy: string | ProxyVariable,
  host: string,
  port: number,
  options: NetOptions = {},
): Promise<ProxyConnectResult> {
  const variable = typeof proxy === 'string' ? { value: proxy, source: 'proxy URL' } : proxy;
  let server: ProxyServer;
  try {
    server = ProxyServer.parse(variable);
  } catch (err) {
    if (!(err instanceof NetworkConfigError)) throw err;
    const unsupported = /does not support/.test(err.message);
    return {
      ok: false,
      status: null,
      statusText: null,
      ms: null,
      error: err.message,
      code: unsupported ? 'EPROTONOSUPPORT' : 'EINVAL',
    };
  }
  const c = await timedConnect(
    { host, port, tls: false },
    {
      proxy: server,
      timeoutMs: options.timeoutMs ?? 5000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.network ? { network: options.network } : {}),
    },
  );
  if (c.ok) {
    discard(c.socket);
    return { ok: true, status: 200, statusText: null, ms: c.tunnelMs, error: null, code: null };
  }
  return {
    ok: false,
    status: c.proxyStatus,
    statusText: c.proxyStatusText,
    ms: c.proxyStatus !== null ? c.elapsedMs : null,
    error: c.error,
    code: c.code,
  };
}
