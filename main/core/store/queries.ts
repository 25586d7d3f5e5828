/**
 * The reads the UI needs, each backed by an index: recent sessions (filtered, paged), one session
 * with its events, and metrics of a session over a time range downsampled into buckets for a chart.
 */
import type Database from 'better-sqlite3';
import type { HistoryFilter, HistorySession, SessionOutcome } from '../../../preload/api.js';

/** Name of the SQL function (registered per connection) telling whether a session's owner process lives. */
export const OWNER_ALIVE_FN = 'ec2c_owner_alive';
export const CONTAINS_FN = 'ec2c_contains_ci';

export const DEFAULT_LIST_LIMIT = 100;
export const DEFAULT_MAX_POINTS = 300;
/** Buckets are never narrower than the sampling interval (one sample a second). */
export const MIN_BUCKET_MS = 1000;

export interface SessionRow {
  seq: number;
  id: string;
  aws_session_id: string;
  instance_id: string;
  instance_name: string;
  profile: string;
  region: string;
  source: 'app' | 'web' | 'cli';
  user: string;
  owner_pid: number | null;
  owner_host: string | null;
  started_at: number;
  ended_at: number | null;
  outcome: Exclude<SessionOutcome, 'open'> | null;
  end_reason: string | null;
  exit_code: number | null;
  bytes_in: number;
  bytes_out: number;
  reconnects: number;
  open_ms: number | null;
  /** Computed for sessions without an end: 1 when the owner process still runs. */
  alive: number | null;
}

const SESSION_COLUMNS = `seq, id, aws_session_id, instance_id, instance_name, profile, region, source, "user",
  owner_pid, owner_host, started_at, ended_at, outcome, end_reason, exit_code, bytes_in, bytes_out,
  reconnects, open_ms, CASE WHEN ended_at IS NULL THEN ${OWNER_ALIVE_FN}(owner_pid, owner_host) END AS alive`;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toHistorySession(r: SessionRow): HistorySession {
  const outcome: SessionOutcome = r.ended_at !== null ? (r.outcome ?? 'ended') : r.alive ? 'open' : 'unknown';
  return {
    id: r.id,
    awsSessionId: r.aws_session_id,
    instanceId: r.instance_id,
    instanceName: r.instance_name,
    profile: r.profile,
    region: r.region,
    source: r.source,
    user: r.user,
    startedAt: iso(r.started_at),
    endedAt: r.ended_at !== null ? iso(r.ended_at) : null,
    outcome,
    endReason: r.end_reason,
    exitCode: r.exit_code === null ? null : Math.trunc(r.exit_code),
    bytesIn: Math.max(0, r.bytes_in),
    bytesOut: Math.max(0, r.bytes_out),
    reconnects: Math.max(0, Math.trunc(r.reconnects)),
    openMs: r.open_ms === null ? null : Math.max(0, r.open_ms),
  };
}

