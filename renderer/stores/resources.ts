/**
 * The resource governor and the process monitor (issue 7): 'resources.get' once, then
 * 'resources.tick' (CPU and memory of every process, at the monitoring interval),
 * 'governor.changed' (level, low-power mode, what the UI should do) and 'probes.updated'
 * (endpoint latencies).
 *
 * Like the metrics store, the samples live outside Vue's reactivity, in bounded column arrays
 * (MAX_RESOURCE_SAMPLES); what the charts and tables read, `version` and `sample` (the latest),
 * changes at most once per governor.ui.updateIntervalMs, so the UI redraws no more often than
 * the governor allows (slower in low-power mode or when it slows the UI). The governor state
 * itself is applied at once: its changes are rare and the user must see them.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type {
  EndpointProbe,
  EventPayload,
  GovernorChange,
  GovernorState,
  LeakStatus,
  ProcessStat,
  ResourceSample,
  ResourceSnapshot,
  ResponseOf,
} from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';

/** One hour of samples at the default 5 s interval. */
export const MAX_RESOURCE_SAMPLES = 720;
/** Level changes kept for the log. */
export const MAX_CHANGES = 50;
/** How often the UI redraws until the governor says otherwise. */
export const DEFAULT_UPDATE_INTERVAL_MS = 1000;
/** The roles in the order charts and tables list them; others follow, alphabetically. */
export const ROLE_ORDER: readonly string[] = ['main', 'renderer', 'gpu', 'utility', 'pty', 'child'];

