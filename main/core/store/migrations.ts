/**
 * The schema, as an ordered list of forward-only migrations. Each runs in its own
 * `BEGIN IMMEDIATE` transaction together with its `schema_version` row, so a database is always at
 * exactly one version, and two processes opening a new file at once cannot both migrate it (the
 * second waits for the lock, then sees the work done). A migration is never edited once released:
 * changes go into a new one.
 */
import type Database from 'better-sqlite3';

/** `PRAGMA application_id` of an EC2 Connect history database ('EC2C'); anything else is foreign. */
export const APPLICATION_ID = 0x45433243;

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sessions, session events and metrics samples',
    up(db) {
      db.exec(`
        CREATE TABLE schema_version (
          version     INTEGER PRIMARY KEY,
          description TEXT NOT NULL,
          applied_at  INTEGER NOT NULL
        );
        CREATE TABLE sessions (
          seq            INTEGER PRIMARY KEY AUTOINCREMENT,
          id             TEXT NOT NULL UNIQUE,
          aws_session_id TEXT NOT NULL DEFAULT '',
          instance_id    TEXT NOT NULL,
          instance_name  TEXT NOT NULL DEFAULT '',
          profile        TEXT NOT NULL,
          region         TEXT NOT NULL,
          source         TEXT NOT NULL CHECK (source IN ('app', 'web', 'cli')),
          "user"         TEXT NOT NULL DEFAULT '',
          owner_pid      INTEGER,
          owner_host     TEXT,
          started_at     INTEGER NOT NULL,
          ended_at       INTEGER,
          outcome        TEXT CHECK (outcome IS NULL OR outcome IN ('ended', 'terminated', 'failed', 'unknown')),
          end_reason     TEXT,
          exit_code      INTEGER,
          bytes_in       INTEGER NOT NULL DEFAULT 0,
          bytes_out      INTEGER NOT NULL DEFAULT 0,
          reconnects     INTEGER NOT NULL DEFAULT 0,
          open_ms        REAL
        );
        CREATE INDEX sessions_started ON sessions (started_at DESC);
        CREATE INDEX sessions_instance ON sessions (instance_id, started_at);

        CREATE TABLE session_events (
          id         INTEGER PRIMARY KEY,
          session_id TEXT NOT NULL,
          at         INTEGER NOT NULL,
          kind       TEXT NOT NULL,
          detail     TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX session_events_session ON session_events (session_id, at);

        -- session_seq is sessions.seq, or 0 for process-wide samples (CPU, memory).
        CREATE TABLE metrics (
          id           INTEGER PRIMARY KEY,
          session_seq  INTEGER NOT NULL,
          t            INTEGER NOT NULL,
          latency_p50  REAL,
          latency_p99  REAL,
          in_bps       REAL NOT NULL DEFAULT 0,
          out_bps      REAL NOT NULL DEFAULT 0,
          cpu_percent  REAL,
          memory_bytes INTEGER
        );
        CREATE INDEX metrics_series ON metrics (session_seq, t);
      `);
    },
  },
  {
    version: 2,
    description: 'instance cache; indexes for sessions per profile and sessions without an end',
    up(db) {
      db.exec(`
        CREATE TABLE instance_cache (
          profile    TEXT NOT NULL,
          region     TEXT NOT NULL,
          data       TEXT NOT NULL,
          fetched_at INTEGER NOT NULL,
          PRIMARY KEY (profile, region)
        ) WITHOUT ROWID;
        CREATE INDEX sessions_profile ON sessions (profile, started_at);
        CREATE INDEX sessions_unended ON sessions (started_at) WHERE ended_at IS NULL;
      `);
    },
  },
  {
    version: 3,
    description: 'metrics: p95 latency, retransmissions and reconnects per sample; per-role process metrics',
    up(db) {
      db.exec(`
        ALTER TABLE metrics ADD COLUMN latency_p95 REAL;
        ALTER TABLE metrics ADD COLUMN retransmits INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE metrics ADD COLUMN reconnects INTEGER NOT NULL DEFAULT 0;

        -- One row per process role (main, renderer, gpu, pty, ...) per downsampled interval:
        -- cpu_percent is the sum over the role's processes in percent of one core, memory_bytes their summed RSS.
        CREATE TABLE process_metrics (
          id           INTEGER PRIMARY KEY,
          t            INTEGER NOT NULL,
          role         TEXT NOT NULL,
          processes    INTEGER NOT NULL,
          cpu_percent  REAL NOT NULL,
          memory_bytes INTEGER NOT NULL
        );
        CREATE INDEX process_metrics_t ON process_metrics (t);
      `);
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema version of a database: 0 for an empty one (no `schema_version` table). */
export function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`)
    .get();
  if (!table) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: number[];
}

/**
 * Bring the database forward to `target` (default: the latest version). Never goes backwards:
 * a database newer than `target` is left as it is (the caller refuses it before this).
 */
export function migrate(
  db: Database.Database,
  options: { target?: number; now?: () => number } = {},
): MigrationResult {
  const target = options.target ?? LATEST_SCHEMA_VERSION;
  const now = options.now ?? Date.now;
  const from = schemaVersion(db);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    const ran = db
      .transaction(() => {
        // Re-read under the write lock: another process may have migrated meanwhile.
        if (schemaVersion(db) >= m.version) return false;
        m.up(db);
        db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.description,
          now(),
        );
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${m.version}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return { from, to: schemaVersion(db), applied };
}
