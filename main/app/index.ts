/**
 * Electron main process: the only code (with preload/) that imports electron at run time.
 *
 * One window, sandboxed and context-isolated, serving the built renderer from app://renderer/
 * under a strict CSP, restored to its saved size and place; the workspace (the embedded AWS
 * sandbox by default) behind the bridge contract (preload/api.ts); the native shell around it:
 * application menu, tray, notifications, power events; everything disposed on quit.
 *
 * The logic lives in small modules that take Electron's objects as parameters (menu.ts, tray.ts,
 * notifications.ts, power.ts, events.ts, window-state.ts, security.ts) and are tested under plain
 * Node; this file only wires them to Electron.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  nativeTheme,
  Notification,
  powerMonitor,
  screen,
  session,
  shell,
  Tray,
} from 'electron';
import { configFile } from '../core/config/load.js';
import { ConfigStore } from '../core/config/store.js';
import { appDataDir } from '../core/util/app-paths.js';
import { DisposableStore, toDisposable } from '../core/util/lifecycle.js';
import { CLIENT_VERSION, PRODUCT_NAME } from '../core/version.js';
import { startBackend, type RunningBackend } from './backend.js';
import { electronProcesses } from './process-metrics.js';
import { createCommandSender, forwardWorkspaceEvents } from './events.js';
import { registerBridgeIpc } from './ipc.js';
import { DISPOSE_TIMEOUT_MS, once, runShutdown } from './lifecycle.js';
import { createAppLog } from './logging.js';
import { aboutDetail, installAppMenu } from './menu.js';
import { connectNotifications } from './notifications.js';
import { connectPowerMonitor } from './power.js';
import { APP_ENTRY_URL, APP_ORIGIN, registerAppScheme, serveRenderer } from './protocol.js';
import { appIconPath, resourcesDir } from './resources.js';
import { RENDERER_CSP, createExternalOpener, devCsp, hardenSession, hardenWebContents } from './security.js';
import { bindTrayToWorkspace, createAppTray, trayIconPath, type AppTray } from './tray.js';
import { createMainWindow, revealWindow } from './window.js';
import {
  createWindowStateStore,
  fitToDisplays,
  trackWindowState,
  type WindowStateStore,
  type WindowStateTracker,
} from './window-state.js';

/** Windows: notifications and the taskbar group by this id (the installer's shortcut carries it too). */
const APP_USER_MODEL_ID = 'dev.ec2connect.app';
const WINDOW_STATE_FILE = 'window-state.json';

// Before `ready`: the scheme must be privileged up front.
registerAppScheme();

// The same data folder as the CLI and web mode (settings shared; EC2_CONNECT_HOME honoured),
// packaged or not (Electron would otherwise name it after productName, "EC2 Connect"). Before the
// single-instance lock, which lives there, and before anything reads a path.
app.setPath('userData', appDataDir());

if (!app.requestSingleInstanceLock()) {
  // Another instance is running; it gets a 'second-instance' event and brings its window forward.
  app.quit();
} else {
  run();
}

