/**
 * A leak watch for the main process: a sliding window (default 10 min) of heapUsed samples,
 * judged by comparing the average of its first and last fifth (which smooths GC saw-teeth), a
 * warning when the heap grew more than 50 % over a window that is full enough to judge, GC pauses
 * (PerformanceObserver 'gc') per window, active handles by type, and a report naming the likely
 * source: of the counters callers register (`addSource`: sessions, output buffers, store queue
 * length...), the one that grew most relative to its value at the window start.
 */
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { silentLogger, type Logger } from '../log/logger.js';
import { Emitter, toDisposable, type Disposable, type Event } from '../util/lifecycle.js';
import type { ProcessSample } from './process-sampler.js';

export interface HeapSample {
  /** Epoch ms. */
  t: number;
  heapUsed: number;
}

export interface LeakWatchOptions {
  /** Default 600_000 (10 min). */
  windowMs?: number;
  /** Warn when heap grew by more than this ratio over the window; default 0.5 (50 %). */
  growthThreshold?: number;
  /** Judge only when the samples span at least this share of the window; default 0.8. */
  minFill?: number;
  /** ...and there are at least this many; default 10. */
  minSamples?: number;
  /** Observe GC pauses; default true. */
  observeGc?: boolean;
  logger?: Logger;
  /** Injected for tests. */
  now?: () => number;
  /** Injected for tests; defaults to process.getActiveResourcesInfo(). */
  activeResources?: () => string[];
}

export interface HeapTrend {
  samples: number;
  /** ms between the oldest and newest sample in the window. */
  spanMs: number;
  /** Average heapUsed of the first and last fifth of the window (bytes); null while empty. */
  startAvg: number | null;
  endAvg: number | null;
  /** (endAvg - startAvg) / startAvg; null while empty. */
  growthRatio: number | null;
  /** False until the window is full enough to judge. */
  judged: boolean;
  growing: boolean;
}

export interface GcStats {
  count: number;
  totalPauseMs: number;
  maxPauseMs: number;
}

export interface SourceGrowth {
  name: string;
  /** Value at the window start (the oldest sample that has it). */
  start: number;
  current: number;
  delta: number;
  /** delta / max(start, 1). */
  growthRatio: number;
}

export interface LeakReport {
  t: number;
  windowMs: number;
  heap: HeapTrend;
  gc: GcStats;
  handles: { total: number; byType: Record<string, number> };
  /** Sorted by growthRatio, largest first. */
  sources: SourceGrowth[];
  /** The source that grew most, if any grew. */
  likelySource: SourceGrowth | null;
  /** One line for the log or the UI. */
  summary: string;
}

export interface LeakWarning {
  t: number;
  growthRatio: number;
  startAvg: number;
  endAvg: number;
  report: LeakReport;
}

interface WindowEntry extends HeapSample {
  sources: Record<string, number>;
}

interface GcEntry {
  t: number;
  duration: number;
}

/** Bounds the GC list under a pathological allocation rate. */
const MAX_GC_ENTRIES = 50_000;

export class LeakWatch implements Disposable {
  private readonly warningEmitter = new Emitter<LeakWarning>();
  private readonly windowMs: number;
  private readonly threshold: number;
  private readonly minFill: number;
  private readonly minSamples: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly activeResources: () => string[];
  private readonly sources = new Map<string, () => number>();
  private window: WindowEntry[] = [];
  private gcEntries: GcEntry[] = [];
  private gcObserver: PerformanceObserver | undefined;
  private armed = true;
  private lastWarningAt = -Infinity;
  private disposed = false;

  /** Fired when the heap grew past the threshold; re-armed once growth falls below it, at most once per window. */
  readonly onWarning: Event<LeakWarning> = this.warningEmitter.event;

  constructor(options: LeakWatchOptions = {}) {
    this.windowMs = options.windowMs ?? 600_000;
    this.threshold = options.growthThreshold ?? 0.5;
    this.minFill = options.minFill ?? 0.8;
    this.minSamples = options.minSamples ?? 10;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.activeResources = options.activeResources ?? defaultActiveResources;
    if (options.observeGc ?? true) this.startGcObserver();
  }

  /** True while GC pauses are being observed. */
  get observingGc(): boolean {
    return this.gcObserver !== undefined;
  }

  get sampleCount(): number {
    return this.window.length;
  }

  /** Feed from a sampler: `watch.attach(sampler.onSample)`. */
  attach(event: Event<ProcessSample>): Disposable {
    return event((s) => this.record({ t: s.t, heapUsed: s.heap.heapUsed }));
  }

  /** Register a counter to blame in reports (sessions, buffered bytes, queue length...). */
  addSource(name: string, read: () => number): Disposable {
    this.sources.set(name, read);
    return toDisposable(() => {
      if (this.sources.get(name) === read) this.sources.delete(name);
    });
  }

  /** Add a heap sample (and a reading of every source), then judge the window. */
  record(sample: HeapSample): void {
    if (this.disposed || !Number.isFinite(sample.heapUsed)) return;
    this.window.push({ t: sample.t, heapUsed: sample.heapUsed, sources: this.readSources() });
    this.evict(sample.t);
    const trend = this.trend();
    if (!trend.judged) return;
    if (!trend.growing) {
      this.armed = true;
      return;
    }
    if (!this.armed || sample.t - this.lastWarningAt < this.windowMs) return;
    this.armed = false;
    this.lastWarningAt = sample.t;
    const report = this.report();
    this.logger.warn({ report }, report.summary);
    try {
      this.warningEmitter.fire({
        t: sample.t,
        growthRatio: trend.growthRatio!,
        startAvg: trend.startAvg!,
        endAvg: trend.endAvg!,
        report,
      });
    } catch (err) {
      this.logger.warn({ err }, 'leak warning listener threw');
    }
  }

