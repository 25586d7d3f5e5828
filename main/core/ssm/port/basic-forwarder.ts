/**
 * Forwarding for agents up to 3.0.196.0, which carry one TCP connection at a time (the
 * reference client's BasicPortForwarding): the session's byte stream is the connection. When
 * the local client closes it, the DisconnectToPort flag tells the agent to close its side and
 * dial again when the next connection sends data. Connections that arrive meanwhile wait (not
 * read) and are served in turn. Output from the target before any local client connected (a
 * server greeting) is kept for the first one, within a limit past which the data channel is
 * paused, so nothing is lost.
 */
import type net from 'node:net';
import { FlagValue } from '../codec.js';
import type { Logger } from '../../log/logger.js';
import { DisposableStore, toDisposable, type Disposable } from '../../util/lifecycle.js';
import type { SsmSession } from '../session.js';
import { ConnectionTable, resetSocket, type ForwardConnectionInfo } from './connections.js';

const EARLY_OUTPUT_LIMIT = 1024 * 1024;

export interface BasicForwarderOptions {
  target: string;
  logger: Logger;
}

export class BasicForwarder implements Disposable {
  private readonly store = new DisposableStore();
  private current: { socket: net.Socket; info: ForwardConnectionInfo } | undefined;
  private readonly waiting: net.Socket[] = [];
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private outputPaused = false;
  private closing = false;

  constructor(
    private readonly session: SsmSession,
    server: net.Server,
    private readonly table: ConnectionTable,
    options: BasicForwarderOptions,
  ) {
    this.store.add(session.onOutput((chunk) => this.fromInstance(chunk)));
    this.store.add(
      session.channel.onFlag((flag) => {
        if (flag !== FlagValue.ConnectToPortError) return;
        const c = this.current;
        if (!c) return;
        resetSocket(c.socket);
        this.release(
          `The instance could not connect to ${options.target} (ConnectToPortError): nothing is listening there, or a firewall on the instance refuses it.`,
          true,
        );
      }),
    );
    const onConnection = (socket: net.Socket): void => {
      if (this.closing || session.state === 'closed') {
        resetSocket(socket);
        return;
      }
      socket.on('error', () => undefined); // reported through 'close'
      if (this.current) this.waiting.push(socket);
      else this.attach(socket);
    };
    server.on('connection', onConnection);
    this.store.add(toDisposable(() => server.off('connection', onConnection)));
  }

  private fromInstance(chunk: Buffer): void {
    const c = this.current;
    if (!c) {
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes > EARLY_OUTPUT_LIMIT && !this.outputPaused) {
        this.outputPaused = true;
        this.session.pauseOutput();
      }
      return;
    }
    this.table.countIn(c.info, chunk.length);
    if (!c.socket.write(chunk) && !this.outputPaused) {
      this.outputPaused = true;
      this.session.pauseOutput();
      c.socket.once('drain', () => this.resumeOutput());
    }
  }

  private resumeOutput(): void {
    if (!this.outputPaused) return;
    this.outputPaused = false;
    this.session.resumeOutput();
  }

  private attach(socket: net.Socket): void {
    if (socket.destroyed) {
      this.next();
      return;
    }
    const info = this.table.add(socket);
    this.current = { socket, info };
    for (const chunk of this.early) {
      this.table.countIn(info, chunk.length);
      socket.write(chunk);
    }
    this.early = [];
    this.earlyBytes = 0;
    this.resumeOutput();
    const channel = this.session.channel;
    socket.on('data', (d: Buffer) => {
      if (this.session.state === 'closed') return;
      this.table.countOut(info, d.length);
      if (!channel.send(d)) {
        socket.pause();
        const sub = channel.onWritable(() => {
          sub.dispose();
          socket.resume();
        });
      }
    });
    socket.once('close', () => {
      if (this.current?.socket !== socket) return;
      // Tell the agent this connection is over; it dials again for the next one.
      if (this.session.state !== 'closed' && !this.closing) channel.sendFlag(FlagValue.DisconnectToPort);
      this.release('closed', false);
    });
    socket.resume();
  }

  private release(reason: string, failed: boolean): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    this.table.end(c.info, reason, failed);
    this.next();
  }

  private next(): void {
    const socket = this.waiting.shift();
    if (socket) this.attach(socket);
  }

  dispose(): void {
    this.closing = true;
    for (const s of this.waiting.splice(0)) resetSocket(s);
    this.store.dispose();
  }
}