function run(): void {
  // The configuration (EC2_CONNECT_CONFIG, else config.json in the data folder), shared by the
  // log and the back end; its problems are shown in Settings, never a reason not to start.
  const config = new ConfigStore({ file: configFile(process.env), env: process.env });
  const appLog = createAppLog(config, app.getPath('logs'));
  const logger = appLog.logger;
  if (process.platform === 'win32') app.setAppUserModelId(APP_USER_MODEL_ID);

  const platform = process.platform;
  const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
  const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
  const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
  const devOrigin = devUrl ? new URL(devUrl).origin : undefined;
  // In development the page comes from Vite's dev server, which also pushes updates over a WebSocket.
  const allowedOrigins = devOrigin ? [APP_ORIGIN, devOrigin, devOrigin.replace(/^http/, 'ws')] : [APP_ORIGIN];
  const csp = devOrigin ? devCsp(devOrigin) : RENDERER_CSP;
  const resources = resourcesDir({
    isPackaged: app.isPackaged,
    appPath: app.getAppPath(),
    resourcesPath: process.resourcesPath,
  });
  // macOS takes the icon from the app bundle; elsewhere windows and notifications need one.
  const iconPath = platform === 'darwin' ? undefined : appIconPath(resources);

  let window: BrowserWindow | undefined;
  let windowTracker: WindowStateTracker | undefined;
  let stateStore: WindowStateStore | undefined;
  let backend: Promise<RunningBackend> | undefined;
  let tray: AppTray | undefined;
  let quitting = false;
  /** Everything that listens or holds a native object; disposed (in reverse order) on quit. */
  const integrations = new DisposableStore();

  const getWindow = (): BrowserWindow | undefined => (window && !window.isDestroyed() ? window : undefined);

  const openWindow = (): BrowserWindow => {
    const store = (stateStore ??= createWindowStateStore(
      path.join(app.getPath('userData'), WINDOW_STATE_FILE),
      logger,
    ));
    const state = fitToDisplays(store.load(), screen.getAllDisplays(), screen.getPrimaryDisplay());
    const created = createMainWindow(BrowserWindow, {
      preloadPath,
      url: devUrl ?? APP_ENTRY_URL,
      state,
      ...(iconPath ? { iconPath } : {}),
      darkBackground: nativeTheme.shouldUseDarkColors,
      logger,
    });
    const tracker = trackWindowState(created, store);
    window = created;
    windowTracker = tracker;
    created.on('closed', () => {
      tracker.dispose();
      if (window === created) {
        window = undefined;
        windowTracker = undefined;
      }
    });
    return created;
  };

  /** Bring the main window forward, opening one if there is none (macOS keeps running without). */
  const showWindow = (): BrowserWindow | undefined => {
    if (quitting || !app.isReady()) return undefined;
    const existing = getWindow();
    if (!existing) return openWindow(); // shows itself once painted
    revealWindow(existing);
    return existing;
  };

  const sendCommand = createCommandSender(getWindow, logger);
  const openExternal = createExternalOpener((url) => shell.openExternal(url), { logger });

  const showAbout = (): void => {
    const options = {
      type: 'info' as const,
      title: `About ${PRODUCT_NAME}`,
      message: PRODUCT_NAME,
      detail: aboutDetail({
        version: CLIENT_VERSION,
        versions: process.versions,
        platform: process.platform,
        arch: process.arch,
      }),
      buttons: ['OK'],
      ...(iconPath ? { icon: iconPath } : {}),
    };
    const parent = getWindow();
    (parent ? dialog.showMessageBox(parent, options) : dialog.showMessageBox(options)).catch((err: unknown) =>
      logger.warn({ err }, 'could not show the About dialog'),
    );
  };

  const openLogs = (): void => {
    shell
      .openPath(appLog.directory)
      .then((error) => {
        if (error) logger.warn({ error }, 'could not open the logs folder');
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not open the logs folder'));
  };

  app.on('second-instance', () => {
    showWindow();
  });

  app.on('web-contents-created', (_event, contents) =>
    hardenWebContents(contents, logger, { openExternal, allowedOrigins }),
  );

  app
    .whenReady()
    .then(() => {
      hardenSession(session.defaultSession, { csp, allowedOrigins, logger });
      serveRenderer(rendererDir, csp);

      backend = startBackend(logger, process.env, {
        config,
        openUrl: (url) => void openExternal(url),
        processes: () => electronProcesses(app),
      });
      backend.catch((err: unknown) => logger.error({ err }, 'back end failed to start'));
      // Requests wait for the back end; if it failed they get an UNAVAILABLE error with the reason.
      const pending = backend;
      integrations.add(
        toDisposable(
          registerBridgeIpc(() => pending.then((b) => b.workspace.handlers), allowedOrigins, logger),
        ),
      );

      installAppMenu(Menu, {
        platform,
        isPackaged: app.isPackaged,
        appName: PRODUCT_NAME,
        actions: {
          send: (command) => {
            if (!getWindow()) showWindow(); // macOS: the menu outlives the window
            sendCommand(command);
          },
          about: showAbout,
          openLogs,
          quit: () => app.quit(),
        },
      });

      try {
        tray = integrations.add(
          createAppTray({
            Tray,
            Menu,
            iconPath: trayIconPath(resources, platform),
            platform,
            logger,
            actions: {
              open: () => void showWindow(),
              newSession: (instanceId) => {
                showWindow();
                sendCommand('new-session', instanceId);
              },
              quit: () => app.quit(),
            },
          }),
        );
      } catch (err) {
        // Some Linux desktops have no tray; the app works without it.
        logger.warn({ err }, 'no tray icon');
      }

      openWindow();
      app.on('activate', () => {
        // macOS: the dock icon was clicked.
        if (!getWindow()) showWindow();
      });

      pending.then(
        ({ workspace }) => {
          // Added after quitting began? DisposableStore disposes it at once.
          integrations.add(forwardWorkspaceEvents(workspace.onEvent, getWindow, logger));
          integrations.add(
            connectNotifications(workspace, {
              Notification,
              focusWindow: (notice) => {
                showWindow();
                // A broken port forward: show where it is (and why it ended).
                if (notice.kind === 'forward-failed') sendCommand('show-ports');
              },
              ...(iconPath ? { iconPath } : {}),
              logger,
            }),
          );
          integrations.add(toDisposable(connectPowerMonitor(powerMonitor, workspace, logger)));
          if (tray) integrations.add(bindTrayToWorkspace(tray, workspace, logger));
        },
        () => undefined, // logged above
      );
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, 'startup failed');
      appLog.flush();
      app.exit(1);
    });

  app.on('window-all-closed', () => {
    if (platform !== 'darwin') app.quit();
  });

  const shutdown = once(async () => {
    quitting = true;
    const running = backend;
    backend = undefined;
    const result = await runShutdown(
      [
        // First, while the window still exists: its size and place.
        { name: 'window state', run: () => windowTracker?.dispose() },
        { name: 'shell integrations', run: () => integrations.dispose() },
        {
          name: 'back end',
          run: () =>
            running?.then(
              (b) => b.close(),
              () => undefined, // never started: nothing to close
            ),
        },
      ],
      { timeoutMs: DISPOSE_TIMEOUT_MS, logger },
    );
    logger.info(result, 'shut down');
    config.dispose();
    appLog.dispose();
    await appLog.close();
  });

  let quitState: 'running' | 'disposing' | 'done' = 'running';
  app.on('before-quit', (event) => {
    if (quitState === 'done') return;
    event.preventDefault();
    if (quitState === 'disposing') return;
    quitState = 'disposing';
    shutdown()
      .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
      .finally(() => {
        quitState = 'done';
        app.quit();
      });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}
