/**
 * One end of a Session Manager data channel, independent of the socket under it:
 * sequencing, acknowledgements, retransmission with an adaptive timeout, and an
 * out-of-order receive buffer that delivers each peer stream message exactly once
 * and in order. The client (main/core/ssm/data-channel.ts) and the sandbox agent
 * (main/sandbox/agent/) both use it, with opposite stream types.
 *
 * Unlike the reference plugin, the sender never drops an unacknowledged message
 * when its buffer is "full": the buffer is a high-water mark for back-pressure
 * (`writable` turns false and producers must wait for `onWritable`), so no byte
 * is ever lost.
 */
import {
  CodecError,
  MessageType,
  decodeMessage,
  encodeAcknowledge,
  encodeMessage,
  parseAcknowledge,
  type ChannelClosedContent,
  type ClientMessage,
} from './codec.js';
import { RttEstimator, type RttOptions } from './rtt.js';

export type StreamType = typeof MessageType.InputStreamData | typeof MessageType.OutputStreamData;

export interface FrameTransport {
  send(frame: Buffer): void;
  /**
   * Send a frame that may wait a moment (at most a few ms) to share a write with others: used
   * for acknowledgements when `deferAcks` is set and for bulk output. Absent: `send`.
   */
  sendDeferred?(frame: Buffer): void;
  /** Bytes queued but not yet written to the network (ws.bufferedAmount). */
  readonly bufferedAmount?: number;
}

export interface StreamEndpointHandlers {
  /** A peer stream message, delivered once and in sequence order. */
  onStreamMessage(message: ClientMessage): void;
  onChannelClosed?(content: ChannelClosedContent, message: ClientMessage): void;
  /** pause_publication (true) / start_publication (false) from the service. */
  onPublication?(paused: boolean): void;
  /** A frame that could not be used; the endpoint has already counted it. */
  onProtocolError?(error: Error, code: string): void;
  /** A message was resent maxResendAttempts times without an acknowledgement. */
  onResendExhausted?(sequenceNumber: number): void;
  /** The unacknowledged backlog fell below the low-water mark after being above the high-water mark. */
  onWritable?(): void;
  /** An acknowledgement arrived; rttMs is set when it gave an RTT sample. */
  onAck?(sequenceNumber: number, rttMs: number | undefined): void;
}

export interface StreamEndpointOptions {
  sendType: StreamType;
  /** Unacknowledged messages above which `writable` is false (default 10,000, as the plugin's buffer). */
  highWaterMessages?: number;
  /** Incoming out-of-order buffer capacity (default 10,000). */
  incomingCapacity?: number;
  /** Give up after this many resends of one message (default 3,000, about 5 minutes). */
  maxResendAttempts?: number;
  /** Resends per scheduler pass, oldest first (default 256). */
  maxResendsPerTick?: number;
  /** Longest wait between scheduler passes while messages are unacknowledged (default 100 ms). */
  maxTickMs?: number;
  /** Skip resends while the socket has more than this many bytes queued (default 4 MiB). */
  maxBufferedBytes?: number;
  /**
   * Acknowledge through the transport's sendDeferred (coalesced writes; the client's acks of
   * output). Off for the agent, whose acks of input time the client's round trips.
   */
  deferAcks?: boolean;
  rtt?: RttOptions;
  now?: () => number;
}

export interface StreamStats {
  framesIn: number;
  framesOut: number;
  /** Payload bytes of peer stream messages delivered in order. */
  payloadBytesIn: number;
  /** Payload bytes of our stream messages (first transmission only). */
  payloadBytesOut: number;
  acksIn: number;
  acksOut: number;
  retransmissions: number;
  duplicatesIn: number;
  outOfOrderIn: number;
  malformed: Record<string, number>;
  ignored: number;
  unacked: number;
  bufferedIncoming: number;
  rttMs: number;
  rtoMs: number;
}

