/** The local history store (issue 6): open it with `openHistoryStore`; see docs/store.md. */
export * from './types.js';
export { openHistoryStore, SqliteHistoryStore, STORE_DEFAULTS } from './sqlite-store.js';
export type { HistoryStoreOptions, StoreStats } from './sqlite-store.js';
export type { CleanupResult, TrimResult } from './retention.js';
export type { WriterStats } from './writer.js';
export type { MetricsSeries, MetricsPoint } from './queries.js';
export { defaultDatabaseFile, DATABASE_FILE } from './paths.js';
export { LATEST_SCHEMA_VERSION, APPLICATION_ID } from './migrations.js';
export { historyOptionsFromConfig } from './config.js';
