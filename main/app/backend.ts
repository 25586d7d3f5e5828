/**
 * The back end of the desktop app: the workspace (main/core/workspace) on the active profile,
 * by default the embedded sandbox. `ec2-connect app` passes its profile options through the
 * environment (see main/cli/commands/app.ts).
 */
import path from 'node:path';
import type { ProcessStat } from '../../preload/api.js';
import type { Logger } from '../core/log/logger.js';
import type { WorkspaceService } from '../core/workspace/types.js';
import { Workspace } from '../core/workspace/workspace.js';
import { CONFIG_FILE_NAME, configFile } from '../core/config/load.js';
import { startStatusServer, statusDir } from '../core/monitor/status-server.js';
import { DATABASE_FILE, defaultDatabaseFile, openHistoryStore } from '../core/store/index.js';

export interface RunningBackend {
  workspace: WorkspaceService;
  close(): Promise<void>;
}

export async function startBackend(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
  options: {
    userDataDir?: string;
    /** Electron's renderer, GPU and utility processes, for the resource monitor. */
    processes?: () => ProcessStat[];
  } = {},
): Promise<RunningBackend> {
  const workspace = await Workspace.start({
    // EC2_CONNECT_PROFILE is the default profile (see defaultProfileName).
    ...(env.EC2_CONNECT_REGION ? { region: env.EC2_CONNECT_REGION } : {}),
    ...(env.EC2_CONNECT_ENDPOINT ? { endpoint: env.EC2_CONNECT_ENDPOINT } : {}),
    // EC2_CONNECT_CONFIG wins; otherwise config.json beside the other files.
    configFile:
      env.EC2_CONNECT_CONFIG || !options.userDataDir
        ? configFile(env)
        : path.join(options.userDataDir, CONFIG_FILE_NAME),
    env,
    // EC2_CONNECT_DB wins; otherwise sessions.db beside the settings.
    history: openHistoryStore({
      file:
        env.EC2_CONNECT_DB || !options.userDataDir
          ? defaultDatabaseFile(env)
          : path.join(options.userDataDir, DATABASE_FILE),
      logger,
    }),
    historySource: 'app',
    ...(options.processes ? { resources: { externalProcesses: options.processes } } : {}),
    logger,
  });
  const info = await workspace.handlers['app.info'](undefined);
  logger.info({ profile: info.profile, region: info.region, endpoint: info.endpoint }, 'back end ready');
  // For `ec2-connect resources`: the live state on a local socket (0600); the app works without it.
  const status = await startStatusServer({
    dir: statusDir(env),
    kind: 'desktop',
    handlers: workspace.handlers,
    logger,
  }).catch((err: unknown) => {
    logger.warn(
      { err },
      'the status socket could not be started; `ec2-connect resources` will not see the app',
    );
    return undefined;
  });
  return {
    workspace,
    close: async () => {
      await status?.dispose();
      await workspace.close();
    },
  };
}
