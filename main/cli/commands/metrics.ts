/**
 * `ec2-connect metrics`: connection metrics from the local history (docs/store.md), as tables, one
 * JSON document (--json) or CSV (--csv, RFC 4180). Without --session: every session of the last
 * 24 hours (--since) with its p50/p95/p99 input round trip, average throughput, retransmissions
 * and reconnects, then CPU and memory of EC2 Connect's processes per role (latest bucket). With
 * --session ID (a unique prefix of at least 8 characters is enough): that session's downsampled
 * series. Works while the app has the same file open; it never changes the recorded data.
 */
import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { HistorySession } from '../../../preload/api.js';
import { silentLogger } from '../../core/log/logger.js';
import { METRIC_CSV_COLUMNS, metricCsvFields, pickMetricFields } from '../../core/monitor/metric-fields.js';
import { recordsToCsv } from '../../core/monitor/csv.js';
import type { MetricsSeries } from '../../core/store/queries.js';
import { openHistoryStore, type SqliteHistoryStore } from '../../core/store/sqlite-store.js';
import type { MetricsSummary, ProcessMetricsSeries } from '../../core/store/types.js';
import { databaseFileFor } from '../options.js';
import { renderTable } from '../table.js';
import { formatBytes } from './database.js';

export interface MetricsOptions {
  session?: string;
  /** Milliseconds (parsed from --since). */
  since?: number;
  json?: boolean;
  csv?: boolean;
  db?: string;
  points?: number;
}

/** The window without --since. */
export const DEFAULT_SINCE_MS = 24 * 3_600_000;
/** A --session prefix shorter than this is refused (unless it is a whole id). */
export const MIN_SESSION_PREFIX = 8;
/** Buckets of a session's series: a screenful as text, more for --json and --csv. */
const DEFAULT_POINTS_TEXT = 60;
const DEFAULT_POINTS_DATA = 300;

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `90s`, `30m`, `24h`, `7d`, `2w`, or combined (`1h30m`); a whole number with a unit each. */
export function parseDuration(value: string): number {
  const v = value.trim().toLowerCase();
  let ms = 0;
  if (/^(\d+[smhdw])+$/.test(v))
    for (const [, n, unit] of v.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  if (!(ms > 0) || !Number.isSafeInteger(ms))
    throw new InvalidArgumentError(
      '--since must be a duration such as 30m, 24h, 7d or 2w (a whole number and s, m, h, d or w).',
    );
  return ms;
}

export function parsePoints(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 5000)
    throw new InvalidArgumentError('--points must be a whole number from 1 to 5000.');
  return n;
}

export function registerMetricsCommand(program: Command): void {
  program
    .command('metrics')
    .description(
      'connection metrics from the local history: per-session latency and throughput, process CPU and memory',
    )
    .option('--session <id>', 'one session: its series over time (a unique prefix of 8+ characters will do)')
    .option(
      '--since <duration>',
      'sessions started within this time, e.g. 30m, 24h, 7d (default 24h)',
      parseDuration,
    )
    .option(
      '--points <N>',
      `most rows of a --session series (default ${DEFAULT_POINTS_TEXT}, or ${DEFAULT_POINTS_DATA} with --json/--csv)`,
      parsePoints,
    )
    .addOption(new Option('--json', 'print one JSON document').conflicts('csv'))
    .addOption(new Option('--csv', 'print CSV (RFC 4180) with a header row').conflicts('json'))
    .option(
      '--db <file>',
      'the history database (default: database.file / EC2_CONNECT_DB, else sessions.db in the EC2 Connect data folder)',
    )
    .action((opts: MetricsOptions) => {
      process.exitCode = runMetrics(opts);
    });
}

// ---- formatting ---------------------------------------------------------------------------------

