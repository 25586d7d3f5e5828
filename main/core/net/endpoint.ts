/** Endpoints as probes see them: host, port and whether TLS runs on top, from a URL or host:port. */

export interface ParsedEndpoint {
  /** Without brackets for IPv6. */
  host: string;
  port: number;
  tls: boolean;
}

/** http(s):// or ws(s):// URL, or host:port (TLS assumed on 443); undefined when it is neither. */
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

/** host:port, brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
