/**
 * Per-session connection metrics for the Performance view: input round trips (from the
 * protocol's acknowledgement timing) summarised as p50/p95/p99, throughput in each direction,
 * and the data channel's retransmissions and reconnections in the interval,
 * sampled at a steady interval into one event for all sessions, with a bounded history so a
 * view that opens late starts with the recent past.
 *
 * The timer runs only while at least one session is tracked, so an idle app costs nothing.
 */
import type { MetricFields } from '../monitor/metric-fields.js';
import type { Disposable } from '../util/lifecycle.js';

/** One interval: retransmissions and reconnects are counts within it. */
export interface MetricsSample extends MetricFields {
  /** Epoch ms at the end of the interval. */
  t: number;
}

/** Running totals of a session's protocol counters (the manager's); deltas become the samples. */
export interface SessionCountersReading {
  retransmissions: number;
  reconnects: number;
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
  /** Reads a session's running protocol counters at each tick (undefined once it is gone). */
  counters?: (sessionId: string) => SessionCountersReading | undefined;
  /** Injected for tests. */
  now?: () => number;
}

interface Tracked {
  rtts: number[];
  inBytes: number;
  outBytes: number;
  /** Counter readings at the previous tick. */
  last: SessionCountersReading;
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
  private intervalMs: number;
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
    const last = this.options.counters?.(sessionId) ?? { retransmissions: 0, reconnects: 0 };
    this.tracked.set(sessionId, { rtts: [], inBytes: 0, outBytes: 0, last: { ...last }, history: [] });
    if (!this.timer) {
      this.lastTick = this.now();
      this.startTimer();
    }
  }

  /** Change the sampling interval (the governor slows it in low-power mode); the next tick comes a full interval later. */
  setIntervalMs(ms: number): void {
    const next = Math.max(100, Math.round(ms));
    if (next === this.intervalMs) return;
    this.intervalMs = next;
    if (this.timer) {
      clearInterval(this.timer);
      this.startTimer();
    }
  }

  private startTimer(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  /**
   * Stop tracking a session. Returns its last, partial interval as a sample (so a reconnect or
   * the last bytes just before the close are not lost), or undefined if it was not tracked;
   * `final` are its counters at the close (the manager no longer has it).
   */
  remove(sessionId: string, final?: SessionCountersReading): MetricsSample | undefined {
    const t = this.tracked.get(sessionId);
    let last: MetricsSample | undefined;
    if (t)
      last = this.sampleOf(
        t,
        this.now(),
        Math.max(0.001, (this.now() - this.lastTick) / 1000),
        final ?? t.last,
      );
    this.tracked.delete(sessionId);
    if (this.tracked.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return last;
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
      const sample = this.sampleOf(t, now, seconds, this.options.counters?.(sessionId) ?? t.last);
      t.history.push(sample);
      if (t.history.length > this.historySize) t.history.shift();
      samples.push({ sessionId, ...sample });
    }
    if (samples.length > 0) this.options.onTick({ intervalMs: this.intervalMs, samples });
  }

  /** Close the current interval of one session into a sample, and start the next. */
  private sampleOf(
    t: Tracked,
    now: number,
    seconds: number,
    counters: SessionCountersReading,
  ): MetricsSample {
    const sample: MetricsSample = {
      t: now,
      latencyP50: round2(quantile(t.rtts, 0.5)),
      latencyP95: round2(quantile(t.rtts, 0.95)),
      latencyP99: round2(quantile(t.rtts, 0.99)),
      inBytesPerSec: Math.round(t.inBytes / seconds),
      outBytesPerSec: Math.round(t.outBytes / seconds),
      retransmissions: Math.max(0, counters.retransmissions - t.last.retransmissions),
      reconnects: Math.max(0, counters.reconnects - t.last.reconnects),
    };
    t.last = { retransmissions: counters.retransmissions, reconnects: counters.reconnects };
    t.rtts = [];
    t.inBytes = 0;
    t.outBytes = 0;
    return sample;
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
