/**
 * The workspace's side of issue 7: it owns the resource monitor (sampling, governor, leak watch,
 * endpoint probes) and the opt-in Prometheus endpoint, turns the governor's state into what the
 * core does (batching and metrics intervals, replay rings, refusing sessions) and what the UI
 * is told (events, notices), and answers `resources.get`, `resources.probe` and
 * `metrics.export`.
 */
import {
  type EndpointProbe,
  type GovernorChange,
  type GovernorState,
  type ProcessStat,
  type ResourceSample,
  type ResourceSnapshot,
  type ResponseOf,
} from '../../../preload/api.js';
import type { EffectiveLimits } from '../governor/limits.js';
import { ResourceMonitor, type ResourceMonitorOptions } from '../governor/resource-monitor.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { recordsToCsv } from '../monitor/csv.js';
import { METRIC_CSV_COLUMNS, metricCsvFields } from '../monitor/metric-fields.js';
import type { ProbeTarget } from '../monitor/endpoint-probe.js';
import { metricFamilies, type SessionFigures } from '../monitor/families.js';
import { renderPrometheus, PROMETHEUS_CONTENT_TYPE } from '../monitor/prometheus.js';
import { startPrometheusServer, type PrometheusServer } from '../monitor/prometheus-server.js';
import { Emitter, type Event } from '../util/lifecycle.js';
import type { MetricsSample } from './session-metrics.js';

export interface WorkspaceResourcesOptions {
  /** The limits now (from the configuration, environment applied). */
  limits: () => EffectiveLimits;
  logger?: Logger;
  /** Monitor options for tests (sampler usage, cores, leak watch, probe interval). */
  monitor?: Partial<
    Omit<ResourceMonitorOptions, 'limits' | 'logger' | 'childPids' | 'probeTargets' | 'probeWhile'>
  >;
  /** Processes the host reports (Electron's renderers, GPU, utilities). */
  externalProcesses?: () => ProcessStat[];
  childPids: () => { pid: number; role: string }[];
  probeTargets: () => ProbeTarget[];
  sessionsOpen: () => number;
  sessionFigures: () => SessionFigures[];
  /** Recent samples per session (SessionMetrics.history). */
  sessionHistory: () => { intervalMs: number; sessions: { sessionId: string; samples: MetricsSample[] }[] };
  instanceOf: (sessionId: string) => { instanceId: string; instanceName: string } | undefined;
}

/** What the core does at a governor state. */
export interface CorePolicy {
  /** True when UI updates are slowed (a limit, or low power). */
  slowed: boolean;
  batchIntervalMs: number;
  metricsIntervalMs: number;
  replayBytes: number;
}

export const CORE_POLICY = {
  batchMs: 16,
  slowBatchMs: 50,
  replayBytes: 512 * 1024,
  trimmedReplayBytes: 64 * 1024,
} as const;

/** What the core does at a governor state, from its normal figures (`base`: configured). */
export function corePolicy(
  state: GovernorState,
  base: { batchMs: number; replayBytes: number } = {
    batchMs: CORE_POLICY.batchMs,
    replayBytes: CORE_POLICY.replayBytes,
  },
): CorePolicy {
  const slow =
    state.lowPower.active || state.level === 'slow-ui' || state.level === 'trim' || state.level === 'refuse';
  return {
    slowed: slow,
    batchIntervalMs: slow ? Math.max(base.batchMs, CORE_POLICY.slowBatchMs) : base.batchMs,
    metricsIntervalMs: state.ui.updateIntervalMs,
    replayBytes:
      state.ui.backgroundScrollback === null
        ? base.replayBytes
        : Math.min(base.replayBytes, CORE_POLICY.trimmedReplayBytes),
  };
}

export class WorkspaceResources {
  readonly monitor: ResourceMonitor;
  private readonly log: Logger;
  private limits: EffectiveLimits;
  private prometheus: PrometheusServer | undefined;
  private prometheusPending: Promise<void> = Promise.resolve();
  private prometheusProblem: string | null = null;
  private disposed = false;

  private readonly _onProblem = new Emitter<string>();
  /** A configuration problem the user should see (an invalid environment value, a port in use). */
  readonly onProblem: Event<string> = this._onProblem.event;

  constructor(private readonly o: WorkspaceResourcesOptions) {
    this.log = o.logger ?? silentLogger;
    this.limits = this.computeLimits();
    this.monitor = new ResourceMonitor({
      ...o.monitor,
      limits: this.limits,
      logger: this.log,
      childPids: o.childPids,
      probeTargets: o.probeTargets,
      probeWhile: () => o.sessionsOpen() > 0,
      ...(o.externalProcesses ? { externalProcesses: o.externalProcesses } : {}),
    });
  }

