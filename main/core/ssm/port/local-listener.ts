/**
 * The local end of a port forward: a TCP listener on 127.0.0.1 by default. Opening it fails
 * with a PortForwardError that names the address and says what to do (port in use, not
 * allowed, address not on this computer), never with a bare EADDRINUSE.
 */
import net from 'node:net';

export type PortForwardErrorCode =
  | 'port-in-use'
  | 'port-not-allowed'
  | 'address-unavailable'
  | 'listen-failed'
  | 'target-refused'
  | 'session-ended'
  | 'invalid-port';

export class PortForwardError extends Error {
  override readonly name = 'PortForwardError';
  constructor(
    readonly code: PortForwardErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function checkPort(value: number | string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new PortForwardError(
      'invalid-port',
      `${what} must be a port number from 0 to 65535, got "${String(value)}".`,
    );
  }
  return n;
}

export interface ListenOptions {
  /** Default 127.0.0.1: only this computer can connect. */
  host?: string;
  /** 0 or undefined: a free port chosen by the system. */
  port?: number;
}

/** Listen, resolving once bound; the caller owns the server (close it). */
export function listenLocal(options: ListenOptions = {}): Promise<net.Server> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  return new Promise((resolve, reject) => {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true });
    const onError = (err: NodeJS.ErrnoException): void => {
      server.close();
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new PortForwardError(
            'port-in-use',
            `Local port ${port} on ${host} is already in use by another program. Choose another local port, or 0 to let the system pick a free one.`,
            { cause: err },
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new PortForwardError(
            'port-not-allowed',
            `This user may not listen on ${where} (ports below 1024 need administrator rights). Choose a local port from 1024 up, or 0.`,
            { cause: err },
          ),
        );
      } else if (err.code === 'EADDRNOTAVAIL') {
        reject(
          new PortForwardError(
            'address-unavailable',
            `${host} is not an address of this computer; listen on 127.0.0.1 (the default) or another local address.`,
            { cause: err },
          ),
        );
      } else {
        reject(
          new PortForwardError('listen-failed', `Could not listen on ${where}: ${err.message}`, {
            cause: err,
          }),
        );
      }
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

/** The port a listening server is bound to. */
export function boundPort(server: net.Server): number {
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}
