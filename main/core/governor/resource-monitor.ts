/**
 * The resource monitor: samples EC2 Connect's processes (ProcessSampler, plus the processes the
 * host reports, such as Electron's renderers), feeds the governor, runs the leak watch and the
 * endpoint latency probes, and publishes it all as events and as one snapshot.
 *
 * "Governed" processes are EC2 Connect's own (main, renderers, GPU, utilities, helpers it
 * spawned); the embedded sandbox's shells stand for the remote instance, so they are shown but
 * not counted against the limits.
 *
 * Intervals follow low-power mode: sampling at `monitoring_interval` (x3 in low power), probes
 * every minute while sessions are open (x4 in low power). Every timer, listener and server is
 * owned here and released by dispose().
 */
import os from 'node:os';
import type {
  EndpointProbe,
  GovernorChange,
  GovernorState,
  LeakStatus,
  ProcessStat,
  ResourceSample,
  ResourceSnapshot,
} from '../../../preload/api.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { DisposableStore, Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import { probeAll, type ProbeTarget } from '../monitor/endpoint-probe.js';
import { LeakWatch, type LeakWarning } from '../monitor/leak-watch.js';
import {
  ProcessSampler,
  type ProcessSample,
  type ProcessSamplerOptions,
} from '../monitor/process-sampler.js';
import { Governor } from './governor.js';
import type { EffectiveLimits } from './limits.js';

/** Roles that are not EC2 Connect's own: shown, never counted against the limits. */
export const UNGOVERNED_ROLES: ReadonlySet<string> = new Set(['pty']);

export interface ResourceMonitorOptions {
  limits: EffectiveLimits;
  logger?: Logger;
  /** Options of the default sampler (tests inject `usage` and `memoryUsage`). */
  sampler?: Omit<ProcessSamplerOptions, 'intervalMs' | 'logger'>;
  /** Processes the host knows of besides the pids below (Electron's renderers, GPU...). */
  externalProcesses?: () => ProcessStat[];
  /** Extra pids to sample with their role (the sandbox's shells), read before each sample. */
  childPids?: () => { pid: number; role: string }[];
  /** What to probe now (endpoints of the profiles and sessions in use). */
  probeTargets?: () => ProbeTarget[];
  /** Probe periodically only while this is true (sessions are open). */
  probeWhile?: () => boolean;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Samples kept for the charts (default 720: an hour at 5 s). */
  historySize?: number;
  /** Governor changes kept (default 50). */
  changesSize?: number;
  /** The leak watch (default: a new one; false for none). */
  leakWatch?: LeakWatch | false;
  cores?: number;
  now?: () => number;
}

export const DEFAULT_PROBE_INTERVAL_MS = 60_000;
const LOW_POWER_SAMPLING_FACTOR = 3;
const LOW_POWER_PROBE_FACTOR = 4;