  private computeLimits(): EffectiveLimits {
    return this.o.limits();
  }

  /** Start sampling, and the Prometheus endpoint when configured. */
  start(): void {
    for (const p of this.limits.problems) this.reportProblem(p);
    this.monitor.start();
    this.syncPrometheus();
  }

  get onSample(): Event<ResourceSample> {
    return this.monitor.onSample;
  }

  get onGovernor(): Event<{ state: GovernorState; change: GovernorChange | null }> {
    return this.monitor.onGovernor;
  }

  get onProbes(): Event<EndpointProbe[]> {
    return this.monitor.onProbes;
  }

  get state(): GovernorState {
    return this.monitor.state;
  }

  refusal(): string | null {
    return this.monitor.refusal();
  }

  /** The settings changed: new limits apply now; the Prometheus endpoint follows its port. */
  settingsChanged(): void {
    const next = this.computeLimits();
    const before = this.limits;
    this.limits = next;
    const newProblems = next.problems.filter((p) => !before.problems.includes(p));
    for (const p of newProblems) this.reportProblem(p);
    this.monitor.setLimits(next);
    if (next.prometheusPort !== before.prometheusPort) this.syncPrometheus();
  }

  setOnBattery(onBattery: boolean): void {
    this.monitor.setOnBattery(onBattery);
  }

  get prometheusUrl(): string | null {
    return this.prometheus?.url ?? null;
  }

  /** Resolves once the Prometheus endpoint matches the configured port (tests). */
  prometheusReady(): Promise<void> {
    return this.prometheusPending;
  }

  snapshot(): ResourceSnapshot {
    const problems = [...this.limits.problems, ...(this.prometheusProblem ? [this.prometheusProblem] : [])];
    return { ...this.monitor.snapshot(this.prometheusUrl), problems };
  }

  /** Every metric as Prometheus text. */
  prometheusText(): string {
    return renderPrometheus(this.families());
  }

  exportMetrics(format: 'csv' | 'prometheus', sessionId?: string): ResponseOf<'metrics.export'> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    if (format === 'prometheus') {
      return {
        filename: `ec2-connect-metrics-${stamp}.prom`,
        contentType: PROMETHEUS_CONTENT_TYPE,
        text: this.prometheusText(),
      };
    }
    const history = this.o.sessionHistory();
    const sessions = sessionId ? history.sessions.filter((s) => s.sessionId === sessionId) : history.sessions;
    if (sessionId && sessions.length === 0)
      throw new Error(
        `Session ${sessionId} is not open, so it has no live metrics; its recorded metrics are in History.`,
      );
    const rows = sessions.flatMap((s) => {
      const inst = this.o.instanceOf(s.sessionId);
      return s.samples.map((m) => ({
        time: new Date(m.t).toISOString(),
        session: s.sessionId,
        instance: inst?.instanceId ?? '',
        name: inst?.instanceName ?? '',
        ...metricCsvFields(m),
      }));
    });
    rows.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.session.localeCompare(b.session)));
    const columns = ['time', 'session', 'instance', 'name', ...METRIC_CSV_COLUMNS] as const;
    const text = recordsToCsv(rows, columns);
    return {
      filename: `ec2-connect-${sessionId ? `session-${sessionId.slice(0, 8)}` : 'sessions'}-${stamp}.csv`,
      contentType: 'text/csv; charset=utf-8',
      text,
    };
  }

  private families() {
    const snap = this.monitor.snapshot();
    return metricFamilies({
      sample: snap.sample,
      governor: snap.governor,
      probes: snap.probes,
      leak: snap.leak,
      sessions: this.o.sessionFigures(),
    });
  }

  private syncPrometheus(): void {
    const port = this.limits.prometheusPort;
    this.prometheusPending = this.prometheusPending.then(async () => {
      if (this.prometheus && this.prometheus.port === port) return;
      if (this.prometheus) {
        await this.prometheus.dispose();
        this.prometheus = undefined;
      }
      if (port === 0 || this.disposed) {
        this.prometheusProblem = null;
        return;
      }
      try {
        this.prometheus = await startPrometheusServer({
          port,
          collect: () => this.families(),
          logger: this.log,
        });
        this.prometheusProblem = null;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (message !== this.prometheusProblem) this.reportProblem(message);
        this.prometheusProblem = message;
      }
    });
  }

  private reportProblem(message: string): void {
    this.log.warn(message);
    this._onProblem.fire(message);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.monitor.dispose();
    this._onProblem.dispose();
    await this.prometheusPending.catch(() => {});
    if (this.prometheus) await this.prometheus.dispose();
    this.prometheus = undefined;
  }
}
