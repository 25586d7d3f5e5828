/**
 * Multiplexed forwarding (agents newer than 3.0.196.0): every local TCP connection is an smux
 * stream over the one data channel, as session-manager-plugin's MuxPortForwarding does. The
 * agent dials the target for each stream; when it cannot, it sends the ConnectToPortError flag
 * and closes the stream: that connection alone is reset and reported, the others carry on.
 * Backpressure is end to end: a slow local reader holds its stream (and, past the receive
 * budget, the data channel); a congested data channel holds the local senders.
 */
import type net from 'node:net';
import { FlagValue } from '../codec.js';
import type { Logger } from '../../log/logger.js';
import { DisposableStore, toDisposable, type Disposable } from '../../util/lifecycle.js';
import type { SsmSession } from '../session.js';
import { ConnectionTable, resetSocket, type ForwardConnectionInfo } from './connections.js';
import { SmuxSession, type SmuxStream } from './smux/index.js';

export interface MuxForwarderOptions {
  /** Send smux keep-alives (agents up to 3.1.1511.0 expect them). */
  keepAlive: boolean;
  /** "port 5432 on i-0abc" or "db.internal:5432 via i-0abc", for messages. */
  target: string;
  logger: Logger;
}

export class MuxForwarder implements Disposable {
  private readonly store = new DisposableStore();
  private readonly mux: SmuxSession;
  /** ConnectToPortError flags not yet matched with the stream they were about. */
  private refusals = 0;
  private closing = false;

  constructor(
    private readonly session: SsmSession,
    server: net.Server,
    private readonly table: ConnectionTable,
    private readonly options: MuxForwarderOptions,
  ) {
    const channel = session.channel;
    this.mux = this.store.add(
      new SmuxSession(
        {
          write: (chunk) => (session.state === 'closed' ? true : channel.send(chunk)),
          onWritable: channel.onWritable,
          pause: () => session.pauseOutput(),
          resume: () => session.resumeOutput(),
        },
        { role: 'client', keepAliveIntervalMs: options.keepAlive ? 10_000 : 0, logger: options.logger },
      ),
    );
    this.store.add(session.onOutput((chunk) => this.mux.feed(chunk)));
    this.store.add(
      channel.onFlag((flag) => {
        if (flag === FlagValue.ConnectToPortError) this.refusals++;
      }),
    );
    this.store.add(
      this.mux.onClose(({ reason, error }) => {
        if (this.closing) return;
        options.logger.warn({ err: error, reason }, 'the multiplexer closed; ending the forward');
        this.table.endAll(`the multiplexed connection broke: ${reason}`, true);
      }),
    );
    const onConnection = (socket: net.Socket): void => this.accept(socket);
    server.on('connection', onConnection);
    this.store.add(toDisposable(() => server.off('connection', onConnection)));
  }

  private accept(socket: net.Socket): void {
    if (this.closing || this.mux.closed || this.session.state === 'closed') {
      resetSocket(socket);
      return;
    }
    const info = this.table.add(socket);
    let stream: SmuxStream;
    try {
      stream = this.mux.openStream();
    } catch (err) {
      resetSocket(socket);
      this.table.end(info, `could not open a stream: ${(err as Error).message}`, true);
      return;
    }
    info.streamId = stream.id;
    this.pipe(socket, stream, info);
  }

  private pipe(socket: net.Socket, stream: SmuxStream, info: ForwardConnectionInfo): void {
    let received = 0;
    let ended = false;
    const finish = (reason: string, failed: boolean): void => {
      if (ended) return;
      ended = true;
      this.table.end(info, reason, failed);
    };
    socket.on('data', (d: Buffer) => this.table.countOut(info, d.length));
    stream.on('data', (d: Buffer) => {
      received += d.length;
      this.table.countIn(info, d.length);
    });
    socket.pipe(stream);
    // Not ended by the pipe: a refused target must reset the socket, not close it politely.
    stream.pipe(socket, { end: false });
    socket.resume();
    stream.on('end', () => {
      // The agent closed the stream. Before any byte, after a ConnectToPortError: the target
      // refused this connection; tell the local client the same way (a reset).
      if (received === 0 && this.refusals > 0) {
        this.refusals--;
        resetSocket(socket);
        stream.destroy();
        finish(
          `The instance could not connect to ${this.options.target} (ConnectToPortError): nothing is listening there, or a firewall on the instance refuses it.`,
          true,
        );
        return;
      }
      socket.end();
    });
    stream.on('error', (err) => {
      resetSocket(socket);
      finish(`the stream failed: ${err.message}`, true);
    });
    socket.on('error', (err) => {
      stream.destroy();
      finish(`the local connection failed: ${err.message}`, false);
    });
    socket.on('close', () => {
      if (!stream.destroyed) stream.end();
      finish('closed', false);
    });
  }

  get streams(): number {
    return this.mux.stats.openStreams;
  }

  dispose(): void {
    this.closing = true;
    this.store.dispose();
  }
}