export function compareRoles(a: string, b: string): number {
  const ia = ROLE_ORDER.indexOf(a);
  const ib = ROLE_ORDER.indexOf(b);
  if (ia !== -1 || ib !== -1)
    return (ia === -1 ? ROLE_ORDER.length : ia) - (ib === -1 ? ROLE_ORDER.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Column arrays, oldest first; `x` in epoch seconds; per role the sums over its processes. */
export interface ResourceSeries {
  readonly capacity: number;
  x: number[];
  /** Governed processes together: share of the machine (all cores = 100). */
  cpu: number[];
  memory: number[];
  heap: number[];
  /** Roles with at least one value in the window, in ROLE_ORDER. */
  roles: string[];
  /** Percent of one core, per role (null where the role had no process). */
  roleCpu: Map<string, (number | null)[]>;
  roleMemory: Map<string, (number | null)[]>;
}

export function createSeries(capacity: number = MAX_RESOURCE_SAMPLES): ResourceSeries {
  return {
    capacity,
    x: [],
    cpu: [],
    memory: [],
    heap: [],
    roles: [],
    roleCpu: new Map(),
    roleMemory: new Map(),
  };
}

export interface RoleFigures {
  role: string;
  /** Percent of one core, summed over the role's processes. */
  cpuPercent: number;
  memoryBytes: number;
  processes: number;
}

/** A sample's processes summed per role, in ROLE_ORDER. */
export function byRole(processes: readonly ProcessStat[]): RoleFigures[] {
  const map = new Map<string, RoleFigures>();
  for (const p of processes) {
    const r = map.get(p.role);
    if (r) {
      r.cpuPercent += p.cpuPercent;
      r.memoryBytes += p.memoryBytes;
      r.processes++;
    } else
      map.set(p.role, { role: p.role, cpuPercent: p.cpuPercent, memoryBytes: p.memoryBytes, processes: 1 });
  }
  return [...map.values()].sort((a, b) => compareRoles(a.role, b.role));
}

/** Processes for the table: by role, then pid. */
export function sortProcesses(processes: readonly ProcessStat[]): ProcessStat[] {
  return [...processes].sort((a, b) => compareRoles(a.role, b.role) || a.pid - b.pid);
}

/**
 * Append a sample (not newer than the last one: ignored); drops the oldest beyond capacity, and
 * roles that no longer have a value in the window. True when it was added.
 */
export function pushResourceSample(series: ResourceSeries, sample: ResourceSample): boolean {
  const x = sample.t / 1000;
  const n = series.x.length;
  if (n > 0 && x <= series.x[n - 1]!) return false;
  series.x.push(x);
  series.cpu.push(sample.cpuPercent);
  series.memory.push(sample.memoryBytes);
  series.heap.push(sample.heapUsedBytes);
  const figures = byRole(sample.processes);
  const seen = new Set<string>();
  for (const f of figures) {
    seen.add(f.role);
    if (!series.roleCpu.has(f.role)) {
      series.roleCpu.set(f.role, new Array<number | null>(n).fill(null));
      series.roleMemory.set(f.role, new Array<number | null>(n).fill(null));
      series.roles = [...series.roles, f.role].sort(compareRoles);
    }
    series.roleCpu.get(f.role)!.push(f.cpuPercent);
    series.roleMemory.get(f.role)!.push(f.memoryBytes);
  }
  for (const role of series.roles) {
    if (seen.has(role)) continue;
    series.roleCpu.get(role)!.push(null);
    series.roleMemory.get(role)!.push(null);
  }
  if (series.x.length > series.capacity) {
    const extra = series.x.length - series.capacity;
    series.x.splice(0, extra);
    series.cpu.splice(0, extra);
    series.memory.splice(0, extra);
    series.heap.splice(0, extra);
    for (const role of series.roles) {
      series.roleCpu.get(role)!.splice(0, extra);
      series.roleMemory.get(role)!.splice(0, extra);
    }
    const gone = series.roles.filter((role) => series.roleCpu.get(role)!.every((v) => v === null));
    if (gone.length > 0) {
      for (const role of gone) {
        series.roleCpu.delete(role);
        series.roleMemory.delete(role);
      }
      series.roles = series.roles.filter((role) => !gone.includes(role));
    }
  }
  return true;
}

export type ResourceChartKind = 'cpu' | 'memory';

/** uPlot's AlignedData: [x, one column per role (series.roles order)]. */
export function resourceChartData(
  series: ResourceSeries,
  kind: ResourceChartKind,
): [number[], ...(number | null)[][]] {
  const columns = kind === 'cpu' ? series.roleCpu : series.roleMemory;
  return [series.x, ...series.roles.map((role) => columns.get(role)!)];
}

/** A level change log without duplicates (the snapshot and an event may both carry one), bounded. */
export function appendChange(changes: readonly GovernorChange[], change: GovernorChange): GovernorChange[] {
  if (changes.some((c) => c.at === change.at && c.from === change.from && c.to === change.to))
    return [...changes];
  const next = [...changes, change].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return next.slice(Math.max(0, next.length - MAX_CHANGES));
}

type Tick = EventPayload<'resources.tick'>;
type GovernorEvent = EventPayload<'governor.changed'>;
export type MetricsExport = ResponseOf<'metrics.export'>;

const NOT_LOW_POWER: GovernorState['lowPower'] = { active: false, mode: 'auto', reasons: [] };

export const useResourcesStore = defineStore('resources', () => {
  let series = createSeries();
  /** The newest sample received (what the next flush publishes). */
  let pending: ResourceSample | null = null;
  /** Ticks that came before the first snapshot (its history goes under them). */
  const early: ResourceSample[] = [];
  let historyApplied = false;

  /** Bumped at most once per updateIntervalMs when samples arrived: what charts watch. */
  const version = ref(0);
  /** The latest sample, published at the same rate (tables, figures, the status bar). */
  const sample = shallowRef<ResourceSample | null>(null);
  /** Roles in the charts, in order (a new list only when it changes: charts rebuild on it). */
  const roles = shallowRef<readonly string[]>([]);
  const governor = shallowRef<GovernorState | null>(null);
  const changes = shallowRef<readonly GovernorChange[]>([]);
  const probes = shallowRef<readonly EndpointProbe[]>([]);
  const leak = shallowRef<LeakStatus | null>(null);
  const prometheus = ref<string | null>(null);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const probing = ref(false);
  const probeError = ref<string | null>(null);

  const level = computed(() => governor.value?.level ?? 'normal');
  const lowPower = computed(() => governor.value?.lowPower ?? NOT_LOW_POWER);
  const updateIntervalMs = computed(() => governor.value?.ui.updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS);
  /** What terminals should do (null until the governor is known). */
  const terminalPolicy = computed(() => governor.value?.ui ?? null);
  const processes = computed(() => (sample.value ? sortProcesses(sample.value.processes) : []));

  let started = false;
  const unsubscribers: Array<() => void> = [];
  let lastFlush = -Infinity;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  /** Publish what arrived since the last flush. */
  function flush(): void {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    lastFlush = Date.now();
    if (pending !== sample.value) sample.value = pending;
    const r = series.roles;
    if (r.length !== roles.value.length || r.some((role, i) => role !== roles.value[i])) roles.value = [...r];
    version.value++;
  }

  /** Flush now if the last one is older than the interval, else once it is. */
  function scheduleFlush(): void {
    if (flushTimer !== undefined) return;
    const wait = lastFlush + updateIntervalMs.value - Date.now();
    if (wait <= 0) flush();
    else flushTimer = setTimeout(flush, wait);
  }

  function applyTick(tick: Tick): void {
    if (!historyApplied) {
      early.push(tick);
      if (early.length > MAX_RESOURCE_SAMPLES) early.shift();
    }
    if (pushResourceSample(series, tick)) {
      pending = tick;
      scheduleFlush();
    }
  }

  function applyGovernor(event: GovernorEvent): void {
    governor.value = event.state;
    if (event.change) changes.value = appendChange(changes.value, event.change);
    // A pending flush follows the new interval (a shorter one flushes sooner).
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      scheduleFlush();
    }
  }

  function applyProbes(list: readonly EndpointProbe[]): void {
    probes.value = list;
  }

  /**
   * The whole picture. The first one gives the charts their history (with any ticks that came
   * before it); later ones (refreshes) only add their sample: the series here may reach further
   * back than the main side's history.
   */
  function applySnapshot(snapshot: ResourceSnapshot): void {
    const latest = snapshot.sample ? [snapshot.sample] : [];
    if (!historyApplied) {
      historyApplied = true;
      const merged = createSeries();
      for (const s of [...snapshot.history, ...latest, ...early])
        if (pushResourceSample(merged, s)) pending = s;
      early.length = 0;
      series = merged;
    } else {
      for (const s of latest) if (pushResourceSample(series, s)) pending = s;
    }
    governor.value = snapshot.governor;
    let log: GovernorChange[] = [...changes.value];
    for (const c of snapshot.changes) log = appendChange(log, c);
    changes.value = log;
    probes.value = snapshot.probes;
    leak.value = snapshot.leak;
    prometheus.value = snapshot.prometheus;
    flush();
  }

  async function refresh(): Promise<void> {
    try {
      applySnapshot(await getBridge().invoke('resources.get'));
      error.value = null;
    } catch (err) {
      error.value = describeError(err);
    } finally {
      loaded.value = true;
    }
  }

  /** A refresh soon (several triggers in a row make one request). */
  function refreshSoon(delayMs = 300): void {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh(), delayMs);
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const bridge = getBridge();
    unsubscribers.push(
      bridge.on('resources.tick', applyTick),
      bridge.on('governor.changed', applyGovernor),
      bridge.on('probes.updated', applyProbes),
      // The leak watch and the limits' sources are only in the snapshot: fetch it again when
      // the governor says something, or the limits may have changed.
      bridge.on('session.notice', (n) => {
        if (n.kind === 'resources') refreshSoon();
      }),
      bridge.on('settings.changed', () => refreshSoon()),
    );
    await refresh();
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    clearTimeout(flushTimer);
    clearTimeout(refreshTimer);
    flushTimer = undefined;
    refreshTimer = undefined;
    started = false;
  }

  /** Measure the endpoints now. */
  async function probe(): Promise<void> {
    if (probing.value) return;
    probing.value = true;
    try {
      probes.value = await getBridge().invoke('resources.probe');
      probeError.value = null;
    } catch (err) {
      probeError.value = describeError(err);
    } finally {
      probing.value = false;
    }
  }

  function exportMetrics(format: 'csv' | 'prometheus', sessionId?: string): Promise<MetricsExport> {
    return getBridge().invoke('metrics.export', sessionId ? { format, sessionId } : { format });
  }

  function data(kind: ResourceChartKind): [number[], ...(number | null)[][]] {
    return resourceChartData(series, kind);
  }

  /** The samples kept, for tests and diagnostics. */
  function size(): number {
    return series.x.length;
  }

  return {
    version,
    sample,
    roles,
    governor,
    changes,
    probes,
    leak,
    prometheus,
    loaded,
    error,
    probing,
    probeError,
    level,
    lowPower,
    updateIntervalMs,
    terminalPolicy,
    processes,
    init,
    dispose,
    refresh,
    applySnapshot,
    applyTick,
    applyGovernor,
    applyProbes,
    probe,
    exportMetrics,
    data,
    size,
    flush,
  };
});
