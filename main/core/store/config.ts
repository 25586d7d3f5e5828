/**
 * The store's settings as they appear in the configuration file (snake_case keys, see
 * docs/store.md), mapped to HistoryStoreOptions. Values of the wrong type or out of range are
 * ignored (the default applies) and reported, so a typo never turns history off.
 */
import type { HistoryStoreOptions } from './sqlite-store.js';

export interface HistoryConfig {
  /** Records per transaction before a flush happens at once (batchSize). */
  batch_processing?: unknown;
  /** Milliseconds between flushes (flushIntervalMs). */
  flush_interval?: unknown;
  max_queue?: unknown;
  cleanup_interval_hours?: unknown;
  retention_days?: unknown;
  max_metrics_per_session?: unknown;
  vacuum_on_startup?: unknown;
}

type Mapped = Pick<
  HistoryStoreOptions,
  | 'batchSize'
  | 'flushIntervalMs'
  | 'maxQueue'
  | 'cleanupIntervalHours'
  | 'retentionDays'
  | 'maxMetricsPerSession'
  | 'vacuumOnStartup'
>;

export function historyOptionsFromConfig(config: HistoryConfig = {}): {
  options: Mapped;
  warnings: string[];
} {
  const options: Mapped = {};
  const warnings: string[] = [];
  const number = (key: keyof HistoryConfig, min: number, max: number, set: (n: number) => void): void => {
    const v = config[key];
    if (v === undefined) return;
    if (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max) set(v);
    else warnings.push(`${key} must be a number from ${min} to ${max}; got ${JSON.stringify(v)} (ignored)`);
  };
  number('batch_processing', 1, 1_000_000, (n) => (options.batchSize = Math.trunc(n)));
  number('flush_interval', 10, 3_600_000, (n) => (options.flushIntervalMs = n));
  number('max_queue', 100, 10_000_000, (n) => (options.maxQueue = Math.trunc(n)));
  number('cleanup_interval_hours', 0, 24 * 365, (n) => (options.cleanupIntervalHours = n));
  number('retention_days', 0, 36_500, (n) => (options.retentionDays = n));
  number('max_metrics_per_session', 0, 100_000_000, (n) => (options.maxMetricsPerSession = Math.trunc(n)));
  if (config.vacuum_on_startup !== undefined) {
    if (typeof config.vacuum_on_startup === 'boolean') options.vacuumOnStartup = config.vacuum_on_startup;
    else
      warnings.push(
        `vacuum_on_startup must be true or false; got ${JSON.stringify(config.vacuum_on_startup)} (ignored)`,
      );
  }
  return { options, warnings };
}
