/**
 * Retention: `cleanup` removes sessions that ended (or, never ended and no longer live, started)
 * before a cutoff, with their events and metrics, plus events and metrics older than the cutoff
 * that belong to no session (process-wide samples and per-role process metrics included), in one
 * transaction. `trimMetrics` keeps the newest N samples of each series (each session, the
 * process-wide series, each process role).
 */
import type Database from 'better-sqlite3';

export const DAY_MS = 86_400_000;

/** Name of the SQL function telling whether a session's owner process lives on this machine (0 when unknown). */
export const OWNER_ALIVE_LOCAL_FN = 'ec2c_owner_alive_local';

export interface CleanupResult {
  olderThanDays: number;
  /** Epoch ms: what ended (or started) before this went. */
  cutoff: number;
  sessions: number;
  events: number;
  /** Metric rows removed: session and process-wide samples, and per-role process metrics (`processMetrics` of them). */
  metrics: number;
  /** Of `metrics`, the rows of process_metrics. */
  processMetrics?: number;
  instanceCache: number;
}

export interface TrimResult {
  /** Series (sessions, the process-wide one, process roles) that were over the limit. */
  series: number;
  /** Rows removed (per-role process metrics included). */
  metrics: number;
}

/** Distinct values of an indexed column, by a loose index scan (one seek per value, not per row). */
function distinctValues<T extends number | string>(
  db: Database.Database,
  table: string,
  column: string,
  lowerBoundSql: string,
): T[] {
  const rows = db
    .prepare(
      `WITH RECURSIVE v(x) AS (
         SELECT (SELECT min(${column}) FROM ${table} WHERE ${column} ${lowerBoundSql})
         UNION ALL
         SELECT (SELECT min(${column}) FROM ${table} WHERE ${column} > v.x) FROM v WHERE v.x IS NOT NULL
       ) SELECT x FROM v WHERE x IS NOT NULL`,
    )
    .all() as Array<{ x: T }>;
  return rows.map((r) => r.x);
}

export function cleanup(db: Database.Database, olderThanDays: number, now: number): CleanupResult {
  const cutoff = now - olderThanDays * DAY_MS;
  const result: CleanupResult = {
    olderThanDays,
    cutoff,
    sessions: 0,
    events: 0,
    metrics: 0,
    processMetrics: 0,
    instanceCache: 0,
  };
  db.transaction(() => {
    const doomed = db
      .prepare(
        `SELECT seq, id FROM sessions
          WHERE ended_at IS NOT NULL AND ended_at < @cutoff
             OR ended_at IS NULL AND started_at < @cutoff AND ${OWNER_ALIVE_LOCAL_FN}(owner_pid, owner_host) = 0`,
      )
      .all({ cutoff }) as Array<{ seq: number; id: string }>;
    const delEvents = db.prepare('DELETE FROM session_events WHERE session_id = ?');
    const delMetrics = db.prepare('DELETE FROM metrics WHERE session_seq = ?');
    const delSession = db.prepare('DELETE FROM sessions WHERE seq = ?');
    for (const s of doomed) {
      result.events += delEvents.run(s.id).changes;
      result.metrics += delMetrics.run(s.seq).changes;
      result.sessions += delSession.run(s.seq).changes;
    }
    // Events and samples of no (remaining) session, older than the cutoff.
    const hasSession = db.prepare('SELECT 1 FROM sessions WHERE id = ?').pluck();
    const delOldEvents = db.prepare('DELETE FROM session_events WHERE session_id = ? AND at < ?');
    for (const id of distinctValues<string>(db, 'session_events', 'session_id', 'IS NOT NULL')) {
      if (!hasSession.get(id)) result.events += delOldEvents.run(id, cutoff).changes;
    }
    const hasSeq = db.prepare('SELECT 1 FROM sessions WHERE seq = ?').pluck();
    const delOldMetrics = db.prepare('DELETE FROM metrics WHERE session_seq = ? AND t < ?');
    result.metrics += delOldMetrics.run(0, cutoff).changes;
    for (const seq of distinctValues<number>(db, 'metrics', 'session_seq', '> 0')) {
      if (!hasSeq.get(seq)) result.metrics += delOldMetrics.run(seq, cutoff).changes;
    }
    const processRows = db.prepare('DELETE FROM process_metrics WHERE t < ?').run(cutoff).changes;
    result.processMetrics = processRows;
    result.metrics += processRows;
    result.instanceCache = db.prepare('DELETE FROM instance_cache WHERE fetched_at < ?').run(cutoff).changes;
  }).immediate();
  return result;
}

/** Keep the newest `maxPerSeries` samples of every session, of the process-wide series and of each process role. */
export function trimMetrics(db: Database.Database, maxPerSeries: number): TrimResult {
  const result: TrimResult = { series: 0, metrics: 0 };
  if (!(maxPerSeries > 0)) return result;
  const n = Math.trunc(maxPerSeries);
  db.transaction(() => {
    const nth = db.prepare(
      'SELECT t, id FROM metrics WHERE session_seq = ? ORDER BY t DESC, id DESC LIMIT 1 OFFSET ?',
    );
    const del = db.prepare(
      'DELETE FROM metrics WHERE session_seq = @seq AND (t < @t OR t = @t AND id < @id)',
    );
    for (const seq of distinctValues<number>(db, 'metrics', 'session_seq', '>= 0')) {
      const last = nth.get(seq, n - 1) as { t: number; id: number } | undefined;
      if (!last) continue;
      const removed = del.run({ seq, t: last.t, id: last.id }).changes;
      if (removed > 0) {
        result.series++;
        result.metrics += removed;
      }
    }
    // process_metrics has no (role, t) index: few roles, so one ordered scan per role.
    const roles = db.prepare('SELECT DISTINCT role FROM process_metrics').pluck().all() as string[];
    const nthRole = db.prepare(
      'SELECT t, id FROM process_metrics WHERE role = ? ORDER BY t DESC, id DESC LIMIT 1 OFFSET ?',
    );
    const delRole = db.prepare(
      'DELETE FROM process_metrics WHERE role = @role AND (t < @t OR t = @t AND id < @id)',
    );
    for (const role of roles) {
      const last = nthRole.get(role, n - 1) as { t: number; id: number } | undefined;
      if (!last) continue;
      const removed = delRole.run({ role, t: last.t, id: last.id }).changes;
      if (removed > 0) {
        result.series++;
        result.metrics += removed;
      }
    }
  }).immediate();
  return result;
}
