/** Test data for the resource governor and the process monitor (preload/api.ts, "Resources"). */
import type {
  EndpointProbe,
  GovernorChange,
  GovernorLevel,
  GovernorState,
  LeakStatus,
  ProcessStat,
  ResourceSample,
  ResourceSnapshot,
} from '../../../preload/api.js';

const MB = 1024 * 1024;

export function proc(partial: Partial<ProcessStat> & { pid: number; role: string }): ProcessStat {
  return { cpuPercent: 1, memoryBytes: 50 * MB, governed: true, ...partial };
}

export const PROCESSES: ProcessStat[] = [
  proc({ pid: 100, role: 'main', cpuPercent: 4, memoryBytes: 120 * MB }),
  proc({ pid: 200, role: 'renderer', cpuPercent: 6, memoryBytes: 180 * MB }),
  proc({ pid: 300, role: 'gpu', cpuPercent: 1.5, memoryBytes: 90 * MB }),
  proc({ pid: 400, role: 'pty', cpuPercent: 0.5, memoryBytes: 4 * MB, governed: false }),
];

export function resourceSample(t: number, partial: Partial<ResourceSample> = {}): ResourceSample {
  const processes = partial.processes ?? PROCESSES;
  const governed = processes.filter((p) => p.governed);
  return {
    t,
    intervalMs: 5000,
    processes,
    cpuPercent: governed.reduce((n, p) => n + p.cpuPercent, 0) / 4,
    memoryBytes: governed.reduce((n, p) => n + p.memoryBytes, 0),
    heapUsedBytes: 40 * MB,
    cores: 4,
    ...partial,
  };
}

export function governorState(partial: Partial<GovernorState> = {}): GovernorState {
  return {
    level: 'normal',
    pressure: 0.25,
    memory: { usedBytes: 390 * MB, limitBytes: 1536 * MB },
    cpu: { percent: 2.9, limitPercent: 50 },
    reason: null,
    since: '2026-11-25T12:00:00.000Z',
    refusal: null,
    lowPower: { active: false, mode: 'auto', reasons: [] },
    ui: { updateIntervalMs: 1000, backgroundScrollback: null, economy: false },
    sources: {
      maxMemoryMb: 'default',
      maxCpuPercent: 'default',
      lowPower: 'default',
      monitoringIntervalMs: 'default',
    },
    ...partial,
  };
}

/** A governor at `level` with the actions that level takes (each includes those before it). */
export function governorAt(level: GovernorLevel, partial: Partial<GovernorState> = {}): GovernorState {
  const rank = ['normal', 'warn', 'slow-ui', 'trim', 'refuse'].indexOf(level);
  const over = level !== 'normal';
  return governorState({
    level,
    pressure: over ? 1.2 : 0.25,
    memory: { usedBytes: 390 * MB, limitBytes: over ? 300 * MB : 1536 * MB },
    reason: over ? 'memory 390 MiB is over the 300 MiB limit' : null,
    refusal: level === 'refuse' ? 'New sessions are refused: memory 390 MiB is over the 300 MiB limit' : null,
    lowPower: over
      ? { active: true, mode: 'auto', reasons: ['limits'] }
      : { active: false, mode: 'auto', reasons: [] },
    ui: {
      updateIntervalMs: rank >= 2 ? 3000 : 1000,
      backgroundScrollback: rank >= 3 ? 500 : null,
      economy: over,
    },
    ...partial,
  });
}

export function change(
  at: string,
  from: GovernorLevel,
  to: GovernorLevel,
  message = `${from} -> ${to}`,
): GovernorChange {
  return { at, from, to, message };
}

export function probe(partial: Partial<EndpointProbe> = {}): EndpointProbe {
  return {
    service: 'ssm',
    profile: 'sandbox',
    region: 'us-east-1',
    endpoint: '127.0.0.1:40123',
    ok: true,
    latencyMs: 0.8,
    error: null,
    at: '2026-11-25T12:00:00.000Z',
    ...partial,
  };
}

export function leakStatus(partial: Partial<LeakStatus> = {}): LeakStatus {
  return {
    growthRatio: 0.04,
    warning: false,
    summary: 'Heap steady (+4% over 10 min)',
    gcPauseMaxMs: 3.2,
    gcCount: 12,
    handles: 42,
    ...partial,
  };
}

export function snapshot(partial: Partial<ResourceSnapshot> = {}): ResourceSnapshot {
  const history = partial.history ?? [resourceSample(1000), resourceSample(6000)];
  return {
    sample: history[history.length - 1] ?? null,
    history,
    governor: governorState(),
    changes: [],
    probes: [probe()],
    leak: leakStatus(),
    prometheus: null,
    ...partial,
  };
}
