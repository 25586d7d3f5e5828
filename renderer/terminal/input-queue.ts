/**
 * Input of one terminal, serialised into 'sessions.write' calls: pieces sent in the order they
 * were typed or pasted, each at most MAX_WRITE_CHARS and never cut inside a UTF-16 surrogate
 * pair (so each piece is whole characters of UTF-8 on the wire). Large pastes are sliced lazily
 * (the queue keeps the pasted string, not a copy per piece).
 *
 * Keystrokes: at most one keystroke write in flight; what is typed meanwhile is sent together
 * right after it resolves (a keystroke write resolves as soon as the main side has queued it).
 *
 * Pastes (`pushPaste`):
 * - A piece of a paste resolves only once the instance's agent has acknowledged it (the `send`
 *   is told it is a paste piece: sessions.write with delivery 'acknowledged'), and at most
 *   `pasteWindow` pieces are in flight. So at most that much of a paste is ever beyond our
 *   reach: cancelling really stops sending, within one window.
 * - Keystrokes typed during a paste go after it, never into the middle of it (the remote reads
 *   the paste whole, then what was typed) - except Ctrl-C (`interrupt`), which cancels the rest of
 *   the paste and is sent at once, ahead of anything still queued.
 * - Cancelling (`cancelPaste`, or `interrupt`) drops what was not sent yet. A bracketed paste
 *   (xterm wraps it in ESC[200~ ... ESC[201~ when the remote asks) that was cut short gets its
 *   closing ESC[201~, so the remote program does not stay in paste mode.
 * - Progress (`onPasteProgress`): bytes of UTF-8 handed to the session against the total, for
 *   all pastes queued while one is going (a paste pasted during another joins it); then 'done',
 *   'cancelled' or 'failed'.
 *
 * Pure: no DOM, no bridge. The pane controller gives it a `send` that calls 'sessions.write'.
 */
import { MAX_WRITE_CHARS } from '../../preload/api.js';

/** Paste pieces in flight at once (each up to MAX_WRITE_CHARS): what a cancel cannot take back. */
export const PASTE_WINDOW = 2;

/** Bracketed-paste markers (DEC mode 2004), as xterm adds them. */
export const PASTE_START = '\x1b[200~';
export const PASTE_END = '\x1b[201~';

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Where a piece of `text` starting at `start` of at most `max` UTF-16 units ends: `start + max`,
 * or one less when that would separate a surrogate pair (so `start` itself when max is 1 and a
 * pair comes next). Always > start when max >= 2.
 */
export function pieceEnd(text: string, start: number, max: number): number {
  let end = Math.min(text.length, start + max);
  if (
    end < text.length &&
    isHighSurrogate(text.charCodeAt(end - 1)) &&
    isLowSurrogate(text.charCodeAt(end))
  ) {
    end -= 1;
  }
  return end;
}

