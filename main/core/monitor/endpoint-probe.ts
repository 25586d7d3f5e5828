/**
 * Endpoint latency probes: the time to open a TCP connection (and finish the TLS handshake for
 * https/wss) to an AWS endpoint in use, the part of every API call and data-channel reconnect
 * that the network decides. Nothing is sent after the handshake, so a probe costs the endpoint
 * one connection and us no credentials.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { EndpointProbe } from '../../../preload/api.js';

export interface ProbeTarget {
  service: EndpointProbe['service'];
  profile: string;
  region: string;
  /** http(s):// or ws(s):// URL, or host:port (TLS assumed on 443). */
  url: string;
}

export interface ParsedEndpoint {
  host: string;
  port: number;
  tls: boolean;
}

export function parseEndpoint(url: string): ParsedEndpoint | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `tcp://${url}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (!u.hostname) return undefined;
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const plain = u.protocol === 'http:' || u.protocol === 'ws:';
  const port = u.port ? Number(u.port) : secure ? 443 : plain ? 80 : NaN;
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, tls: secure || (!plain && port === 443) };
}

/** One probe; never throws (a failure is a result with ok false and the reason). */
export function probeEndpoint(target: ProbeTarget, timeoutMs = 5000): Promise<EndpointProbe> {
  const at = (): string => new Date().toISOString();
  const parsed = parseEndpoint(target.url);
  const base = { service: target.service, profile: target.profile, region: target.region };
  if (!parsed) {
    return Promise.resolve({
      ...base,
      endpoint: target.url,
      ok: false,
      latencyMs: null,
      error: `not an endpoint URL: ${target.url}`,
      at: at(),
    });
  }
  const endpoint = `${parsed.host}:${parsed.port}`;
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    const socket: net.Socket = parsed.tls
      ? tls.connect({
          host: parsed.host,
          port: parsed.port,
          servername: net.isIP(parsed.host) ? undefined : parsed.host,
        })
      : net.connect({ host: parsed.host, port: parsed.port });
    const finish = (error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const latencyMs = error ? null : Math.round((performance.now() - t0) * 100) / 100;
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve({ ...base, endpoint, ok: !error, latencyMs, error, at: at() });
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs} ms`), timeoutMs);
    timer.unref?.();
    socket.once(parsed.tls ? 'secureConnect' : 'connect', () => finish(null));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(err.code ? `${err.code}: ${err.message}` : err.message),
    );
  });
}

/** Probe several targets at once (each endpoint once). */
export async function probeAll(
  targets: readonly ProbeTarget[],
  timeoutMs?: number,
): Promise<EndpointProbe[]> {
  const seen = new Set<string>();
  const unique = targets.filter((t) => {
    const k = `${t.service}|${t.profile}|${t.region}|${t.url}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return Promise.all(unique.map((t) => probeEndpoint(t, timeoutMs)));
}
