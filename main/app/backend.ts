/**
 * The back end of the desktop app: the workspace (main/core/workspace) on the active profile,
 * by default the embedded sandbox. `ec2-connect app` passes its profile options through the
 * environment (see main/cli/commands/app.ts).
 */
import type { ProcessStat } from '../../preload/api.js';
import type { Logger } from '../core/log/logger.js';
import type { WorkspaceService } from '../core/workspace/types.js';
import { Workspace } from '../core/workspace/workspace.js';
import { configFile } from '../core/config/load.js';
import { openConfiguredHistory } from '../core/config/runtime.js';
import { ConfigStore } from '../core/config/store.js';
import { startStatusServer, statusDir } from '../core/monitor/status-server.js';

export interface RunningBackend {
  workspace: WorkspaceService;
  close(): Promise<void>;
}

export async function startBackend(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
  options: {
    /**
     * The configuration (the app owns it and the log reads it too). Default: one on
     * configFile(env), owned by the back end.
     */
    config?: ConfigStore;
    /** Electron's renderer, GPU and utility processes, for the resource monitor. */
    processes?: () => ProcessStat[];
    /** Opens a link in the system browser (an SSO sign-in page). */
    openUrl?: (url: string) => void;
  } = {},
): Promise<RunningBackend> {
  const owned = options.config ? undefined : new ConfigStore({ file: configFile(env), env });
  const config = options.config ?? owned!;
  // database.file (EC2_CONNECT_DB), else sessions.db in the data folder; none when database.enabled is false.
  const history = openConfiguredHistory(config.config, logger, { env });
  const workspace = await Workspace.start({
    // EC2_CONNECT_PROFILE is the default profile (see defaultProfileName).
    ...(env.EC2_CONNECT_REGION ? { region: env.EC2_CONNECT_REGION } : {}),
    ...(env.EC2_CONNECT_ENDPOINT ? { endpoint: env.EC2_CONNECT_ENDPOINT } : {}),
    config,
    env,
    ...(history ? { history } : {}),
    historySource: 'app',
    ...(options.processes ? { resources: { externalProcesses: options.processes } } : {}),
    ...(options.openUrl ? { openUrl: options.openUrl } : {}),
    logger,
  }).catch(async (err: unknown) => {
    await history?.close();
    owned?.dispose();
    throw err;
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
      owned?.dispose();
    },
  };
}