/** A round trip in ms: `0.8 ms`, `12 ms`, `1.25 s`; `-` when there is none. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** Bytes per second in binary units: `512 B/s`, `1.5 KiB/s`. */
export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(Math.round(Math.max(0, bytesPerSec)))}/s`;
}

/** ISO time to the second: 2026-01-10T12:00:00Z. */
export function formatTime(t: number | string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A duration in words for headers: `24 h`, `7 d`, `30 min`, `45 s`. */
export function formatSpan(ms: number): string {
  const DAY = 86_400_000;
  if (ms >= 2 * DAY && ms % DAY === 0) return `${ms / DAY} d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms >= 10_000 || ms % 1000 === 0) return `${Math.round(ms / 1000)} s`;
  return `${(ms / 1000).toFixed(2).replace(/\.?0+$/, '')} s`;
}

/** The shortest prefixes (at least `min` characters) that tell these ids apart. */
export function shortIds(ids: string[], min = MIN_SESSION_PREFIX): string[] {
  return ids.map((id) => {
    let n = Math.min(min, id.length);
    while (n < id.length && ids.some((o) => o !== id && o.startsWith(id.slice(0, n)))) n++;
    return id.slice(0, n);
  });
}

const instanceLabel = (s: { instanceName: string; instanceId: string }): string =>
  s.instanceName && s.instanceName !== s.instanceId ? s.instanceName : s.instanceId;

export function formatSummaryTable(sessions: MetricsSummary[]): string {
  const ids = shortIds(sessions.map((s) => s.sessionId));
  return renderTable(
    [
      'SESSION',
      'INSTANCE',
      'STARTED',
      'OUTCOME',
      'SAMPLES',
      'P50',
      'P95',
      'P99',
      'IN',
      'OUT',
      'RETX',
      'RECONN',
    ],
    sessions.map((s, i) => [
      ids[i]!,
      instanceLabel(s),
      formatTime(s.startedAt),
      s.outcome,
      String(s.samples),
      formatMs(s.latencyP50),
      formatMs(s.latencyP95),
      formatMs(s.latencyP99),
      s.samples ? formatRate(s.inBytesPerSec) : '-',
      s.samples ? formatRate(s.outBytesPerSec) : '-',
      String(s.retransmissions),
      String(s.reconnects),
    ]),
  );
}

/** The last bucket that has samples, and the roles sampled in it. */
export function latestProcesses(p: ProcessMetricsSeries): {
  t: number;
  roles: Array<{ role: string; processes: number; cpuPercent: number; memoryBytes: number }>;
} | null {
  let latest = -Infinity;
  for (const s of p.series) latest = Math.max(latest, s.points[s.points.length - 1]?.t ?? -Infinity);
  if (!Number.isFinite(latest)) return null;
  const roles = p.series
    .map((s) => ({ role: s.role, point: s.points[s.points.length - 1] }))
    .filter((r) => r.point?.t === latest)
    .map((r) => ({
      role: r.role,
      processes: r.point!.processes,
      cpuPercent: r.point!.cpuPercent,
      memoryBytes: r.point!.memoryBytes,
    }));
  return { t: latest, roles };
}

export function formatProcessTable(p: ProcessMetricsSeries): string | null {
  const latest = latestProcesses(p);
  if (!latest) return null;
  const table = renderTable(
    ['ROLE', 'PROCESSES', 'CPU%', 'MEMORY'],
    latest.roles.map((r) => [
      r.role,
      String(r.processes),
      r.cpuPercent.toFixed(1),
      formatBytes(r.memoryBytes),
    ]),
  );
  return (
    `Processes at ${formatTime(latest.t)} (buckets of ${formatSpan(p.bucketMs)}; ` +
    `CPU in percent of one core, memory resident):\n${table}`
  );
}

export function formatSeriesTable(series: MetricsSeries): string {
  return renderTable(
    ['TIME', 'P50', 'P95', 'P99', 'IN', 'OUT', 'RETX', 'RECONN'],
    series.points.map((p) => [
      formatTime(p.t),
      formatMs(p.latencyP50),
      formatMs(p.latencyP95),
      formatMs(p.latencyP99),
      formatRate(p.inBytesPerSec),
      formatRate(p.outBytesPerSec),
      String(p.retransmissions),
      String(p.reconnects),
    ]),
  );
}

