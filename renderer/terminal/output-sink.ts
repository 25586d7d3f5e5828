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
 * Bounded hand-over to xterm: at most `maxUnparsedBytes` are written to xterm and not yet parsed;
 * further batches wait here (xterm cannot take back what it was given, this queue can).
 *
 * Paced hand-over during a flood: once `paceAboveBytes` were given to xterm within `paceMs`, what
 * arrives until those `paceMs` are up waits here and goes in one write then (the next window).
 * The page's main thread is shared by frames and by the WebSocket / IPC messages that bring
 * output: handed each batch at once, xterm asks for a frame after every parse, every frame redraws
 * every scrolled row (25-40 ms on the canvas renderer), and only a batch or two is received
 * between frames, so throughput was frames x ~100 KiB (measured 3.6 MB/s against 20 MB/s for
 * xterm alone). Held back, no frame is asked for, the messages are taken in quickly, and xterm
 * parses several hundred KiB per frame. Keystroke echoes and screen updates of full-screen
 * programs (a few KiB) never start the pacing, so they are drawn at once as before; the pacing
 * ends with the first window that stays below the threshold (the flood stopped).
 *
 * Interrupt (the user pressed Ctrl-C): when the terminal is behind (more than
 * `interruptBacklogBytes` waiting to be drawn), the output it has not drawn yet and what keeps
 * arriving is acknowledged at once without being drawn, so the main side reads on at network
 * speed and the program's remaining output drains in a moment instead of at drawing speed (a
 * terminal skipping frames). Only the last `interruptTailBytes` are kept; once the output has
 * been quiet for `interruptQuietMs` (the program stopped, the prompt is back) or after
 * `interruptMaxMs` (a program that ignored the interrupt), a line saying how much was skipped
 * and that tail are drawn, and drawing goes on as before. Nothing is lost on the main side: the
 * session's byte counts, history and replay buffer see every byte.
 *
 * Pure apart from the timer: the pane controller supplies `write` (xterm) and `ack` (bridge).
 */
import { formatBytes } from '../components/format.js';

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
  /** Most bytes written to xterm and not yet parsed (default MAX_UNPARSED_BYTES). */
  maxUnparsedBytes?: number;
  /** During a flood, hand output to xterm at most this often (default PACE_MS; 0: never pace). */
  paceMs?: number;
  /** This many bytes handed over within paceMs start (or continue) the pacing (default PACE_ABOVE_BYTES). */
  paceAboveBytes?: number;
  /** Clock in ms, for tests (default performance.now). */
  now?(): number;
  /** An interrupt skips output only when more than this waits to be drawn (default 64 KiB). */
  interruptBacklogBytes?: number;
  /** Output kept (and drawn) from what an interrupt skips (default 16 KiB). */
  interruptTailBytes?: number;
  /** Quiet time that ends the skipping (default 150 ms). */
  interruptQuietMs?: number;
  /** Longest skip (default 5 s). */
  interruptMaxMs?: number;
  /** Timer, for tests (default setTimeout/clearTimeout). */
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
}

export const ACK_THRESHOLD_BYTES = 64 * 1024;
export const ACK_INTERVAL_MS = 16;
export const MAX_UNPARSED_BYTES = 512 * 1024;
export const PACE_MS = 50;
export const PACE_ABOVE_BYTES = 64 * 1024;
export const INTERRUPT_BACKLOG_BYTES = 64 * 1024;
export const INTERRUPT_TAIL_BYTES = 16 * 1024;
export const INTERRUPT_QUIET_MS = 150;
export const INTERRUPT_MAX_MS = 5_000;

export interface OutputSinkStats {
  batches: number;
  written: number;
  skipped: number;
  straddled: number;
  /** Batches that started after the end of the previous one (output missing in between). */
  gaps: number;
  acks: number;
  ackedBytes: number;
  /** Interrupts that skipped output, and the bytes they skipped (acknowledged, never drawn). */
  interrupts: number;
  interruptSkippedBytes: number;
  /** Hand-overs made when the pacing's wait was over (all that arrived meanwhile, in one write). */
  pacedWrites: number;
}

/** The line drawn where an interrupt skipped output. */
export function skippedNotice(bytes: number): string {
  return `\x1b[0m\r\n\x1b[2m[${formatBytes(bytes)} of output not shown after Ctrl-C]\x1b[0m\r\n`;
}

