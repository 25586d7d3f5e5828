/**
 * The process-wide services that the configuration sets up, shared by the desktop app, web mode
 * and the CLI so each does not redo it: the log (the `logging` section, with `level` and
 * `file_level` applied live) and the history store (the `database` section; none when
 * `database.enabled` is false).
 */
import type { Logger } from '../log/logger.js';
import {
  createConfiguredLog,
  type ConfiguredLog,
  type ConfiguredLogOptions,
  type LogLevel,
} from '../log/setup.js';
import {
  openHistoryStore,
  type HistoryStoreOptions,
  type SqliteHistoryStore,
} from '../store/sqlite-store.js';
import type { Disposable } from '../util/lifecycle.js';
import { historyOptions, logDirectory } from './apply.js';
import type { LoadedConfig } from './load.js';
import type { Config } from './schema.js';
import type { ConfigStore } from './store.js';

export interface ProcessLog extends ConfiguredLog, Disposable {}

/** Keys of the logging section that need a restart (a new file or format cannot be swapped in). */
const RESTART_KEYS = [
  'logging.format',
  'logging.file',
  'logging.directory',
  'logging.max_file_mb',
  'logging.max_files',
] as const;

/**
 * The log of a long-running process (app, web mode) from its configuration store: stderr at
 * `logging.level`, rotating files in `logging.directory` (default `defaultDirectory`, else
 * <app data>/logs) when `logging.file` is on. A change of level in the file, the Settings view
 * or the environment applies at once; the other logging keys apply at the next start, and the
 * log says so.
 */
export function openProcessLog(
  store: ConfigStore,
  options: ConfiguredLogOptions & { env?: NodeJS.ProcessEnv } = {},
): ProcessLog {
  const { env, ...logOptions } = options;
  const start = store.current;
  const log = createConfiguredLog(start.config.logging, {
    ...logOptions,
    defaultDirectory: options.defaultDirectory ?? logDirectory(start.config, env),
  });
  let last = start;
  const sub = store.onDidChange((loaded) => {
    const { level, file_level: fileLevel } = loaded.config.logging;
    log.setLevels(level, fileLevel);
    const pending = RESTART_KEYS.filter((k) => loaded.values[k] !== last.values[k]);
    if (pending.length) log.logger.info({ keys: pending }, 'these logging settings apply at the next start');
    last = loaded;
  });
  return {
    ...log,
    dispose() {
      sub.dispose();
    },
  };
}

/**
 * The stderr level of a short-lived CLI command: `--log-level`, else logging.level when the
 * user set it (file, preset, EC2_CONNECT_LOG_LEVEL), else `error` — warnings about a reconnect
 * would otherwise land in the middle of an interactive shell's screen.
 */
export function cliLogLevel(loaded: LoadedConfig, flag?: string): LogLevel {
  if (flag) return flag as LogLevel;
  return loaded.sources['logging.level'] === 'default' ? 'error' : loaded.config.logging.level;
}

/**
 * The history store the configuration asks for, or undefined when `database.enabled` is false.
 * `overrides` are for the caller's situation (a CLI process does no periodic clean-up).
 */
export function openConfiguredHistory(
  config: Config,
  logger: Logger,
  options: { env?: NodeJS.ProcessEnv; overrides?: Partial<HistoryStoreOptions> } = {},
): SqliteHistoryStore | undefined {
  const base = historyOptions(config, options.env);
  if (!base) {
    logger.info('session history is off (database.enabled is false)');
    return undefined;
  }
  return openHistoryStore({ ...base, logger, ...options.overrides });
}
