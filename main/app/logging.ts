/**
 * The desktop app's log, set up from the configuration's `logging` section (docs/config.md):
 * stderr at `logging.level` (default warn), and rotating files (main.log, main.1.log, ...,
 * mode 0600) in `logging.directory`, by default Electron's logs folder, which Help > Open Logs
 * Folder opens. Secrets are redacted by the core logger before any destination sees a line.
 * Created only once this instance holds the single-instance lock, so two instances never
 * rotate the same file.
 */
import type { ConfigStore } from '../core/config/store.js';
import { openProcessLog, type ProcessLog } from '../core/config/runtime.js';

export const LOG_FILE_NAME = 'main.log';

export interface AppLog extends ProcessLog {
  /** The folder Help > Open Logs Folder opens: the configured directory, else Electron's logs folder. */
  directory: string;
}

export function createAppLog(
  config: ConfigStore,
  electronLogsDir: string,
  options: { stderr?: null; sync?: boolean } = {},
): AppLog {
  const directory = config.config.logging.directory ?? electronLogsDir;
  const log = openProcessLog(config, {
    name: 'app',
    defaultDirectory: directory,
    fileName: LOG_FILE_NAME,
    ...options,
  });
  return { ...log, directory };
}
