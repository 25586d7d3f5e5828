/** An smux session over any byte transport (xtaci/smux session.go); see index.ts for the behaviours matched. */
import type { Logger } from '../../../log/logger.js';
import {
  DisposableStore,
  Emitter,
  LatchedEmitter,
  toDisposable,
  type Disposable,
  type Event,
  type Listener,
} from '../../../util/lifecycle.js';
import {
  ACCEPT_BACKLOG,
  SMUX_DEFAULTS,
  SmuxClosedError,
  SmuxCmd,
  SmuxFrameDecoder,
  type SmuxFrame,
  SmuxProtocolError,
  encodeSmuxFrame,
} from './frame.js';
import { Queue } from './queue.js';
import { SmuxStream, type ControlFrame, type SmuxStreamHost } from './stream.js';
export interface SmuxTransport {
  /** Send bytes to the peer; false = the transport is congested: wait for onWritable before more. */
  write(chunk: Buffer): boolean;
  /** Fires when a congested transport can take more. */
  onWritable: Event<void>;
  /** Stop / resume delivering peer bytes to feed() (backpressure when the receive budget is used up). */
  pause(): void;
  resume(): void;
}

export interface SmuxOptions {
  role: 'client' | 'server';
  /** Protocol version; both ends must agree (default 1, what SSM uses). */
  version?: 1 | 2;
  /** Default 10_000; 0 disables keep-alive (both sending NOPs and the timeout). */
  keepAliveIntervalMs?: number;
  /** Default 30_000; must not be below the interval. */
  keepAliveTimeoutMs?: number;
  /** Largest payload of a frame we send (default 32768, at most 65535). */
  maxFrameSize?: number;
  /** Session-wide receive budget (default 4 MiB). */
  maxReceiveBuffer?: number;
  /** Per-stream window announced to the peer (v2; default 65536). */
  maxStreamBuffer?: number;
  logger?: Logger;
}

export interface SmuxStats {
  openStreams: number;
  /** Streams ever opened on this session, by either side. */
  totalStreams: number;
  /** Bytes given to feed() / written to the transport, frame headers included. */
  bytesIn: number;
  bytesOut: number;
  /** Received bytes queued on streams and counted against maxReceiveBuffer. */
  receiveBuffered: number;
}

/** onStream with Go's accept backlog: streams opened while nobody listens wait for the first listener. */
class AcceptEmitter extends Emitter<SmuxStream> {
  backlog: SmuxStream[] = [];
  private scheduled = false;

  constructor(private readonly drained: () => void) {
    super();
  }

  protected override subscribe(listener: Listener<SmuxStream>): Disposable {
    const sub = super.subscribe(listener);
    if (this.backlog.length && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        while (this.backlog.length && this.listenerCount > 0) super.fire(this.backlog.shift()!);
        this.drained();
      });
    }
    return sub;
  }

  deliver(stream: SmuxStream): void {
    if (this.listenerCount === 0 || this.backlog.length || this.scheduled) this.backlog.push(stream);
    else super.fire(stream);
  }
}

export class SmuxSession implements Disposable {
  private readonly version: number;
  private readonly maxReceiveBuffer: number;
  private readonly logger: Logger | undefined;
  private readonly decoder: SmuxFrameDecoder;
  private readonly streams = new Map<number, SmuxStream>();
  private readonly store = new DisposableStore();
  private readonly acceptEmitter: AcceptEmitter;
  private readonly closeEmitter = new LatchedEmitter<{ reason: string; error?: Error }>();
  private readonly host: SmuxStreamHost;

  private nextStreamId: number;
  private goAway = false;
  private bucket: number;
  private dataReady = false;
  private isClosed = false;
  private totalStreams = 0;
  private bytesIn = 0;
  private bytesOut = 0;

  // Sending.
  private readonly control = new Queue<ControlFrame>();
  private nopQueued = false;
  private readonly sendable = new Set<SmuxStream>();
  private congested = false;
  /** Counts onWritable: a transport that fires it from inside write() must not leave us congested. */
  private writableEvents = 0;
  private pumping = false;
  private pumpAgain = false;

  // Receiving.
  private processing = false;
  private drainScheduled = false;
  private transportPaused = false;

  readonly onStream: Event<SmuxStream>;
  readonly onClose: Event<{ reason: string; error?: Error }>;

