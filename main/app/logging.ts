/**
 * The desktop app's log: JSON lines (secrets redacted by the core logger) on stderr, as the CLI
 * does, and, once this instance holds the single-instance lock, also in `<logs>/main.log`
 * (mode 0600) so that Help > Open Logs Folder has something to show. stderr gets warnings and
 * worse unless EC2_CONNECT_LOG_LEVEL says otherwise; the file gets at least `info`. A file over
 * 5 MiB at start is moved to main.1.log (replacing the previous one).
 */
import { renameSync, statSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createLogger, type Logger } from '../core/log/logger.js';

type Level = pino.LevelWithSilent;

const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export const LOG_FILE_NAME = 'main.log';
export const MAX_LOG_BYTES = 5 * 1024 * 1024;

function parseLevel(value: string | undefined): Level | undefined {
  return LEVELS.includes(value as Level) ? (value as Level) : undefined;
}

/** The more verbose of two levels. */
function moreVerbose(a: Level, b: Level): Level {
  return LEVELS.indexOf(a) <= LEVELS.indexOf(b) ? a : b;
}

/** Levels for stderr, the file and the logger itself (the most verbose of the two). */
export function logLevels(env: NodeJS.ProcessEnv = process.env): {
  stderr: Level;
  file: Level;
  logger: Level;
} {
  const stderr = parseLevel(env.EC2_CONNECT_LOG_LEVEL) ?? 'warn';
  const file = moreVerbose(stderr, 'info');
  return { stderr, file, logger: moreVerbose(stderr, file) };
}

/** Move `file` aside when it is larger than `maxBytes`; true when it did. */
export function rotateIfLarge(file: string, maxBytes = MAX_LOG_BYTES): boolean {
  try {
    if (statSync(file).size <= maxBytes) return false;
    renameSync(file, file.replace(/\.log$/, '') + '.1.log');
    return true;
  } catch {
    return false; // no file yet, or it cannot be moved: keep appending
  }
}

/**
 * A log destination whose write errors are dropped: a Windows GUI app has no stderr, a disk
 * can fill up, and logging must never take the app down.
 */
function quiet(destination: ReturnType<typeof pino.destination>): ReturnType<typeof pino.destination> {
  destination.on('error', () => undefined);
  return destination;
}

export interface AppLog {
  logger: Logger;
  /** Also write to `<dir>/main.log`; returns the file's path. */
  addFile(dir: string): string;
  /** Write out what is buffered (before the process exits). */
  flush(): void;
}

export function createAppLog(env: NodeJS.ProcessEnv = process.env): AppLog {
  const levels = logLevels(env);
  const streams = pino.multistream(
    levels.stderr === 'silent'
      ? []
      : [{ level: levels.stderr, stream: quiet(pino.destination({ fd: 2, sync: false })) }],
  );
  const logger = createLogger({ name: 'app', level: levels.logger, destination: streams });
  let file: string | undefined;
  return {
    logger,
    addFile(dir) {
      if (file) return file;
      file = path.join(dir, LOG_FILE_NAME);
      rotateIfLarge(file);
      streams.add({
        level: levels.file as pino.Level,
        stream: quiet(pino.destination({ dest: file, mkdir: true, sync: false, mode: 0o600 })),
      });
      return file;
    },
    flush() {
      try {
        streams.flushSync();
      } catch {
        // a destination not ready yet (nothing written): nothing to flush
      }
    },
  };
}
