/**
 * The local TCP connections of a port forward: counted, timed and measured, each with an id
 * the UI and CLI can show. A connection ends with a reason; a refused target ends only its
 * own connection (reset, as a refused connection would be), never the forward.
 */
import type net from 'node:net';
import { Emitter, type Event, type Disposable } from '../../util/lifecycle.js';

export interface ForwardConnectionInfo {
  id: number;
  /** Who connected (address:port of the local client). */
  client: string;
  openedAt: number;
  /** Bytes from the instance to the local client. */
  bytesIn: number;
  /** Bytes from the local client to the instance. */
  bytesOut: number;
  /** The smux stream carrying it (multiplexed forwards). */
  streamId?: number;
}

export type ForwardConnectionEvent =
  | { kind: 'opened'; connection: ForwardConnectionInfo }
  | { kind: 'closed'; connection: ForwardConnectionInfo; reason: string }
  | { kind: 'failed'; connection: ForwardConnectionInfo; reason: string };

export interface ForwardStats {
  activeConnections: number;
  totalConnections: number;
  failedConnections: number;
  bytesIn: number;
  bytesOut: number;
}

export class ConnectionTable implements Disposable {
  private nextId = 1;
  private readonly open = new Map<number, { info: ForwardConnectionInfo; socket: net.Socket }>();
  private totals = { total: 0, failed: 0, bytesIn: 0, bytesOut: 0 };
  private readonly changed = new Emitter<ForwardConnectionEvent>();
  readonly onEvent: Event<ForwardConnectionEvent> = this.changed.event;

  add(socket: net.Socket): ForwardConnectionInfo {
    const info: ForwardConnectionInfo = {
      id: this.nextId++,
      client: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      openedAt: Date.now(),
      bytesIn: 0,
      bytesOut: 0,
    };
    this.open.set(info.id, { info, socket });
    this.totals.total++;
    this.changed.fire({ kind: 'opened', connection: { ...info } });
    return info;
  }

  countIn(info: ForwardConnectionInfo, n: number): void {
    info.bytesIn += n;
    this.totals.bytesIn += n;
  }

  countOut(info: ForwardConnectionInfo, n: number): void {
    info.bytesOut += n;
    this.totals.bytesOut += n;
  }

  /** The connection ended; `failed` when it ended because of an error (refused, session gone). */
  end(info: ForwardConnectionInfo, reason: string, failed = false): void {
    if (!this.open.delete(info.id)) return;
    if (failed) this.totals.failed++;
    this.changed.fire({ kind: failed ? 'failed' : 'closed', connection: { ...info }, reason });
  }

  list(): ForwardConnectionInfo[] {
    return [...this.open.values()].map((c) => ({ ...c.info }));
  }

  get stats(): ForwardStats {
    return {
      activeConnections: this.open.size,
      totalConnections: this.totals.total,
      failedConnections: this.totals.failed,
      bytesIn: this.totals.bytesIn,
      bytesOut: this.totals.bytesOut,
    };
  }

  /** End every connection (the forward is closing): reset the sockets, record why. */
  endAll(reason: string, failed: boolean): void {
    for (const { info, socket } of [...this.open.values()]) {
      resetSocket(socket);
      this.end(info, reason, failed);
    }
  }

  dispose(): void {
    this.endAll('the forward was closed', false);
    this.changed.dispose();
  }
}

/** Close a socket with a TCP reset (what a refused or broken connection looks like to the client). */
export function resetSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