export class ResourceMonitor implements Disposable {
  private readonly store = new DisposableStore();
  private readonly log: Logger;
  private readonly sampler: ProcessSampler;
  private readonly governor: Governor;
  private readonly leak: LeakWatch | undefined;
  private readonly cores: number;
  private readonly historySize: number;
  private readonly changesSize: number;
  private readonly probeBaseMs: number;
  private limits: EffectiveLimits;
  private readonly history: ResourceSample[] = [];
  private readonly changes: GovernorChange[] = [];
  private probes: EndpointProbe[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private probing: Promise<EndpointProbe[]> | undefined;
  private started = false;
  private disposed = false;
  private lastLeakWarning: LeakWarning | undefined;

  private readonly _onSample = this.store.add(new Emitter<ResourceSample>());
  readonly onSample: Event<ResourceSample> = this._onSample.event;
  private readonly _onGovernor = this.store.add(
    new Emitter<{ state: GovernorState; change: GovernorChange | null }>(),
  );
  /** Fires when the level or low-power state changed (and on setLimits, with the new state). */
  readonly onGovernor: Event<{ state: GovernorState; change: GovernorChange | null }> =
    this._onGovernor.event;
  private readonly _onProbes = this.store.add(new Emitter<EndpointProbe[]>());
  readonly onProbes: Event<EndpointProbe[]> = this._onProbes.event;
  private readonly _onLeak = this.store.add(new Emitter<LeakWarning>());
  readonly onLeakWarning: Event<LeakWarning> = this._onLeak.event;

  constructor(private readonly options: ResourceMonitorOptions) {
    this.log = options.logger ?? silentLogger;
    this.limits = options.limits;
    this.cores = options.cores ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    this.historySize = options.historySize ?? 720;
    this.changesSize = options.changesSize ?? 50;
    this.probeBaseMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.governor = new Governor(options.limits, options.now);
    this.sampler = this.store.add(
      new ProcessSampler({
        ...options.sampler,
        intervalMs: this.samplingMs(),
        logger: this.log,
        beforeSample: () => this.syncPids(),
      }),
    );
    if (options.leakWatch !== false) {
      this.leak = this.store.add(options.leakWatch ?? new LeakWatch({ logger: this.log }));
      this.store.add(
        this.leak.onWarning((w) => {
          this.lastLeakWarning = w;
          this.log.warn(
            { growth: w.growthRatio, report: w.report.summary },
            'memory leak watch: the heap keeps growing',
          );
          this._onLeak.fire(w);
        }),
      );
    }
  }

  /** Start sampling (and the leak watch); idempotent. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.store.add(this.sampler.onSample((s) => this.onProcessSample(s)));
    if (this.leak) this.store.add(this.leak.attach(this.sampler.onSample));
    this.updateProbeTimer();
    // Figures (and a governor judgement) now, not one interval later.
    this.sampleSoon();
    this.log.info(
      {
        intervalMs: this.sampler.interval,
        maxMemoryMb: this.limits.maxMemoryMb,
        maxCpuPercent: this.limits.maxCpuPercent,
        lowPower: this.limits.lowPower,
      },
      'resource monitor started',
    );
  }

  get interval(): number {
    return this.sampler.interval;
  }

  /** Which timers run (diagnostics and the leak tests). */
  get timers(): { sampling: boolean; probing: boolean } {
    return { sampling: this.sampler.running, probing: this.probeTimer !== undefined };
  }

  get state(): GovernorState {
    return this.governor.state();
  }

  /** The message new sessions are refused with; null when they are not. */
  refusal(): string | null {
    return this.governor.refusal();
  }

  /** Count something that could leak (sessions, buffers, queues) in the leak report. */
  addLeakSource(name: string, read: () => number): Disposable {
    return this.leak ? this.leak.addSource(name, read) : { dispose: () => {} };
  }

  setLimits(limits: EffectiveLimits): void {
    this.limits = limits;
    for (const p of limits.problems) this.log.warn(p);
    const change = this.governor.setLimits(limits);
    this.applyIntervals();
    this.publish(change, true);
    // Judge fresh figures against the new limits right away.
    this.sampleSoon();
  }

  private sampleSoon(): void {
    if (!this.started || this.disposed) return;
    this.sampleNow().catch((err: unknown) => this.log.warn({ err }, 'process sampling failed'));
  }

  setOnBattery(onBattery: boolean): void {
    const change = this.governor.setOnBattery(onBattery);
    if (change) {
      this.applyIntervals();
      this.publish(change, false);
    }
  }

  /** Sample now (also what a new subscriber or the CLI gets without waiting an interval). */
  async sampleNow(): Promise<ResourceSample> {
    const s = await this.sampler.sampleNow();
    // The sampler's own listener (onProcessSample) has already run for it when started.
    return this.started ? (this.history[this.history.length - 1] ?? this.toSample(s)) : this.toSample(s);
  }

  /** Probe the endpoints in use now; joins a probe under way. */
  probeNow(): Promise<EndpointProbe[]> {
    if (this.probing) return this.probing;
    const targets = this.options.probeTargets?.() ?? [];
    const p = probeAll(targets, this.options.probeTimeoutMs)
      .then((results) => {
        if (!this.disposed) {
          this.probes = results;
          for (const r of results)
            if (!r.ok)
              this.log.warn(
                { endpoint: r.endpoint, service: r.service, error: r.error },
                'endpoint probe failed',
              );
          this._onProbes.fire(results);
        }
        return results;
      })
      .finally(() => {
        if (this.probing === p) this.probing = undefined;
      });
    this.probing = p;
    return p;
  }

  /** Re-evaluate whether periodic probes should run (call when sessions open or close). */
  updateProbeTimer(): void {
    const wanted =
      this.started && !this.disposed && !!this.options.probeTargets && (this.options.probeWhile?.() ?? true);
    if (wanted && !this.probeTimer) {
      this.probeTimer = setInterval(() => {
        this.probeNow().catch((err: unknown) => this.log.warn({ err }, 'endpoint probes failed'));
      }, this.probeMs());
      this.probeTimer.unref?.();
      // A first figure right away rather than a minute later.
      this.probeNow().catch((err: unknown) => this.log.warn({ err }, 'endpoint probes failed'));
    } else if (!wanted && this.probeTimer) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
    }
  }