interface Pending {
  seq: number;
  frame: Buffer;
  lastSent: number;
  attempts: number;
  /** False while it was queued but never put on a socket (detached or paused). */
  sent: boolean;
}

export class StreamEndpoint {
  readonly sendType: StreamType;
  readonly receiveType: StreamType;
  private transport: FrameTransport | undefined;
  private nextSeq = 0;
  private expectedSeq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly incoming = new Map<number, ClientMessage>();
  private readonly rtt: RttEstimator;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private paused = false;
  private blocked = false;
  private disposed = false;
  private readonly now: () => number;
  private readonly opts: Required<Omit<StreamEndpointOptions, 'rtt' | 'now' | 'sendType' | 'deferAcks'>>;
  private readonly deferAcks: boolean;
  private readonly counters = {
    framesIn: 0,
    framesOut: 0,
    payloadBytesIn: 0,
    payloadBytesOut: 0,
    acksIn: 0,
    acksOut: 0,
    retransmissions: 0,
    duplicatesIn: 0,
    outOfOrderIn: 0,
    ignored: 0,
  };
  private readonly malformed: Record<string, number> = {};

  constructor(
    options: StreamEndpointOptions,
    private readonly handlers: StreamEndpointHandlers,
  ) {
    this.sendType = options.sendType;
    this.receiveType =
      options.sendType === MessageType.InputStreamData
        ? MessageType.OutputStreamData
        : MessageType.InputStreamData;
    this.rtt = new RttEstimator(options.rtt);
    this.now = options.now ?? (() => performance.now());
    this.deferAcks = options.deferAcks ?? false;
    this.opts = {
      highWaterMessages: options.highWaterMessages ?? 10_000,
      incomingCapacity: options.incomingCapacity ?? 10_000,
      maxResendAttempts: options.maxResendAttempts ?? 3_000,
      maxResendsPerTick: options.maxResendsPerTick ?? 256,
      maxTickMs: options.maxTickMs ?? 100,
      maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
    };
  }

  // ---- transport ----------------------------------------------------------

  /** Put the endpoint on a (new) socket: everything unacknowledged is sent again at once. */
  attach(transport: FrameTransport): void {
    if (this.disposed) return;
    this.transport = transport;
    // A pause_publication belongs to the connection it came on: the service pauses a new one
    // again if the agent is still unreachable. Keeping it would hold input forever when the
    // agent came back while we were disconnected (the start_publication went to no socket).
    this.paused = false;
    this.flushPending();
  }

  /** The socket is gone; keep all state so a later attach resumes where we left off. */
  detach(): void {
    this.transport = undefined;
    this.clearTimer();
  }

  get attached(): boolean {
    return this.transport !== undefined;
  }

  // ---- sending ------------------------------------------------------------

  /**
   * Queue one stream message and send it now if possible. Returns its sequence number.
   * `deferred`: bulk output that may share a write with what follows (transport.sendDeferred).
   */
  send(payloadType: number, payload: Uint8Array, deferred = false): number {
    if (this.disposed) throw new Error('data channel is closed');
    const seq = this.nextSeq++;
    const frame = encodeMessage({
      messageType: this.sendType,
      payload,
      payloadType,
      sequenceNumber: seq,
      flags: 0n,
    });
    const t = this.now();
    const entry: Pending = {
      seq,
      frame,
      lastSent: t,
      attempts: 0,
      sent: false,
    };
    this.pending.set(seq, entry);
    this.counters.payloadBytesOut += payload.length;
    if (this.transport && !this.paused) {
      this.transmit(entry.frame, deferred);
      entry.sent = true;
    }
    if (this.pending.size >= this.opts.highWaterMessages) this.blocked = true;
    this.schedule();
    return seq;
  }

  /** Send a frame outside the sequenced stream (acknowledge, channel_closed, ...). Dropped when detached. */
  sendRaw(frame: Buffer): boolean {
    if (!this.transport || this.disposed) return false;
    this.transmit(frame);
    return true;
  }

