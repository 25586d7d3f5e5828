/**
 * The history store on better-sqlite3: records are queued (writer.ts) and committed in batches
 * with prepared statements; reads are synchronous indexed queries (queries.ts); retention runs on
 * an unref'd timer (retention.ts). It never throws to its callers: when the file cannot be opened
 * or written (disk full, read-only folder, newer schema) `status` says why, `onStatusChanged`
 * fires, writes are dropped and EC2 Connect carries on without history.
 */
import fs from 'node:fs';
import os from 'node:os';
import type Database from 'better-sqlite3';
import type { HistoryFilter, HistorySession } from '../../../preload/api.js';
import type { InstanceSummary } from '../ssm/types.js';
import { pickMetricFields } from '../monitor/metric-fields.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { Emitter, type Disposable } from '../util/lifecycle.js';
import { openDatabase, restrictFileModes, type MovedAside } from './database.js';
import { STORE_DEFAULTS } from './defaults.js';
import { classifyError, errorCode, problemText } from './errors.js';
import { LATEST_SCHEMA_VERSION, schemaVersion } from './migrations.js';
import { defaultDatabaseFile } from './paths.js';
import {
  CONTAINS_FN,
  DEFAULT_MAX_POINTS,
  MIN_BUCKET_MS,
  OWNER_ALIVE_FN,
  findSessionsByIdPrefix,
  getSessionRow,
  listSessions,
  metricsSeries,
  metricsSummary,
  processMetricsSeries,
  sessionEvents,
  toHistorySession,
  type MetricsSeries,
} from './queries.js';
import {
  OWNER_ALIVE_LOCAL_FN,
  cleanup as cleanupDb,
  trimMetrics as trimDb,
  type CleanupResult,
  type TrimResult,
} from './retention.js';
import type {
  EventRecord,
  HistoryStore,
  MetricsRange,
  MetricsRecord,
  MetricsSummary,
  ProcessMetricsRecord,
  ProcessMetricsSeries,
  SessionCounters,
  SessionDetail,
  SessionEndRecord,
  SessionStartRecord,
  StoreStatus,
} from './types.js';
import {
  WriteQueue,
  isProcessSample,
  type QueuedMetric,
  type QueuedProcessMetric,
  type QueuedSample,
  type WriteOp,
  type WriterStats,
} from './writer.js';

export interface HistoryStoreOptions {
  /** The database file (default: EC2_CONNECT_DB, else sessions.db in the app-data folder). */
  file?: string;
  /** Environment for the default file (default: process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Commit queued records this often (ms; config `flush_interval`). Default 1000. */
  flushIntervalMs?: number;
  /** Commit at once when this many records wait (config `batch_processing`). Default 1000. */
  batchSize?: number;
  /** Most records waiting; past it the oldest metric samples are dropped. Default 100_000. */
  maxQueue?: number;
  /** Run retention this often (hours; config `cleanup_interval_hours`); 0 = never. Default 24. */
  cleanupIntervalHours?: number;
  /** Retention removes sessions that ended more than this many days ago. Default 90; 0 = keep. */
  retentionDays?: number;
  /** Retention keeps the newest this many samples per session (config `max_metrics_per_session`). Default 86_400; 0 = all. */
  maxMetricsPerSession?: number;
  /** VACUUM and ANALYZE when opening (config `vacuum_on_startup`). Default false. */
  vacuumOnStartup?: boolean;
  /** How long a write waits for another process's lock before it is retried later (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** Flush and close when the process exits (a 'exit' listener). Default true. */
  closeOnExit?: boolean;
  now?: () => number;
  /** Who owns the sessions this store records (default: this process on this host). */
  owner?: { pid: number; host: string };
  /** Test hooks. */
  testHooks?: {
    /** Open read-only: every write fails with SQLITE_READONLY. */
    readonly?: boolean;
    /** PRAGMA max_page_count after opening: writes past it fail with SQLITE_FULL. */
    maxPageCount?: number;
    /** better-sqlite3's verbose callback (every SQL statement run). */
    verbose?: (sql: unknown) => void;
  };
}

