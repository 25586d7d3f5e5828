/**
 * The network settings every AWS connection follows: the proxy (connection.proxy, else
 * HTTPS_PROXY / HTTP_PROXY), the hosts that bypass it (connection.no_proxy, else NO_PROXY) and
 * the CA bundle (connection.ca_bundle, else AWS_CA_BUNDLE), under the rules of
 * diagnostics/proxy.ts (curl's and Go's; loopback is never proxied).
 *
 * A Network is checked when it is made (a proxy URL that does not parse, an unsupported scheme
 * or an unreadable CA bundle throws a NetworkConfigError naming the setting), then hands out:
 * - `requestHandler()`: a NodeHttpHandler for AWS SDK clients, whose agents route each
 *   connection by its host;
 * - `agents()`: the same agents, for other HTTP clients;
 * - `webSocketAgent(url)`: the agent for a data-channel WebSocket (`ws`'s `agent` option).
 * It owns every agent it made: dispose() closes their pooled sockets.
 */
import type http from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { proxyFor, proxySettings, type ProxySettings } from '../diagnostics/proxy.js';
import type { Disposable } from '../util/lifecycle.js';
import { RoutingHttpAgent, RoutingHttpsAgent, type ConnectionRouter } from './agents.js';
import { caBundleSource, trustedCertificates, type CaBundleSource } from './ca-bundle.js';
import { ProxyServer } from './proxy-server.js';

export interface NetworkOptions {
  /** Proxy URL for every AWS connection (connection.proxy); null/undefined: HTTPS_PROXY / HTTP_PROXY of `env`. */
  proxy?: string | null;
  /** Hosts reached directly (connection.no_proxy, NO_PROXY syntax); null/undefined: NO_PROXY of `env`. */
  noProxy?: string | null;
  /** Path to a PEM file of extra trusted CAs (connection.ca_bundle); null/undefined: AWS_CA_BUNDLE of `env`. */
  caBundle?: string | null;
  /** Where the proxy variables and AWS_CA_BUNDLE are read (default: none, i.e. only the fields above). */
  env?: NodeJS.ProcessEnv;
  /** Time allowed to reach the proxy and open a tunnel (connection.connection_timeout; default 10 s). */
  connectTimeoutMs?: number;
}

/** What a data channel needs: the agent for its WebSocket URL (undefined: ws's default). */
export interface WebSocketNetwork {
  webSocketAgent(url: string, options?: { connectTimeoutMs?: number }): http.Agent | undefined;
}

export interface AgentPair extends Disposable {
  readonly http: http.Agent;
  readonly https: http.Agent;
}

export interface HandlerOptions {
  /** Time to open a connection, tunnel included (default 5 s). */
  connectionTimeoutMs?: number;
  /** Whole-request timeout (default 15 s). */
  requestTimeoutMs?: number;
  /** Connections per host (default 16). */
  maxSockets?: number;
}

/** How a URL is reached, for logs and diagnostics (no password in it). */
export interface Route {
  /** The proxy (password as ***), or null for a direct connection. */
  proxy: string | null;
  /** The setting it comes from (connection.proxy, HTTPS_PROXY, ...), or null. */
  source: string | null;
  /** Why (a NO_PROXY entry, loopback, no proxy set, ...). */
  reason: string;
}

export class Network implements Disposable, WebSocketNetwork {
  readonly #settings: ProxySettings;
  readonly #proxies: { https: ProxyServer | null; http: ProxyServer | null };
  /** The CA bundle in use (file and the setting naming it), or null. */
  readonly caBundle: CaBundleSource | null;
  private readonly router: ConnectionRouter;
  private readonly connectTimeoutMs: number;
  private readonly owned = new Set<http.Agent>();
  private readonly wsAgents = new Map<string, http.Agent>();
  private disposed = false;

