/**
 * Network measurements for diagnostics, each on its own fresh connection, each cancellable with
 * an AbortSignal and bounded by a timeout, each releasing its socket and timer however it ends:
 *
 * - `measureConnect`: TCP connect (+ TLS handshake for https/wss) time to an endpoint;
 * - `pingAws`: an unsigned AWS JSON request (answered by any AWS JSON service with
 *   MissingAuthenticationTokenException without needing credentials), for the round trip, the
 *   service's request id and its clock (the Date header);
 * - `proxyConnect`: whether an HTTP proxy opens a CONNECT tunnel to a host.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { parseEndpoint, type ParsedEndpoint } from '../monitor/endpoint-probe.js';
import { formatMs } from './format.js';

export interface ConnectTiming {
  ok: boolean;
  /** host:port */
  endpoint: string;
  tls: boolean;
  /** TCP connect time, ms. */
  tcpMs: number | null;
  /** TLS handshake after the TCP connect, ms (null without TLS). */
  tlsMs: number | null;
  /** Both, ms. */
  totalMs: number | null;
  /** In words, when it failed. */
  error: string | null;
  /** The error code (ECONNREFUSED, ENOTFOUND, TIMEOUT, a TLS certificate code, ...). */
  code: string | null;
}

export interface NetOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

const CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isCertificateError(code: string | null | undefined): boolean {
  return !!code && (CERT_CODES.has(code) || code.startsWith('CERT_'));
}

/** A network error code in words (what it usually means). */
export function describeNetError(
  code: string | null,
  message: string,
  endpoint: string,
  timeoutMs?: number,
): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${endpoint}: nothing listens there, or a firewall rejects the connection`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name ${endpoint.replace(/:\d+$/, '')} does not resolve (DNS ${code})`;
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return `no answer from ${endpoint}${timeoutMs ? ` within ${formatMs(timeoutMs)}` : ''}: a firewall or a missing route drops the packets`;
    case 'ECONNRESET':
      return `${endpoint} reset the connection (a firewall or proxy cut it)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${endpoint} (${code})`;
    case 'EPIPE':
      return `${endpoint} closed the connection`;
    default:
      if (isCertificateError(code))
        return `the TLS certificate of ${endpoint} is not trusted (${code}): something between here and AWS (a TLS-inspecting proxy or firewall) re-signs HTTPS traffic`;
      return `${endpoint}: ${code ? `${code}: ` : ''}${message}`;
  }
}

function errCode(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.code === 'string' ? e.code : null;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/** TCP (+TLS) connect time; never rejects except when aborted (then with the signal's reason). */
export function measureConnect(url: string, options: NetOptions = {}): Promise<ConnectTiming> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const parsed = parseEndpoint(url);
  if (!parsed) {
    return Promise.resolve({
      ok: false,
      endpoint: url,
      tls: false,
      tcpMs: null,
      tlsMs: null,
      totalMs: null,
      error: `not an endpoint URL: ${url}`,
      code: 'EINVAL',
    });
  }
  return connectParsed(parsed, timeoutMs, options.signal);
}

