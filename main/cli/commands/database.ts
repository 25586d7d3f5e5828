/**
 * `ec2-connect database stats|cleanup`: the local session history (the SQLite store of
 * docs/store.md). `stats` shows the file, its size and WAL, rows per table and the oldest and
 * newest session; `cleanup --days N` removes what ended more than N days ago and says what it
 * removed. Both work while the app has the same file open.
 */
import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { silentLogger } from '../../core/log/logger.js';
import { openHistoryStore, type SqliteHistoryStore, type StoreStats } from '../../core/store/sqlite-store.js';
import type { CleanupResult } from '../../core/store/retention.js';
import { databaseFileFor } from '../options.js';
import { renderTable } from '../table.js';
import { formatBytes } from '../../core/util/format-bytes.js';

interface DatabaseOptions {
  db?: string;
  json?: boolean;
}

interface CleanupOptions extends DatabaseOptions {
  days: number;
  vacuum?: boolean;
}

const DB_OPTION = [
  '--db <file>',
  'the history database (default: database.file / EC2_CONNECT_DB, else sessions.db in the EC2 Connect data folder)',
] as const;

export function parseDays(value: string): number {
  const days = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(days) || days <= 0)
    throw new InvalidArgumentError('--days must be a whole number of days greater than 0, e.g. --days 30.');
  return days;
}

export function registerDatabaseCommands(program: Command): void {
  const database = program
    .command('database')
    .description('the local session history: statistics and cleanup');
  database
    .command('stats')
    .description('file size, WAL size, rows per table, oldest and newest session')
    .option(...DB_OPTION)
    .option('--json', 'print JSON')
    .action((opts: DatabaseOptions) => {
      process.exitCode = runDatabaseStats(opts);
    });
  database
    .command('cleanup')
    .description('remove sessions (with their events and metrics) that ended more than N days ago')
    .requiredOption('--days <N>', 'age in days (a whole number greater than 0)', parseDays)
    .option('--vacuum', 'then compact the file (VACUUM) and refresh the query statistics (ANALYZE)')
    .option(...DB_OPTION)
    .option('--json', 'print JSON')
    .action((opts: CleanupOptions) => {
      process.exitCode = runDatabaseCleanup(opts);
    });
}

function fileFor(opts: DatabaseOptions): string {
  return databaseFileFor(opts.db);
}

/** Open the store for one command; null (after printing why) when it cannot be used. */
function open(file: string): SqliteHistoryStore | null {
  const store = openHistoryStore({ file, logger: silentLogger, cleanupIntervalHours: 0 });
  if (store.status.notice) process.stderr.write(`ec2-connect: ${store.status.notice}\n`);
  if (!store.status.available) {
    process.stderr.write(`ec2-connect: ${store.status.problem ?? `cannot open ${file}`}\n`);
    store.close();
    return null;
  }
  return store;
}

export { formatBytes };

const grouped = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, one: string, many: string): string => `${grouped(n)} ${n === 1 ? one : many}`;

export function formatStats(s: StoreStats): string {
  const info = renderTable(
    ['', ''],
    [
      ['File', s.file],
      ['Size', `${formatBytes(s.fileBytes)} (WAL ${formatBytes(s.walBytes)})`],
      ['Pages', `${grouped(s.pageCount)} of ${grouped(s.pageSize)} B, ${grouped(s.freePages)} free`],
      ['Schema', `version ${s.schemaVersion}, journal ${s.journalMode}`],
      ['Oldest session', s.oldestSession ?? '-'],
      ['Newest session', s.newestSession ?? '-'],
    ],
  )
    .split('\n')
    .slice(1)
    .join('\n');
  const tables = renderTable(
    ['TABLE', 'ROWS'],
    Object.entries(s.rows).map(([t, n]) => [t, grouped(n)]),
  );
  return `${info}\n\n${tables}`;
}

export function runDatabaseStats(opts: DatabaseOptions): number {
  const file = fileFor(opts);
  if (!fs.existsSync(file)) {
    if (opts.json) process.stdout.write(JSON.stringify({ file, exists: false }, null, 2) + '\n');
    else process.stdout.write(`No history yet: ${file} does not exist.\n`);
    return 0;
  }
  const store = open(file);
  if (!store) return 1;
  try {
    const stats = store.stats();
    const { writer: _writer, ...rest } = stats;
    if (opts.json) process.stdout.write(JSON.stringify({ exists: true, ...rest }, null, 2) + '\n');
    else process.stdout.write(formatStats(stats) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }
}

export function formatCleanup(r: CleanupResult): string {
  const before = new Date(r.cutoff).toISOString().slice(0, 10);
  const cache = r.instanceCache
    ? ` (and ${plural(r.instanceCache, 'cached instance list', 'cached instance lists')})`
    : '';
  return (
    `Removed ${plural(r.sessions, 'session', 'sessions')}, ${plural(r.events, 'event', 'events')} and ` +
    `${plural(r.metrics, 'metric row', 'metric rows')} older than ${plural(r.olderThanDays, 'day', 'days')} ` +
    `(before ${before})${cache}.`
  );
}

export function runDatabaseCleanup(opts: CleanupOptions): number {
  const file = fileFor(opts);
  if (!fs.existsSync(file)) {
    if (opts.json)
      process.stdout.write(
        JSON.stringify({ file, exists: false, sessions: 0, events: 0, metrics: 0 }, null, 2) + '\n',
      );
    else process.stdout.write(`Nothing to clean up: ${file} does not exist.\n`);
    return 0;
  }
  const store = open(file);
  if (!store) return 1;
  try {
    const result = store.cleanup({ olderThanDays: opts.days });
    let vacuum: { bytesBefore: number; bytesAfter: number } | { error: string } | undefined;
    if (opts.vacuum) {
      const size = (): number => store.stats().fileBytes + store.stats().walBytes;
      const bytesBefore = size();
      try {
        store.vacuum();
        vacuum = { bytesBefore, bytesAfter: size() };
      } catch (err) {
        vacuum = { error: (err as Error).message };
      }
    }
    if (opts.json) {
      process.stdout.write(
        JSON.stringify(
          { file, ...result, before: new Date(result.cutoff).toISOString(), ...(vacuum ? { vacuum } : {}) },
          null,
          2,
        ) + '\n',
      );
    } else {
      process.stdout.write(formatCleanup(result) + '\n');
      if (vacuum && 'bytesBefore' in vacuum)
        process.stdout.write(
          `Compacted ${file}: ${formatBytes(vacuum.bytesBefore)} -> ${formatBytes(vacuum.bytesAfter)}.\n`,
        );
    }
    if (vacuum && 'error' in vacuum) {
      process.stderr.write(`ec2-connect: VACUUM failed (the cleanup itself is done): ${vacuum.error}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }
}
