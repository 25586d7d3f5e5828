/**
 * Terminal output on its way to the renderer: batched per session (no per-chunk IPC), decoded
 * as UTF-8 without splitting a character across batches, numbered by byte offset, and kept in
 * a bounded replay buffer so a page that attaches late (a reload in web mode, a second window)
 * can draw the recent screen and then continue exactly where the buffer ends.
 *
 * A batch is flushed after `intervalMs` (one frame, 16 ms) from its first byte, or at once when
 * it reaches `maxBatchBytes`, so a busy session sends about 60 events a second of up to 64 KiB,
 * and a keystroke echo waits at most one frame.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Disposable } from '../util/lifecycle.js';

export interface OutputBatch {
  sessionId: string;
  /** Byte offset of the session's output at the start of this batch. */
  offset: number;
  /** Raw bytes in this batch (what the consumer acknowledges). */
  bytes: number;
  data: string;
}

export interface OutputBatcherOptions {
  /** Longest a byte waits before its batch is sent (default 16 ms). */
  intervalMs?: number;
  /** A batch is sent at once when it holds this many bytes (default 64 KiB). */
  maxBatchBytes?: number;
  /** Recent output kept per session for late attachers (default 512 KiB). */
  replayBytes?: number;
  /** Called with every batch, in order per session. */
  emit: (batch: OutputBatch) => void;
}

interface SessionOutput {
  decoder: StringDecoder;
  /** Bytes of all output so far (the offset after the last byte added). */
  total: number;
  /** Pending batch. */
  chunks: Buffer[];
  pendingBytes: number;
  pendingOffset: number;
  timer: NodeJS.Timeout | undefined;
  /** Replay ring: raw buffers, newest last, with their total size. */
  replay: Buffer[];
  replayBytes: number;
  /** True once output older than the ring was dropped from it. */
  truncated: boolean;
}

export class OutputBatcher implements Disposable {
  private readonly sessions = new Map<string, SessionOutput>();
  private intervalMs: number;
  private readonly maxBatchBytes: number;
  private replayLimit: number;

  constructor(private readonly options: OutputBatcherOptions) {
    this.intervalMs = options.intervalMs ?? 16;
    this.maxBatchBytes = options.maxBatchBytes ?? 64 * 1024;
    this.replayLimit = options.replayBytes ?? 512 * 1024;
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Batch less often (the governor slows UI updates); applies from the next batch. */
  setIntervalMs(ms: number): void {
    this.intervalMs = Math.max(1, Math.round(ms));
  }

  get replayLimitBytes(): number {
    return this.replayLimit;
  }

  /** Change the replay ring's size; a smaller one trims every session's ring now. */
  setReplayLimit(bytes: number): void {
    this.replayLimit = Math.max(0, Math.round(bytes));
    for (const s of this.sessions.values()) this.trimReplay(s);
  }

  /** Bytes held in replay rings, all sessions (for the leak watch and diagnostics). */
  get replayBytes(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.replayBytes;
    return n;
  }

  /** Start tracking a session (idempotent). */
  add(sessionId: string): void {
    if (this.sessions.has(sessionId)) return;
    this.sessions.set(sessionId, {
      decoder: new StringDecoder('utf8'),
      total: 0,
      chunks: [],
      pendingBytes: 0,
      pendingOffset: 0,
      timer: undefined,
      replay: [],
      replayBytes: 0,
      truncated: false,
    });
  }

  push(sessionId: string, data: Buffer): void {
    if (data.length === 0) return;
    let s = this.sessions.get(sessionId);
    if (!s) {
      this.add(sessionId);
      s = this.sessions.get(sessionId)!;
    }
    if (s.pendingBytes === 0) s.pendingOffset = s.total;
    s.chunks.push(data);
    s.pendingBytes += data.length;
    s.total += data.length;
    this.remember(s, data);
    if (s.pendingBytes >= this.maxBatchBytes) {
      this.flushSession(sessionId, s);
    } else if (!s.timer) {
      s.timer = setTimeout(() => this.flushSession(sessionId, s), this.intervalMs);
    }
  }

  private remember(s: SessionOutput, data: Buffer): void {
    if (this.replayLimit <= 0) return;
    s.replay.push(data);
    s.replayBytes += data.length;
    this.trimReplay(s);
  }

  private trimReplay(s: SessionOutput): void {
    if (this.replayLimit <= 0 && s.replay.length > 0) {
      s.replay = [];
      s.replayBytes = 0;
      s.truncated = true;
      return;
    }
    while (s.replay.length > 0 && s.replayBytes - s.replay[0]!.length >= this.replayLimit) {
      s.replayBytes -= s.replay.shift()!.length;
      s.truncated = true;
    }
    // A single chunk larger than the limit is cut to its tail.
    if (s.replay.length === 1 && s.replayBytes > this.replayLimit * 2) {
      s.replay[0] = Buffer.from(s.replay[0]!.subarray(s.replayBytes - this.replayLimit));
      s.replayBytes = this.replayLimit;
      s.truncated = true;
    }
  }

  private flushSession(sessionId: string, s: SessionOutput): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (s.pendingBytes === 0) return;
    const buf = s.chunks.length === 1 ? s.chunks[0]! : Buffer.concat(s.chunks, s.pendingBytes);
    const batch: OutputBatch = {
      sessionId,
      offset: s.pendingOffset,
      bytes: s.pendingBytes,
      data: s.decoder.write(buf),
    };
    s.chunks = [];
    s.pendingBytes = 0;
    this.options.emit(batch);
  }

  /** Send every pending batch now (before a session-closed event, at shutdown). */
  flush(sessionId?: string): void {
    if (sessionId !== undefined) {
      const s = this.sessions.get(sessionId);
      if (s) this.flushSession(sessionId, s);
      return;
    }
    for (const [id, s] of this.sessions) this.flushSession(id, s);
  }

  /**
   * The recent output, decoded, and the offset it ends at. Pending output is flushed first, so
   * every later batch starts at or after `endOffset`.
   */
  replay(sessionId: string): { data: string; endOffset: number; truncated: boolean } | undefined {
    const s = this.sessions.get(sessionId);
    if (!s) return undefined;
    this.flushSession(sessionId, s);
    let raw = Buffer.concat(s.replay, s.replayBytes);
    if (s.truncated) raw = raw.subarray(utf8Start(raw));
    // A character split at the end stays in the live decoder; decode the whole ones here.
    const decoder = new StringDecoder('utf8');
    return { data: decoder.write(raw), endOffset: s.total, truncated: s.truncated };
  }

  /** Total output bytes of a session so far. */
  totalBytes(sessionId: string): number {
    return this.sessions.get(sessionId)?.total ?? 0;
  }

  /** Stop tracking a session: flush what is pending, then release its buffers. */
  remove(sessionId: string): void {
    const s = this.sessions.get(sessionId);
    if (!s) return;
    // An incomplete character at the very end (a shell killed mid-write) is dropped with it.
    this.flushSession(sessionId, s);
    this.sessions.delete(sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }

  dispose(): void {
    for (const s of this.sessions.values()) if (s.timer) clearTimeout(s.timer);
    this.sessions.clear();
  }
}

/** Index of the first byte that starts a UTF-8 character (skips continuation bytes, at most 3). */
function utf8Start(buf: Buffer): number {
  let i = 0;
  while (i < 3 && i < buf.length && (buf[i]! & 0xc0) === 0x80) i++;
  return i;
}
