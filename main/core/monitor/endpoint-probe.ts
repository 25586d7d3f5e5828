/**
 * Endpoint latency probes: the time to open a connection (and finish the TLS handshake for
 * https/wss) to an AWS endpoint in use, the part of every API call and data-channel reconnect
 * that the network decides. A probe takes the route of EC2 Connect's own connections when its
 * target carries the profile's Network: through the proxy that applies to the host (the time
 * then includes the tunnel), trusting the CA bundle. Nothing is sent after the handshake, so a
 * probe costs the endpoint one connection and us no credentials.
 */
import type { EndpointProbe } from '../../../preload/api.js';
import { parseEndpoint } from '../net/endpoint.js';
import type { Network } from '../net/network.js';
import { discard, timedConnect, type ConnectFailed } from '../net/timed-connect.js';

export { parseEndpoint, type ParsedEndpoint } from '../net/endpoint.js';

export interface ProbeTarget {
  service: EndpointProbe['service'];
  profile: string;
  region: string;
  /** http(s):// or ws(s):// URL, or host:port (TLS assumed on 443). */
  url: string;
  /** The profile's Network (its control plane's): route and trusted CAs. Default: direct, Node's CAs. */
  network?: Network;
}

function failure(c: ConnectFailed, timeoutMs: number): string {
  // The proxy's own errors say which proxy and setting; others get the proxy appended.
  if (c.failedAt === 'proxy') return c.error;
  const what = c.code === 'TIMEOUT' ? `no answer within ${timeoutMs} ms` : `${c.code}: ${c.message}`;
  return c.proxy ? `${what} (through the proxy ${c.proxy})` : what;
}

/** One probe; never throws (a failure is a result with ok false and the reason). */
export async function probeEndpoint(target: ProbeTarget, timeoutMs = 5000): Promise<EndpointProbe> {
  const at = (): string => new Date().toISOString();
  const parsed = parseEndpoint(target.url);
  const base = { service: target.service, profile: target.profile, region: target.region };
  if (!parsed) {
    return {
      ...base,
      endpoint: target.url,
      ok: false,
      latencyMs: null,
      error: `not an endpoint URL: ${target.url}`,
      proxy: null,
      at: at(),
    };
  }
  let c: Awaited<ReturnType<typeof timedConnect>>;
  try {
    c = await timedConnect(parsed, { timeoutMs, ...(target.network ? { network: target.network } : {}) });
  } catch (err) {
    // Not expected (failures are results), but a probe never throws.
    const error = (err as Error).message;
    return { ...base, endpoint: target.url, ok: false, latencyMs: null, error, proxy: null, at: at() };
  }
  if (c.ok) discard(c.socket);
  return {
    ...base,
    endpoint: c.endpoint,
    ok: c.ok,
    latencyMs: c.ok ? c.totalMs : null,
    error: c.ok ? null : failure(c, timeoutMs),
    proxy: c.proxy,
    at: at(),
  };
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