  constructor(options: NetworkOptions = {}) {
    const env = options.env ?? {};
    this.#settings = proxySettings(env, { url: options.proxy ?? null, noProxy: options.noProxy ?? null });
    // Both checked now, so a bad setting fails at start with its name, not on some later request.
    this.#proxies = {
      https: this.#settings.https ? ProxyServer.parse(this.#settings.https) : null,
      http: this.#settings.http ? ProxyServer.parse(this.#settings.http) : null,
    };
    this.caBundle = caBundleSource(options.caBundle, env);
    const ca = this.caBundle ? trustedCertificates(this.caBundle, env) : undefined;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const settings = this.#settings;
    const proxies = this.#proxies;
    this.router = {
      ca,
      route(secure, host, port) {
        const h = host.includes(':') ? `[${host}]` : host;
        const decision = proxyFor(`${secure ? 'https' : 'http'}://${h}:${port}`, settings);
        return decision.proxy ? (secure ? proxies.https : proxies.http) : null;
      },
    };
  }

  /** How `url` (http, https, ws or wss) is reached. */
  route(url: string): Route {
    const d = proxyFor(url, this.#settings);
    const proxy = this.proxyServerFor(url);
    return {
      proxy: proxy?.display ?? null,
      source: proxy?.source ?? null,
      reason: d.reason
        .replace(/\bconfig applies\b/, 'connection.proxy applies')
        .replace(/\bconfig entry\b/, 'connection.no_proxy entry'),
    };
  }

  /**
   * The proxy a connection to `url` (http, https, ws or wss) tunnels through, or null for a
   * direct one: what probes use to take the same route as EC2 Connect's own connections.
   */
  proxyServerFor(url: string): ProxyServer | null {
    if (!proxyFor(url, this.#settings).proxy) return null;
    return /^(https|wss):/i.test(url) ? this.#proxies.https : this.#proxies.http;
  }

  /** The trusted CAs in force (Node's roots + NODE_EXTRA_CA_CERTS + the bundle), or undefined for Node's defaults. */
  get trustedCertificates(): readonly string[] | undefined {
    return this.router.ca;
  }

  /** A routing agent pair owned by this Network (and by the caller, who may dispose it sooner). */
  agents(options: { keepAlive?: boolean; maxSockets?: number; connectTimeoutMs?: number } = {}): AgentPair {
    this.assertAlive();
    const o = {
      keepAlive: options.keepAlive ?? true,
      ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
      tunnelTimeoutMs: options.connectTimeoutMs ?? this.connectTimeoutMs,
    };
    const pair = { http: new RoutingHttpAgent(this.router, o), https: new RoutingHttpsAgent(this.router, o) };
    this.owned.add(pair.http);
    this.owned.add(pair.https);
    return {
      ...pair,
      dispose: () => {
        for (const a of [pair.http, pair.https]) {
          a.destroy();
          this.owned.delete(a);
        }
      },
    };
  }

  /**
   * A NodeHttpHandler for AWS SDK clients. Its keep-alive agents are this Network's; destroying
   * the handler (client.destroy() does not, handler.destroy() does) closes them.
   */
  requestHandler(options: HandlerOptions = {}): NodeHttpHandler {
    const pair = this.agents({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 16,
      connectTimeoutMs: options.connectionTimeoutMs ?? 5_000,
    });
    const handler = new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      httpAgent: pair.http,
      httpsAgent: pair.https,
    });
    // NodeHttpHandler.destroy() only reaches the agents once a request has resolved its config;
    // a handler destroyed before its first request would leave them open.
    const destroy = handler.destroy.bind(handler);
    handler.destroy = () => {
      destroy();
      pair.dispose();
    };
    return handler;
  }

  /**
   * The agent for a data-channel WebSocket. Without keep-alive: a WebSocket keeps its socket for
   * itself, there is nothing to pool. Shared by every channel (agents hold no per-socket state).
   */
  webSocketAgent(url: string, options: { connectTimeoutMs?: number } = {}): http.Agent {
    this.assertAlive();
    const secure = /^(wss|https):/i.test(url);
    const timeout = options.connectTimeoutMs ?? this.connectTimeoutMs;
    const key = `${secure}:${timeout}`;
    let agent = this.wsAgents.get(key);
    if (!agent) {
      const o = { keepAlive: false, tunnelTimeoutMs: timeout };
      agent = secure ? new RoutingHttpsAgent(this.router, o) : new RoutingHttpAgent(this.router, o);
      this.wsAgents.set(key, agent);
      this.owned.add(agent);
    }
    return agent;
  }

  /** For logs: the proxies and bundle in force, passwords redacted. */
  describe(): { https: string | null; http: string | null; noProxy: string | null; caBundle: string | null } {
    return {
      https: this.#proxies.https ? `${this.#proxies.https.display} (${this.#proxies.https.source})` : null,
      http: this.#proxies.http ? `${this.#proxies.http.display} (${this.#proxies.http.source})` : null,
      noProxy: this.#settings.noProxy?.value ?? null,
      caBundle: this.caBundle ? `${this.caBundle.file} (${this.caBundle.key})` : null,
    };
  }

  toJSON(): ReturnType<Network['describe']> {
    return this.describe();
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('this Network is disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.owned) a.destroy();
    this.owned.clear();
    this.wsAgents.clear();
  }
}

/** A Network given by the caller (theirs to dispose) or made here from options (ours). */
export function networkFrom(network: Network | NetworkOptions | undefined): {
  network: Network;
  owned: boolean;
} {
  if (network instanceof Network) return { network, owned: false };
  return { network: new Network(network ?? {}), owned: true };
}
