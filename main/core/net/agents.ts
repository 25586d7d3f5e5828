/**
 * HTTP agents that choose, per connection, between a direct connection and a CONNECT tunnel
 * through the proxy, from the host and port being reached (one AWS SDK handler serves several
 * endpoints: SSM, EC2, STS, SSO; NO_PROXY can set some of them apart).
 *
 * They are ordinary Node agents (keep-alive pooling, TLS session reuse, maxSockets) that only
 * override `createConnection`, which Node lets answer through a callback: a tunnel is opened
 * first, then TLS runs inside it for https/wss. Pools are keyed by host and port, and a host
 * always takes the same route, so a pooled socket is never reused on the wrong route.
 * (While tunnels are being opened Node does not count them yet, so maxSockets can be briefly
 * exceeded: harmless for the few connections an AWS client makes.)
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ProxyServer } from './proxy-server.js';
import { openTunnel } from './tunnel.js';

/** Where a connection to host:port goes: the proxy to tunnel through, or null for direct. */
export interface ConnectionRouter {
  route(secure: boolean, host: string, port: number): ProxyServer | null;
  /** Trusted CAs (Node's roots plus the CA bundle), or undefined for Node's defaults. */
  readonly ca: readonly string[] | undefined;
}

export interface RoutingAgentOptions {
  keepAlive?: boolean;
  maxSockets?: number;
  /** Time allowed to reach the proxy and get the tunnel (default 10 s). */
  tunnelTimeoutMs?: number;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

function targetOf(
  options: { host?: string | null; hostname?: string | null; port?: number | string | null },
  defaultPort: number,
) {
  const host = (options.host ?? options.hostname ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
  const port = options.port ? Number(options.port) : defaultPort;
  return { host, port };
}

function tunnel(
  router: ConnectionRouter,
  proxy: ProxyServer,
  host: string,
  port: number,
  timeoutMs: number,
  callback: ConnectCallback | undefined,
  wrap: (socket: net.Socket) => Duplex,
): undefined {
  if (!callback) throw new Error('a proxied connection is asynchronous: createConnection needs a callback');
  openTunnel(proxy, host, port, { timeoutMs, ...(router.ca ? { ca: router.ca } : {}) }).then(
    (socket) => {
      let stream: Duplex;
      try {
        stream = wrap(socket);
      } catch (err) {
        socket.destroy();
        callback(err as Error, undefined as unknown as Duplex);
        return;
      }
      callback(null, stream);
    },
    (err: Error) => callback(err, undefined as unknown as Duplex),
  );
  return undefined;
}

/** For http:// and ws:// URLs: plain TCP, direct or through a tunnel. */
export class RoutingHttpAgent extends http.Agent {
  private readonly tunnelTimeoutMs: number;

  constructor(
    private readonly router: ConnectionRouter,
    options: RoutingAgentOptions = {},
  ) {
    super({
      keepAlive: options.keepAlive ?? false,
      ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
    });
    this.tunnelTimeoutMs = options.tunnelTimeoutMs ?? 10_000;
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    const { host, port } = targetOf(options, 80);
    const proxy = this.router.route(false, host, port);
    if (!proxy) return super.createConnection(options);
    return tunnel(this.router, proxy, host, port, this.tunnelTimeoutMs, callback, (socket) => socket);
  }
}

/** For https:// and wss:// URLs: TLS (with the trusted CAs) direct, or inside a tunnel. */
export class RoutingHttpsAgent extends https.Agent {
  private readonly tunnelTimeoutMs: number;

  constructor(
    private readonly router: ConnectionRouter,
    options: RoutingAgentOptions = {},
  ) {
    // `ca` in the agent's options reaches every TLS connection it makes (Node merges them in).
    super({
      keepAlive: options.keepAlive ?? false,
      ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
      ...(router.ca ? { ca: [...router.ca] } : {}),
    });
    this.tunnelTimeoutMs = options.tunnelTimeoutMs ?? 10_000;
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: ConnectCallback,
  ): Duplex | null | undefined {
    const { host, port } = targetOf(options, 443);
    const proxy = this.router.route(true, host, port);
    if (!proxy) return super.createConnection(options);
    // TLS to the endpoint runs inside the tunnel: same options (servername, ca, session reuse).
    return tunnel(this.router, proxy, host, port, this.tunnelTimeoutMs, callback, (socket) => {
      const secured = super.createConnection({ ...options, socket } as https.RequestOptions);
      if (!secured) throw new Error(`could not start TLS to ${host}:${port} inside the tunnel`);
      return secured;
    });
  }
}
