/**
 * Electron main process: the only code (with preload/) that imports electron.
 *
 * One window, sandboxed and context-isolated, serving the built renderer from app://renderer/
 * under a strict CSP; the embedded AWS sandbox and a ControlPlane against it behind the bridge
 * contract (preload/api.ts); everything disposed on quit.
 */
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, session } from 'electron';
import { createLogger } from '../core/log/logger.js';
import { startBackend, type RunningBackend } from './backend.js';
import { registerBridgeIpc } from './ipc.js';
import { APP_ENTRY_URL, APP_ORIGIN, registerAppScheme, serveRenderer } from './protocol.js';
import { RENDERER_CSP, devCsp, hardenSession, hardenWebContents } from './security.js';
import { createMainWindow } from './window.js';

/** How long quitting waits for the sandbox and control plane to close. */
const DISPOSE_TIMEOUT_MS = 5_000;

const logger = createLogger({ name: 'app' });

// Before `ready`: the scheme must be privileged up front.
registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  // Another instance is running; it gets a 'second-instance' event and focuses its window.
  app.quit();
} else {
  run();
}

function run(): void {
  const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
  const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
  const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
  const devOrigin = devUrl ? new URL(devUrl).origin : undefined;
  // In development the page comes from Vite's dev server, which also pushes updates over a WebSocket.
  const allowedOrigins = devOrigin ? [APP_ORIGIN, devOrigin, devOrigin.replace(/^http/, 'ws')] : [APP_ORIGIN];
  const csp = devOrigin ? devCsp(devOrigin) : RENDERER_CSP;

  let window: BrowserWindow | undefined;
  let backend: Promise<RunningBackend> | undefined;
  let disposeIpc: (() => void) | undefined;

  const openWindow = (): void => {
    window = createMainWindow({ preloadPath, url: devUrl ?? APP_ENTRY_URL });
    window.on('closed', () => (window = undefined));
  };

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, logger));

  app
    .whenReady()
    .then(() => {
      hardenSession(session.defaultSession, { csp, allowedOrigins, logger });
      serveRenderer(rendererDir, csp);

      backend = startBackend(logger);
      backend.catch((err: unknown) => logger.error({ err }, 'back end failed to start'));
      // Requests wait for the back end; if it failed they get an UNAVAILABLE error with the reason.
      const pending = backend;
      disposeIpc = registerBridgeIpc(() => pending.then((b) => b.handlers), allowedOrigins, logger);

      openWindow();
      app.on('activate', () => {
        if (BrowserWindow.getAllWindows().length === 0) openWindow();
      });
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, 'startup failed');
      app.exit(1);
    });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let quitState: 'running' | 'disposing' | 'done' = 'running';
  app.on('before-quit', (event) => {
    if (quitState === 'done') return;
    event.preventDefault();
    if (quitState === 'disposing') return;
    quitState = 'disposing';
    dispose()
      .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
      .finally(() => {
        quitState = 'done';
        app.quit();
      });
  });

  async function dispose(): Promise<void> {
    disposeIpc?.();
    disposeIpc = undefined;
    const running = backend;
    backend = undefined;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn('back end did not close in time; quitting anyway');
        resolve();
      }, DISPOSE_TIMEOUT_MS);
    });
    const close = running.then(
      (b) => b.close(),
      () => undefined, // never started: nothing to close
    );
    await Promise.race([close, timeout]);
    clearTimeout(timer);
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}