export interface StoreStats {
  file: string;
  fileBytes: number;
  walBytes: number;
  pageSize: number;
  pageCount: number;
  freePages: number;
  journalMode: string;
  schemaVersion: number;
  rows: { sessions: number; session_events: number; metrics: number; instance_cache: number };
  /** Start of the oldest and newest recorded session (ISO), null when there is none. */
  oldestSession: string | null;
  newestSession: string | null;
  writer: WriterStats;
}

export { STORE_DEFAULTS };

/** First retention run after opening (then every cleanupIntervalHours). */
const FIRST_MAINTENANCE_DELAY_MS = 60_000;
const SEQ_CACHE_MAX = 10_000;
const REJECT_LOG_INTERVAL_MS = 60_000;

const str = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const nnum = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const int = (v: unknown): number => Math.round(num(v));
const nint = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null;
/** A count or amount that cannot be negative. */
const nonneg = (v: unknown): number => Math.max(0, num(v));
/** Longest process role stored (ProcessRoleSchema's limit). */
const MAX_ROLE_LENGTH = 40;

interface Statements {
  insertSession: Database.Statement;
  seqOf: Database.Statement;
  counters: Database.Statement;
  end: Database.Statement;
  event: Database.Statement;
  cache: Database.Statement;
  metric: Database.Statement;
  processMetric: Database.Statement;
}

export class SqliteHistoryStore implements HistoryStore {
  readonly file: string;
  private db: Database.Database | undefined;
  private stmts: Statements | undefined;
  private writable = false;
  private closed = false;
  private current: StoreStatus;
  private readonly statusEmitter = new Emitter<StoreStatus>();
  private readonly writtenEmitter = new Emitter<{ sessions: string[] }>();
  private readonly writer: WriteQueue;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly owner: { pid: number; host: string };
  private readonly host = os.hostname();
  private readonly seqCache = new Map<string, number>();
  private aliveCache = new Map<string, boolean>();
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private orphanMetrics = 0;
  private lastRejectLog = -Infinity;
  private readonly exitHook = (): void => this.close();
  private readonly opts: Required<
    Pick<HistoryStoreOptions, 'cleanupIntervalHours' | 'retentionDays' | 'maxMetricsPerSession'>
  >;
  /** Set when the file found at open was damaged or foreign and was moved aside. */
  readonly movedAside: MovedAside | null = null;

  constructor(options: HistoryStoreOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.owner = options.owner ?? { pid: process.pid, host: this.host };
    this.file = options.file ?? defaultDatabaseFile(options.env);
    this.opts = {
      cleanupIntervalHours: options.cleanupIntervalHours ?? STORE_DEFAULTS.cleanupIntervalHours,
      retentionDays: options.retentionDays ?? STORE_DEFAULTS.retentionDays,
      maxMetricsPerSession: options.maxMetricsPerSession ?? STORE_DEFAULTS.maxMetricsPerSession,
    };
    this.writer = new WriteQueue(
      {
        commit: (ops, metrics, from) => this.commit(ops, metrics, from),
        fatal: (err, lost) => this.turnOff(problemText(err, this.file), err, lost),
      },
      {
        flushIntervalMs: Math.max(1, options.flushIntervalMs ?? STORE_DEFAULTS.flushIntervalMs),
        batchSize: Math.max(1, options.batchSize ?? STORE_DEFAULTS.batchSize),
        maxQueue: Math.max(1, options.maxQueue ?? STORE_DEFAULTS.maxQueue),
        logger: this.logger,
        now: this.now,
      },
    );
    this.current = { available: false, problem: null, file: this.file };
    try {
      const opened = openDatabase(this.file, {
        logger: this.logger,
        now: this.now,
        ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
        ...(options.testHooks?.readonly ? { readonly: true } : {}),
        ...(options.testHooks?.verbose ? { verbose: options.testHooks.verbose } : {}),
      });
      this.file = opened.file;
      this.db = opened.db;
      this.movedAside = opened.movedAside;
      this.registerFunctions(opened.db);
      this.stmts = this.prepare(opened.db);
      if (options.testHooks?.maxPageCount)
        opened.db.pragma(`max_page_count = ${options.testHooks.maxPageCount}`);
      this.writable = true;
      this.current = Object.freeze({
        available: true,
        problem: null,
        file: this.file,
        ...(opened.movedAside ? { notice: opened.movedAside.message } : {}),
      });
    } catch (err) {
      const problem =
        err instanceof Error && err.name === 'StoreOpenError' ? err.message : problemText(err, this.file);
      this.logger.error({ err, file: this.file }, problem);
      this.writer.stop();
      this.current = Object.freeze({ available: false, problem, file: this.file });
      return;
    }
    if (options.vacuumOnStartup ?? STORE_DEFAULTS.vacuumOnStartup) {
      try {
        this.vacuum();
      } catch (err) {
        this.logger.warn({ err }, 'VACUUM on start-up skipped');
      }
    }
    if (this.opts.cleanupIntervalHours > 0) {
      const every = this.opts.cleanupIntervalHours * 3_600_000;
      this.maintenanceTimer = setTimeout(
        () => this.maintenanceTick(every),
        Math.min(FIRST_MAINTENANCE_DELAY_MS, every),
      );
      this.maintenanceTimer.unref();
    }
    if (options.closeOnExit ?? true) process.on('exit', this.exitHook);
  }