/** `data` from its first line break on (the start of a skipped stream is mid-line), if it has one. */
function fromLineStart(data: string): string {
  const nl = data.indexOf('\n');
  return nl >= 0 && nl < data.length - 1 ? data.slice(nl + 1) : data;
}

interface Skipping {
  skippedBytes: number;
  /** The latest output (whole batches' text), at most the tail size in bytes. */
  tail: Array<{ data: string; bytes: number }>;
  tailBytes: number;
  quietTimer: unknown;
  maxTimer: unknown;
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
  /** Bytes written to xterm and not parsed yet. */
  private unparsed = 0;
  /** Batches waiting for xterm to parse what it has (at most maxUnparsed in xterm at a time). */
  private backlog: Array<{ data: string; bytes: number }> = [];
  private backlogBytes = 0;
  private skipping: Skipping | null = null;
  /** The current pacing window: when it started, and the bytes handed to xterm since. */
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowBytes = 0;
  /** Set while output is held back by the pacing. */
  private paceTimer: unknown = undefined;
  private readonly paceMs: number;
  private readonly paceAbove: number;
  private readonly now: () => number;
  private readonly threshold: number;
  private readonly interval: number;
  private readonly maxUnparsed: number;
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
    interrupts: 0,
    interruptSkippedBytes: 0,
    pacedWrites: 0,
  };

  constructor(private readonly options: OutputSinkOptions) {
    this.end = options.startOffset ?? 0;
    this.buffering = options.buffering ?? false;
    this.threshold = options.ackThresholdBytes ?? ACK_THRESHOLD_BYTES;
    this.interval = options.ackIntervalMs ?? ACK_INTERVAL_MS;
    this.maxUnparsed = options.maxUnparsedBytes ?? MAX_UNPARSED_BYTES;
    this.paceMs = options.paceMs ?? PACE_MS;
    this.paceAbove = options.paceAboveBytes ?? PACE_ABOVE_BYTES;
    this.now = options.now ?? (() => performance.now());
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

  /** Bytes not drawn yet: handed to xterm and not parsed, or waiting here. */
  get behindBytes(): number {
    return this.unparsed + this.backlogBytes;
  }

  /** Output is being skipped after an interrupt. */
  get isSkipping(): boolean {
    return this.skipping !== null;
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
    if (this.skipping) {
      this.skip(data, bytes);
      return;
    }
    if (this.paceTimer === undefined && this.paceMs > 0 && this.windowBytes >= this.paceAbove) {
      const since = this.now() - this.windowStart;
      if (since < this.paceMs) this.paceTimer = this.setTimer(this.onPace, this.paceMs - since);
    }
    if (
      this.paceTimer !== undefined ||
      this.backlog.length > 0 ||
      (this.unparsed > 0 && this.unparsed + bytes > this.maxUnparsed)
    ) {
      this.backlog.push({ data, bytes });
      this.backlogBytes += bytes;
      return;
    }
    this.hand(data, bytes);
  }

  /** Give xterm one write; it is acknowledged once parsed. */
  private hand(data: string, bytes: number): void {
    const now = this.now();
    if (now - this.windowStart >= this.paceMs) {
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    this.unparsed += bytes;
    this.parsedQueue.push(bytes);
    this.options.write(data, this.onParsed);
  }

  /** The pacing's wait is over: what arrived meanwhile goes to xterm. */
  private readonly onPace = (): void => {
    this.paceTimer = undefined;
    if (this.disposed || this.skipping) return;
    const waiting = this.backlog.length;
    this.drainBacklog();
    if (this.backlog.length < waiting) this.stats.pacedWrites++;
    else this.windowBytes = 0; // nothing could go: wait for xterm, unpaced
  };

  private cancelPace(): void {
    if (this.paceTimer === undefined) return;
    this.clearTimer(this.paceTimer);
    this.paceTimer = undefined;
  }

  /**
   * xterm parsed something (or the pacing's wait is over): hand it what waits here, within the
   * bound, joined into one write.
   */
  private drainBacklog(): void {
    if (this.paceTimer !== undefined || this.skipping || this.disposed) return;
    let take = 0;
    let bytes = 0;
    for (const next of this.backlog) {
      if (take > 0 || this.unparsed > 0) {
        if (this.unparsed + bytes + next.bytes > this.maxUnparsed) break;
      }
      take++;
      bytes += next.bytes;
    }
    if (take === 0) return;
    const batches = this.backlog.splice(0, take);
    this.backlogBytes -= bytes;
    this.hand(take === 1 ? batches[0]!.data : batches.map((b) => b.data).join(''), bytes);
  }

  /**
   * The user interrupted the program (Ctrl-C): if the terminal is behind, skip what it has not
   * drawn (see the module comment). Returns whether it skips.
   */
  interrupt(): boolean {
    if (this.disposed || this.buffering) return false;
    if (this.skipping) {
      this.restartQuiet();
      return true;
    }
    if (this.behindBytes <= (this.options.interruptBacklogBytes ?? INTERRUPT_BACKLOG_BYTES)) return false;
    this.stats.interrupts++;
    this.cancelPace();
    this.skipping = { skippedBytes: 0, tail: [], tailBytes: 0, quietTimer: undefined, maxTimer: undefined };
    this.skipping.maxTimer = this.setTimer(this.endSkip, this.options.interruptMaxMs ?? INTERRUPT_MAX_MS);
    const backlog = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    for (const b of backlog) this.skip(b.data, b.bytes);
    this.restartQuiet();
    return true;
  }

  /** While skipping: acknowledge at once, keep only the latest bytes. */
  private skip(data: string, bytes: number): void {
    const s = this.skipping!;
    this.addParsed(bytes);
    s.tail.push({ data, bytes });
    s.tailBytes += bytes;
    const keep = this.options.interruptTailBytes ?? INTERRUPT_TAIL_BYTES;
    while (s.tail.length > 1 && s.tailBytes - s.tail[0]!.bytes >= keep) {
      const dropped = s.tail.shift()!;
      s.tailBytes -= dropped.bytes;
      s.skippedBytes += dropped.bytes;
    }
    this.restartQuiet();
  }

  private restartQuiet(): void {
    const s = this.skipping;
    if (!s) return;
    if (s.quietTimer !== undefined) this.clearTimer(s.quietTimer);
    s.quietTimer = this.setTimer(this.endSkip, this.options.interruptQuietMs ?? INTERRUPT_QUIET_MS);
  }

  /** The output went quiet (or the skip lasted too long): draw the notice and the tail, go on drawing. */
  private readonly endSkip = (): void => {
    const s = this.skipping;
    if (!s) return;
    this.skipping = null;
    if (s.quietTimer !== undefined) this.clearTimer(s.quietTimer);
    if (s.maxTimer !== undefined) this.clearTimer(s.maxTimer);
    if (this.disposed) return;
    this.stats.interruptSkippedBytes += s.skippedBytes;
    let tail = s.tail.map((t) => t.data).join('');
    if (s.skippedBytes > 0) {
      tail = fromLineStart(tail);
      this.options.write(skippedNotice(s.skippedBytes), noop);
    }
    // Already acknowledged when it arrived.
    if (tail) this.options.write(tail, noop);
    this.drainBacklog();
  };

  private readonly onParsed = (): void => {
    const bytes = this.parsedQueue[this.parsedHead];
    if (bytes === undefined) return;
    this.parsedHead++;
    if (this.parsedHead > 1024 && this.parsedHead * 2 > this.parsedQueue.length) {
      this.parsedQueue.splice(0, this.parsedHead);
      this.parsedHead = 0;
    }
    this.unparsed -= bytes;
    this.addParsed(bytes);
    this.drainBacklog();
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

  /**
   * Hand xterm everything that waits here now, whatever the bound (and end a skip, drawing its
   * notice and tail): before something else is drawn after this output (a separator).
   */
  drawAll(): void {
    if (this.disposed) return;
    this.cancelPace();
    if (this.skipping) this.endSkip();
    const backlog = this.backlog;
    this.backlog = [];
    this.backlogBytes = 0;
    for (const b of backlog) this.hand(b.data, b.bytes);
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
    this.cancelPace();
    this.held = [];
    this.backlog = [];
    this.backlogBytes = 0;
    const s = this.skipping;
    this.skipping = null;
    if (s?.quietTimer !== undefined) this.clearTimer(s.quietTimer);
    if (s?.maxTimer !== undefined) this.clearTimer(s.maxTimer);
  }
}

function noop(): void {
  // output drawn without an acknowledgement of its own (it was acknowledged when it arrived)
}
