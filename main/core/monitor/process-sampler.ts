/**
 * CPU and memory of this process and of the processes it cares about (PTY children in the
 * sandbox, renderer processes reported by the app), sampled with pidusage at a steady
 * interval (`monitoring_interval`, default 5 s) into one `onSample` event.
 *
 * Cheap by construction: one pidusage call for all pids per tick (on Linux a read of each
 * /proc/<pid>/stat through an fd it keeps open), no overlapping ticks, an unref'd timer that runs
 * only while someone listens to `onSample`, and pids that disappeared are dropped from the set
 * (and reported on `onPidGone`) instead of failing the tick. Nothing thrown in a tick escapes the
 * timer: it is logged.
 */
import pidusage from 'pidusage';
import { silentLogger, type Logger } from '../log/logger.js';
import { Emitter, toDisposable, type Disposable, type Event } from '../util/lifecycle.js';

export type ProcessRole = 'main' | 'child' | (string & {});

export interface ProcessStat {
  pid: number;
  role: ProcessRole;
  /** Percent of one core over the last interval (can exceed 100 on several cores); on a pid's first sample, its average since it started. */
  cpuPercent: number;
  /** Resident set size in bytes. */
  memoryBytes: number;
}

/** process.memoryUsage() of this process, in bytes. */
export interface HeapStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface ProcessSample {
  /** Epoch ms of the sample. */
  t: number;
  intervalMs: number;
  /** This process first (role 'main'), then the extra pids still alive. */
  processes: ProcessStat[];
  heap: HeapStats;
}

/** One pidusage-like call for all pids: a missing or null entry means the pid is gone. */
export type UsageFn = (
  pids: number[],
) => Promise<Record<number, { cpu: number; memory: number } | null | undefined>>;

export interface ProcessSamplerOptions {
  /** Default 5000 ms (the `monitoring_interval` setting). */
  intervalMs?: number;
  logger?: Logger;
  /** Injected for tests; defaults to pidusage. */
  usage?: UsageFn;
  /** Injected for tests. */
  now?: () => number;
  memoryUsage?: () => HeapStats;
  /** Called before each sample (the owner brings the pid set up to date). */
  beforeSample?: () => void;
}

export const DEFAULT_MONITORING_INTERVAL_MS = 5000;
/** Below this the sampler would cost more than it tells. */
export const MIN_MONITORING_INTERVAL_MS = 250;

function clampInterval(ms: number): number {
  if (!Number.isFinite(ms)) return DEFAULT_MONITORING_INTERVAL_MS;
  return Math.max(MIN_MONITORING_INTERVAL_MS, Math.round(ms));
}

export class ProcessSampler implements Disposable {
  private readonly sampleEmitter = new Emitter<ProcessSample>();
  private readonly goneEmitter = new Emitter<{ pid: number; role: ProcessRole }>();
  private readonly extra = new Map<number, ProcessRole>();
  private readonly logger: Logger;
  private readonly usage: UsageFn;
  private readonly now: () => number;
  private readonly memoryUsage: () => HeapStats;
  private readonly beforeSample: (() => void) | undefined;
  private intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<ProcessSample> | undefined;
  private disposed = false;
  private lastSample: ProcessSample | undefined;

  /** Pids that vanished, with their role (fired during the tick that noticed). */
  readonly onPidGone: Event<{ pid: number; role: ProcessRole }> = this.goneEmitter.event;

  /** Subscribing starts the timer; the last unsubscribe stops it. */
  readonly onSample: Event<ProcessSample> = (listener) => {
    const sub = this.sampleEmitter.event(listener);
    this.updateTimer();
    return toDisposable(() => {
      sub.dispose();
      this.updateTimer();
    });
  };