  constructor(
    private readonly transport: SmuxTransport,
    options: SmuxOptions,
  ) {
    const version = options.version ?? SMUX_DEFAULTS.version;
    const interval = options.keepAliveIntervalMs ?? SMUX_DEFAULTS.keepAliveIntervalMs;
    const timeout = options.keepAliveTimeoutMs ?? SMUX_DEFAULTS.keepAliveTimeoutMs;
    const frameSize = options.maxFrameSize ?? SMUX_DEFAULTS.maxFrameSize;
    const maxReceiveBuffer = options.maxReceiveBuffer ?? SMUX_DEFAULTS.maxReceiveBuffer;
    const maxStreamBuffer = options.maxStreamBuffer ?? SMUX_DEFAULTS.maxStreamBuffer;
    // mux.go VerifyConfig.
    if (version !== 1 && version !== 2) throw new RangeError('smux: unsupported protocol version');
    if (options.role !== 'client' && options.role !== 'server')
      throw new RangeError('smux: role must be client or server');
    if (interval < 0 || !Number.isFinite(interval))
      throw new RangeError('smux: keep-alive interval must be positive');
    if (interval > 0 && !(timeout >= interval))
      throw new RangeError('smux: keep-alive timeout must be larger than keep-alive interval');
    if (!Number.isInteger(frameSize) || frameSize <= 0)
      throw new RangeError('smux: max frame size must be positive');
    if (frameSize > 65535) throw new RangeError('smux: max frame size must not be larger than 65535');
    if (!(maxReceiveBuffer > 0)) throw new RangeError('smux: max receive buffer must be positive');
    if (!(maxStreamBuffer > 0)) throw new RangeError('smux: max stream buffer must be positive');
    if (maxStreamBuffer > maxReceiveBuffer)
      throw new RangeError('smux: max stream buffer must not be larger than max receive buffer');
    if (maxStreamBuffer > 0x7fffffff)
      throw new RangeError('smux: max stream buffer cannot be larger than 2147483647');

    this.version = version;
    this.maxReceiveBuffer = maxReceiveBuffer;
    this.logger = options.logger;
    this.bucket = maxReceiveBuffer;
    this.nextStreamId = options.role === 'client' ? 1 : 0;
    this.decoder = new SmuxFrameDecoder(version);
    this.acceptEmitter = new AcceptEmitter(() => this.scheduleDrain());
    this.onStream = this.acceptEmitter.event;
    this.onClose = this.closeEmitter.event;

    this.host = {
      version,
      frameSize,
      maxStreamBuffer,
      isClosed: () => this.isClosed,
      sendControl: (buf, done) => this.sendControl({ buf, done }),
      markSendable: (stream) => {
        if (this.isClosed) return;
        this.sendable.add(stream);
        this.pump();
      },
      consumed: (n) => this.returnTokens(n),
      detach: (stream) => {
        this.sendable.delete(stream);
        if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
      },
    };

    this.store.add(
      transport.onWritable(() => {
        this.writableEvents++;
        this.congested = false;
        this.pump();
      }),
    );
    if (interval > 0) {
      const ping = setInterval(() => this.sendNop(), interval);
      const check = setInterval(() => this.checkKeepAlive(timeout), timeout);
      ping.unref?.();
      check.unref?.();
      this.store.add(
        toDisposable(() => {
          clearInterval(ping);
          clearInterval(check);
        }),
      );
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get stats(): SmuxStats {
    return {
      openStreams: this.streams.size,
      totalStreams: this.totalStreams,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      receiveBuffered: this.maxReceiveBuffer - this.bucket,
    };
  }

  /** Opens a stream (sends SYN). Throws when the session is closed or stream ids are exhausted. */
  openStream(): SmuxStream {
    if (this.isClosed) throw new SmuxClosedError('smux: the session is closed');
    if (this.goAway) throw new SmuxClosedError('smux: stream id overflows, should start a new connection');
    const sid = (this.nextStreamId + 2) >>> 0;
    this.nextStreamId = sid;
    if (sid === sid % 2) {
      this.goAway = true;
      throw new SmuxClosedError('smux: stream id overflows, should start a new connection');
    }
    const stream = new SmuxStream(sid, this.host);
    this.streams.set(sid, stream);
    this.totalStreams++;
    this.sendControl({ buf: encodeSmuxFrame(this.version, SmuxCmd.SYN, sid) });
    return stream;
  }

  /**
   * Bytes from the peer, in any chunking. Never throws: a malformed frame closes the session (as
   * does an exception thrown by a listener while handling it). A chunk that is exactly one PSH
   * payload is handed to the stream without a copy: do not modify chunks after feeding them.
   */
  feed(chunk: Buffer): void {
    if (this.isClosed || chunk.length === 0) return;
    this.bytesIn += chunk.length;
    this.decoder.push(chunk);
    this.processInput();
  }

  close(reason = 'closed'): void {
    this.shutdown(reason, undefined);
  }

  dispose(): void {
    this.close('disposed');
  }

  // ---- receiving ----

  private get blocked(): boolean {
    return this.bucket <= 0 || this.acceptEmitter.backlog.length >= ACCEPT_BACKLOG;
  }

  private processInput(): void {
    if (this.processing) return; // the loop below is running further up the stack
    this.processing = true;
    try {
      while (!this.isClosed) {
        // session.go recvLoop: no tokens, no reading.
        if (this.blocked) {
          if (!this.transportPaused) {
            this.transportPaused = true;
            this.transport.pause();
          }
          return;
        }
        const frame = this.decoder.next();
        if (!frame) break;
        this.dataReady = true;
        this.dispatch(frame);
      }
      if (!this.isClosed && this.transportPaused) {
        this.transportPaused = false;
        this.transport.resume();
      }
    } catch (err) {
      if (err instanceof SmuxProtocolError) {
        this.logger?.warn({ err }, 'smux protocol error; closing the session');
        this.shutdown('protocol error', err);
      } else {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger?.error({ err: error }, 'error while handling smux input; closing the session');
        this.shutdown(`internal error: ${error.message}`, error);
      }
    } finally {
      this.processing = false;
    }
  }

  private dispatch(frame: SmuxFrame): void {
    const { cmd, sid, data } = frame;
    switch (cmd) {
      case SmuxCmd.NOP:
        return;
      case SmuxCmd.SYN: {
        if (this.streams.has(sid)) return;
        const stream = new SmuxStream(sid, this.host);
        this.streams.set(sid, stream);
        this.totalStreams++;
        this.acceptEmitter.deliver(stream);
        return;
      }
      case SmuxCmd.FIN:
        this.streams.get(sid)?.onPeerFin();
        return;
      case SmuxCmd.PSH: {
        if (data.length === 0) return;
        const stream = this.streams.get(sid);
        if (!stream || !stream.acceptsData()) return;
        this.bucket -= data.length;
        stream.onPeerData(data);
        return;
      }
      case SmuxCmd.UPD: {
        if (this.version !== 2) return;
        this.streams.get(sid)?.onPeerUpdate(data.readUInt32LE(0), data.readUInt32LE(4));
        return;
      }
    }
  }

  private returnTokens(n: number): void {
    if (this.isClosed) return;
    const wasBlocked = this.bucket <= 0;
    this.bucket += n;
    if (wasBlocked && this.bucket > 0) this.scheduleDrain();
  }

  /** Continue reading after a stall, outside the caller's stack (a read() or a listener). */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.isClosed) return;
    this.drainScheduled = true;
    queueMicrotask(() => {
      this.drainScheduled = false;
      this.processInput();
    });
  }