function parseTime(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** Sessions newest first, with the HistoryFilter semantics of preload/api.ts. */
export function listSessions(db: Database.Database, filter: HistoryFilter = {}): HistorySession[] {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (filter.instance) {
    // LIKE folds ASCII case only; other text goes through a JS function (slower, still correct).
    if (/^[\x20-\x7e]*$/.test(filter.instance)) {
      where.push(`(instance_id LIKE @instance ESCAPE '\\' OR instance_name LIKE @instance ESCAPE '\\')`);
      params.instance = `%${escapeLike(filter.instance)}%`;
    } else {
      where.push(`(${CONTAINS_FN}(instance_id, @instance) OR ${CONTAINS_FN}(instance_name, @instance))`);
      params.instance = filter.instance;
    }
  }
  if (filter.profile !== undefined) {
    where.push('profile = @profile');
    params.profile = filter.profile;
  }
  const from = parseTime(filter.from);
  if (from !== undefined) {
    where.push('started_at >= @from');
    params.from = from;
  }
  const to = parseTime(filter.to);
  if (to !== undefined) {
    where.push('started_at < @to');
    params.to = to;
  }
  const before = parseTime(filter.before);
  if (before !== undefined) {
    where.push('started_at < @before');
    params.before = before;
  }
  switch (filter.outcome) {
    case undefined:
      break;
    case 'open':
      where.push(`ended_at IS NULL AND ${OWNER_ALIVE_FN}(owner_pid, owner_host) = 1`);
      break;
    case 'unknown':
      where.push(
        `(outcome = 'unknown' AND ended_at IS NOT NULL OR ended_at IS NULL AND ${OWNER_ALIVE_FN}(owner_pid, owner_host) = 0)`,
      );
      break;
    default:
      where.push('ended_at IS NOT NULL AND outcome = @outcome');
      params.outcome = filter.outcome;
  }
  params.limit = Math.max(1, Math.min(1000, Math.trunc(filter.limit ?? DEFAULT_LIST_LIMIT)));
  const sql =
    `SELECT ${SESSION_COLUMNS} FROM sessions` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY started_at DESC, seq DESC LIMIT @limit';
  return (db.prepare(sql).all(params) as SessionRow[]).map(toHistorySession);
}

export function getSessionRow(db: Database.Database, id: string): SessionRow | undefined {
  return db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`).get(id) as SessionRow | undefined;
}

export function sessionEvents(
  db: Database.Database,
  id: string,
): { at: string; kind: string; detail: string }[] {
  const rows = db
    .prepare('SELECT at, kind, detail FROM session_events WHERE session_id = ? ORDER BY at, id')
    .all(id) as Array<{ at: number; kind: string; detail: string }>;
  return rows.map((r) => ({ at: iso(r.at), kind: r.kind, detail: r.detail }));
}

export interface MetricsPoint {
  /** Start of the bucket, epoch ms. */
  t: number;
  latencyP50: number | null;
  latencyP99: number | null;
  inBytesPerSec: number;
  outBytesPerSec: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
}

export interface MetricsSeries {
  bucketMs: number;
  points: MetricsPoint[];
}

/**
 * Samples of one series (a session's seq, or 0 for process-wide) between `from` and `to`
 * (inclusive, epoch ms), in at most `maxPoints` buckets of `bucketMs` starting at the first
 * sample: p50 and throughput averaged, p99 the maximum, CPU averaged, memory the maximum.
 */
export function metricsSeries(
  db: Database.Database,
  seq: number,
  range: { from?: number; to?: number; maxPoints?: number } = {},
): MetricsSeries {
  const maxPoints = Math.max(1, Math.min(100_000, Math.trunc(range.maxPoints ?? DEFAULT_MAX_POINTS)));
  const from = range.from ?? Number.MIN_SAFE_INTEGER;
  const to = range.to ?? Number.MAX_SAFE_INTEGER;
  const span = db
    .prepare('SELECT min(t) AS lo, max(t) AS hi FROM metrics WHERE session_seq = ? AND t >= ? AND t <= ?')
    .get(seq, from, to) as { lo: number | null; hi: number | null };
  if (span.lo === null || span.hi === null) return { bucketMs: MIN_BUCKET_MS, points: [] };
  const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil((span.hi - span.lo + 1) / maxPoints));
  const rows = db
    .prepare(
      `SELECT CAST((t - @t0) / @bucket AS INTEGER) AS b, avg(latency_p50) AS p50, max(latency_p99) AS p99,
              avg(in_bps) AS inBps, avg(out_bps) AS outBps, avg(cpu_percent) AS cpu, max(memory_bytes) AS mem
         FROM metrics WHERE session_seq = @seq AND t >= @t0 AND t <= @hi
        GROUP BY b ORDER BY b`,
    )
    .all({ t0: span.lo, bucket: bucketMs, seq, hi: span.hi }) as Array<{
    b: number;
    p50: number | null;
    p99: number | null;
    inBps: number | null;
    outBps: number | null;
    cpu: number | null;
    mem: number | null;
  }>;
  return {
    bucketMs,
    points: rows.map((r) => ({
      t: span.lo! + r.b * bucketMs,
      latencyP50: r.p50,
      latencyP99: r.p99,
      inBytesPerSec: Math.max(0, r.inBps ?? 0),
      outBytesPerSec: Math.max(0, r.outBps ?? 0),
      cpuPercent: r.cpu,
      memoryBytes: r.mem,
    })),
  };
}
