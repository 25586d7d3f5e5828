/**
 * Hand-built, schema-checked answers of the status socket (a resource snapshot, sessions with
 * their metrics, port forwards) and handlers that serve them, for the status server,
 * `ec2-connect resources` and `ec2-connect forward list` tests.
 */
import {
  MetricsHistorySchema,
  PortListSchema,
  ResourceSnapshotSchema,
  SessionInfoSchema,
  type PortForwardInfo,
  type PortList,
  type ResourceSnapshot,
  type SessionInfo,
} from '../../../preload/api.js';
import type { StatusHandlers } from '../../../main/core/monitor/status-server.js';

export const T = Date.parse('2026-03-04T05:06:07.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MiB = 1024 * 1024;

export function snapshotFixture(over: Partial<ResourceSnapshot> = {}): ResourceSnapshot {
  const sample = {
    t: T,
    intervalMs: 5000,
    processes: [
      { pid: 4242, role: 'main', cpuPercent: 3.5, memoryBytes: 180 * MiB, governed: true },
      { pid: 4300, role: 'renderer', cpuPercent: 12.25, memoryBytes: 420 * MiB, governed: true },
      { pid: 4301, role: 'gpu', cpuPercent: 1, memoryBytes: 90 * MiB, governed: true },
      { pid: 5001, role: 'pty', cpuPercent: 0, memoryBytes: 4 * MiB, governed: false },
    ],
    cpuPercent: 2.09,
    memoryBytes: 690 * MiB,
    heapUsedBytes: 64 * MiB,
    cores: 8,
  };
  return ResourceSnapshotSchema.parse({
    sample,
    history: [sample],
    governor: {
      level: 'warn',
      pressure: 0.9,
      memory: { usedBytes: 690 * MiB, limitBytes: 768 * MiB },
      cpu: { percent: 2.5, limitPercent: 50 },
      reason: 'memory at 90 % of its limit (690.0 MiB of 768.0 MiB)',
      since: iso(T - 60_000),
      refusal: null,
      lowPower: { active: true, mode: 'auto', reasons: ['battery'] },
      ui: { updateIntervalMs: 1000, backgroundScrollback: null, economy: true },
      sources: {
        maxMemoryMb: 'settings',
        maxCpuPercent: 'default',
        lowPower: 'default',
        monitoringIntervalMs: 'env',
      },
    },
    changes: [{ at: iso(T - 60_000), from: 'normal', to: 'warn', message: 'memory at 90 % of its limit' }],
    probes: [
      {
        service: 'ssm',
        profile: 'sandbox',
        region: 'us-east-1',
        endpoint: '127.0.0.1:4566',
        ok: true,
        latencyMs: 1.4,
        error: null,
        at: iso(T - 5000),
      },
      {
        service: 'ec2',
        profile: 'prod',
        region: 'eu-west-1',
        endpoint: 'ec2.eu-west-1.amazonaws.com:443',
        ok: false,
        latencyMs: null,
        error: 'ECONNREFUSED',
        at: iso(T - 5000),
      },
    ],
    leak: {
      growthRatio: 0.12,
      warning: false,
      summary: 'heap steady',
      gcPauseMaxMs: 3.25,
      gcCount: 42,
      handles: 17,
    },
    prometheus: null,
    ...over,
  });
}

export const SESSION_ID = '3f2a1b4c-1111-4111-8111-111111111111';
export const QUIET_ID = '7c9d0e1f-2222-4222-8222-222222222222';

export function sessionsFixture(): SessionInfo[] {
  const base = {
    awsSessionId: 'alice-0123456789abcdef0',
    instanceId: 'i-0123456789abcdef0',
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    state: 'open',
    bytesIn: 10_000,
    bytesOut: 200,
    reconnects: 0,
    openedAt: iso(T - 600_000),
    openMs: 250,
    lastActivityAt: iso(T - 1000),
  };
  return [
    SessionInfoSchema.parse({ ...base, id: SESSION_ID }),
    SessionInfoSchema.parse({
      ...base,
      id: QUIET_ID,
      instanceId: 'i-0fedcba9876543210',
      instanceName: 'i-0fedcba9876543210',
      state: 'reconnecting',
      reconnect: { attempt: 2, maxAttempts: 3, nextAttemptAt: iso(T + 3000), cause: 'network lost' },
    }),
  ];
}

export function metricsFixture() {
  const sample = (t: number, p50: number, p99: number, inBps: number) => ({
    t,
    latencyP50: p50,
    latencyP95: p99 - 1,
    latencyP99: p99,
    inBytesPerSec: inBps,
    outBytesPerSec: 64,
    retransmissions: 0,
    reconnects: 0,
  });
  return MetricsHistorySchema.parse({
    intervalMs: 1000,
    sessions: [
      { sessionId: SESSION_ID, samples: [sample(T - 1000, 9, 40, 100), sample(T, 2.25, 12.5, 3 * 1024)] },
      { sessionId: QUIET_ID, samples: [] },
    ],
  });
}

/** Handlers that answer with the fixtures and count their calls. */
export function fixtureHandlers(
  over: Partial<StatusHandlers> = {},
): StatusHandlers & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  return {
    calls,
    'resources.get': async () => (count('resources.get'), snapshotFixture()),
    'sessions.list': async () => (count('sessions.list'), sessionsFixture()),
    'metrics.history': async () => (count('metrics.history'), metricsFixture()),
    ...over,
  };
}

export const FORWARD_ID = '7d0c4f5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
export const ENDED_FORWARD_ID = '7d0c4f5e-9999-4c3d-8e9f-0a1b2c3d4e5f';

export function forwardFixture(over: Partial<PortForwardInfo> = {}): PortForwardInfo {
  return {
    id: FORWARD_ID,
    instanceId: 'i-0123456789abcdef0',
    instanceName: 'db-1',
    profile: 'sandbox',
    region: 'us-east-1',
    remotePort: 5432,
    host: null,
    label: 'db',
    localAddress: '127.0.0.1:15432',
    localPort: 15432,
    mode: 'multiplexed',
    state: 'open',
    sessionId: 'user-0123456789abcdef0',
    startedAt: T - 65_000,
    endedAt: null,
    reason: null,
    activeConnections: 1,
    totalConnections: 3,
    failedConnections: 0,
    bytesIn: 2048,
    bytesOut: 300,
    connections: [{ id: 3, client: '127.0.0.1:50000', openedAt: T - 1000, bytesIn: 1024, bytesOut: 100 }],
    savedId: null,
    ...over,
  };
}

export function portsFixture(): PortList {
  return PortListSchema.parse({
    forwards: [
      forwardFixture(),
      forwardFixture({
        id: ENDED_FORWARD_ID,
        state: 'failed',
        endedAt: T - 5000,
        reason: 'the session was terminated',
        activeConnections: 0,
        connections: [],
      }),
    ],
    saved: [],
    savedProblem: null,
  });
}

/** Port handlers over the fixture: close marks the forward closed; `closed` lists the ids closed. */
export function portHandlers(): Required<Pick<StatusHandlers, 'ports.list' | 'ports.close'>> & {
  closed: string[];
} {
  const closed: string[] = [];
  return {
    closed,
    'ports.list': async () => {
      const list = portsFixture();
      return {
        ...list,
        forwards: list.forwards.map((f) =>
          closed.includes(f.id)
            ? { ...f, state: 'closed' as const, endedAt: T, reason: 'closed by the user' }
            : f,
        ),
      };
    },
    'ports.close': async ({ id }) => {
      closed.push(id);
      return null;
    },
  };
}