function connectParsed(
  parsed: ParsedEndpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ConnectTiming> {
  const endpoint = `${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const t0 = performance.now();
    let tcpAt: number | null = null;
    let settled = false;
    const socket: net.Socket = parsed.tls
      ? tls.connect({
          host: parsed.host,
          port: parsed.port,
          servername: net.isIP(parsed.host) ? undefined : parsed.host,
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host: parsed.host, port: parsed.port });
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
    };
    const done = (error: string | null, code: string | null): void => {
      if (settled) return;
      const end = performance.now();
      cleanup();
      const tcpMs = tcpAt === null ? null : round(tcpAt - t0);
      resolve({
        ok: error === null,
        endpoint,
        tls: parsed.tls,
        tcpMs: error === null ? tcpMs : null,
        tlsMs: error === null && parsed.tls && tcpAt !== null ? round(end - tcpAt) : null,
        totalMs: error === null ? round(end - t0) : null,
        error,
        code,
      });
    };
    const onAbort = (): void => {
      if (settled) return;
      cleanup();
      reject(abortError(signal!));
    };
    const timer = setTimeout(
      () => done(describeNetError('TIMEOUT', '', endpoint, timeoutMs), 'TIMEOUT'),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      tcpAt = performance.now();
      if (!parsed.tls) done(null, null);
    });
    if (parsed.tls) socket.once('secureConnect', () => done(null, null));
    socket.once('error', (err: Error) => {
      const code = errCode(err);
      done(describeNetError(code, err.message, endpoint), code);
    });
  });
}

export interface AwsPing {
  ok: boolean;
  endpoint: string;
  /** HTTP status of the answer. */
  status: number | null;
  /** Connect (+TLS) time on the fresh connection, ms. */
  connectMs: number | null;
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
}

export interface PingOptions extends NetOptions {
  /** This computer's clock (default Date.now). */
  now?: () => number;
  /** x-amz-target of the unsigned request (default AmazonSSM.DescribeInstanceInformation). */
  target?: string;
}

/** One unsigned AWS JSON 1.1 request on a new connection; never rejects except when aborted. */
export function pingAws(url: string, options: PingOptions = {}): Promise<AwsPing> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  const parsed = parseEndpoint(url);
  const base: AwsPing = {
    ok: false,
    endpoint: url,
    status: null,
    connectMs: null,
    roundTripMs: null,
    requestId: null,
    errorType: null,
    serverDateMs: null,
    localDateMs: null,
    contentType: null,
    error: null,
    code: null,
  };
  if (!parsed) return Promise.resolve({ ...base, error: `not an endpoint URL: ${url}`, code: 'EINVAL' });
  const endpoint = `${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}`;
  const signal = options.signal;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const t0 = performance.now();
    let connectedAt: number | null = null;
    let sentAt: number | null = null;
    let settled = false;
    const body = '{}';
    const mod = parsed.tls ? https : http;
    const req = mod.request({
      host: parsed.host,
      port: parsed.port,
      method: 'POST',
      path: '/',
      agent: false,
      ...(parsed.tls && !net.isIP(parsed.host) ? { servername: parsed.host } : {}),
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
    };
    const finish = (result: Partial<AwsPing>): void => {
      if (settled) return;
      cleanup();
      resolve({
        ...base,
        endpoint,
        connectMs: connectedAt === null ? null : round(connectedAt - t0),
        ...result,
      });
    };
    const onAbort = (): void => {
      if (settled) return;
      cleanup();
      reject(abortError(signal!));
    };
    const timer = setTimeout(
      () => finish({ error: describeNetError('TIMEOUT', '', endpoint, timeoutMs), code: 'TIMEOUT' }),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (socket: net.Socket) => {
      socket.once(parsed.tls ? 'secureConnect' : 'connect', () => {
        connectedAt = performance.now();
      });
    });
    req.on('finish', () => {
      sentAt = performance.now();
    });
    req.on('error', (err: Error) => {
      const code = errCode(err);
      finish({ error: describeNetError(code, err.message, endpoint), code });
    });
    req.on('response', (res: http.IncomingMessage) => {
      const at = performance.now();
      const localAt = now();
      const rtt = at - (sentAt ?? connectedAt ?? t0);
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

export interface ProxyConnectResult {
  ok: boolean;
  /** The proxy's answer to CONNECT, e.g. 200, 403, 407; null when it did not answer. */
  status: number | null;
  statusText: string | null;
  ms: number | null;
  error: string | null;
  code: string | null;
}

/** Ask an http:// (or https://) proxy for a CONNECT tunnel to host:port; never rejects except when aborted. */
export function proxyConnect(
  proxyUrl: string,
  host: string,
  port: number,
  options: NetOptions = {},
): Promise<ProxyConnectResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const signal = options.signal;
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxyUrl) ? proxyUrl : `http://${proxyUrl}`);
  } catch {
    return Promise.resolve({
      ok: false,
      status: null,
      statusText: null,
      ms: null,
      error: `not a proxy URL: ${proxyUrl}`,
      code: 'EINVAL',
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.resolve({
      ok: false,
      status: null,
      statusText: null,
      ms: null,
      error: `${u.protocol.replace(/:$/, '')} proxies cannot be checked (only http and https proxies)`,
      code: 'EPROTONOSUPPORT',
    });
  }
  const secure = u.protocol === 'https:';
  const proxyHost = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const proxyPort = u.port ? Number(u.port) : secure ? 443 : 80;
  const proxyEndpoint = `${u.hostname}:${proxyPort}`;
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const t0 = performance.now();
    let settled = false;
    let buf = '';
    const socket: net.Socket = secure
      ? tls.connect({
          host: proxyHost,
          port: proxyPort,
          servername: net.isIP(proxyHost) ? undefined : proxyHost,
        })
      : net.connect({ host: proxyHost, port: proxyPort });
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
    };
    const finish = (r: Omit<ProxyConnectResult, 'ms'>): void => {
      if (settled) return;
      cleanup();
      resolve({ ...r, ms: r.status !== null ? round(performance.now() - t0) : null });
    };
    const onAbort = (): void => {
      if (settled) return;
      cleanup();
      reject(abortError(signal!));
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          status: null,
          statusText: null,
          error: describeNetError('TIMEOUT', '', proxyEndpoint, timeoutMs),
          code: 'TIMEOUT',
        }),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const auth =
        u.username || u.password
          ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}\r\n`
          : '';
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n');
      if (end < 0) {
        if (buf.length > 8192)
          finish({
            ok: false,
            status: null,
            statusText: null,
            error: 'the proxy answered with garbage',
            code: 'EPROTO',
          });
        return;
      }
      const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(buf.slice(0, end));
      if (!m) {
        finish({
          ok: false,
          status: null,
          statusText: null,
          error: 'the proxy did not answer with HTTP',
          code: 'EPROTO',
        });
        return;
      }
      const status = Number(m[1]);
      finish({
        ok: status >= 200 && status < 300,
        status,
        statusText: m[2] || null,
        error: null,
        code: null,
      });
    });
    socket.once('end', () =>
      finish({
        ok: false,
        status: null,
        statusText: null,
        error: `the proxy ${proxyEndpoint} closed the connection without answering CONNECT`,
        code: 'ECONNRESET',
      }),
    );
    socket.once('error', (err: Error) => {
      const code = errCode(err);
      finish({
        ok: false,
        status: null,
        statusText: null,
        error: describeNetError(code, err.message, proxyEndpoint),
        code,
      });
    });
  });
}
