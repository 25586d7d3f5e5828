/**
 * What a pane's paste-progress strip shows (pure apart from its timer), fed by the input queue's
 * PasteProgress reports:
 * - while a paste of at least PASTE_PROGRESS_MIN_BYTES is being sent: bytes sent of the total,
 *   the percentage, Cancel;
 * - when it completes: nothing (the strip goes);
 * - when it was cancelled or failed: how much was sent, for PASTE_RESULT_LINGER_MS (or until the
 *   next paste, or dismissed).
 * Small pastes (they go in a blink) never show it.
 */
import { formatBytes } from '../components/format.js';
import type { PasteProgress } from './input-queue.js';

export const PASTE_PROGRESS_MIN_BYTES = 64 * 1024;
export const PASTE_RESULT_LINGER_MS = 5_000;

export interface PasteStripView {
  state: 'sending' | 'cancelled' | 'failed';
  sentBytes: number;
  totalBytes: number;
  /** 0..100, whole numbers (100 only when all was sent). */
  percent: number;
  /** "1.2 MiB of 4.0 MiB (30 %)" */
  text: string;
}

export function percentOf(sent: number, total: number): number {
  if (total <= 0) return 100;
  const p = Math.floor((sent / total) * 100);
  return sent >= total ? 100 : Math.min(99, Math.max(0, p));
}

export function stripView(p: PasteProgress): PasteStripView | null {
  if (p.state === 'done') return null;
  const percent = percentOf(p.sentBytes, p.totalBytes);
  const amounts = `${formatBytes(p.sentBytes)} of ${formatBytes(p.totalBytes)}`;
  const text =
    p.state === 'sending'
      ? `Pasting ${amounts} (${percent} %)`
      : p.state === 'cancelled'
        ? `Paste cancelled: ${amounts} sent`
        : `Paste failed: ${amounts} sent`;
  return { state: p.state, sentBytes: p.sentBytes, totalBytes: p.totalBytes, percent, text };
}

export interface PasteStatusOptions {
  minBytes?: number;
  lingerMs?: number;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
}

export class PasteStatus {
  private current: PasteStripView | null = null;
  private readonly listeners = new Set<(view: PasteStripView | null) => void>();
  private timer: unknown = undefined;
  private readonly minBytes: number;
  private readonly lingerMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private disposed = false;

  constructor(options: PasteStatusOptions = {}) {
    this.minBytes = options.minBytes ?? PASTE_PROGRESS_MIN_BYTES;
    this.lingerMs = options.lingerMs ?? PASTE_RESULT_LINGER_MS;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  /** What the strip shows now (null: no strip). */
  get view(): PasteStripView | null {
    return this.current;
  }

  /** A paste is being sent and the strip shows it (Esc cancels then). */
  get showingProgress(): boolean {
    return this.current?.state === 'sending';
  }

  update(progress: PasteProgress): void {
    if (this.disposed) return;
    this.stopTimer();
    const big = progress.totalBytes >= this.minBytes;
    const view = big ? stripView(progress) : null;
    if (view && view.state !== 'sending') {
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        this.set(null);
      }, this.lingerMs);
    }
    this.set(view);
  }

  /** Hide the result of a cancelled or failed paste now. */
  dismiss(): void {
    if (this.current?.state === 'sending') return;
    this.stopTimer();
    this.set(null);
  }

  /** Called with every change (and nothing at once); returns the unsubscribe. */
  onChange(listener: (view: PasteStripView | null) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  dispose(): void {
    this.disposed = true;
    this.stopTimer();
    this.listeners.clear();
    this.current = null;
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  private set(view: PasteStripView | null): void {
    if (view === null && this.current === null) return;
    this.current = view;
    for (const l of [...this.listeners]) l(view);
  }
}