/** `text` cut into pieces of at most `max` units, no surrogate pair split. */
export function chunkInput(text: string, max: number = MAX_WRITE_CHARS): string[] {
  if (max < 2) throw new RangeError('max must be at least 2');
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    const end = pieceEnd(text, at, max);
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/** Bytes of `text[start, end)` in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as TextEncoder does). */
export function utf8Length(text: string, start = 0, end: number = text.length): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (isHighSurrogate(c) && i + 1 < end && isLowSurrogate(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export type InputKind = 'keys' | 'paste';

export interface PasteProgress {
  /** UTF-8 bytes of the paste handed to the session so far (all of it is delivered, in order). */
  sentBytes: number;
  totalBytes: number;
  state: 'sending' | 'done' | 'cancelled' | 'failed';
}

export interface InputQueueOptions {
  /**
   * Sends one piece; `kind` 'paste': a piece of a paste, which should resolve only once it is
   * delivered (see the module comment).
   */
  send(data: string, kind: InputKind): Promise<unknown>;
  /** Defaults to MAX_WRITE_CHARS (at least 2). */
  maxChars?: number;
  /** Paste pieces in flight at once (default PASTE_WINDOW, at least 1). */
  pasteWindow?: number;
  /** A write failed: the queue is emptied (what could not be sent is counted in `droppedChars`). */
  onError?(err: unknown, droppedChars: number): void;
  /** The pastes' progress changed (see PasteProgress). */
  onPasteProgress?(progress: PasteProgress): void;
}

interface Item {
  kind: InputKind;
  text: string;
  /** A paste wrapped in bracketed-paste markers (its end marker is owed if it is cut short). */
  bracketed: boolean;
}

/** The pastes sent or queued since the progress began. */
interface PasteJob {
  totalBytes: number;
  sentBytes: number;
}

export class InputQueue {
  private readonly items: Item[] = [];
  /** How much of items[0] has been sent already. */
  private head = 0;
  private keysInFlight = 0;
  private pasteInFlight = 0;
  private paused: boolean;
  private disposed = false;
  private readonly max: number;
  private readonly window: number;
  private job: PasteJob | null = null;
  /** Bumped by every failure: pieces sent before it that fail too are not reported again. */
  private epoch = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly options: InputQueueOptions,
    { paused = false }: { paused?: boolean } = {},
  ) {
    this.max = Math.max(2, options.maxChars ?? MAX_WRITE_CHARS);
    this.window = Math.max(1, options.pasteWindow ?? PASTE_WINDOW);
    this.paused = paused;
  }

  /** Characters waiting (not yet handed to `send`). */
  get pendingChars(): number {
    let n = 0;
    for (const item of this.items) n += item.text.length;
    return n - this.head;
  }

  get busy(): boolean {
    return this.keysInFlight + this.pasteInFlight > 0;
  }

  /** A paste is being sent (queued or in flight). */
  get pasting(): boolean {
    return this.job !== null;
  }

  /** Keystrokes (or other input): sent at once, or after whatever is queued. */
  push(data: string): void {
    this.enqueue(data, 'keys');
  }

  /** A paste (as the terminal sends it: brackets and all): sent in order with bounded flight. */
  pushPaste(data: string): void {
    if (this.disposed || data.length === 0) return;
    const job = (this.job ??= { totalBytes: 0, sentBytes: 0 });
    job.totalBytes += utf8Length(data);
    this.report('sending');
    this.enqueue(data, 'paste');
  }

  /**
   * Ctrl-C (or another interrupting key): cancel the pastes and send `data` now, ahead of any
   * paste data still queued (keystrokes typed before it go with it, in order; paste pieces
   * already handed over are delivered first: the stream is ordered).
   */
  interrupt(data: string): void {
    if (this.disposed || data.length === 0) return;
    this.cancelPaste();
    this.items.push({ kind: 'keys', text: data, bracketed: false });
    this.pump(true);
  }

  /**
   * Stop the pastes: what was not handed over is dropped (an unfinished bracketed paste gets its
   * end marker). Returns the progress at that point (null when no paste was going).
   */
  cancelPaste(): PasteProgress | null {
    const job = this.job;
    if (!job) return null;
    let owed = '';
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i]!;
      if (item.kind !== 'paste') continue;
      if (i === 0 && this.head > 0 && item.bracketed) {
        // Cut short after its start marker: the end marker (or what is left of it) is owed.
        const endAt = item.text.length - PASTE_END.length;
        owed = this.head >= endAt ? item.text.slice(this.head) : PASTE_END;
      }
      this.items.splice(i, 1);
      if (i === 0) this.head = 0;
    }
    if (owed) this.items.unshift({ kind: 'keys', text: owed, bracketed: false });
    this.job = null;
    const progress: PasteProgress = { ...job, state: 'cancelled' };
    this.options.onPasteProgress?.(progress);
    this.pump();
    return progress;
  }

  /** Hold input (the session is not bound yet); it is kept and sent on resume. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Drop everything not yet sent; returns how many characters that was. */
  clear(): number {
    const dropped = this.pendingChars;
    this.items.length = 0;
    this.head = 0;
    if (this.job) {
      const job = this.job;
      this.job = null;
      this.options.onPasteProgress?.({ ...job, state: 'cancelled' });
    }
    this.settleWaiters();
    return dropped;
  }

  /** Resolves when nothing is queued or in flight (or the queue is paused with nothing in flight). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.items.length = 0;
    this.head = 0;
    this.job = null;
    this.settleWaiters();
  }

  private enqueue(data: string, kind: InputKind): void {
    if (this.disposed || data.length === 0) return;
    const bracketed = kind === 'paste' && data.startsWith(PASTE_START) && data.endsWith(PASTE_END);
    this.items.push({ kind, text: data, bracketed });
    this.pump();
  }

  private isIdle(): boolean {
    return !this.busy && (this.items.length === 0 || this.paused || this.disposed);
  }

  private settleWaiters(): void {
    if (!this.isIdle() || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private report(state: PasteProgress['state']): void {
    if (this.job) this.options.onPasteProgress?.({ ...this.job, state });
  }

  /** Keystrokes queued at the head, joined in order, up to `max` units. */
  private takeKeys(): string {
    let chunk = '';
    while (this.items.length > 0 && this.items[0]!.kind === 'keys' && chunk.length < this.max) {
      const item = this.items[0]!;
      const room = this.max - chunk.length;
      const rest = item.text.length - this.head;
      if (rest <= room) {
        chunk += this.head === 0 ? item.text : item.text.slice(this.head);
        this.items.shift();
        this.head = 0;
        continue;
      }
      const end = pieceEnd(item.text, this.head, room);
      if (end === this.head) break; // room for 1 unit and a pair comes next: it goes in the next piece
      chunk += item.text.slice(this.head, end);
      this.head = end;
      break;
    }
    return chunk;
  }

  /** The next piece of the paste at the head. */
  private takePaste(): string {
    const item = this.items[0]!;
    const end = pieceEnd(item.text, this.head, this.max);
    const chunk = item.text.slice(this.head, end);
    if (end >= item.text.length) {
      this.items.shift();
      this.head = 0;
    } else {
      this.head = end;
    }
    return chunk;
  }

  /** Send what may be sent now; `urgent`: the keystrokes at the head go even if a write is in flight. */
  private pump(urgent = false): void {
    while (!this.paused && !this.disposed && this.items.length > 0) {
      const kind = this.items[0]!.kind;
      if (kind === 'keys') {
        if (!urgent && (this.keysInFlight > 0 || this.keysInFlight + this.pasteInFlight >= this.window))
          break;
        urgent = false;
        this.dispatch(this.takeKeys(), 'keys');
      } else {
        if (this.keysInFlight + this.pasteInFlight >= this.window) break;
        const chunk = this.takePaste();
        if (this.job) this.job.sentBytes += utf8Length(chunk);
        this.dispatch(chunk, 'paste');
        this.report('sending');
      }
    }
    this.maybeFinishPaste();
    this.settleWaiters();
  }

  /** Every paste handed over and acknowledged: the progress ends. */
  private maybeFinishPaste(): void {
    if (!this.job || this.pasteInFlight > 0 || this.items.some((i) => i.kind === 'paste')) return;
    this.report('done');
    this.job = null;
  }

  private dispatch(chunk: string, kind: InputKind): void {
    if (kind === 'keys') this.keysInFlight++;
    else this.pasteInFlight++;
    const epoch = this.epoch;
    const job = kind === 'paste' ? this.job : null;
    let sent: Promise<unknown>;
    try {
      sent = this.options.send(chunk, kind);
    } catch (err) {
      sent = Promise.reject(err);
    }
    const settle = (): void => {
      if (kind === 'keys') this.keysInFlight--;
      else this.pasteInFlight--;
    };
    sent.then(
      () => {
        settle();
        this.pump();
      },
      (err: unknown) => {
        settle();
        if (epoch !== this.epoch || this.disposed) {
          this.settleWaiters();
          return;
        }
        this.epoch++;
        // This piece did not get through: it does not count as sent.
        if (job && job === this.job) job.sentBytes -= utf8Length(chunk);
        const failed = this.job;
        this.job = null;
        const dropped = this.pendingChars;
        this.items.length = 0;
        this.head = 0;
        if (failed) this.options.onPasteProgress?.({ ...failed, state: 'failed' });
        this.options.onError?.(err, chunk.length + dropped);
        this.settleWaiters();
      },
    );
  }
}
