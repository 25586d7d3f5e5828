/**
 * Opening the history database: the folder (0700) and file (0600) are created, an existing file is
 * checked (SQLite header, `PRAGMA quick_check`, our `application_id`, schema version), a damaged or
 * foreign file is moved aside (never deleted) and a new one created, then WAL mode and the schema
 * migrations. Failures a user must act on throw a StoreOpenError whose message says what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { StoreOpenError, errorCode, newerSchemaText, problemText } from './errors.js';
import {
  APPLICATION_ID,
  LATEST_SCHEMA_VERSION,
  migrate,
  schemaVersion,
  type MigrationResult,
} from './migrations.js';
import { SIDE_FILE_SUFFIXES } from './paths.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
export const BUSY_TIMEOUT_MS = 5000;

export interface MovedAside {
  reason: 'corrupt' | 'foreign';
  /** What was wrong, e.g. "not an SQLite database" or the first line of quick_check. */
  detail: string;
  /** Where the file went (its -wal and -shm, when there were any, went beside it with the same suffixes). */
  to: string;
  /** The sentence logged and shown (CLI stderr, status.notice). */
  message: string;
}

export interface OpenedDatabase {
  db: Database.Database;
  file: string;
  movedAside: MovedAside | null;
  migration: MigrationResult;
}

export interface OpenDatabaseOptions {
  logger?: Logger;
  now?: () => number;
  /** How long to wait for another process's lock before SQLITE_BUSY (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Test hook: open read-only (every write then fails with SQLITE_READONLY). */
  readonly?: boolean;
  /** Test hook: passed to better-sqlite3 (called with every SQL statement run). */
  verbose?: (sql: unknown) => void;
}

type Verdict = { ok: true } | { ok: false; reason: 'corrupt' | 'foreign'; detail: string };

function isCorruptError(err: unknown): boolean {
  const code = errorCode(err);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/** The header check, before SQLite sees the file: a missing or empty file is a new database. */
function checkHeader(file: string): Verdict {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { ok: true };
    throw err;
  }
  try {
    const head = Buffer.alloc(100);
    const n = fs.readSync(fd, head, 0, 100, 0);
    if (n === 0) return { ok: true };
    if (n < 100 || !head.subarray(0, 16).equals(SQLITE_HEADER))
      return { ok: false, reason: 'corrupt', detail: 'not an SQLite database (its header is wrong)' };
    return { ok: true };
  } finally {
    fs.closeSync(fd);
  }
}

/** Integrity and ownership, read-only: nothing in the file changes here. */
function checkContents(db: Database.Database): Verdict {
  try {
    const rows = db.pragma('quick_check(5)') as Array<{ quick_check: string }>;
    const first = rows[0]?.quick_check ?? 'no answer';
    if (rows.length !== 1 || first !== 'ok')
      return { ok: false, reason: 'corrupt', detail: `integrity check failed: ${first}` };
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId !== APPLICATION_ID) {
      const tables = (
        db
          .prepare(
            `SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'`,
          )
          .all() as Array<{ name: string }>
      ).map((r) => r.name);
      // A new file has no tables yet (and application_id 0): it becomes ours when migrated.
      if (appId !== 0 || tables.length > 0)
        return {
          ok: false,
          reason: 'foreign',
          detail:
            `not an EC2 Connect history database (application_id ${appId}` +
            (tables.length
              ? `, tables ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''})`
              : ')'),
        };
    }
    return { ok: true };
  } catch (err) {
    if (isCorruptError(err))
      return { ok: false, reason: 'corrupt', detail: `${errorCode(err)}: ${(err as Error).message}` };
    throw err;
  }
}

function timestampForName(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, '-');
}