  get status(): StoreStatus {
    return this.current;
  }

  onStatusChanged(listener: (status: StoreStatus) => void): Disposable {
    return this.statusEmitter.event(listener);
  }

  /** Fires after a commit that added or changed session rows (start, counters, end), with their ids. */
  onDidWrite(listener: (e: { sessions: string[] }) => void): Disposable {
    return this.writtenEmitter.event(listener);
  }

  /** The queue's counters (records written, transactions, dropped, CPU spent committing). */
  get writerStats(): WriterStats & { orphanMetrics: number } {
    return { ...this.writer.stats, pending: this.writer.pending, orphanMetrics: this.orphanMetrics };
  }

  /** True while a flush is scheduled (nothing runs while the queue is empty). */
  get flushScheduled(): boolean {
    return this.writer.scheduled;
  }

  // ---- writes -------------------------------------------------------------------------------

  recordSessionStart(r: SessionStartRecord): void {
    if (!this.writable) return;
    this.writer.push({
      kind: 'start',
      record: {
        id: str(r.id),
        awsSessionId: str(r.awsSessionId),
        instanceId: str(r.instanceId),
        instanceName: str(r.instanceName),
        profile: str(r.profile),
        region: str(r.region),
        source: r.source === 'web' || r.source === 'cli' ? r.source : 'app',
        user: str(r.user),
        startedAt: int(r.startedAt),
        openMs: nnum(r.openMs),
      },
    });
  }

  recordSessionCounters(id: string, c: SessionCounters): void {
    if (!this.writable) return;
    this.writer.push({
      kind: 'counters',
      id: str(id),
      counters: { bytesIn: int(c.bytesIn), bytesOut: int(c.bytesOut), reconnects: int(c.reconnects) },
    });
  }

  recordSessionEnd(id: string, r: SessionEndRecord): void {
    if (!this.writable) return;
    const outcome = (['ended', 'terminated', 'failed', 'unknown'] as const).includes(r.outcome)
      ? r.outcome
      : 'unknown';
    this.writer.push({
      kind: 'end',
      id: str(id),
      record: {
        endedAt: int(r.endedAt),
        outcome,
        endReason: r.endReason === null || r.endReason === undefined ? null : str(r.endReason),
        exitCode: nint(r.exitCode),
        bytesIn: int(r.bytesIn),
        bytesOut: int(r.bytesOut),
        reconnects: int(r.reconnects),
      },
    });
  }

  recordEvent(r: EventRecord): void {
    if (!this.writable) return;
    this.writer.push({
      kind: 'event',
      record: { sessionId: str(r.sessionId), at: int(r.at), kind: str(r.kind), detail: str(r.detail) },
    });
  }

  recordMetrics(records: MetricsRecord[]): void {
    if (!this.writable || records.length === 0) return;
    const items: QueuedMetric[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      items[i] = {
        sessionId: r.sessionId === null || r.sessionId === undefined ? null : str(r.sessionId),
        t: int(r.t),
        p50: nnum(r.latencyP50),
        p95: nnum(r.latencyP95),
        p99: nnum(r.latencyP99),
        inBps: num(r.inBytesPerSec),
        outBps: num(r.outBytesPerSec),
        retransmits: Math.round(nonneg(r.retransmissions)),
        reconnects: Math.round(nonneg(r.reconnects)),
        cpu: nnum(r.cpuPercent),
        mem: nint(r.memoryBytes),
      };
    }
    this.writer.pushMetrics(items);
  }

