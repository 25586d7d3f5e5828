/**
 * The local history store as the rest of the app sees it (implemented with better-sqlite3 in
 * this folder). Writes are queued and committed in batches off the output path; reads are
 * synchronous queries backed by indexes.
 */
import type { HistoryFilter, HistorySession, SessionOutcome } from '../../../preload/api.js';
import type { MetricFields } from '../monitor/metric-fields.js';
import type { InstanceSummary } from '../ssm/types.js';

export interface StoreStatus {
  /** False when history is off: the file could not be opened or written (disk full, read-only folder). */
  available: boolean;
  /** Why it is off, in words a user can act on; null when available. */
  problem: string | null;
  /** The database file. */
  file: string | null;
  /**
   * Something the user should know although history works, e.g. that a damaged or foreign file
   * was moved aside at start-up (and where to). Absent when there is nothing to say.
   */
  notice?: string;
}

export interface SessionStartRecord {
  id: string;
  awsSessionId: string;
  instanceId: string;
  instanceName: string;
  profile: string;
  region: string;
  source: 'app' | 'web' | 'cli';
  user: string;
  /** Epoch ms. */
  startedAt: number;
  openMs: number | null;
}

export interface SessionEndRecord {
  endedAt: number;
  outcome: Exclude<SessionOutcome, 'open'>;
  endReason: string | null;
  exitCode: number | null;
  bytesIn: number;
  bytesOut: number;
  reconnects: number;
}

export interface SessionCounters {
  bytesIn: number;
  bytesOut: number;
  reconnects: number;
}

export interface EventRecord {
  sessionId: string;
  /** Epoch ms. */
  at: number;
  /** opened, state, reconnect-attempt, network-lost, agent-unreachable, agent-back, token-expired, reconnected, ended-elsewhere, inactive-warning, closed, error */
  kind: string;
  detail: string;
}

export interface MetricsRecord {
  /** null for process-wide samples (the resource governor's CPU and memory). */
  sessionId: string | null;
  /** Epoch ms. */
  t: number;
  latencyP50: number | null;
  /** Absent in records of versions before the p95 existed: stored as null. */
  latencyP95?: number | null;
  latencyP99: number | null;
  inBytesPerSec: number;
  outBytesPerSec: number;
  /** Data-channel messages sent again in the interval (default 0). */
  retransmissions?: number;
  /** Reconnections completed in the interval (default 0). */
  reconnects?: number;
  cpuPercent?: number | null;
  memoryBytes?: number | null;
}

/**
 * CPU and memory of one process role (main, renderer, gpu, utility, pty, child, ...) over one
 * downsampled interval: `cpuPercent` is the sum over the role's processes in percent of one core
 * (so it can exceed 100), `memoryBytes` their summed resident set size.
 */
export interface ProcessMetricsRecord {
  /** Epoch ms. */
  t: number;
  role: string;
  /** How many processes of this role were sampled. */
  processes: number;
  cpuPercent: number;
  memoryBytes: number;
}

/** One point of a role's process series: CPU averaged over the bucket, memory and process count the maximum. */
export interface ProcessMetricsPoint {
  /** Start of the bucket, epoch ms. */
  t: number;
  cpuPercent: number;
  memoryBytes: number;
  processes: number;
}

export interface ProcessMetricsSeries {
  bucketMs: number;
  /** One series per role: main first, then renderer, gpu, utility, pty, child, then the others by name. */
  series: { role: string; points: ProcessMetricsPoint[] }[];
}

/**
 * A session's connection metrics over all its recorded samples, in one row: p50 the average of its samples' p50 (null when no
 * input was sent), p95 and p99 the maximum, throughput averaged, retransmissions and reconnects
 * summed.
 */
export interface MetricsSummary extends MetricFields {
  sessionId: string;
  instanceId: string;
  instanceName: string;
  profile: string;
  region: string;
  /** ISO times, as in HistorySession. */
  startedAt: string;
  endedAt: string | null;
  outcome: SessionOutcome;
  /** How many samples were recorded (0: the latencies are null and the rest 0). */
  samples: number;
}

export interface SessionDetail {
  session: HistorySession;
  events: { at: string; kind: string; detail: string }[];
  metrics: {
    bucketMs: number;
    /** Per bucket: p50 averaged, p95/p99 the maximum, throughput averaged, counts summed. */
    points: (MetricFields & { t: number })[];
  };
}

/** A time range (epoch ms, inclusive) downsampled into at most `maxPoints` buckets. */
export interface MetricsRange {
  from?: number;
  to?: number;
  maxPoints?: number;
}

export interface HistoryStore {
  readonly status: StoreStatus;
  /** Fires when `status` changes (history turned off by a write error, or back on). */
  onStatusChanged(listener: (status: StoreStatus) => void): { dispose(): void };

  // Writes: queued, committed in batches; never throw (a failure turns the store off with a reason).
  recordSessionStart(record: SessionStartRecord): void;
  recordSessionCounters(id: string, counters: SessionCounters): void;
  recordSessionEnd(id: string, record: SessionEndRecord): void;
  recordEvent(record: EventRecord): void;
  recordMetrics(records: MetricsRecord[]): void;
  recordProcessMetrics(records: ProcessMetricsRecord[]): void;
  cacheInstances(profile: string, region: string, instances: InstanceSummary[], fetchedAt: number): void;

  // Reads (synchronous; empty results when the store is off).
  listSessions(filter?: HistoryFilter): HistorySession[];
  getSession(id: string, maxPoints?: number): SessionDetail | undefined;
  /** Per-role process CPU and memory over a time range, downsampled (CPU averaged, memory maximum). */
  processMetrics(range?: MetricsRange): ProcessMetricsSeries;
  /** Connection metrics of each session matching the filter (newest first, as listSessions). */
  metricsSummary(filter?: HistoryFilter): MetricsSummary[];
  cachedInstances(
    profile: string,
    region: string,
  ): { instances: InstanceSummary[]; fetchedAt: number } | undefined;

  /** Commit everything queued now (synchronously). */
  flush(): void;
  /** Flush and close the database. */
  close(): void;
}
