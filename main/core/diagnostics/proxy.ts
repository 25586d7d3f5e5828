/**
 * Which proxy applies to a URL under the usual conventions (those of curl and Go's
 * net/http, which the AWS CLI and session-manager-plugin follow): https and wss URLs use
 * HTTPS_PROXY (or https_proxy), http and ws URLs HTTP_PROXY (or http_proxy); NO_PROXY (or
 * no_proxy) lists hosts that go direct: `*`, a host name, a domain (`example.com` and
 * `.example.com` match it and its subdomains), an IP address or an IPv4 CIDR block, each
 * optionally with `:port`. Loopback addresses are never proxied. A proxy set in EC2 Connect's
 * own configuration replaces the environment's.
 */
import net from 'node:net';

export interface ProxyVariable {
  value: string;
  /** Where it came from: the variable name, or `config`. */
  source: string;
}

export interface ProxySettings {
  https: ProxyVariable | null;
  http: ProxyVariable | null;
  noProxy: ProxyVariable | null;
}

export interface ConfiguredProxy {
  /** A proxy URL for both http and https, or null/empty for none. */
  url?: string | null;
  /** Hosts that go direct (same syntax as NO_PROXY). */
  noProxy?: string | readonly string[] | null;
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): ProxyVariable | null {
  for (const name of names) {
    const v = env[name];
    if (v !== undefined && v.trim() !== '') return { value: v.trim(), source: name };
  }
  return null;
}

/** The proxy settings in force: the configuration's proxy if set, else the environment's. */
export function proxySettings(env: NodeJS.ProcessEnv, config?: ConfiguredProxy | null): ProxySettings {
  const fromConfig = config?.url && config.url.trim() ? { value: config.url.trim(), source: 'config' } : null;
  const configNoProxy = config?.noProxy
    ? typeof config.noProxy === 'string'
      ? config.noProxy
      : config.noProxy.join(',')
    : '';
  return {
    https: fromConfig ?? pick(env, ['https_proxy', 'HTTPS_PROXY']),
    http: fromConfig ?? pick(env, ['http_proxy', 'HTTP_PROXY']),
    noProxy: configNoProxy.trim()
      ? { value: configNoProxy.trim(), source: 'config' }
      : pick(env, ['no_proxy', 'NO_PROXY']),
  };
}

export interface ProxyDecision {
  /** The URL's host:port. */
  endpoint: string;
  /** The proxy used, or null for a direct connection. */
  proxy: ProxyVariable | null;
  /** Why it goes direct (the NO_PROXY entry, loopback, no proxy set), or why through the proxy. */
  reason: string;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => (n << 8) + Number(p), 0) >>> 0;
}

function matchesEntry(entry: string, host: string, port: number): boolean {
  let e = entry.trim().toLowerCase();
  if (!e) return false;
  if (e === '*') return true;
  // [v6]:port, host:port (one colon), a bare v6 address
  let entryPort: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
  if (bracket) {
    e = bracket[1]!;
    if (bracket[2]) entryPort = Number(bracket[2]);
  } else if ((e.match(/:/g) ?? []).length === 1) {
    const [h, p] = e.split(':');
    e = h!;
    if (p && /^\d+$/.test(p)) entryPort = Number(p);
  }
  if (entryPort !== undefined && entryPort !== port) return false;
  const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(e);
  if (cidr) {
    if (net.isIPv4(host) !== true) return false;
    const bits = Number(cidr[2]);
    if (bits > 32) return false;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (ipv4ToInt(host) & mask) === (ipv4ToInt(cidr[1]!) & mask);
  }
  if (e.startsWith('*.')) e = e.slice(1);
  if (e.startsWith('.')) return host === e.slice(1) || host.endsWith(e);
  return host === e || host.endsWith(`.${e}`);
}

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\./.test(host) ||
    host === '::1' ||
    /^::ffff:127\./.test(host)
  );
}

/** Whether (and which) proxy applies to `url` (http, https, ws or wss). */
export function proxyFor(url: string, settings: ProxySettings): ProxyDecision {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { endpoint: url, proxy: null, reason: 'not a URL' };
  }
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = u.port ? Number(u.port) : secure ? 443 : 80;
  const endpoint = `${u.hostname}:${port}`;
  const variable = secure ? settings.https : settings.http;
  const name = secure ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  if (!variable) return { endpoint, proxy: null, reason: `no ${name} is set` };
  if (isLoopback(host)) return { endpoint, proxy: null, reason: 'loopback addresses are never proxied' };
  if (settings.noProxy) {
    for (const entry of settings.noProxy.value.split(/[\s,]+/)) {
      if (matchesEntry(entry, host, port)) {
        return {
          endpoint,
          proxy: null,
          reason: `excluded by ${settings.noProxy.source} entry "${entry.trim()}"`,
        };
      }
    }
  }
  return {
    endpoint,
    proxy: variable,
    reason: `${variable.source} applies${settings.noProxy ? ` (no ${settings.noProxy.source} entry matches)` : ''}`,
  };
}

/** A proxy URL without its password, for display. */
export function redactProxy(url: string): string {
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`);
    if (u.password) u.password = '***';
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? u.toString().replace(/\/$/, '') : u.host;
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}