  leakStatus(): LeakStatus {
    if (!this.leak) {
      return {
        growthRatio: null,
        warning: false,
        summary: 'The leak watch is off.',
        gcPauseMaxMs: 0,
        gcCount: 0,
        handles: 0,
      };
    }
    const report = this.leak.report();
    return {
      growthRatio:
        report.heap.growthRatio === null ? null : Math.round(report.heap.growthRatio * 1000) / 1000,
      warning: report.heap.growing,
      summary: report.summary,
      gcPauseMaxMs: Math.round(report.gc.maxPauseMs * 100) / 100,
      gcCount: report.gc.count,
      handles: report.handles.total,
    };
  }

  /** The last leak warning, if the heap grew past the threshold since start. */
  get leakWarning(): LeakWarning | undefined {
    return this.lastLeakWarning;
  }

  snapshot(prometheus: string | null = null): ResourceSnapshot {
    return {
      sample: this.history[this.history.length - 1] ?? null,
      history: [...this.history],
      governor: this.governor.state(),
      changes: [...this.changes],
      probes: [...this.probes],
      leak: this.leakStatus(),
      prometheus,
    };
  }

  get recentSamples(): readonly ResourceSample[] {
    return this.history;
  }

  get lastProbes(): readonly EndpointProbe[] {
    return this.probes;
  }

  private samplingMs(): number {
    return (
      this.limits.monitoringIntervalMs * (this.governor?.lowPowerActive() ? LOW_POWER_SAMPLING_FACTOR : 1)
    );
  }

  private probeMs(): number {
    return this.probeBaseMs * (this.governor.lowPowerActive() ? LOW_POWER_PROBE_FACTOR : 1);
  }

  private applyIntervals(): void {
    this.sampler.setIntervalMs(this.samplingMs());
    if (this.probeTimer) {
      clearInterval(this.probeTimer);
      this.probeTimer = undefined;
      this.updateProbeTimer();
    }
  }

  private syncPids(): void {
    const wanted = new Map<number, string>();
    for (const c of this.options.childPids?.() ?? []) wanted.set(c.pid, c.role);
    for (const pid of [...this.sampler.pids.keys()]) if (!wanted.has(pid)) this.sampler.removePid(pid);
    for (const [pid, role] of wanted) if (this.sampler.pids.get(pid) !== role) this.sampler.addPid(pid, role);
  }

  private toSample(s: ProcessSample): ResourceSample {
    const processes: ProcessStat[] = s.processes.map((p) => ({
      pid: p.pid,
      role: p.role,
      cpuPercent: p.cpuPercent,
      memoryBytes: Math.max(0, Math.round(p.memoryBytes)),
      governed: !UNGOVERNED_ROLES.has(p.role),
    }));
    const seen = new Set(processes.map((p) => p.pid));
    let external: ProcessStat[] = [];
    try {
      external = this.options.externalProcesses?.() ?? [];
    } catch (err) {
      this.log.warn({ err }, 'the host could not report its processes');
    }
    for (const p of external) if (!seen.has(p.pid)) processes.push(p);
    let cpu = 0;
    let mem = 0;
    for (const p of processes) {
      if (!p.governed) continue;
      cpu += p.cpuPercent;
      mem += p.memoryBytes;
    }
    return {
      t: s.t,
      intervalMs: s.intervalMs,
      processes,
      cpuPercent: Math.round((cpu / this.cores) * 10) / 10,
      memoryBytes: mem,
      heapUsedBytes: s.heap.heapUsed,
      cores: this.cores,
    };
  }

  private onProcessSample(s: ProcessSample): void {
    if (this.disposed) return;
    const sample = this.toSample(s);
    this.history.push(sample);
    if (this.history.length > this.historySize) this.history.shift();
    this._onSample.fire(sample);
    const change = this.governor.observe({ memoryBytes: sample.memoryBytes, cpuPercent: sample.cpuPercent });
    if (change) {
      this.applyIntervals();
      this.publish(change, false);
    }
  }

  private publish(change: GovernorChange | null, always: boolean): void {
    if (change) {
      this.changes.push(change);
      if (this.changes.length > this.changesSize) this.changes.shift();
      const rising = change.to !== change.from && LEVEL_RANK[change.to] > LEVEL_RANK[change.from];
      (rising ? this.log.warn : this.log.info).call(
        this.log,
        { from: change.from, to: change.to },
        change.message,
      );
    }
    if (change || always) this._onGovernor.fire({ state: this.governor.state(), change });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.store.dispose();
  }
}

const LEVEL_RANK: Record<GovernorState['level'], number> = {
  normal: 0,
  warn: 1,
  'slow-ui': 2,
  trim: 3,
  refuse: 4,
};
