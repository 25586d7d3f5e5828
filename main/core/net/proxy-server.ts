/**
 * A proxy setting (configuration or environment variable) checked and parsed once, with its
 * credentials kept out of sight: the password lives in an ES private field, so neither a log
 * line of the object nor an error message can show it; `display` is the URL with `***`.
 */
import type { ProxyVariable } from '../diagnostics/proxy.js';
import { NetworkConfigError } from './errors.js';

/** The name users know a proxy setting by: the configuration key, or the variable. */
export function proxySourceName(source: string): string {
  return source === 'config' ? 'connection.proxy' : source;
}

/**
 * A value that does not parse as a URL, shown without anything before its last `@` (user
 * info): a password may contain `/`, `:` or spaces, so nothing narrower is safe.
 */
function hideUserInfo(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, '$1***@');
}

/** Percent-decoded user info; a stray `%` (not an escape) is taken literally. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export class ProxyServer {
  readonly host: string;
  readonly port: number;
  /** TLS to the proxy itself (an https:// proxy). */
  readonly secure: boolean;
  /** The URL with the password as `***`: for messages and logs. */
  readonly display: string;
  /** `connection.proxy`, `HTTPS_PROXY`, `http_proxy`, ... */
  readonly source: string;
  readonly #authorization: string | undefined;

  private constructor(
    host: string,
    port: number,
    secure: boolean,
    display: string,
    source: string,
    auth?: string,
  ) {
    this.host = host;
    this.port = port;
    this.secure = secure;
    this.display = display;
    this.source = source;
    this.#authorization = auth;
  }

  /**
   * Parse a proxy setting. Without a scheme it is an http:// proxy (as curl and Go read
   * `proxy:3128`). Throws a NetworkConfigError naming the setting when it cannot be used.
   */
  static parse(variable: ProxyVariable): ProxyServer {
    const source = proxySourceName(variable.source);
    const raw = variable.value.trim();
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
    const fix =
      variable.source === 'config'
        ? `Set ${source} to a URL like http://proxy.example.com:3128 (http://user:password@host:port with credentials), or unset it.`
        : `Set ${source} to a URL like http://proxy.example.com:3128, unset it, or set connection.proxy (which replaces it).`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new NetworkConfigError(source, `${source} is not a proxy URL: "${hideUserInfo(raw)}". ${fix}`);
    }
    const shown = `${u.protocol}//${u.username ? `${u.username}${u.password ? ':***' : ''}@` : ''}${u.host}`;
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new NetworkConfigError(
        source,
        `${source} is a ${u.protocol.replace(/:$/, '')}:// proxy ("${shown}"), which EC2 Connect does not support: it talks to http:// and https:// proxies (HTTP CONNECT). ${fix}`,
      );
    }
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) throw new NetworkConfigError(source, `${source} has no host name: "${shown}". ${fix}`);
    const secure = u.protocol === 'https:';
    const auth =
      u.username || u.password
        ? `Basic ${Buffer.from(`${decode(u.username)}:${decode(u.password)}`).toString('base64')}`
        : undefined;
    return new ProxyServer(host, u.port ? Number(u.port) : secure ? 443 : 80, secure, shown, source, auth);
  }

  /** The Proxy-Authorization header value, if the URL has credentials. */
  authorization(): string | undefined {
    return this.#authorization;
  }

  /** host:port, brackets around an IPv6 address. */
  get endpoint(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  toJSON(): { proxy: string; source: string } {
    return { proxy: this.display, source: this.source };
  }
}
