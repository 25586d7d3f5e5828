/**
 * Input of one terminal, serialised: at most one 'sessions.write' in flight, pieces sent in the
 * order they were typed or pasted, each at most MAX_WRITE_CHARS and never cut inside a UTF-16
 * surrogate pair. Keystrokes go out at once when nothing is in flight; what is typed while a
 * write is in flight is sent together right after it resolves. Large pastes are sliced lazily
 * (the queue keeps the pasted string, not a copy per piece).
 *
 * Pure: no DOM, no bridge. The pane controller gives it a `send` that calls 'sessions.write'.
 */
import { MAX_WRITE_CHARS } from '../../preload/api.js';

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

export interface InputQueueOptions {
  /** Sends one piece; the next is sent only after this settles. */
  send(data: string): Promise<unknown>;
  /** Defaults to MAX_WRITE_CHARS (at least 2). */
  maxChars?: number;
  /** A write failed: the queue is emptied (what could not be sent is counted in `droppedChars`). */
  onError?(err: unknown, droppedChars: number): void;
}

export class InputQueue {
  private readonly items: string[] = [];
  /** How much of items[0] has been sent already. */
  private head = 0;
  private inFlight = false;
  private paused: boolean;
  private disposed = false;
  private readonly max: number;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly options: InputQueueOptions,
    { paused = false }: { paused?: boolean } = {},
  ) {
    this.max = Math.max(2, options.maxChars ?? MAX_WRITE_CHARS);
    this.paused = paused;
  }

  /** Characters waiting (not yet handed to `send`). */
  get pendingChars(): number {
    let n = 0;
    for (const item of this.items) n += item.length;
    return n - this.head;
  }

  get busy(): boolean {
    return this.inFlight;
  }

  push(data: string): void {
    if (this.disposed || data.length === 0) return;
    this.items.push(data);
    this.pump();
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
    this.settleWaiters();
    return dropped;
  }

  /** Resolves when nothing is queued or in flight (or the queue is paused with nothing in flight). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private isIdle(): boolean {
    return !this.inFlight && (this.items.length === 0 || this.paused || this.disposed);
  }

  private settleWaiters(): void {
    if (!this.isIdle() || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** The next piece: queued input joined in order, up to `max` units. */
  private take(): string {
    let chunk = '';
    while (this.items.length > 0 && chunk.length < this.max) {
      const item = this.items[0]!;
      const room = this.max - chunk.length;
      const rest = item.length - this.head;
      if (rest <= room) {
        chunk += this.head === 0 ? item : item.slice(this.head);
        this.items.shift();
        this.head = 0;
        continue;
      }
      const end = pieceEnd(item, this.head, room);
      if (end === this.head) break; // room for 1 unit and a pair comes next: it goes in the next piece
      chunk += item.slice(this.head, end);
      this.head = end;
      break;
    }
    return chunk;
  }

  private pump(): void {
    if (this.inFlight || this.paused || this.disposed || this.items.length === 0) {
      this.settleWaiters();
      return;
    }
    const chunk = this.take();
    this.inFlight = true;
    let sent: Promise<unknown>;
    try {
      sent = this.options.send(chunk);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      () => {
        this.inFlight = false;
        this.pump();
      },
      (err: unknown) => {
        this.inFlight = false;
        const dropped = this.clear();
        if (!this.disposed) this.options.onError?.(err, chunk.length + dropped);
        this.settleWaiters();
      },
    );
  }
}