  private checkKeepAlive(timeout: number): void {
    // session.go keepalive: nothing arrived during a whole period, and not because we stopped reading.
    if (this.dataReady) {
      this.dataReady = false;
      return;
    }
    if (this.bucket > 0) {
      const reason = `keep-alive timeout: nothing received from the peer for ${timeout} ms`;
      this.shutdown(reason, new SmuxClosedError(`smux: ${reason}`));
    }
  }

  // ---- sending ----

  private sendNop(): void {
    if (this.nopQueued) return;
    this.nopQueued = true;
    this.sendControl({ buf: encodeSmuxFrame(this.version, SmuxCmd.NOP, 0), nop: true });
  }

  private sendControl(frame: ControlFrame): void {
    if (this.isClosed) return;
    this.control.push(frame);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (!this.isClosed && !this.congested) {
          const ctl = this.control.shift();
          if (ctl) {
            if (ctl.nop) this.nopQueued = false;
            this.writeRaw(ctl.buf);
            ctl.done?.();
            continue;
          }
          const stream = this.sendable.values().next().value as SmuxStream | undefined;
          if (!stream) break;
          this.sendable.delete(stream);
          const next = stream.nextFrame();
          if (!next) continue; // nothing to send, or waiting for a window update (v2)
          this.writeRaw(next.buf);
          if (stream.hasTx()) this.sendable.add(stream); // to the back: round-robin
          next.done?.();
        }
      } while (this.pumpAgain && !this.isClosed && !this.congested);
    } finally {
      this.pumping = false;
    }
  }

  private writeRaw(buf: Buffer): void {
    this.bytesOut += buf.length;
    const seen = this.writableEvents;
    if (!this.transport.write(buf) && this.writableEvents === seen) this.congested = true;
  }

  // ---- closing ----

  private shutdown(reason: string, error: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.logger?.debug({ reason, streams: this.streams.size }, 'smux session closed');
    this.store.dispose();
    this.control.clear();
    this.sendable.clear();
    this.decoder.clear();
    const streamError = error ?? new SmuxClosedError(`smux session closed: ${reason}`);
    const backlog = new Set(this.acceptEmitter.backlog);
    this.acceptEmitter.backlog = [];
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) {
      try {
        stream.sessionClosed(backlog.has(stream) ? undefined : streamError);
      } catch (err) {
        this.logger?.warn({ err, stream: stream.id }, 'error while failing an smux stream');
      }
    }
    this.acceptEmitter.dispose();
    this.closeEmitter.fire(error ? { reason, error } : { reason });
    this.closeEmitter.dispose();
  }
}
