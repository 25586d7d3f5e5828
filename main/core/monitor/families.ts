/**
 * Everything EC2 Connect measures, as Prometheus metric families: processes, the governor,
 * sessions (latest interval's latency quantiles, running byte/retransmission/reconnect
 * counters), endpoint probes and the leak watch. Pure: built from the bridge's own types.
 */
import type {
  EndpointProbe,
  GovernorState,
  LeakStatus,
  ResourceSample,
  SessionMetricsSample,
} from '../../../preload/api.js';
import type { MetricFamily } from './prometheus.js';

export interface SessionFigures {
  sessionId: string;
  instanceId: string;
  instanceName: string;
  state: string;
  bytesIn: number;
  bytesOut: number;
  retransmissions: number;
  reconnects: number;
  /** The latest metrics sample, if any. */
  latest: SessionMetricsSample | undefined;
}

export interface FamiliesInput {
  sample: ResourceSample | null;
  governor: GovernorState;
  probes: readonly EndpointProbe[];
  leak: LeakStatus;
  sessions: readonly SessionFigures[];
}

const P = 'ec2connect_';
const LEVEL_VALUE: Record<GovernorState['level'], number> = {
  normal: 0,
  warn: 1,
  'slow-ui': 2,
  trim: 3,
  refuse: 4,
};

export function metricFamilies(input: FamiliesInput): MetricFamily[] {
  const { sample, governor, probes, leak, sessions } = input;
  const procLabels = (p: ResourceSample['processes'][number]) => ({
    pid: String(p.pid),
    role: p.role,
    governed: p.governed ? 'true' : 'false',
  });
  const sessionLabels = (s: SessionFigures) => ({
    session: s.sessionId,
    instance: s.instanceId,
    name: s.instanceName,
  });
  const families: MetricFamily[] = [
    {
      name: `${P}process_cpu_percent`,
      help: 'CPU use of each process over the last sampling interval, percent of one core.',
      type: 'gauge',
      points: (sample?.processes ?? []).map((p) => ({ labels: procLabels(p), value: p.cpuPercent })),
    },
    {
      name: `${P}process_resident_memory_bytes`,
      help: 'Resident set size of each process.',
      type: 'gauge',
      points: (sample?.processes ?? []).map((p) => ({ labels: procLabels(p), value: p.memoryBytes })),
    },
    {
      name: `${P}app_cpu_percent`,
      help: "CPU of EC2 Connect's own processes, averaged over the governor's window, percent of the whole machine.",
      type: 'gauge',
      points: [{ value: governor.cpu.percent }],
    },
    {
      name: `${P}app_memory_bytes`,
      help: "Resident memory of EC2 Connect's own processes.",
      type: 'gauge',
      points: [{ value: governor.memory.usedBytes }],
    },
    {
      name: `${P}main_heap_used_bytes`,
      help: "The main process's V8 heap in use.",
      type: 'gauge',
      points: sample ? [{ value: sample.heapUsedBytes }] : [],
    },
    {
      name: `${P}memory_limit_bytes`,
      help: 'max_memory_mb in bytes (absent with no limit).',
      type: 'gauge',
      points: governor.memory.limitBytes ? [{ value: governor.memory.limitBytes }] : [],
    },
    {
      name: `${P}cpu_limit_percent`,
      help: 'max_cpu_percent (absent with no limit).',
      type: 'gauge',
      points: governor.cpu.limitPercent ? [{ value: governor.cpu.limitPercent }] : [],
    },
    {
      name: `${P}governor_level`,
      help: 'The resource governor level: 0 normal, 1 warn, 2 slow-ui, 3 trim, 4 refuse.',
      type: 'gauge',
      points: [{ labels: { level: governor.level }, value: LEVEL_VALUE[governor.level] }],
    },
    {
      name: `${P}governor_pressure`,
      help: 'Use over limit (1 = at the limit), the higher of memory and CPU.',
      type: 'gauge',
      points: governor.pressure === null ? [] : [{ value: governor.pressure }],
    },
    {
      name: `${P}low_power`,
      help: 'Whether low-power mode is on (1) or off (0).',
      type: 'gauge',
      points: [{ value: governor.lowPower.active ? 1 : 0 }],
    },
    {
      name: `${P}sessions_open`,
      help: 'Sessions open now.',
      type: 'gauge',
      points: [{ value: sessions.length }],
    },
    {
      name: `${P}session_latency_ms`,
      help: 'Keystroke round trip over the last metrics interval (from acknowledgement timing).',
      type: 'gauge',
      points: sessions.flatMap((s) => {
        const quantiles: [string, number | null | undefined][] = [
          ['0.5', s.latest?.latencyP50],
          ['0.95', s.latest?.latencyP95],
          ['0.99', s.latest?.latencyP99],
        ];
        return quantiles.flatMap(([quantile, value]) =>
          typeof value === 'number' ? [{ labels: { ...sessionLabels(s), quantile }, value }] : [],
        );
      }),
    },
    {
      name: `${P}session_received_bytes_total`,
      help: 'Output bytes received from the instance.',
      type: 'counter',
      points: sessions.map((s) => ({ labels: sessionLabels(s), value: s.bytesIn })),
    },
    {
      name: `${P}session_sent_bytes_total`,
      help: 'Input bytes sent to the instance.',
      type: 'counter',
      points: sessions.map((s) => ({ labels: sessionLabels(s), value: s.bytesOut })),
    },
    {
      name: `${P}session_retransmissions_total`,
      help: 'Data-channel messages sent again because they were not acknowledged in time.',
      type: 'counter',
      points: sessions.map((s) => ({ labels: sessionLabels(s), value: s.retransmissions })),
    },
    {
      name: `${P}session_reconnects_total`,
      help: 'Reconnections of the data channel.',
      type: 'counter',
      points: sessions.map((s) => ({ labels: sessionLabels(s), value: s.reconnects })),
    },
    {
      name: `${P}endpoint_up`,
      help: 'Whether the last probe of an endpoint connected (1) or failed (0).',
      type: 'gauge',
      points: probes.map((p) => ({
        labels: { service: p.service, endpoint: p.endpoint, region: p.region },
        value: p.ok ? 1 : 0,
      })),
    },
    {
      name: `${P}endpoint_connect_ms`,
      help: 'TCP (and TLS) connect time of the last probe of an endpoint.',
      type: 'gauge',
      points: probes
        .filter((p) => p.latencyMs !== null)
        .map((p) => ({
          labels: { service: p.service, endpoint: p.endpoint, region: p.region },
          value: p.latencyMs!,
        })),
    },
    {
      name: `${P}heap_growth_ratio`,
      help: "Heap growth over the leak watch's window (0.5 = +50 %); absent until the window is full.",
      type: 'gauge',
      points: leak.growthRatio === null ? [] : [{ value: leak.growthRatio }],
    },
    {
      name: `${P}gc_pause_max_ms`,
      help: 'Longest garbage-collection pause in the leak watch window.',
      type: 'gauge',
      points: [{ value: leak.gcPauseMaxMs }],
    },
    {
      name: `${P}active_handles`,
      help: 'Active handles and requests of the main process (sockets, timers, files).',
      type: 'gauge',
      points: [{ value: leak.handles }],
    },
  ];
  return families;
}