  /** The heap trend over the current window. */
  trend(): HeapTrend {
    const n = this.window.length;
    if (n === 0) {
      return {
        samples: 0,
        spanMs: 0,
        startAvg: null,
        endAvg: null,
        growthRatio: null,
        judged: false,
        growing: false,
      };
    }
    const fifth = Math.max(1, Math.ceil(n / 5));
    const avg = (items: WindowEntry[]) => items.reduce((a, s) => a + s.heapUsed, 0) / items.length;
    const startAvg = avg(this.window.slice(0, fifth));
    const endAvg = avg(this.window.slice(n - fifth));
    const growthRatio = startAvg > 0 ? (endAvg - startAvg) / startAvg : 0;
    const spanMs = this.window[n - 1]!.t - this.window[0]!.t;
    const judged = n >= this.minSamples && spanMs >= this.windowMs * this.minFill;
    return {
      samples: n,
      spanMs,
      startAvg,
      endAvg,
      growthRatio,
      judged,
      growing: judged && growthRatio > this.threshold,
    };
  }

  /** GC pauses observed over the window. */
  gcStats(): GcStats {
    this.evictGc(this.now());
    let total = 0;
    let max = 0;
    for (const e of this.gcEntries) {
      total += e.duration;
      if (e.duration > max) max = e.duration;
    }
    return { count: this.gcEntries.length, totalPauseMs: round2(total), maxPauseMs: round2(max) };
  }

  /** Active handles and requests grouped by type (e.g. TCPSocketWrap, Timeout, FSReqCallback). */
  handles(): { total: number; byType: Record<string, number> } {
    const byType: Record<string, number> = {};
    let total = 0;
    try {
      for (const type of this.activeResources()) {
        byType[type] = (byType[type] ?? 0) + 1;
        total++;
      }
    } catch (err) {
      this.logger.debug({ err }, 'getActiveResourcesInfo failed');
    }
    return { total, byType };
  }

  report(): LeakReport {
    const t = this.now();
    const heap = this.trend();
    const current = this.readSources();
    const sources: SourceGrowth[] = [];
    for (const [name, value] of Object.entries(current)) {
      const first = this.window.find((e) => name in e.sources);
      const start = first ? first.sources[name]! : value;
      const delta = value - start;
      sources.push({
        name,
        start,
        current: value,
        delta,
        growthRatio: round2(delta / Math.max(Math.abs(start), 1)),
      });
    }
    sources.sort((a, b) => b.growthRatio - a.growthRatio || b.delta - a.delta);
    const likelySource = sources[0] && sources[0].growthRatio > 0 ? sources[0] : null;
    const gc = this.gcStats();
    const handles = this.handles();
    return {
      t,
      windowMs: this.windowMs,
      heap,
      gc,
      handles,
      sources,
      likelySource,
      summary: summarize(heap, gc, handles.total, likelySource),
    };
  }

  private readSources(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, read] of this.sources) {
      try {
        const v = read();
        if (Number.isFinite(v)) out[name] = v;
      } catch (err) {
        this.logger.debug({ err, source: name }, 'leak source threw');
      }
    }
    return out;
  }

  private evict(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.window.length && this.window[drop]!.t < cutoff) drop++;
    if (drop > 0) this.window.splice(0, drop);
  }

  private evictGc(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.gcEntries.length && this.gcEntries[drop]!.t < cutoff) drop++;
    if (drop > 0) this.gcEntries.splice(0, drop);
  }

  private startGcObserver(): void {
    try {
      const observer = new PerformanceObserver((list) => {
        const t = this.now();
        for (const entry of list.getEntries() as PerformanceEntry[]) {
          this.gcEntries.push({ t, duration: entry.duration });
        }
        if (this.gcEntries.length > MAX_GC_ENTRIES)
          this.gcEntries.splice(0, this.gcEntries.length - MAX_GC_ENTRIES);
        else if (this.gcEntries.length % 256 === 0) this.evictGc(t);
      });
      observer.observe({ entryTypes: ['gc'] });
      this.gcObserver = observer;
    } catch (err) {
      this.logger.debug({ err }, 'GC observation unavailable');
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.gcObserver?.disconnect();
    this.gcObserver = undefined;
    this.window = [];
    this.gcEntries = [];
    this.sources.clear();
    this.warningEmitter.dispose();
  }
}

function defaultActiveResources(): string[] {
  // Node >= 17.3; experimental but stable in practice. Timers count only while ref'd.
  const fn = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  return fn ? fn.call(process) : [];
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function mb(bytes: number | null): string {
  return bytes === null ? '?' : `${(bytes / 1048576).toFixed(1)} MiB`;
}

function summarize(heap: HeapTrend, gc: GcStats, handles: number, source: SourceGrowth | null): string {
  const growth = heap.growthRatio === null ? '?' : `${Math.round(heap.growthRatio * 100)} %`;
  const parts = [
    `heap ${mb(heap.startAvg)} -> ${mb(heap.endAvg)} (${growth} over ${Math.round(heap.spanMs / 1000)} s${heap.judged ? '' : ', window not yet full'})`,
    `gc ${gc.count} pauses, ${gc.totalPauseMs} ms total, max ${gc.maxPauseMs} ms`,
    `${handles} active handles`,
  ];
  parts.push(
    source
      ? `likely source: ${source.name} ${source.start} -> ${source.current} (+${Math.round(source.growthRatio * 100)} %)`
      : 'no registered source grew',
  );
  return parts.join('; ');
}
