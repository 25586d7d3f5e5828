/**
 * Connection metrics for the performance charts: 'metrics.history' once, then one
 * 'metrics.tick' per second carrying a sample of every open session.
 *
 * The samples live outside Vue's reactivity (plain bounded arrays per session, at most
 * MAX_SAMPLES each); a single `version` counter is bumped once per tick, and charts redraw from
 * it at most once per animation frame. That keeps 20 busy sessions cheap.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { EventPayload, ResponseOf, SessionMetricsSample } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';

export const MAX_SAMPLES = 300;
/** The series id of the all-sessions aggregate. */
export const COMBINED = 'all';

/** Column arrays, oldest first; `x` in epoch seconds (what uPlot expects). */
export interface MetricsRing {
  readonly capacity: number;
  x: number[];
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  inRate: number[];
  outRate: number[];
  /** Counts in each interval. */
  retransmissions: number[];
  reconnects: number[];
}

/** The columns of a ring, in one place (push, trim and read all go through this list). */
const COLUMNS = ['x', 'p50', 'p95', 'p99', 'inRate', 'outRate', 'retransmissions', 'reconnects'] as const;

export function createRing(capacity: number = MAX_SAMPLES): MetricsRing {
  return {
    capacity,
    x: [],
    p50: [],
    p95: [],
    p99: [],
    inRate: [],
    outRate: [],
    retransmissions: [],
    reconnects: [],
  };
}

export function ringSize(ring: MetricsRing): number {
  return ring.x.length;
}

/** Append a sample (older or equal times than the last one are ignored); drops the oldest beyond capacity. */
export function pushSample(ring: MetricsRing, sample: SessionMetricsSample): boolean {
  const x = sample.t / 1000;
  const n = ring.x.length;
  if (n > 0 && x <= ring.x[n - 1]!) return false;
  ring.x.push(x);
  ring.p50.push(sample.latencyP50);
  ring.p95.push(sample.latencyP95);
  ring.p99.push(sample.latencyP99);
  ring.inRate.push(sample.inBytesPerSec);
  ring.outRate.push(sample.outBytesPerSec);
  ring.retransmissions.push(sample.retransmissions);
  ring.reconnects.push(sample.reconnects);
  if (ring.x.length > ring.capacity) {
    const extra = ring.x.length - ring.capacity;
    for (const column of COLUMNS) (ring[column] as unknown[]).splice(0, extra);
  }
  return true;
}

/** The i-th sample of a ring (0 = oldest). */
export function sampleAt(ring: MetricsRing, i: number): SessionMetricsSample {
  return {
    t: ring.x[i]! * 1000,
    latencyP50: ring.p50[i]!,
    latencyP95: ring.p95[i]!,
    latencyP99: ring.p99[i]!,
    inBytesPerSec: ring.inRate[i]!,
    outBytesPerSec: ring.outRate[i]!,
    retransmissions: ring.retransmissions[i]!,
    reconnects: ring.reconnects[i]!,
  };
}

export function lastSample(ring: MetricsRing): SessionMetricsSample | null {
  const i = ring.x.length - 1;
  return i < 0 ? null : sampleAt(ring, i);
}

/** Retransmissions and reconnects over the whole ring (the last 5 minutes). */
export function ringTotals(ring: MetricsRing | undefined): { retransmissions: number; reconnects: number } {
  let retransmissions = 0;
  let reconnects = 0;
  if (ring) {
    for (const n of ring.retransmissions) retransmissions += n;
    for (const n of ring.reconnects) reconnects += n;
  }
  return { retransmissions, reconnects };
}

/**
 * One sample for all sessions of a tick: throughput, retransmissions and reconnects summed, p50
 * the mean of the sessions that sent input, p95 and p99 the worst.
 */
export function combineSamples(samples: readonly SessionMetricsSample[]): SessionMetricsSample | null {
  if (samples.length === 0) return null;
  let t = 0;
  let inRate = 0;
  let outRate = 0;
  let p50Sum = 0;
  let p50Count = 0;
  let p95: number | null = null;
  let p99: number | null = null;
  let retransmissions = 0;
  let reconnects = 0;
  const worst = (a: number | null, b: number | null): number | null =>
    b === null ? a : a === null ? b : Math.max(a, b);
  for (const s of samples) {
    t = Math.max(t, s.t);
    inRate += s.inBytesPerSec;
    outRate += s.outBytesPerSec;
    retransmissions += s.retransmissions;
    reconnects += s.reconnects;
    if (s.latencyP50 !== null) {
      p50Sum += s.latencyP50;
      p50Count++;
    }
    p95 = worst(p95, s.latencyP95);
    p99 = worst(p99, s.latencyP99);
  }
  return {
    t,
    latencyP50: p50Count > 0 ? p50Sum / p50Count : null,
    latencyP95: p95,
    latencyP99: p99,
    inBytesPerSec: inRate,
    outBytesPerSec: outRate,
    retransmissions,
    reconnects,
  };
}

