/**
 * An HTTP CONNECT tunnel through a proxy: connect to the proxy (TLS for an https:// proxy),
 * ask for `CONNECT host:port`, and hand back the socket once the proxy answers 2xx. Whatever
 * runs on top (TLS to the AWS endpoint, plain HTTP, a WebSocket) is end to end.
 *
 * Failures are ProxyErrors that name the proxy (password redacted) and its setting, and say
 * what to do; connection failures keep their network code so the AWS SDK retries them.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describeNetError, isCertificateError } from '../diagnostics/net-errors.js';
import { abortReason, ProxyError } from './errors.js';
import type { ProxyServer } from './proxy-server.js';

export interface TunnelOptions {
  /** Time allowed to reach the proxy and get its answer. */
  timeoutMs: number;
  /** Trusted CAs for an https:// proxy (undefined: Node's defaults). */
  ca?: readonly string[];
  /** Gives up (rejecting with the signal's reason, the socket destroyed) when it aborts. */
  signal?: AbortSignal;
}

/** Longest answer head accepted from the proxy. */
const MAX_HEAD_BYTES = 16 * 1024;

function refusalHint(status: number, proxy: ProxyServer, target: string): string {
  if (status === 407) {
    return proxy.authorization()
      ? `The proxy refused the user name and password in ${proxy.source}: check them (special characters %-encoded).`
      : `The proxy wants credentials: put them in ${proxy.source} as http://user:password@host:port.`;
  }
  if (status === 502 || status === 503 || status === 504)
    return `The proxy could not reach ${target} itself: check that the endpoint exists, or try again.`;
  return `The proxy does not allow tunnels to ${target}: have CONNECT to it allowed, or add the host to connection.no_proxy (NO_PROXY) if it is reachable directly.`;
}

export function openTunnel(
  proxy: ProxyServer,
  host: string,
  port: number,
  options: TunnelOptions,
): Promise<net.Socket> {
  const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const about = `the proxy ${proxy.display} (${proxy.source})`;
  return new Promise<net.Socket>((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const socket: net.Socket = proxy.secure
      ? tls.connect({
          host: proxy.host,
          port: proxy.port,
          ...(net.isIP(proxy.host) ? {} : { servername: proxy.host }),
          ALPNProtocols: ['http/1.1'],
          ...(options.ca ? { ca: [...options.ca] } : {}),
        })
      : net.connect({ host: proxy.host, port: proxy.port });
    let head = Buffer.alloc(0);
    let answered = false;
    let settled = false;

    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(proxy.secure ? 'secureConnect' : 'connect', onConnect);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.on('error', () => {});
      socket.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      const auth = proxy.authorization();
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`,
      );
    };
    const onData = (chunk: Buffer): void => {
      answered = true;
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES)
          fail(
            new ProxyError(
              'EPROTO',
              proxy.display,
              proxy.source,
              `${about} sent an answer to CONNECT that is not HTTP.`,
              null,
              false,
            ),
          );
        return;
      }
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(statusLine);
      if (!m) {
        fail(
          new ProxyError(
            'EPROTO',
            proxy.display,
            proxy.source,
            `${about} did not answer CONNECT with HTTP (it said "${statusLine.slice(0, 80)}"): is it an HTTP proxy?`,
            null,
            false,
          ),
        );
        return;
      }
      const status = Number(m[1]);
      if (status < 200 || status > 299) {
        const text = `${status}${m[2] ? ` ${m[2]}` : ''}`;
        fail(
          new ProxyError(
            'EPROXY',
            proxy.display,
            proxy.source,
            `${about} refused the tunnel to ${target} (HTTP ${text}). ${refusalHint(status, proxy, target)}`,
            status,
            status >= 502 && status <= 504,
            m[2]?.trim() || null,
          ),
        );
        return;
      }
      if (head.length > end + 4) {
        // Nothing may come before the client speaks (TLS and HTTP both start with the client):
        // bytes here mean the proxy is not a plain tunnel, and they would corrupt the stream.
        fail(
          new ProxyError(
            'EPROTO',
            proxy.display,
            proxy.source,
            `${about} sent data before the tunnel to ${target} was used: it is not a plain CONNECT tunnel.`,
            null,
            false,
          ),
        );
        return;
      }
      settled = true;
      cleanup();
      // No pause is needed: the caller attaches its own reader in the same turn of the event
      // loop (promise and nextTick callbacks), before any more socket data can be delivered.
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      const code = err.code ?? 'ECONNRESET';
      const what = isCertificateError(code)
        ? `its TLS certificate is not trusted (${code}); add its CA to connection.ca_bundle`
        : describeNetError(code, err.message, proxy.endpoint);
      fail(
        new ProxyError(
          code,
          proxy.display,
          proxy.source,
          answered
            ? `${about} failed while opening a tunnel to ${target}: ${what}.`
            : `cannot connect to ${about} to reach ${target}: ${what}. Check that the proxy runs and that ${proxy.source} is right.`,
          null,
          !isCertificateError(code),
        ),
      );
    };
    const onClose = (): void =>
      fail(
        new ProxyError(
          'ECONNRESET',
          proxy.display,
          proxy.source,
          `${about} closed the connection without answering CONNECT for ${target}.`,
          null,
          true,
        ),
      );
    const timer = setTimeout(
      () =>
        fail(
          new ProxyError(
            'ETIMEDOUT',
            proxy.display,
            proxy.source,
            `${about} did not open a tunnel to ${target} within ${options.timeoutMs} ms. Check that the proxy runs and that ${proxy.source} is right.`,
            null,
            true,
          ),
        ),
      options.timeoutMs,
    );
    const onAbort = (): void => fail(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on(proxy.secure ? 'secureConnect' : 'connect', onConnect);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}
