/** One smux stream as a Node Duplex (xtaci/smux stream.go). */
import { Duplex } from 'node:stream';
import { INITIAL_PEER_WINDOW, SmuxClosedError, SmuxCmd, UPD_SIZE, encodeSmuxFrame } from './frame.js';
import { Queue } from './queue.js';
export interface ControlFrame {
  buf: Buffer;
  nop?: boolean;
  done?: () => void;
}

export interface TxItem {
  data: Buffer;
  off: number;
  cb: (err?: Error | null) => void;
}

/** @internal What a stream needs from its session. */
export interface SmuxStreamHost {
  readonly version: number;
  readonly frameSize: number;
  readonly maxStreamBuffer: number;
  isClosed(): boolean;
  sendControl(frame: Buffer, done?: () => void): void;
  markSendable(stream: SmuxStream): void;
  consumed(n: number): void;
  detach(stream: SmuxStream): void;
}

export class SmuxStream extends Duplex {
  // Receive side.
  private readonly rx = new Queue<Buffer>();
  private rxBytes = 0;
  private wantRead = false;
  private flushing = false;
  private finReceived = false;
  private eofPushed = false;
  // Send side.
  private readonly tx = new Queue<TxItem>();
  private finSent = false;
  /** Write callbacks not called when the stream stopped sending: failed once it is destroyed. */
  private heldWrites: Array<(err?: Error | null) => void> = [];
  // v2 windows (uint32 arithmetic, as stream.go).
  private numRead = 0;
  private incr = 0;
  private numWritten = 0;
  private peerConsumed = 0;
  private peerWindow = INITIAL_PEER_WINDOW;
  /** Set when the session closed: fail once what was received has been read. */
  private closeError: Error | undefined;

