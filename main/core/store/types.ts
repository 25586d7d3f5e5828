/**
 * The local history store as the rest of the app sees it (implemented with better-sqlite3 in
 * this folder). Writes are queued and committed in batches off the output path; reads are
 * synchronous queries backed by indexes.
 */
import type { HistoryFilter, HistorySession, SessionOutcome } from '../../../preload/api.js';
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
  latencyP99: number | null;
  inBytesPerSec: number;
  outBytesPerSec: number;
  cpuPercent?: number | null;
  memoryBytes?: number | null;
}

export interface SessionDetail {
  session: HistorySession;
  events: { at: string; kind: string; detail: string }[];
  metrics: {
    bucketMs: number;
    points: {
      t: number;
      latencyP50: number | null;
      latencyP99: number | null;
      inBytesPerSec: number;
      outBytesPerSec: number;
    }[];
  };
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
  cacheInstances(profile: string, region: string, instances: InstanceSummary[], fetchedAt: number): void;

  // Reads (synchronous; empty results when the store is off).
  listSessions(filter?: HistoryFilter): HistorySession[];
  getSession(id: string, maxPoints?: number): SessionDetail | undefined;
  cachedInstances(
    profile: string,
    region: string,
  ): { instances: InstanceSummary[]; fetchedAt: number } | undefined;

  /** Commit everything queued now (synchronously). */
  flush(): void;
  /** Flush and close the database. */
  close(): void;
}
