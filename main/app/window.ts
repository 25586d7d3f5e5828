/**
 * The main window: sandboxed, context-isolated, no Node in the page, restored to its saved
 * size and place. Electron is imported for types only (the BrowserWindow class is passed in),
 * so the options, security settings included, are checked by tests under plain Node.
 */
import type { BrowserWindow, BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import type { Logger } from '../core/log/logger.js';
import { MIN_WINDOW_HEIGHT, MIN_WINDOW_WIDTH, type WindowState } from './window-state.js';

export const WINDOW_TITLE = 'EC2 Connect';

/** The renderer's web preferences: every isolation Electron offers, nothing of Node. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

export interface MainWindowOptions {
  preloadPath: string;
  url: string;
  /** Where and how big (already fitted to the displays; see fitToDisplays). */
  state: WindowState;
  /** The window icon (Linux and Windows; macOS uses the bundle's). */
  iconPath?: string;
  darkBackground?: boolean;
  logger?: Logger;
}

export function mainWindowOptions(options: MainWindowOptions): BrowserWindowConstructorOptions {
  const { state } = options;
  return {
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : { center: true }),
    width: state.width,
    height: state.height,
    minWidth: MIN_WINDOW_WIDTH,
    minHeight: MIN_WINDOW_HEIGHT,
    title: WINDOW_TITLE,
    show: false,
    backgroundColor: options.darkBackground ? '#1e1f22' : '#ffffff',
    ...(options.iconPath ? { icon: options.iconPath } : {}),
    webPreferences: secureWebPreferences(options.preloadPath),
  };
}

export type BrowserWindowClass = new (options: BrowserWindowConstructorOptions) => BrowserWindow;

/** Create the window hidden, restore maximized/full screen, and show it once it has painted. */
export function createMainWindow(Window: BrowserWindowClass, options: MainWindowOptions): BrowserWindow {
  const window = new Window(mainWindowOptions(options));
  window.once('ready-to-show', () => {
    if (options.state.isMaximized) window.maximize();
    if (options.state.isFullScreen) window.setFullScreen(true);
    window.show();
  });
  window.loadURL(options.url).catch((err: unknown) => {
    options.logger?.error({ err, url: options.url }, 'the window could not load the app');
  });
  return window;
}

/** Bring a window to the front: un-minimize, show (it may be hidden) and focus. */
export function revealWindow(
  window: Pick<BrowserWindow, 'isMinimized' | 'restore' | 'show' | 'focus'>,
): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}