  /** @internal Streams come from SmuxSession.openStream() and onStream. */
  constructor(
    readonly id: number,
    private readonly host: SmuxStreamHost,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Bytes received and not yet handed to the readable side (counted in the session budget). */
  get queuedBytes(): number {
    return this.rxBytes;
  }

  // ---- readable side ----

  override _read(): void {
    this.wantRead = true;
    this.flushRx();
  }

  override read(size?: number): ReturnType<Duplex['read']> {
    const chunk: unknown = super.read(size);
    if (this.closeError && !this.destroyed && this.readableLength === 0) this.failSoon();
    return chunk;
  }

  private flushRx(): void {
    if (this.flushing) return;
    this.flushing = true;
    let consumed = 0;
    try {
      while (this.wantRead && this.rx.size > 0) {
        const chunk = this.rx.shift()!;
        this.rxBytes -= chunk.length;
        consumed += chunk.length;
        this.wantRead = this.push(chunk);
      }
      if (this.rx.size === 0 && this.finReceived && !this.eofPushed) {
        this.eofPushed = true;
        this.push(null);
      }
    } finally {
      this.flushing = false;
      if (consumed > 0) this.onConsumed(consumed);
    }
  }

  private onConsumed(n: number): void {
    this.host.consumed(n);
    if (this.host.version !== 2 || this.host.isClosed()) return;
    // stream.go tryReadv2: announce the window on the first read and every half buffer.
    this.numRead = (this.numRead + n) >>> 0;
    this.incr = (this.incr + n) >>> 0;
    if (this.incr >= Math.floor(this.host.maxStreamBuffer / 2) || this.numRead === n) {
      this.incr = 0;
      const upd = Buffer.allocUnsafe(UPD_SIZE);
      upd.writeUInt32LE(this.numRead, 0);
      upd.writeUInt32LE(this.host.maxStreamBuffer >>> 0, 4);
      this.host.sendControl(encodeSmuxFrame(2, SmuxCmd.UPD, this.id, upd));
    }
  }

  /** @internal Whether a PSH for this stream is to be queued (and counted). */
  acceptsData(): boolean {
    return !this.finReceived && !this.closeError && !this.destroyed;
  }

  /** @internal */
  onPeerData(data: Buffer): void {
    this.rx.push(data);
    this.rxBytes += data.length;
    if (this.wantRead) this.flushRx();
  }

  /** @internal */
  onPeerFin(): void {
    if (this.finReceived) return;
    this.finReceived = true;
    if (this.host.version === 2 && this.tx.size > 0) this.host.markSendable(this);
    if (this.rx.size === 0 && !this.eofPushed && !this.destroyed) {
      this.eofPushed = true;
      this.push(null);
    }
  }

  /** @internal v2 UPD. */
  onPeerUpdate(consumed: number, window: number): void {
    this.peerConsumed = consumed >>> 0;
    this.peerWindow = window >>> 0;
    if (this.tx.size > 0) this.host.markSendable(this);
  }

  // ---- writable side ----

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.closeError) {
      this.heldWrites.push(cb); // failed by the pending destroy
      return;
    }
    if (chunk.length === 0) {
      cb();
      return;
    }
    this.tx.push({ data: chunk, off: 0, cb });
    this.host.markSendable(this);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.closeError || this.host.isClosed()) return; // held: the pending destroy settles it
    this.finSent = true;
    this.host.sendControl(encodeSmuxFrame(this.host.version, SmuxCmd.FIN, this.id), () => cb());
  }

  /** @internal Whether data is queued for sending. */
  hasTx(): boolean {
    return this.tx.size > 0;
  }

  /**
   * @internal The next data frame to send, with the write callback to run once it is sent;
   * undefined when nothing can be sent now (nothing queued, or no v2 window).
   */
  nextFrame(): { buf: Buffer; done?: () => void } | undefined {
    for (;;) {
      const item = this.tx.peek();
      if (!item) return undefined;
      let size = Math.min(this.host.frameSize, item.data.length - item.off);
      if (this.host.version === 2) {
        const inflight = (this.numWritten - this.peerConsumed) | 0;
        if (inflight < 0) {
          this.failWrite(new Error(`smux: the peer consumed more than was sent on stream ${this.id}`));
          continue;
        }
        const win = (this.peerWindow | 0) - inflight;
        if (win <= 0) {
          if (!this.finReceived) return undefined;
          this.failWrite(
            new Error(`smux: stream ${this.id} was closed by the peer (EOF) while waiting to write`),
          );
          continue;
        }
        size = Math.min(size, win);
        this.numWritten = (this.numWritten + size) >>> 0;
      }
      const buf = encodeSmuxFrame(
        this.host.version,
        SmuxCmd.PSH,
        this.id,
        item.data.subarray(item.off, item.off + size),
      );
      item.off += size;
      if (item.off < item.data.length) return { buf };
      this.tx.shift();
      return { buf, done: () => item.cb() };
    }
  }

  private failWrite(err: Error): void {
    const item = this.tx.shift();
    item?.cb(err);
  }

  // ---- closing ----

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // stream.go Close: FIN once, drop what was not read, return its budget, forget the stream.
    if (!this.closeError && !this.host.isClosed() && !this.finSent) {
      this.finSent = true;
      this.host.sendControl(encodeSmuxFrame(this.host.version, SmuxCmd.FIN, this.id));
    }
    this.holdWrites();
    const unread = this.rxBytes;
    this.rx.clear();
    this.rxBytes = 0;
    if (unread > 0 && !this.host.isClosed()) this.host.consumed(unread);
    this.host.detach(this);
    cb(err);
    const held = this.heldWrites;
    this.heldWrites = [];
    if (held.length) {
      const failure =
        err ?? Object.assign(new Error('smux stream destroyed'), { code: 'ERR_STREAM_DESTROYED' });
      process.nextTick(() => {
        for (const write of held) write(failure);
      });
    }
  }

  private holdWrites(): void {
    for (const item of this.tx.clear()) this.heldWrites.push(item.cb);
  }

  /** @internal The session closed: deliver what was received, then fail with err. */
  sessionClosed(err: Error | undefined): void {
    if (this.destroyed || this.closeError) return;
    this.closeError = err ?? new SmuxClosedError('smux session closed');
    this.holdWrites();
    if (err === undefined) {
      // Never handed to the application (accept backlog): nobody to tell.
      this.destroy();
      return;
    }
    while (this.rx.size > 0) this.push(this.rx.shift()!);
    this.rxBytes = 0;
    if (this.finReceived && !this.eofPushed) {
      this.eofPushed = true;
      this.push(null);
    }
    if (this.readableLength === 0 || this.readableEnded) this.destroy(this.closeError);
  }

  private failSoon(): void {
    const err = this.closeError!;
    process.nextTick(() => {
      if (!this.destroyed) this.destroy(err);
    });
  }
}