/** Rename the file and its side files to `<file>.<reason>-<time>`; returns the new name. */
export function moveAside(file: string, reason: 'corrupt' | 'foreign', now: number): string {
  let to = `${file}.${reason}-${timestampForName(now)}`;
  for (let i = 1; fs.existsSync(to); i++) to = `${file}.${reason}-${timestampForName(now)}-${i}`;
  fs.renameSync(file, to);
  for (const suffix of SIDE_FILE_SUFFIXES) {
    try {
      fs.renameSync(file + suffix, to + suffix);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }
  return to;
}

/** chmod 0600 the database and its side files, where they exist; failures are logged, not fatal. */
export function restrictFileModes(file: string, logger: Logger): void {
  for (const f of [file, ...SIDE_FILE_SUFFIXES.map((s) => file + s)]) {
    try {
      if ((fs.statSync(f).mode & 0o777) !== 0o600) fs.chmodSync(f, 0o600);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT')
        logger.warn({ err, file: f }, 'could not make the history file private');
    }
  }
}

function wrapOpenError(err: unknown, file: string): StoreOpenError {
  if (err instanceof StoreOpenError) return err;
  return new StoreOpenError(problemText(err, file), errorCode(err), { cause: err });
}

/**
 * Open (creating when needed) the history database at `file`, checked, migrated and in WAL mode.
 * Throws StoreOpenError (its message is the user-facing problem) when it cannot be used.
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): OpenedDatabase {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  file = path.resolve(file);
  let movedAside: MovedAside | null = null;

  const setAside = (verdict: Extract<Verdict, { ok: false }>): void => {
    let to: string;
    try {
      to = moveAside(file, verdict.reason, now());
    } catch (err) {
      throw new StoreOpenError(
        `History is off: ${file} is ${verdict.reason === 'corrupt' ? 'damaged' : 'not an EC2 Connect history database'} ` +
          `(${verdict.detail}) and could not be moved aside (${errorCode(err) || (err as Error).message}). ` +
          `Move or remove it yourself, or set EC2_CONNECT_DB to another file; EC2 Connect keeps working without history.`,
        errorCode(err),
        { cause: err },
      );
    }
    const message =
      verdict.reason === 'corrupt'
        ? `The history file ${file} was damaged (${verdict.detail}); it was moved to ${to} and a new, empty history was started. Nothing was deleted.`
        : `${file} is ${verdict.detail}; it was moved to ${to} and a new, empty history was started there. Nothing was deleted.`;
    logger.warn({ file, movedTo: to, reason: verdict.reason }, message);
    movedAside = { reason: verdict.reason, detail: verdict.detail, to, message };
  };

  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const header = checkHeader(file);
    if (!header.ok) setAside(header);
    if (!fs.existsSync(file) && !options.readonly) {
      // Created here, private from the start: SQLite gives the -wal and -shm files the same mode.
      fs.closeSync(fs.openSync(file, 'a', 0o600));
    }
  } catch (err) {
    throw wrapOpenError(err, file);
  }

  const connect = (): Database.Database =>
    new Database(file, {
      timeout: options.busyTimeoutMs ?? BUSY_TIMEOUT_MS,
      ...(options.readonly ? { readonly: true, fileMustExist: true } : {}),
      ...(options.verbose ? { verbose: options.verbose } : {}),
    });

  let db: Database.Database | undefined;
  try {
    db = connect();
    let verdict = checkContents(db);
    if (!verdict.ok) {
      db.close();
      db = undefined;
      setAside(verdict);
      if (!options.readonly) fs.closeSync(fs.openSync(file, 'a', 0o600));
      db = connect();
      verdict = checkContents(db);
      if (!verdict.ok)
        throw new StoreOpenError(`History is off: ${file}: ${verdict.detail}`, 'SQLITE_CORRUPT');
    }
    const found = schemaVersion(db);
    if (found > LATEST_SCHEMA_VERSION) {
      throw new StoreOpenError(newerSchemaText(file, found, LATEST_SCHEMA_VERSION), 'NEWER_SCHEMA');
    }
    // Only now is anything written: the file is ours (or new) and of a version we know.
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode !== 'wal' && !options.readonly)
      logger.warn(
        { file, mode },
        'the history database is not in WAL mode (the file system may not support it)',
      );
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const migration = options.readonly ? { from: found, to: found, applied: [] } : migrate(db, { now });
    if (migration.applied.length)
      logger.info(
        { file, ...migration },
        `history database migrated from schema ${migration.from} to ${migration.to}`,
      );
    restrictFileModes(file, logger);
    return { db, file, movedAside, migration };
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already broken
    }
    throw wrapOpenError(err, file);
  }
}
