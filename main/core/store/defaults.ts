/**
 * The history store's defaults, in a module of their own so that the configuration schema can
 * use them without loading SQLite.
 */
export const STORE_DEFAULTS = {
  flushIntervalMs: 1000,
  batchSize: 1000,
  maxQueue: 100_000,
  cleanupIntervalHours: 24,
  retentionDays: 90,
  maxMetricsPerSession: 86_400,
  vacuumOnStartup: false,
} as const;