  recordProcessMetrics(records: ProcessMetricsRecord[]): void {
    if (!this.writable || !Array.isArray(records) || records.length === 0) return;
    const items: QueuedProcessMetric[] = [];
    for (const r of records) {
      if (!r) continue;
      const role = str(r.role).slice(0, MAX_ROLE_LENGTH);
      if (!role) continue;
      items.push({
        role,
        t: int(r.t),
        processes: Math.round(nonneg(r.processes)),
        cpu: nonneg(r.cpuPercent),
        mem: Math.round(nonneg(r.memoryBytes)),
      });
    }
    if (items.length) this.writer.pushMetrics(items);
  }

  cacheInstances(profile: string, region: string, instances: InstanceSummary[], fetchedAt: number): void {
    if (!this.writable) return;
    let data: string;
    try {
      data = JSON.stringify(instances);
    } catch (err) {
      this.logger.warn({ err }, 'instance list not cached: not serializable');
      return;
    }
    this.writer.push({
      kind: 'cache',
      profile: str(profile),
      region: str(region),
      data,
      fetchedAt: int(fetchedAt),
    });
  }

  flush(): void {
    if (this.writable) this.writer.flush();
  }

  // ---- the batch, in one transaction ----------------------------------------------------------

  private prepare(db: Database.Database): Statements {
    return {
      insertSession: db.prepare(
        `INSERT INTO sessions (id, aws_session_id, instance_id, instance_name, profile, region, source, "user",
                               owner_pid, owner_host, started_at, open_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      seqOf: db.prepare('SELECT seq FROM sessions WHERE id = ?').pluck(),
      counters: db.prepare(
        'UPDATE sessions SET bytes_in = ?, bytes_out = ?, reconnects = ? WHERE id = ? AND ended_at IS NULL',
      ),
      end: db.prepare(
        `UPDATE sessions SET ended_at = ?, outcome = ?, end_reason = ?, exit_code = ?, bytes_in = ?, bytes_out = ?,
                             reconnects = ? WHERE id = ?`,
      ),
      event: db.prepare('INSERT INTO session_events (session_id, at, kind, detail) VALUES (?, ?, ?, ?)'),
      cache: db.prepare(
        `INSERT INTO instance_cache (profile, region, data, fetched_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (profile, region) DO UPDATE SET data = excluded.data, fetched_at = excluded.fetched_at
         WHERE excluded.fetched_at >= instance_cache.fetched_at`,
      ),
      metric: db.prepare(
        `INSERT INTO metrics (session_seq, t, latency_p50, latency_p95, latency_p99, in_bps, out_bps, retransmits,
                              reconnects, cpu_percent, memory_bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      processMetric: db.prepare(
        'INSERT INTO process_metrics (t, role, processes, cpu_percent, memory_bytes) VALUES (?, ?, ?, ?, ?)',
      ),
    };
  }

  private seqFor(id: string): number | undefined {
    let seq = this.seqCache.get(id);
    if (seq === undefined) {
      seq = this.stmts!.seqOf.get(id) as number | undefined;
      if (seq !== undefined) {
        if (this.seqCache.size >= SEQ_CACHE_MAX) this.seqCache.clear();
        this.seqCache.set(id, seq);
      }
    }
    return seq;
  }

  private rejected(err: unknown): void {
    if (classifyError(err) !== 'record') throw err;
    this.writer.recordRejected();
    const now = this.now();
    if (now - this.lastRejectLog >= REJECT_LOG_INTERVAL_MS) {
      this.lastRejectLog = now;
      this.logger.warn({ err }, 'a history record was refused by the database and skipped');
    }
  }

  private commit(ops: WriteOp[], metrics: QueuedSample[], from: number): void {
    const db = this.db;
    const s = this.stmts;
    if (!db || !s) throw Object.assign(new Error('history database is closed'), { code: 'SQLITE_MISUSE' });
    const changed = new Set<string>();
    let orphans = 0;
    const tx = db.transaction(() => {
      for (const op of ops) {
        try {
          switch (op.kind) {
            case 'start': {
              const r = op.record;
              const info = s.insertSession.run(
                r.id,
                r.awsSessionId,
                r.instanceId,
                r.instanceName,
                r.profile,
                r.region,
                r.source,
                r.user,
                this.owner.pid,
                this.owner.host,
                r.startedAt,
                r.openMs,
              );
              if (info.changes > 0) changed.add(r.id);
              break;
            }
            case 'counters': {
              const c = op.counters;
              if (s.counters.run(c.bytesIn, c.bytesOut, c.reconnects, op.id).changes) changed.add(op.id);
              break;
            }
            case 'end': {
              const r = op.record;
              const info = s.end.run(
                r.endedAt,
                r.outcome,
                r.endReason,
                r.exitCode,
                r.bytesIn,
                r.bytesOut,
                r.reconnects,
                op.id,
              );
              if (info.changes) changed.add(op.id);
              break;
            }
            case 'event':
              s.event.run(op.record.sessionId, op.record.at, op.record.kind, op.record.detail);
              break;
            case 'cache':
              s.cache.run(op.profile, op.region, op.data, op.fetchedAt);
              break;
          }
        } catch (err) {
          this.rejected(err);
        }
      }
      let lastId: string | null = null;
      let lastSeq: number | undefined;
      for (let i = from; i < metrics.length; i++) {
        const sample = metrics[i]!;
        if (isProcessSample(sample)) {
          try {
            s.processMetric.run(sample.t, sample.role, sample.processes, sample.cpu, sample.mem);
          } catch (err) {
            this.rejected(err);
          }
          continue;
        }
        const m: QueuedMetric = sample;
        let seq: number | undefined;
        if (m.sessionId === null) seq = 0;
        else if (m.sessionId === lastId) seq = lastSeq;
        else {
          seq = this.seqFor(m.sessionId);
          lastId = m.sessionId;
          lastSeq = seq;
        }
        if (seq === undefined) {
          orphans++;
          continue;
        }
        try {
          s.metric.run(
            seq,
            m.t,
            m.p50,
            m.p95,
            m.p99,
            m.inBps,
            m.outBps,
            m.retransmits,
            m.reconnects,
            m.cpu,
            m.mem,
          );
        } catch (err) {
          this.rejected(err);
        }
      }
    });
    try {
      tx.immediate();
    } catch (err) {
      // Rolled back: seqs looked up inside the transaction may name rows that no longer exist.
      this.seqCache.clear();
      throw err;
    }
    if (orphans) {
      this.orphanMetrics += orphans;
      this.logger.debug({ orphans }, 'metric samples of unrecorded sessions skipped');
    }
    if (changed.size) this.writtenEmitter.fire({ sessions: [...changed] });
  }

  /** History off: drop the queue, say why, keep the file open for reads if it still can be read. */
  private turnOff(problem: string, err: unknown, lost: number): void {
    this.writable = false;
    this.writer.stop();
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    this.logger.error({ err, file: this.file, lost }, `${problem} (${lost} queued records were not written)`);
    this.current = Object.freeze({ available: false, problem, file: this.file });
    this.statusEmitter.fire(this.current);
  }

  private handleError(err: unknown, what: string): void {
    const kind = classifyError(err);
    if (kind === 'fatal' && this.writable) {
      const lost = this.writer.pending;
      this.turnOff(problemText(err, this.file), err, lost);
    } else this.logger.warn({ err }, `history: ${what} failed`);
  }

  // ---- reads --------------------------------------------------------------------------------

  private registerFunctions(db: Database.Database): void {
    db.function(OWNER_ALIVE_FN, { deterministic: false }, (pid: unknown, host: unknown) =>
      this.ownerAlive(pid, host, false) ? 1 : 0,
    );
    db.function(OWNER_ALIVE_LOCAL_FN, { deterministic: false }, (pid: unknown, host: unknown) =>
      this.ownerAlive(pid, host, true) ? 1 : 0,
    );
    db.function(CONTAINS_FN, { deterministic: true }, (text: unknown, part: unknown) =>
      str(text).toLowerCase().includes(str(part).toLowerCase()) ? 1 : 0,
    );
  }

  /**
   * Whether the process that recorded a session still runs. On another host it cannot be known:
   * such a session reads as open (`localOnly` false) but is not kept by retention (`localOnly` true).
   */
  private ownerAlive(pid: unknown, host: unknown, localOnly: boolean): boolean {
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
    if (host !== this.host) return !localOnly;
    if (pid === process.pid) return true;
    const key = String(pid);
    let alive = this.aliveCache.get(key);
    if (alive === undefined) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = errorCode(err) === 'EPERM';
      }
      this.aliveCache.set(key, alive);
    }
    return alive;
  }

  /** Runs a read: what is queued is committed first, so reads see every record made before them. */
  private read<T>(what: string, empty: T, fn: (db: Database.Database) => T): T {
    if (!this.db || this.closed) return empty;
    if (this.writable) this.writer.flush();
    this.aliveCache = new Map();
    try {
      return fn(this.db);
    } catch (err) {
      this.handleError(err, what);
      return empty;
    }
  }

  listSessions(filter?: HistoryFilter): HistorySession[] {
    return this.read('listing sessions', [], (db) => listSessions(db, filter));
  }

  getSession(id: string, maxPoints = DEFAULT_MAX_POINTS): SessionDetail | undefined {
    return this.read('reading a session', undefined, (db) => {
      const row = getSessionRow(db, id);
      if (!row) return undefined;
      const series = metricsSeries(db, row.seq, { maxPoints });
      return {
        session: toHistorySession(row),
        events: sessionEvents(db, id),
        metrics: {
          bucketMs: series.bucketMs,
          // The session metrics only (the process-wide columns do not apply to a session).
          points: series.points.map(pickMetricFields),
        },
      };
    });
  }

  /** Metrics of one session over a time range (epoch ms, inclusive), downsampled to maxPoints. */
  sessionMetrics(id: string, range: MetricsRange = {}): MetricsSeries | undefined {
    return this.read('reading metrics', undefined, (db) => {
      const row = getSessionRow(db, id);
      return row ? metricsSeries(db, row.seq, range) : undefined;
    });
  }

  /** The `metrics` samples without a session (session_seq 0) over a time range, downsampled. */
  processWideMetrics(range: MetricsRange = {}): MetricsSeries {
    return this.read('reading metrics', { bucketMs: MIN_BUCKET_MS, points: [] }, (db) =>
      metricsSeries(db, 0, range),
    );
  }

  processMetrics(range: MetricsRange = {}): ProcessMetricsSeries {
    return this.read('reading process metrics', { bucketMs: MIN_BUCKET_MS, series: [] }, (db) =>
      processMetricsSeries(db, range),
    );
  }

  metricsSummary(filter?: HistoryFilter): MetricsSummary[] {
    return this.read('summarizing metrics', [], (db) => metricsSummary(db, filter));
  }

  /** Recorded sessions whose id starts with `prefix`, newest first (at most `limit`). */
  findSessions(prefix: string, limit = 10): HistorySession[] {
    return this.read('finding sessions', [], (db) => findSessionsByIdPrefix(db, prefix, limit));
  }

  cachedInstances(
    profile: string,
    region: string,
  ): { instances: InstanceSummary[]; fetchedAt: number } | undefined {
    return this.read('reading the instance cache', undefined, (db) => {
      const row = db
        .prepare('SELECT data, fetched_at FROM instance_cache WHERE profile = ? AND region = ?')
        .get(profile, region) as { data: string; fetched_at: number } | undefined;
      if (!row) return undefined;
      try {
        const instances = JSON.parse(row.data) as unknown;
        return Array.isArray(instances)
          ? { instances: instances as InstanceSummary[], fetchedAt: row.fetched_at }
          : undefined;
      } catch {
        return undefined;
      }
    });
  }

  // ---- maintenance --------------------------------------------------------------------------

  private requireDb(): Database.Database {
    if (!this.db || this.closed) throw new Error(this.current.problem ?? `History is closed (${this.file}).`);
    return this.db;
  }

  /** Throws an Error whose message is the user-facing problem; turns history off when the file cannot be written. */
  private maintenance<T>(what: string, fn: (db: Database.Database) => T): T {
    const db = this.requireDb();
    this.flush();
    try {
      return fn(db);
    } catch (err) {
      this.handleError(err, what);
      const kind = classifyError(err);
      throw new Error(
        kind === 'fatal' ? problemText(err, this.file) : `${what} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Remove what ended (or, never ended and no longer live, started) more than `olderThanDays` ago. */
  cleanup(options: { olderThanDays: number }): CleanupResult {
    return this.maintenance('cleanup', (db) => {
      const result = cleanupDb(db, options.olderThanDays, this.now());
      this.seqCache.clear();
      return result;
    });
  }

  /** Keep the newest `maxPerSession` samples of each session (and of the process-wide series). */
  trimMetrics(maxPerSession: number): TrimResult {
    return this.maintenance('trimming metrics', (db) => trimDb(db, maxPerSession));
  }

  /** VACUUM (give free pages back to the disk) then ANALYZE. */
  vacuum(): void {
    this.maintenance('VACUUM', (db) => {
      db.exec('VACUUM');
      db.exec('ANALYZE');
      // VACUUM in WAL mode writes the new copy into the WAL: move it into the file now.
      db.pragma('wal_checkpoint(TRUNCATE)');
      restrictFileModes(this.file, this.logger);
    });
  }

  /** One retention pass with the configured limits (what the periodic timer runs). */
  runMaintenance(): { cleanup: CleanupResult | null; trim: TrimResult | null } {
    const t0 = performance.now();
    const result = {
      cleanup: this.opts.retentionDays > 0 ? this.cleanup({ olderThanDays: this.opts.retentionDays }) : null,
      trim: this.opts.maxMetricsPerSession > 0 ? this.trimMetrics(this.opts.maxMetricsPerSession) : null,
    };
    this.logger.info({ ...result, ms: Math.round(performance.now() - t0) }, 'history retention done');
    return result;
  }

  private maintenanceTick(every: number): void {
    this.maintenanceTimer = undefined;
    if (!this.writable || this.closed) return;
    try {
      this.runMaintenance();
    } catch (err) {
      this.logger.warn({ err }, 'history retention failed');
    }
    if (this.writable && !this.closed) {
      this.maintenanceTimer = setTimeout(() => this.maintenanceTick(every), every);
      this.maintenanceTimer.unref();
    }
  }

  stats(): StoreStats {
    const db = this.requireDb();
    this.flush();
    const size = (f: string): number => {
      try {
        return fs.statSync(f).size;
      } catch {
        return 0;
      }
    };
    const count = (table: string): number =>
      db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    const span = db.prepare('SELECT min(started_at) AS lo, max(started_at) AS hi FROM sessions').get() as {
      lo: number | null;
      hi: number | null;
    };
    return {
      file: this.file,
      fileBytes: size(this.file),
      walBytes: size(this.file + '-wal'),
      pageSize: db.pragma('page_size', { simple: true }) as number,
      pageCount: db.pragma('page_count', { simple: true }) as number,
      freePages: db.pragma('freelist_count', { simple: true }) as number,
      journalMode: db.pragma('journal_mode', { simple: true }) as string,
      schemaVersion: schemaVersion(db),
      rows: {
        sessions: count('sessions'),
        session_events: count('session_events'),
        metrics: count('metrics'),
        instance_cache: count('instance_cache'),
      },
      oldestSession: span.lo === null ? null : new Date(span.lo).toISOString(),
      newestSession: span.hi === null ? null : new Date(span.hi).toISOString(),
      writer: this.writerStats,
    };
  }

  close(): void {
    if (this.closed) return;
    process.off('exit', this.exitHook);
    if (this.writable) this.writer.flush();
    this.writer.stop();
    this.closed = true;
    this.writable = false;
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    if (this.db) {
      try {
        this.db.pragma('optimize');
      } catch {
        // best effort
      }
      try {
        this.db.close();
      } catch (err) {
        this.logger.warn({ err }, 'closing the history database failed');
      }
      this.db = undefined;
    }
    this.statusEmitter.dispose();
    this.writtenEmitter.dispose();
  }
}

/** Open the history store. Never throws: when the file cannot be used, `status` says why. */
export function openHistoryStore(options: HistoryStoreOptions = {}): SqliteHistoryStore {
  return new SqliteHistoryStore(options);
}

export { LATEST_SCHEMA_VERSION };