const SUMMARY_CSV_COLUMNS = [
  'session_id',
  'instance_id',
  'instance_name',
  'profile',
  'region',
  'started_at',
  'ended_at',
  'outcome',
  'samples',
  ...METRIC_CSV_COLUMNS,
] as const;

export function summaryCsv(sessions: MetricsSummary[]): string {
  return recordsToCsv(
    sessions.map((s) => ({
      session_id: s.sessionId,
      instance_id: s.instanceId,
      instance_name: s.instanceName,
      profile: s.profile,
      region: s.region,
      started_at: s.startedAt,
      ended_at: s.endedAt,
      outcome: s.outcome,
      samples: s.samples,
      ...metricCsvFields(s),
    })),
    SUMMARY_CSV_COLUMNS,
    { guardFormulas: true },
  );
}

const SERIES_CSV_COLUMNS = ['time', ...METRIC_CSV_COLUMNS] as const;

export function seriesCsv(series: MetricsSeries): string {
  return recordsToCsv(
    series.points.map((p) => ({ time: new Date(p.t).toISOString(), ...metricCsvFields(p) })),
    SERIES_CSV_COLUMNS,
  );
}

// ---- the command ----------------------------------------------------------------------------------

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The store, opened for reading this file; a CliError (exit 1) saying what to do when it cannot be. */
function openForReading(file: string): SqliteHistoryStore {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT')
      throw new CliError(
        `no history database at ${file}. EC2 Connect creates it when the app, web mode or ` +
          '`ec2-connect connect` opens a session; if yours is elsewhere, set EC2_CONNECT_DB or pass --db <file>.',
        1,
      );
    throw new CliError(
      `cannot read the history database ${file} (${code}); check the path and its folder's permissions.`,
      1,
    );
  }
  if (!stat.isFile())
    throw new CliError(
      `${file} is not a file; point EC2_CONNECT_DB or --db at the history database (sessions.db).`,
      1,
    );
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new CliError(
      `cannot read the history database ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): ` +
        'run as the user that runs EC2 Connect (the file is private to it), or point EC2_CONNECT_DB or --db at another file.',
      1,
    );
  }
  const store = openHistoryStore({ file, logger: silentLogger, cleanupIntervalHours: 0, closeOnExit: false });
  if (store.movedAside) {
    store.close();
    throw new CliError(`${store.movedAside.message} There are no metrics to show from it.`, 1);
  }
  if (!store.status.available) {
    const problem = store.status.problem ?? `cannot open ${file}`;
    store.close();
    throw new CliError(problem, 1);
  }
  return store;
}

