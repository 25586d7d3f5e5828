/**
 * Per-session connection metrics for the Performance view: input round trips (from the
 * protocol's acknowledgement timing) summarised as p50/p99, and throughput in each direction,
 * sampled at a steady interval into one event for all sessions, with a bounded history so a
 * view that opens late starts with the recent past.
 *
 * The timer runs only while at least one session is tracked, so an idle app costs nothing.
 */
import type { Disposable } from '../util/lifecycle.js';

export interface MetricsSample {
  /** Epoch ms at the end of the interval. */
  t: number;
  latencyP50: number | null;
  latencyP99: number | null;
  inBytesPerSec: number;
  outBytesPerSec: number;
}

export interface MetricsTick {
  intervalMs: number;
  samples: (MetricsSample & { sessionId: string })[];
}

export interface SessionMetricsOptions {
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Samples kept per session (default 300: five minutes at 1 s). */
  historySize?: number;
  onTick: (tick: MetricsTick) => void;
  /** Injected for tests. */
  now?: () => number;
}

interface Tracked {
  rtts: number[];
  inBytes: number;
  outBytes: number;
  history: MetricsSample[];
}

/** The q-quantile (0..1) of values by nearest rank; null when empty. Sorts in place. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1));
  return values[rank]!;
}

/** Keep latency figures readable and the events small: 0.01 ms resolution. */
const round2 = (n: number | null): number | null => (n === null ? null : Math.round(n * 100) / 100);

export class SessionMetrics implements Disposable {
  private readonly tracked = new Map<string, Tracked>();
  private readonly intervalMs: number;
  private readonly historySize: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;

  constructor(private readonly options: SessionMetricsOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.historySize = options.historySize ?? 300;
    this.now = options.now ?? Date.now;
  }

  /** Sessions tracked (for diagnostics and leak tests). */
  get size(): number {
    return this.tracked.size;
  }

  /** True while the sampling timer runs. */
  get sampling(): boolean {
    return this.timer !== undefined;
  }

  get interval(): number {
    return this.intervalMs;
  }

  add(sessionId: string): void {
    if (this.tracked.has(sessionId)) return;
    this.tracked.set(sessionId, { rtts: [], inBytes: 0, outBytes: 0, history: [] });
    if (!this.timer) {
      this.lastTick = this.now();
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref?.();
    }
  }

  remove(sessionId: string): void {
    this.tracked.delete(sessionId);
    if (this.tracked.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  recordLatency(sessionId: string, rttMs: number): void {
    const t = this.tracked.get(sessionId);
    // Bounded: one interval of keystrokes never needs more than this for p99.
    if (t && t.rtts.length < 10_000) t.rtts.push(rttMs);
  }

  recordIn(sessionId: string, bytes: number): void {
    const t = this.tracked.get(sessionId);
    if (t) t.inBytes += bytes;
  }

  recordOut(sessionId: string, bytes: number): void {
    const t = this.tracked.get(sessionId);
    if (t) t.outBytes += bytes;
  }

  /** Close the current interval for every session and emit one tick (called by the timer). */
  tick(): void {
    const now = this.now();
    const seconds = Math.max(0.001, (now - this.lastTick) / 1000);
    this.lastTick = now;
    const samples: MetricsTick['samples'] = [];
    for (const [sessionId, t] of this.tracked) {
      const sample: MetricsSample = {
        t: now,
        latencyP50: round2(quantile(t.rtts, 0.5)),
        latencyP99: round2(quantile(t.rtts, 0.99)),
        inBytesPerSec: Math.round(t.inBytes / seconds),
        outBytesPerSec: Math.round(t.outBytes / seconds),
      };
      t.rtts = [];
      t.inBytes = 0;
      t.outBytes = 0;
      t.history.push(sample);
      if (t.history.length > this.historySize) t.history.shift();
      samples.push({ sessionId, ...sample });
    }
    if (samples.length > 0) this.options.onTick({ intervalMs: this.intervalMs, samples });
  }

  history(): { intervalMs: number; sessions: { sessionId: string; samples: MetricsSample[] }[] } {
    return {
      intervalMs: this.intervalMs,
      sessions: [...this.tracked].map(([sessionId, t]) => ({ sessionId, samples: [...t.history] })),
    };
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.tracked.clear();
  }
}