/** The aggregate over history: samples grouped by interval (sessions tick together). */
export function combineHistory(
  sessions: ReadonlyArray<{ samples: readonly SessionMetricsSample[] }>,
  intervalMs: number,
): SessionMetricsSample[] {
  const buckets = new Map<number, SessionMetricsSample[]>();
  for (const s of sessions) {
    for (const sample of s.samples) {
      const b = Math.round(sample.t / intervalMs);
      const list = buckets.get(b);
      if (list) list.push(sample);
      else buckets.set(b, [sample]);
    }
  }
  return [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((b) => combineSamples(buckets.get(b)!)!)
    .filter((s) => s !== null);
}

export type ChartKind = 'latency' | 'throughput';

/** uPlot's AlignedData for one chart: latency [x, p50, p95, p99], throughput [x, in, out]. */
export function chartData(
  ring: MetricsRing | undefined,
  kind: ChartKind,
): [number[], ...(number | null)[][]] {
  if (!ring) return kind === 'latency' ? [[], [], [], []] : [[], [], []];
  return kind === 'latency' ? [ring.x, ring.p50, ring.p95, ring.p99] : [ring.x, ring.inRate, ring.outRate];
}

type History = ResponseOf<'metrics.history'>;
type Tick = EventPayload<'metrics.tick'>;

export const useMetricsStore = defineStore('metrics', () => {
  const rings = new Map<string, MetricsRing>();
  let combined = createRing();

  /** Bumped once per change (history loaded, tick): what charts watch. */
  const version = ref(0);
  /** Sessions with samples, in order of first appearance. */
  const sessionIds = shallowRef<readonly string[]>([]);
  const intervalMs = ref(1000);
  const error = ref<string | null>(null);
  const loaded = ref(false);

  let started = false;
  const unsubscribers: Array<() => void> = [];

  function ringFor(id: string): MetricsRing {
    let ring = rings.get(id);
    if (!ring) {
      ring = createRing();
      rings.set(id, ring);
      sessionIds.value = [...sessionIds.value, id];
    }
    return ring;
  }

  function applyHistory(history: History): void {
    intervalMs.value = history.intervalMs;
    for (const s of history.sessions) {
      const ring = createRing();
      for (const sample of s.samples) pushSample(ring, sample);
      // Keep ticks that arrived while the history was on its way.
      const existing = rings.get(s.sessionId);
      if (existing) {
        for (let i = 0; i < existing.x.length; i++) pushSample(ring, sampleAt(existing, i));
      }
      ringFor(s.sessionId);
      rings.set(s.sessionId, ring);
    }
    const all = createRing();
    for (const sample of combineHistory(history.sessions, history.intervalMs)) pushSample(all, sample);
    for (let i = 0; i < combined.x.length; i++) pushSample(all, sampleAt(combined, i));
    combined = all;
    version.value++;
  }

  function applyTick(tick: Tick): void {
    intervalMs.value = tick.intervalMs;
    for (const { sessionId, ...sample } of tick.samples) pushSample(ringFor(sessionId), sample);
    const all = combineSamples(tick.samples);
    if (all) pushSample(combined, all);
    version.value++;
  }

  /** Forget a session's samples (it closed). */
  function drop(sessionId: string): void {
    if (!rings.delete(sessionId)) return;
    sessionIds.value = sessionIds.value.filter((id) => id !== sessionId);
    version.value++;
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const bridge = getBridge();
    unsubscribers.push(
      bridge.on('metrics.tick', applyTick),
      bridge.on('session.updated', (s) => {
        if (s.state === 'closed') drop(s.id);
      }),
    );
    try {
      applyHistory(await bridge.invoke('metrics.history'));
      error.value = null;
    } catch (err) {
      error.value = describeError(err);
    } finally {
      loaded.value = true;
    }
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  function ring(id: string): MetricsRing | undefined {
    return id === COMBINED ? combined : rings.get(id);
  }

  function data(id: string, kind: ChartKind): [number[], ...(number | null)[][]] {
    return chartData(ring(id), kind);
  }

  function latest(id: string): SessionMetricsSample | null {
    const r = ring(id);
    return r ? lastSample(r) : null;
  }

  /** Retransmissions and reconnects over the samples kept (the last 5 minutes). */
  function totals(id: string): { retransmissions: number; reconnects: number } {
    return ringTotals(ring(id));
  }

  return {
    version,
    sessionIds,
    intervalMs,
    error,
    loaded,
    init,
    dispose,
    applyHistory,
    applyTick,
    drop,
    ring,
    data,
    latest,
    totals,
  };
});