  /** False when the unacknowledged backlog is above the high-water mark: wait for onWritable. */
  get writable(): boolean {
    return !this.blocked;
  }

  get unackedCount(): number {
    return this.pending.size;
  }

  /** Sequence number of the last message queued (-1 before the first). */
  get lastSequence(): number {
    return this.nextSeq - 1;
  }

  /** Has the peer acknowledged every message up to and including `seq`? */
  ackedThrough(seq: number): boolean {
    // `pending` iterates in insertion order, which is sequence order: its first key is the oldest.
    const oldest = this.pending.keys().next();
    return oldest.done === true || oldest.value > seq;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  private transmit(frame: Buffer, deferred = false): void {
    try {
      const t = this.transport;
      if (deferred && t?.sendDeferred) t.sendDeferred(frame);
      else t?.send(frame);
      this.counters.framesOut++;
    } catch {
      // A socket that fails on write is reported by its close/error events; the
      // message stays pending and is resent after the next attach.
    }
  }

  // ---- receiving ----------------------------------------------------------

  /** Feed one binary WebSocket frame. Never throws. */
  handleFrame(frame: Buffer): void {
    if (this.disposed) return;
    this.counters.framesIn++;
    let msg: ClientMessage;
    try {
      msg = decodeMessage(frame);
    } catch (err) {
      const code = err instanceof CodecError ? err.code : 'decode_error';
      this.countMalformed(code, err as Error);
      return;
    }
    switch (msg.messageType) {
      case this.receiveType:
        this.receiveStream(msg);
        return;
      case MessageType.Acknowledge:
        this.receiveAck(msg);
        return;
      case MessageType.ChannelClosed: {
        let content: ChannelClosedContent = {};
        try {
          const parsed: unknown = JSON.parse(msg.payload.toString('utf8'));
          if (parsed && typeof parsed === 'object') content = parsed as ChannelClosedContent;
        } catch (err) {
          this.countMalformed('invalid_json', err as Error);
        }
        this.handlers.onChannelClosed?.(content, msg);
        return;
      }
      case MessageType.PausePublication:
        this.paused = true;
        this.handlers.onPublication?.(true);
        return;
      case MessageType.StartPublication:
        this.paused = false;
        this.handlers.onPublication?.(false);
        this.flushPending();
        return;
      default:
        this.counters.ignored++;
        this.countMalformed(
          'unknown_message_type',
          new Error(`unknown message type ${JSON.stringify(msg.messageType)}`),
        );
    }
  }

  private countMalformed(code: string, err: Error): void {
    this.malformed[code] = (this.malformed[code] ?? 0) + 1;
    this.handlers.onProtocolError?.(err, code);
  }

  private ack(msg: ClientMessage): void {
    if (!this.transport) return;
    this.transmit(encodeAcknowledge(msg), this.deferAcks);
    this.counters.acksOut++;
  }

  private receiveStream(msg: ClientMessage): void {
    const seq = Number(msg.sequenceNumber);
    if (!Number.isSafeInteger(seq) || seq < 0) {
      this.countMalformed(
        'bad_sequence_number',
        new Error(`sequence number ${msg.sequenceNumber} out of range`),
      );
      return;
    }
    if (seq < this.expectedSeq) {
      // Duplicate: our first ack may have been lost, so ack again; never deliver twice.
      this.counters.duplicatesIn++;
      this.ack(msg);
      return;
    }
    if (seq > this.expectedSeq) {
      if (this.incoming.has(seq)) {
        this.counters.duplicatesIn++;
        this.ack(msg);
        return;
      }
      if (this.incoming.size >= this.opts.incomingCapacity) return; // not acked: the sender resends later
      this.counters.outOfOrderIn++;
      this.incoming.set(seq, msg);
      this.ack(msg);
      return;
    }
    this.ack(msg);
    this.deliver(msg);
    for (let next = this.incoming.get(this.expectedSeq); next; next = this.incoming.get(this.expectedSeq)) {
      this.incoming.delete(this.expectedSeq);
      this.deliver(next);
    }
  }

  private deliver(msg: ClientMessage): void {
    this.expectedSeq++;
    this.counters.payloadBytesIn += msg.payload.length;
    try {
      this.handlers.onStreamMessage(msg);
    } catch (err) {
      this.countMalformed('handler_error', err as Error);
    }
  }

  private receiveAck(msg: ClientMessage): void {
    let seq: number;
    try {
      const content = parseAcknowledge(msg.payload);
      if (content.AcknowledgedMessageType && content.AcknowledgedMessageType !== this.sendType) {
        this.counters.ignored++;
        return;
      }
      seq = content.AcknowledgedMessageSequenceNumber;
    } catch (err) {
      this.countMalformed('invalid_ack', err as Error);
      return;
    }
    this.counters.acksIn++;
    const entry = this.pending.get(seq);
    if (!entry) return; // a late or duplicate ack
    this.pending.delete(seq);
    let sample: number | undefined;
    if (entry.attempts === 0 && entry.sent) {
      // Karn's rule: only messages sent once give an unambiguous RTT sample.
      sample = this.now() - entry.lastSent;
      this.rtt.sample(sample);
    }
    this.handlers.onAck?.(seq, sample);
    if (this.pending.size === 0) this.clearTimer();
    if (this.blocked && this.pending.size <= this.opts.highWaterMessages / 2) {
      this.blocked = false;
      this.handlers.onWritable?.();
    }
  }

  // ---- retransmission -----------------------------------------------------

  /** Put every pending message on the socket now (after an attach or start_publication). */
  private flushPending(): void {
    if (!this.transport || this.paused || this.disposed) return;
    const t = this.now();
    for (const entry of this.pending.values()) this.sendEntry(entry, t);
    this.schedule();
  }

  /** First transmission of a queued message, or a retransmission of a sent one. */
  private sendEntry(entry: Pending, t: number): void {
    if (entry.sent) {
      entry.attempts++;
      this.counters.retransmissions++;
    }
    entry.sent = true;
    entry.lastSent = t;
    this.transmit(entry.frame);
  }

  private schedule(): void {
    if (this.timer || this.pending.size === 0 || !this.transport || this.disposed) return;
    const delay = Math.max(10, Math.min(this.opts.maxTickMs, this.rtt.rto));
    this.timer = setTimeout(() => {
      // Timers run before the event loop reads sockets: after a busy turn, acknowledgements may
      // be waiting unread. Decide what is overdue only after they are processed (check phase),
      // or every such turn would resend messages that were already acknowledged.
      this.immediate = setImmediate(() => {
        this.timer = undefined;
        this.immediate = undefined;
        this.resendDue();
      });
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private resendDue(): void {
    if (!this.transport || this.paused || this.disposed) return;
    const buffered = this.transport.bufferedAmount ?? 0;
    if (buffered <= this.opts.maxBufferedBytes) {
      const t = this.now();
      const rto = this.rtt.rto;
      let budget = this.opts.maxResendsPerTick;
      for (const entry of this.pending.values()) {
        if (budget === 0) break;
        if (entry.sent && t - entry.lastSent < rto) continue;
        if (entry.attempts >= this.opts.maxResendAttempts) {
          this.handlers.onResendExhausted?.(entry.seq);
          return;
        }
        this.sendEntry(entry, t);
        budget--;
      }
    }
    this.schedule();
  }

  // ---- lifecycle ----------------------------------------------------------

  get stats(): StreamStats {
    return {
      ...this.counters,
      malformed: { ...this.malformed },
      unacked: this.pending.size,
      bufferedIncoming: this.incoming.size,
      rttMs: this.rtt.smoothedRtt,
      rtoMs: this.rtt.rto,
    };
  }

  /** Release timers and buffers. The endpoint cannot be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.clearTimer();
    this.transport = undefined;
    this.pending.clear();
    this.incoming.clear();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
