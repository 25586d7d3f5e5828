/**
 * The reads the UI needs, each backed by an index: recent sessions (filtered, paged), one session
 * with its events, metrics of a session over a time range downsampled into buckets for a chart,
 * per-role process metrics likewise, and a per-session metrics summary.
 */
import type Database from 'better-sqlite3';
import type { MetricFields } from '../monitor/metric-fields.js';
import type { HistoryFilter, HistorySession, SessionOutcome } from '../../../preload/api.js';
import type { MetricsRange, MetricsSummary, ProcessMetricsPoint, ProcessMetricsSeries } from './types.js';

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

/** Session rows newest first, with the HistoryFilter semantics of preload/api.ts. */
function listSessionRows(db: Database.Database, filter: HistoryFilter = {}): SessionRow[] {
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
  return db.prepare(sql).all(params) as SessionRow[];
}

/** Sessions newest first, with the HistoryFilter semantics of preload/api.ts. */
export function listSessions(db: Database.Database, filter: HistoryFilter = {}): HistorySession[] {
  return listSessionRows(db, filter).map(toHistorySession);
}

/** Sessions whose id starts with `prefix` (case-sensitive), newest first, at most `limit`. */
export function findSessionsByIdPrefix(db: Database.Database, prefix: string, limit = 10): HistorySession[] {
  if (prefix === '') return [];
  // A range on the UNIQUE index of id: every id that starts with the prefix sorts in [prefix, prefix + U+10FFFF).
  const rows = db
    .prepare(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id >= @lo AND id < @hi
        ORDER BY started_at DESC, seq DESC LIMIT @limit`,
    )
    .all({ lo: prefix, hi: prefix + '\u{10FFFF}', limit: Math.max(1, Math.trunc(limit)) }) as SessionRow[];
  return rows.filter((r) => r.id.startsWith(prefix)).map(toHistorySession);
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

export interface MetricsPoint extends MetricFields {
  /** Start of the bucket, epoch ms. */
  t: number;
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
 * sample: p50 and throughput averaged, p95 and p99 the maximum, retransmissions and reconnects
 * summed, CPU averaged, memory the maximum.
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
      `SELECT CAST((t - @t0) / @bucket AS INTEGER) AS b, avg(latency_p50) AS p50, max(latency_p95) AS p95,
              max(latency_p99) AS p99, avg(in_bps) AS inBps, avg(out_bps) AS outBps,
              total(retransmits) AS retx, total(reconnects) AS reconn,
              avg(cpu_percent) AS cpu, max(memory_bytes) AS mem
         FROM metrics WHERE session_seq = @seq AND t >= @t0 AND t <= @hi
        GROUP BY b ORDER BY b`,
    )
    .all({ t0: span.lo, bucket: bucketMs, seq, hi: span.hi }) as Array<{
    b: number;
    p50: number | null;
    p95: number | null;
    p99: number | null;
    inBps: number | null;
    outBps: number | null;
    retx: number;
    reconn: number;
    cpu: number | null;
    mem: number | null;
  }>;
  return {
    bucketMs,
    points: rows.map((r) => ({
      t: span.lo! + r.b * bucketMs,
      latencyP50: r.p50,
      latencyP95: r.p95,
      latencyP99: r.p99,
      inBytesPerSec: Math.max(0, r.inBps ?? 0),
      outBytesPerSec: Math.max(0, r.outBps ?? 0),
      retransmissions: Math.max(0, Math.round(r.retx)),
      reconnects: Math.max(0, Math.round(r.reconn)),
      cpuPercent: r.cpu,
      memoryBytes: r.mem,
    })),
  };
}

/** The order process roles are listed in; other roles follow, by name. */
export const ROLE_ORDER = ['main', 'renderer', 'gpu', 'utility', 'pty', 'child'] as const;

function compareRoles(a: string, b: string): number {
  const ia = (ROLE_ORDER as readonly string[]).indexOf(a);
  const ib = (ROLE_ORDER as readonly string[]).indexOf(b);
  if (ia !== ib) return (ia < 0 ? ROLE_ORDER.length : ia) - (ib < 0 ? ROLE_ORDER.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Per-role process samples between `from` and `to` (inclusive, epoch ms), in at most `maxPoints`
 * buckets of `bucketMs` (at least 1 s) starting at the first sample of any role: CPU averaged,
 * memory and the process count the maximum. Every role uses the same buckets, so points line up.
 */
export function processMetricsSeries(db: Database.Database, range: MetricsRange = {}): ProcessMetricsSeries {
  const maxPoints = Math.max(1, Math.min(100_000, Math.trunc(range.maxPoints ?? DEFAULT_MAX_POINTS)));
  const from = range.from ?? Number.MIN_SAFE_INTEGER;
  const to = range.to ?? Number.MAX_SAFE_INTEGER;
  const span = db
    .prepare('SELECT min(t) AS lo, max(t) AS hi FROM process_metrics WHERE t >= ? AND t <= ?')
    .get(from, to) as { lo: number | null; hi: number | null };
  if (span.lo === null || span.hi === null) return { bucketMs: MIN_BUCKET_MS, series: [] };
  const bucketMs = Math.max(MIN_BUCKET_MS, Math.ceil((span.hi - span.lo + 1) / maxPoints));
  const rows = db
    .prepare(
      `SELECT role, CAST((t - @t0) / @bucket AS INTEGER) AS b, avg(cpu_percent) AS cpu,
              max(memory_bytes) AS mem, max(processes) AS n
         FROM process_metrics WHERE t >= @t0 AND t <= @hi
        GROUP BY role, b ORDER BY role, b`,
    )
    .all({ t0: span.lo, bucket: bucketMs, hi: span.hi }) as Array<{
    role: string;
    b: number;
    cpu: number;
    mem: number;
    n: number;
  }>;
  const byRole = new Map<string, ProcessMetricsPoint[]>();
  for (const r of rows) {
    let points = byRole.get(r.role);
    if (!points) byRole.set(r.role, (points = []));
    points.push({
      t: span.lo + r.b * bucketMs,
      cpuPercent: Math.max(0, r.cpu),
      memoryBytes: Math.max(0, Math.round(r.mem)),
      processes: Math.max(0, Math.round(r.n)),
    });
  }
  return {
    bucketMs,
    series: [...byRole.keys()].sort(compareRoles).map((role) => ({ role, points: byRole.get(role)! })),
  };
}

/**
 * Each session matching the filter (newest first, the listSessions rules and limit) with its
 * connection metrics over all its samples: p50 averaged, p95 and p99 the maximum, throughput
 * averaged, retransmissions and reconnects summed.
 */
export function metricsSummary(db: Database.Database, filter: HistoryFilter = {}): MetricsSummary[] {
  const aggregate = db.prepare(
    `SELECT count(*) AS n, avg(latency_p50) AS p50, max(latency_p95) AS p95, max(latency_p99) AS p99,
            avg(in_bps) AS inBps, avg(out_bps) AS outBps, total(retransmits) AS retx, total(reconnects) AS reconn
       FROM metrics WHERE session_seq = ?`,
  );
  return listSessionRows(db, filter).map((row) => {
    const s = toHistorySession(row);
    const m = aggregate.get(row.seq) as {
      n: number;
      p50: number | null;
      p95: number | null;
      p99: number | null;
      inBps: number | null;
      outBps: number | null;
      retx: number;
      reconn: number;
    };
    return {
      sessionId: s.id,
      instanceId: s.instanceId,
      instanceName: s.instanceName,
      profile: s.profile,
      region: s.region,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      outcome: s.outcome,
      samples: m.n,
      latencyP50: m.p50,
      latencyP95: m.p95,
      latencyP99: m.p99,
      inBytesPerSec: Math.max(0, m.inBps ?? 0),
      outBytesPerSec: Math.max(0, m.outBps ?? 0),
      retransmissions: Math.max(0, Math.round(m.retx)),
      reconnects: Math.max(0, Math.round(m.reconn)),
    };
  });
}
