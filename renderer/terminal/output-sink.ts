/**
 * The output path of one session into one terminal: 'session.output' batches are written to
 * xterm in order, and once xterm has parsed a batch its bytes are acknowledged ('sessions.ack'),
 * coalesced (one ack per ACK_INTERVAL_MS, or at once when ACK_THRESHOLD_BYTES are waiting).
 * The main side pauses a session above 1 MiB unacknowledged, so a slow or hidden terminal slows
 * the remote program down instead of growing memory. Nothing is dropped: hidden terminals are
 * written too (xterm keeps parsing, it only skips drawing).
 *
 * Attaching late (a reloaded page): the sink starts `buffering`; events are held until the
 * replay has been written, then `startLive(endOffset)` applies only the held and later events
 * that end after endOffset. Events are whole batches and the replay ends on a batch boundary,
 * so an event either ends at or before endOffset (already in the replay: skipped, and not
 * acknowledged again since the replay acknowledged everything up to endOffset) or starts at or
 * after it (written and acknowledged). A batch straddling endOffset would mean the main side
 * cut the replay inside a batch; it is handled anyway (only the part after endOffset is written
 * and acknowledged) and counted in `stats.straddled`.
 *
 * Pure apart from the timer: the pane controller supplies `write` (xterm) and `ack` (bridge).
 */

export interface OutputBatch {
  offset: number;
  bytes: number;
  data: string;
}

export interface OutputSinkOptions {
  /** Write to the terminal; call `parsed` once it is parsed (xterm's write callback). */
  write(data: string, parsed: () => void): void;
  /** Acknowledge this many more bytes (sessions.ack); errors are the caller's to swallow. */
  ack(bytes: number): void;
  /** Start `buffering` (for a replay) rather than live. */
  buffering?: boolean;
  /** Where output starts (0 for a new session). */
  startOffset?: number;
  ackThresholdBytes?: number;
  ackIntervalMs?: number;
  /** Timer, for tests (default setTimeout/clearTimeout). */
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
}

export const ACK_THRESHOLD_BYTES = 64 * 1024;
export const ACK_INTERVAL_MS = 16;

export interface OutputSinkStats {
  batches: number;
  written: number;
  skipped: number;
  straddled: number;
  /** Batches that started after the end of the previous one (output missing in between). */
  gaps: number;
  acks: number;
  ackedBytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The last `bytes` bytes of `data` as UTF-8, from a character boundary. */
export function utf8Tail(data: string, bytes: number): string {
  const encoded = encoder.encode(data);
  if (bytes >= encoded.length) return data;
  let start = encoded.length - bytes;
  while (start < encoded.length && (encoded[start]! & 0xc0) === 0x80) start++;
  return decoder.decode(encoded.subarray(start));
}

export class OutputSink {
  /** Offset of the end of the last batch applied (or of the replay). */
  private end: number;
  private buffering: boolean;
  private held: OutputBatch[] = [];
  /** Bytes to acknowledge per write, in write order (xterm calls write callbacks in order). */
  private readonly parsedQueue: number[] = [];
  private parsedHead = 0;
  private unacked = 0;
  private timer: unknown = undefined;
  private disposed = false;
  private readonly threshold: number;
  private readonly interval: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  readonly stats: OutputSinkStats = {
    batches: 0,
    written: 0,
    skipped: 0,
    straddled: 0,
    gaps: 0,
    acks: 0,
    ackedBytes: 0,
  };

  constructor(private readonly options: OutputSinkOptions) {
    this.end = options.startOffset ?? 0;
    this.buffering = options.buffering ?? false;
    this.threshold = options.ackThresholdBytes ?? ACK_THRESHOLD_BYTES;
    this.interval = options.ackIntervalMs ?? ACK_INTERVAL_MS;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get isBuffering(): boolean {
    return this.buffering;
  }

  /** Offset up to which output has been applied. */
  get offset(): number {
    return this.end;
  }

  /** Bytes parsed by xterm and not yet acknowledged. */
  get pendingAck(): number {
    return this.unacked;
  }

  /** One 'session.output' batch. */
  push(batch: OutputBatch): void {
    if (this.disposed) return;
    if (this.buffering) {
      this.held.push(batch);
      return;
    }
    this.apply(batch);
  }

  /** The replay (ending at `endOffset`) has been written: apply what was held, then go live. */
  startLive(endOffset: number): void {
    if (this.disposed) return;
    this.end = endOffset;
    this.buffering = false;
    const held = this.held;
    this.held = [];
    for (const batch of held) this.apply(batch);
  }

  private apply(batch: OutputBatch): void {
    this.stats.batches++;
    const batchEnd = batch.offset + batch.bytes;
    if (batchEnd <= this.end) {
      this.stats.skipped++;
      return;
    }
    let data = batch.data;
    let bytes = batch.bytes;
    if (batch.offset < this.end) {
      this.stats.straddled++;
      bytes = batchEnd - this.end;
      data = utf8Tail(data, bytes);
    } else if (batch.offset > this.end) {
      this.stats.gaps++;
    }
    this.end = batchEnd;
    this.stats.written++;
    if (data.length === 0) {
      // Only part of a character (carried over to the next batch): nothing to draw.
      this.addParsed(bytes);
      return;
    }
    this.parsedQueue.push(bytes);
    this.options.write(data, this.onParsed);
  }

  private readonly onParsed = (): void => {
    const bytes = this.parsedQueue[this.parsedHead];
    if (bytes === undefined) return;
    this.parsedHead++;
    if (this.parsedHead > 1024 && this.parsedHead * 2 > this.parsedQueue.length) {
      this.parsedQueue.splice(0, this.parsedHead);
      this.parsedHead = 0;
    }
    this.addParsed(bytes);
  };

  private addParsed(bytes: number): void {
    if (this.disposed) return;
    this.unacked += bytes;
    if (this.unacked >= this.threshold) this.flush();
    else if (this.timer === undefined) this.timer = this.setTimer(this.onTimer, this.interval);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flush();
  };

  /** Send the pending acknowledgement now. */
  flush(): void {
    if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    if (this.unacked <= 0 || this.disposed) return;
    const bytes = this.unacked;
    this.unacked = 0;
    this.stats.acks++;
    this.stats.ackedBytes += bytes;
    this.options.ack(bytes);
  }

  /** Stop: pending acknowledgements are sent when `flushFirst`, held batches are dropped. */
  dispose(flushFirst = false): void {
    if (this.disposed) return;
    if (flushFirst) this.flush();
    else if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    this.disposed = true;
    this.held = [];
  }
}