/** The session `ref` names: its whole id, or a prefix of at least 8 characters that only it has. */
function resolveSession(store: SqliteHistoryStore, ref: string, file: string): HistorySession {
  const exact = store.findSessions(ref, 1).find((s) => s.id === ref);
  if (exact) return exact;
  if (ref.length < MIN_SESSION_PREFIX)
    throw new CliError(
      `--session needs the session id or at least ${MIN_SESSION_PREFIX} of its first characters (got "${ref}").`,
      2,
    );
  const matches = store.findSessions(ref, 6);
  if (matches.length === 0)
    throw new CliError(
      `no recorded session id starts with "${ref}" in ${file}; \`ec2-connect metrics --since 30d\` lists sessions with their ids.`,
      1,
    );
  if (matches.length > 1) {
    const listed = matches
      .slice(0, 5)
      .map((s) => `  ${s.id}  ${instanceLabel(s)}  ${formatTime(s.startedAt)}`)
      .join('\n');
    throw new CliError(
      `"${ref}" matches ${matches.length > 5 ? 'more than 5' : matches.length} sessions; give more of the id:\n${listed}`,
      1,
    );
  }
  return matches[0]!;
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export function runMetrics(opts: MetricsOptions, now = Date.now()): number {
  const file = databaseFileFor(opts.db || undefined);
  let store: SqliteHistoryStore | undefined;
  try {
    store = openForReading(file);
    return opts.session ? showSession(store, file, opts, now) : showSummary(store, file, opts, now);
  } catch (err) {
    const code = err instanceof CliError ? err.exitCode : 1;
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return code;
  } finally {
    store?.close();
  }
}

function showSummary(store: SqliteHistoryStore, file: string, opts: MetricsOptions, now: number): number {
  const sinceMs = opts.since ?? DEFAULT_SINCE_MS;
  const from = now - sinceMs;
  const sessions = store.metricsSummary({ from: new Date(from).toISOString(), limit: 1000 });
  const processes = store.processMetrics({ from });
  const problem = store.status.available ? null : store.status.problem;
  if (problem) throw new CliError(problem, 1);
  if (opts.json) {
    write(
      JSON.stringify(
        { file, from: new Date(from).toISOString(), to: new Date(now).toISOString(), sessions, processes },
        null,
        2,
      ),
    );
    return 0;
  }
  if (opts.csv) {
    write(summaryCsv(sessions) || SUMMARY_CSV_COLUMNS.join(',') + '\r\n');
    return 0;
  }
  if (sessions.length === 0 && processes.series.length === 0) {
    const anything =
      store.listSessions({ limit: 1 }).length > 0 || store.processMetrics({ maxPoints: 1 }).series.length > 0;
    write(
      anything
        ? `No metrics in the last ${formatSpan(sinceMs)} (since ${formatTime(from)}); try a longer --since, e.g. --since 30d.`
        : `No metrics recorded yet in ${file}: EC2 Connect records them while the app, web mode or ` +
            '`ec2-connect connect` has sessions open.',
    );
    return 0;
  }
  const parts: string[] = [];
  parts.push(
    sessions.length
      ? `Sessions started in the last ${formatSpan(sinceMs)} (since ${formatTime(from)}): ${sessions.length}\n\n` +
          formatSummaryTable(sessions)
      : `No sessions started in the last ${formatSpan(sinceMs)} (since ${formatTime(from)}).`,
  );
  const procs = formatProcessTable(processes);
  parts.push(procs ?? 'No process metrics recorded in that time.');
  write(parts.join('\n\n'));
  return 0;
}

function showSession(store: SqliteHistoryStore, file: string, opts: MetricsOptions, now: number): number {
  const session = resolveSession(store, opts.session!, file);
  const maxPoints = opts.points ?? (opts.json || opts.csv ? DEFAULT_POINTS_DATA : DEFAULT_POINTS_TEXT);
  const range = { maxPoints, ...(opts.since !== undefined ? { from: now - opts.since } : {}) };
  const series = store.sessionMetrics(session.id, range) ?? { bucketMs: 1000, points: [] };
  if (!store.status.available) throw new CliError(store.status.problem ?? `cannot read ${file}`, 1);
  if (opts.json) {
    write(
      JSON.stringify(
        { file, session, bucketMs: series.bucketMs, points: series.points.map(pickMetricFields) },
        null,
        2,
      ),
    );
    return 0;
  }
  if (opts.csv) {
    write(seriesCsv(series) || SERIES_CSV_COLUMNS.join(',') + '\r\n');
    return 0;
  }
  const head =
    `Session ${session.id}: ${instanceLabel(session)} (${session.instanceId}), ${session.profile}/${session.region}, ` +
    `started ${formatTime(session.startedAt)}, ` +
    (session.endedAt ? `ended ${formatTime(session.endedAt)} (${session.outcome})` : session.outcome);
  if (series.points.length === 0) {
    write(`${head}\nNo metrics recorded for this session${opts.since !== undefined ? ' in that time' : ''}.`);
    return 0;
  }
  write(
    `${head}\n${series.points.length} points, buckets of ${formatSpan(series.bucketMs)} ` +
      `(P50 averaged, P95/P99 the maximum, IN/OUT averaged, RETX/RECONN summed):\n\n${formatSeriesTable(series)}`,
  );
  return 0;
}
