/**
 * `pingAws`: one unsigned AWS JSON 1.1 request on a fresh connection (opened as EC2 Connect's
 * own are, through the proxy when the Network routes the host through one). Any AWS JSON
 * service answers it with MissingAuthenticationTokenException without needing credentials,
 * which gives the round trip, the service's request id and its clock (the Date header).
 */
import http from 'node:http';
import { parseEndpoint, type ParsedEndpoint } from '../net/endpoint.js';
import { abortReason } from '../net/errors.js';
import { discard, timedConnect, type Connected, type ConnectStage } from '../net/timed-connect.js';
import { describeNetError, errorCode } from './net-errors.js';
import type { NetOptions } from './net.js';

export interface AwsPing {
  ok: boolean;
  endpoint: string;
  /** The proxy tunnelled through (password as ***), or null for a direct connection. */
  proxy: string | null;
  /** The proxy's setting (connection.proxy, HTTPS_PROXY, ...), or null. */
  proxySource: string | null;
  /** HTTP status of the answer. */
  status: number | null;
  /** Connect (tunnel included) + TLS time on the fresh connection, ms. */
  connectMs: number | null;
  /** Through a proxy: reaching it and getting the tunnel, ms (part of connectMs). */
  tunnelMs: number | null;
  /** The TLS handshake with the endpoint, ms (part of connectMs; null without TLS). */
  tlsMs: number | null;
  /** From the request written to the answer's headers, ms: one round trip plus the service's time. */
  roundTripMs: number | null;
  /** The service's request id (x-amzn-RequestId / x-amz-request-id), when it is AWS (or an emulation) answering. */
  requestId: string | null;
  /** The error name the service gave (x-amzn-ErrorType or __type). */
  errorType: string | null;
  /** The Date header, ms since the epoch, and this computer's clock (the injected one) half a round trip before the answer. */
  serverDateMs: number | null;
  localDateMs: number | null;
  contentType: string | null;
  error: string | null;
  code: string | null;
  /** Where it failed (the connection's stage, or the request on it), or null. */
  failedAt: ConnectStage | 'request' | null;
  /** The proxy's answer when it refused the tunnel (407, 403, ...), else null. */
  proxyStatus: number | null;
}

export interface PingOptions extends NetOptions {
  /** This computer's clock (default Date.now). */
  now?: () => number;
  /** x-amz-target of the unsigned request (default AmazonSSM.DescribeInstanceInformation). */
  target?: string;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** One unsigned AWS JSON 1.1 request on a new connection; never rejects except when aborted. */
export async function pingAws(url: string, options: PingOptions = {}): Promise<AwsPing> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const parsed = parseEndpoint(url);
  const base: AwsPing = {
    ok: false,
    endpoint: url,
    proxy: null,
    proxySource: null,
    status: null,
    connectMs: null,
    tunnelMs: null,
    tlsMs: null,
    roundTripMs: null,
    requestId: null,
    errorType: null,
    serverDateMs: null,
    localDateMs: null,
    contentType: null,
    error: null,
    code: null,
    failedAt: null,
    proxyStatus: null,
  };
  if (!parsed) return { ...base, error: `not an endpoint URL: ${url}`, code: 'EINVAL', failedAt: 'connect' };
  const c = await timedConnect(parsed, {
    timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.network ? { network: options.network } : {}),
  });
  const route = { ...base, endpoint: c.endpoint, proxy: c.proxy, proxySource: c.proxySource };
  if (!c.ok) {
    return {
      ...route,
      error: c.error,
      code: c.code,
      failedAt: c.failedAt,
      proxyStatus: c.proxyStatus,
    };
  }
  return exchange(
    c,
    parsed,
    { ...route, connectMs: c.totalMs, tunnelMs: c.tunnelMs, tlsMs: c.tlsMs },
    timeoutMs,
    options,
  );
}

/** The request and its answer on the connection, within what is left of the timeout. */
function exchange(
  c: Connected,
  parsed: ParsedEndpoint,
  base: AwsPing,
  timeoutMs: number,
  options: PingOptions,
): Promise<AwsPing> {
  const { signal } = options;
  const now = options.now ?? Date.now;
  const endpoint = c.endpoint;
  return new Promise((resolve, reject) => {
    const connectedAt = performance.now();
    let sentAt: number | null = null;
    let settled = false;
    const body = '{}';
    const req = http.request({
      createConnection: () => c.socket,
      host: parsed.host,
      port: parsed.port,
      defaultPort: parsed.tls ? 443 : 80,
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': options.target ?? 'AmazonSSM.DescribeInstanceInformation',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'ec2-connect-diagnostics',
        connection: 'close',
      },
    });
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.removeAllListeners();
      req.on('error', () => {});
      req.destroy();
      discard(c.socket);
    };
    const finish = (result: Partial<AwsPing>): void => {
      if (settled) return;
      cleanup();
      resolve({ ...base, ...result });
    };
    const onAbort = (): void => {
      if (settled) return;
      cleanup();
      reject(abortReason(signal!));
    };
    const timer = setTimeout(
      () =>
        finish({
          error: describeNetError('TIMEOUT', '', endpoint, timeoutMs),
          code: 'TIMEOUT',
          failedAt: 'request',
        }),
      Math.max(1, timeoutMs - c.totalMs),
    );
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('finish', () => {
      sentAt = performance.now();
    });
    req.on('error', (err: Error) => {
      const code = errorCode(err);
      finish({ error: describeNetError(code, err.message, endpoint), code, failedAt: 'request' });
    });
    req.on('response', (res: http.IncomingMessage) => {
      const at = performance.now();
      const localAt = now();
      const rtt = at - (sentAt ?? connectedAt);
      const header = (name: string): string | null => {
        const v = res.headers[name];
        return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
      };
      const dateHeader = header('date');
      const parsedDate = dateHeader ? Date.parse(dateHeader) : NaN;
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (): void => {
        let errorType = header('x-amzn-errortype')?.split(':')[0] ?? null;
        if (!errorType) {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { __type?: unknown };
            if (typeof json.__type === 'string') errorType = json.__type.split('#').pop() ?? null;
          } catch {
            // not JSON
          }
        }
        finish({
          ok: true,
          status: res.statusCode ?? null,
          roundTripMs: round(rtt),
          requestId: header('x-amzn-requestid') ?? header('x-amz-request-id') ?? header('x-amz-id-2'),
          errorType,
          serverDateMs: Number.isFinite(parsedDate) ? parsedDate : null,
          localDateMs: Math.round(localAt - rtt / 2),
          contentType: header('content-type'),
        });
      };
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 16_384) chunks.push(c);
        else answer();
      });
      res.on('end', answer);
      res.on('error', answer);
    });
    req.end(body);
  });
}
