/**
 * A logger set up from the configuration's `logging` section (docs/config.md): stderr at
 * `level`, and, when `file` is on, rotating files in `directory` at the more verbose of `level`
 * and `file_level`; JSON lines or readable ones (`format: pretty`, pino-pretty). Asynchronous
 * writes; secrets are redacted by the core logger before any destination sees a line. Levels
 * can change while running (`setLevels`).
 */
import path from 'node:path';
import pino from 'pino';
import PinoPretty from 'pino-pretty';
import { createLogger, type Logger } from './logger.js';
import { RotatingFileStream } from './rotating-file.js';

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type LogFormat = 'json' | 'pretty';

/** The configuration's logging section (main/core/config/schema.ts), structurally. */
export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  file: boolean;
  file_level: LogLevel;
  directory: string | null;
  max_file_mb: number;
  max_files: number;
}

export interface ConfiguredLogOptions {
  name?: string;
  /** The folder when `directory` is null (the app passes <app data>/logs). */
  defaultDirectory?: string;
  /** The current log file's name (default main.log). */
  fileName?: string;
  /** Where the stderr lines go (default: file descriptor 2); null: nowhere. */
  stderr?: pino.DestinationStream | null;
  /** Colours in pretty stderr lines (default: when stderr is a terminal). Never in files. */
  colorize?: boolean;
  /** Synchronous writes (tests; default false). */
  sync?: boolean;
}

export interface ConfiguredLog {
  logger: Logger;
  /** The current log file, or null when file logging is off or could not start. */
  file: string | null;
  /** Why the file could not be used, if it could not. */
  fileProblem: string | null;
  /** Change the levels while running (logging.level and logging.file_level apply live). */
  setLevels(level: LogLevel, fileLevel?: LogLevel): void;
  /** Write out what is buffered (before the process exits). */
  flush(): void;
  /** Flush and close the file. */
  close(): Promise<void>;
}

const LEVEL_VALUES: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  silent: Infinity,
};

/** The more verbose of two levels. */
export function moreVerbose(a: LogLevel, b: LogLevel): LogLevel {
  return LEVEL_VALUES[a] <= LEVEL_VALUES[b] ? a : b;
}

/** A destination that turns pino's JSON lines into readable ones. */
export function prettyDestination(
  target: pino.DestinationStream,
  colorize = false,
): pino.DestinationStream & { flushSync?: () => void } {
  const format = PinoPretty.prettyFactory({
    colorize,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return {
    write(line: string) {
      let out: string;
      try {
        out = format(line);
      } catch {
        out = line;
      }
      target.write(out);
    },
    flushSync() {
      (target as { flushSync?: () => void }).flushSync?.();
    },
  };
}

interface Target {
  level: number;
  stream: pino.DestinationStream & { flushSync?: () => void };
}

/**
 * Fans each line out to the destinations whose level it reaches. Unlike pino.multistream the
 * levels can change afterwards (pino sets `lastLevel` before each write: the metadata symbol).
 */
class LevelRouter {
  lastLevel = 0;
  constructor(readonly targets: Target[]) {
    (this as unknown as Record<symbol, boolean>)[Symbol.for('pino.metadata')] = true;
  }
  write(line: string): void {
    for (const t of this.targets) if (this.lastLevel >= t.level) t.stream.write(line);
  }
  flushSync(): void {
    for (const t of this.targets) {
      try {
        t.stream.flushSync?.();
      } catch {
        // a destination not ready yet: nothing to flush
      }
    }
  }
}

export function createConfiguredLog(
  settings: LogSettings,
  options: ConfiguredLogOptions = {},
): ConfiguredLog {
  const stderrTarget: Target | null =
    options.stderr === null
      ? null
      : (() => {
          const raw = options.stderr ?? quiet(pino.destination({ fd: 2, sync: options.sync ?? false }));
          const colorize = options.colorize ?? Boolean(process.stderr.isTTY);
          return {
            level: LEVEL_VALUES[settings.level],
            stream: settings.format === 'pretty' ? prettyDestination(raw, colorize) : raw,
          };
        })();
  let file: RotatingFileStream | null = null;
  let fileProblem: string | null = null;
  let fileTarget: Target | null = null;
  if (settings.file) {
    const dir = settings.directory ?? options.defaultDirectory;
    if (!dir) {
      fileProblem = 'no log directory is configured';
    } else {
      try {
        file = new RotatingFileStream({
          file: path.join(dir, options.fileName ?? 'main.log'),
          maxBytes: settings.max_file_mb * 1024 * 1024,
          maxFiles: settings.max_files,
          sync: options.sync ?? false,
        });
        file.on('error', () => undefined);
        fileTarget = {
          level: LEVEL_VALUES[moreVerbose(settings.level, settings.file_level)],
          stream: settings.format === 'pretty' ? prettyDestination(file, false) : file,
        };
      } catch (err) {
        fileProblem = `cannot write log files in ${dir}: ${(err as Error).message}`;
      }
    }
  }
  const targets = [stderrTarget, fileTarget].filter((t): t is Target => t !== null);
  const router = new LevelRouter(targets);
  const loggerLevel = (): LogLevel => {
    const min = Math.min(...targets.map((t) => t.level), Infinity);
    return (Object.entries(LEVEL_VALUES).find(([, v]) => v === min)?.[0] ?? 'silent') as LogLevel;
  };
  const logger = createLogger({
    name: options.name ?? 'ec2-connect',
    level: loggerLevel(),
    destination: router as unknown as pino.DestinationStream,
  });
  if (fileProblem) logger.warn({ problem: fileProblem }, 'file logging is off');
  return {
    logger,
    file: file?.file ?? null,
    fileProblem,
    setLevels(level, fileLevel = settings.file_level) {
      if (stderrTarget) stderrTarget.level = LEVEL_VALUES[level];
      if (fileTarget) fileTarget.level = LEVEL_VALUES[moreVerbose(level, fileLevel)];
      logger.level = loggerLevel();
    },
    flush() {
      router.flushSync();
    },
    async close() {
      router.flushSync();
      await file?.end();
    },
  };
}

/** Write errors of stderr dropped (a Windows GUI app has no stderr). */
function quiet(destination: ReturnType<typeof pino.destination>): ReturnType<typeof pino.destination> {
  destination.on('error', () => undefined);
  return destination;
}
