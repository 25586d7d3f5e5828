/**
 * How the network checks word a probe's route and its failure: "through the proxy X (setting)"
 * (password as ***), the connect times, and what to do, at the proxy or beyond it.
 */
import { formatMs } from '../format.js';
import { isCertificateError } from '../net-errors.js';

/** How a probe went, as measureConnect and pingAws report it. */
export interface Route {
  endpoint: string;
  code: string | null;
  /** Where it failed (the proxy, the direct connection, TLS, the request). */
  failedAt: string | null;
  proxy: string | null;
  proxySource: string | null;
  proxyStatus: number | null;
}

/** " through the proxy X (HTTPS_PROXY)", or "" for a direct connection. */
export function through(r: Pick<Route, 'proxy' | 'proxySource'>): string {
  return r.proxy ? ` through the proxy ${r.proxy}${r.proxySource ? ` (${r.proxySource})` : ''}` : '';
}

/**
 * The error of a failed probe, with its route: a failure at the proxy says which proxy itself
 * (it reads as EC2 Connect's own connections' errors do); a later one gets " through the proxy X".
 */
export function failure(r: Route & { error: string | null }): string {
  const error = (r.error ?? 'failed').replace(/\.$/, '');
  return r.failedAt === 'proxy' ? `: ${error}` : `${through(r)}: ${error}`;
}

/** What to do when the proxy refused a tunnel to `endpoint` (host:port) or could not be reached. */
export function proxyFix(
  status: number | null,
  code: string | null,
  endpoint: string,
  source: string,
): string {
  const host = endpoint.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (status === 407)
    return `The proxy wants credentials: put them in ${source} as http://user:password@host:port (special characters %-encoded), or add ${host} to NO_PROXY if it is reachable directly.`;
  if (status !== null && status >= 502 && status <= 504)
    return `The proxy could not reach ${host} itself: check the endpoint URL and that the proxy can reach AWS, then run again.`;
  if (status !== null) {
    const labels = host.split('.');
    const domain = /[a-z]/i.test(host) && labels.length > 2 ? ` (or .${labels.slice(-2).join('.')})` : '';
    return `Add ${host}${domain} to NO_PROXY (connection.no_proxy) if it is reachable directly, or have CONNECT to ${endpoint} allowed on the proxy.`;
  }
  if (isCertificateError(code))
    return `The proxy's own TLS certificate is not trusted: add its CA to connection.ca_bundle (or AWS_CA_BUNDLE).`;
  return `Check the proxy address in ${source} and that the proxy runs, or unset it if this network needs no proxy.`;
}

/** What to do about a connection that failed, for `what`. */
export function networkFix(r: Route, what: string): string {
  if (r.failedAt === 'proxy' && r.proxy)
    return proxyFix(r.proxyStatus, r.code, r.endpoint, r.proxySource ?? 'the proxy setting');
  if (r.code === 'ENOTFOUND' || r.code === 'EAI_AGAIN')
    return `Check DNS on this computer (and the region name); in a VPC with an interface endpoint for ${what}, turn on its private DNS names.`;
  if (isCertificateError(r.code))
    return 'If your organisation inspects TLS, give EC2 Connect its CA certificate: set connection.ca_bundle (or AWS_CA_BUNDLE) to the PEM file.';
  if (r.proxy)
    return `The proxy ${r.proxy} opened the tunnel, but ${r.endpoint} did not answer through it: check the endpoint URL, and whether the proxy lets this traffic through (or add the host to NO_PROXY if it is reachable directly).`;
  const to = r.endpoint.endsWith(':443')
    ? `HTTPS (TCP 443) from this computer to ${r.endpoint.slice(0, -4)}`
    : `TCP connections from this computer to ${r.endpoint}`;
  return `Allow outbound ${to} (firewall, VPN, security software).`;
}

/** "tunnel 3 ms + TLS 5 ms", "TCP 2 ms, no TLS", ... */
export function connectParts(r: {
  proxy: string | null;
  tcpMs: number | null;
  tunnelMs: number | null;
  tlsMs: number | null;
}): string {
  const first = r.proxy ? `tunnel ${formatMs(r.tunnelMs ?? 0)}` : `TCP ${formatMs(r.tcpMs ?? 0)}`;
  return r.tlsMs !== null ? `${first} + TLS ${formatMs(r.tlsMs)}` : `${first}, no TLS`;
}