  constructor(options: ProcessSamplerOptions = {}) {
    this.intervalMs = clampInterval(options.intervalMs ?? DEFAULT_MONITORING_INTERVAL_MS);
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.memoryUsage = options.memoryUsage ?? (() => process.memoryUsage());
    this.beforeSample = options.beforeSample;
    // pidusage keeps each pid's previous reading (and its open /proc fd) for `maxage`: it must
    // outlive an interval or every reading starts over (cpu 0), yet let dead pids' fds go soon.
    this.usage =
      options.usage ?? ((pids) => pidusage(pids, { maxage: Math.max(60_000, this.intervalMs * 3) }));
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** True while the sampling timer runs. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** The extra pids sampled besides this process. */
  get pids(): ReadonlyMap<number, ProcessRole> {
    return this.extra;
  }

  /** The most recent sample, if any. */
  get last(): ProcessSample | undefined {
    return this.lastSample;
  }

  /** Change the interval (longer in low-power mode); a running timer restarts with it. */
  setIntervalMs(ms: number): void {
    const next = clampInterval(ms);
    if (next === this.intervalMs) return;
    this.intervalMs = next;
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.updateTimer();
    }
  }

  /** Sample `pid` too from the next tick on (this process's own pid is always sampled, as 'main'). */
  addPid(pid: number, role: ProcessRole = 'child'): void {
    if (this.disposed || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
    this.extra.set(pid, role);
  }

  removePid(pid: number): boolean {
    return this.extra.delete(pid);
  }

  /** Take a sample now (joining one under way) and emit it. */
  sampleNow(): Promise<ProcessSample> {
    if (this.inFlight) return this.inFlight;
    const p = this.collect().finally(() => {
      if (this.inFlight === p) this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private updateTimer(): void {
    const wanted = !this.disposed && this.sampleEmitter.listenerCount > 0;
    if (wanted && !this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref?.();
    } else if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    if (this.inFlight) return; // the previous tick is still reading: skip rather than pile up
    this.sampleNow().catch((err: unknown) => this.logger.warn({ err }, 'process sampling failed'));
  }

  private async collect(): Promise<ProcessSample> {
    try {
      this.beforeSample?.();
    } catch (err) {
      this.logger.warn({ err }, 'updating the sampled pids failed');
    }
    const extra = [...this.extra];
    const pids = [process.pid, ...extra.map(([pid]) => pid)];
    const heap = this.memoryUsage();
    let stats: Awaited<ReturnType<UsageFn>>;
    try {
      stats = await this.usage(pids);
    } catch (err) {
      // pidusage fails the whole call only when it cannot read at all (or for a single pid).
      this.logger.warn({ err, pids }, 'pidusage failed; sampling this process only');
      stats = {};
    }
    const t = this.now();
    const own = stats[process.pid];
    const processes: ProcessStat[] = [
      {
        pid: process.pid,
        role: 'main',
        cpuPercent: round1(own?.cpu ?? 0),
        memoryBytes: own?.memory || heap.rss,
      },
    ];
    for (const [pid, role] of extra) {
      const s = stats[pid];
      if (s && Number.isFinite(s.memory)) {
        processes.push({ pid, role, cpuPercent: round1(s.cpu), memoryBytes: s.memory });
      } else if (this.extra.get(pid) === role) {
        this.extra.delete(pid);
        this.logger.debug({ pid, role }, 'sampled process is gone');
        this.safeFire(() => this.goneEmitter.fire({ pid, role }));
      }
    }
    const sample: ProcessSample = {
      t,
      intervalMs: this.intervalMs,
      processes,
      heap: {
        rss: heap.rss,
        heapUsed: heap.heapUsed,
        heapTotal: heap.heapTotal,
        external: heap.external,
        arrayBuffers: heap.arrayBuffers,
      },
    };
    if (this.disposed) return sample;
    this.lastSample = sample;
    this.safeFire(() => this.sampleEmitter.fire(sample));
    return sample;
  }

  private safeFire(fire: () => void): void {
    try {
      fire();
    } catch (err) {
      this.logger.warn({ err }, 'process sample listener threw');
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.extra.clear();
    this.sampleEmitter.dispose();
    this.goneEmitter.dispose();
  }
}

function round1(n: number): number {
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : 0;
}
