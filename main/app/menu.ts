/**
 * The application menu. `buildMenuTemplate` is pure (platform, packaged or not, and callbacks
 * in; a template out), so tests check it without Electron; `installAppMenu` hands it to
 * Electron's Menu.
 *
 * Items that the page carries out (new session, tabs, views, find, ...) call `send(command)`,
 * which becomes an `app.command` event for the window.
 *
 * A terminal needs its Ctrl keys: on Windows and Linux a menu accelerator takes its key away
 * from the page even while a terminal has focus (Ctrl+C, Ctrl+W, Ctrl+R, Ctrl+Z, Ctrl+M, Ctrl+Q
 * all mean something to a shell). So off macOS no accelerator registered here is Ctrl+<letter>
 * alone: the edit roles show their keys (Ctrl+Shift+C / Ctrl+Shift+V for copy and paste) but
 * leave them to the page (text fields and the terminal handle them), and Quit, Close Window,
 * Minimize and Reload have no key. Menu labels carry no `&` mnemonics, which would take Alt+<letter>
 * (readline's word motions). On macOS the app keys use Cmd, which terminals do not.
 */
import type { Menu, MenuItemConstructorOptions } from 'electron';
import type { AppCommand } from '../../preload/api.js';

export interface MenuActions {
  /** Send an app.command to the main window. */
  send(command: AppCommand): void;
  /** Show the About dialog. */
  about(): void;
  /** Open the logs folder in the file manager. */
  openLogs(): void;
  /** Quit the app (Windows and Linux; macOS uses the quit role). */
  quit(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  /** Development items (reload, developer tools) only when false. */
  isPackaged: boolean;
  appName: string;
  actions: MenuActions;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

export function buildMenuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const { actions, appName } = options;
  const mac = options.platform === 'darwin';
  const command = (label: string, cmd: AppCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => actions.send(cmd),
  });
  /** Off macOS: show the usual key, but let the page (a text field, a terminal) have it. */
  const pageKey = mac ? {} : { registerAccelerator: false };

  const appMenu: MenuItemConstructorOptions = {
    label: appName,
    submenu: [
      { label: `About ${appName}`, click: () => actions.about() },
      separator,
      command('Settings…', 'show-settings', 'Cmd+,'),
      separator,
      { role: 'services' },
      separator,
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      separator,
      { role: 'quit' },
    ],
  };

  const fileMenu: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      command('New Session…', 'new-session', 'CmdOrCtrl+Shift+T'),
      separator,
      command('Close Tab', 'close-tab', 'CmdOrCtrl+Shift+W'),
      ...(mac
        ? [{ role: 'close' } satisfies MenuItemConstructorOptions]
        : [separator, { label: 'Quit', click: () => actions.quit() } satisfies MenuItemConstructorOptions]),
    ],
  };

  const editMenu: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [
      { role: 'undo', ...pageKey },
      { role: 'redo', ...pageKey },
      separator,
      { role: 'cut', ...pageKey },
      // Off macOS the page owns Ctrl+Shift+C / Ctrl+Shift+V (the terminal's copy, and Chromium's
      // paste, which the terminal answers with its long-paste confirmation): shown, not registered,
      // so a key press never copies or pastes twice.
      mac ? { role: 'copy' } : { role: 'copy', accelerator: 'Ctrl+Shift+C', ...pageKey },
      mac ? { role: 'paste' } : { role: 'paste', accelerator: 'Ctrl+Shift+V', ...pageKey },
      { role: 'selectAll', ...pageKey },
    ],
  };

  const devItems: MenuItemConstructorOptions[] = options.isPackaged
    ? []
    : [
        // Off macOS, Ctrl+R is the shell's history search: only the Ctrl+Shift+R reload there.
        ...(mac ? [{ role: 'reload' } satisfies MenuItemConstructorOptions] : []),
        { role: 'forceReload' },
        { role: 'toggleDevTools' },
        separator,
      ];

  const viewMenu: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      command('Instances', 'show-instances', 'CmdOrCtrl+1'),
      command('Sessions', 'show-sessions', 'CmdOrCtrl+2'),
      command('History', 'show-history', 'CmdOrCtrl+3'),
      command('Performance', 'show-performance', 'CmdOrCtrl+4'),
      command('Settings', 'show-settings', 'CmdOrCtrl+5'),
      command('Diagnostics', 'show-diagnostics', 'CmdOrCtrl+6'),
      command('Ports', 'show-ports', 'CmdOrCtrl+7'),
      command('Filter Instances', 'focus-filter'),
      separator,
      command('Find…', 'find', 'CmdOrCtrl+Shift+F'),
      command('Split Right', 'split-right', 'CmdOrCtrl+Shift+D'),
      command('Split Down', 'split-down', 'CmdOrCtrl+Alt+D'),
      command('Next Tab', 'next-tab', 'Ctrl+Tab'),
      command('Previous Tab', 'previous-tab', 'Ctrl+Shift+Tab'),
      command('Clear Terminal', 'clear-terminal', mac ? 'Cmd+K' : 'Ctrl+Shift+K'),
      // Shown, not registered: the page turns it on and off (a registered key would toggle twice).
      { ...command('Broadcast Input', 'toggle-broadcast', 'CmdOrCtrl+Shift+B'), registerAccelerator: false },
      separator,
      ...devItems,
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
    ],
  };

  const windowMenu: MenuItemConstructorOptions = {
    label: 'Window',
    submenu: mac
      ? [{ role: 'minimize' }, { role: 'zoom' }, separator, { role: 'front' }]
      : [
          // Not the minimize/close roles: their Ctrl+M (Enter) and Ctrl+W (delete a word) belong to the shell.
          { label: 'Minimize', click: (_item, window) => window?.minimize() },
          { label: 'Close Window', click: (_item, window) => window?.close() },
        ],
  };

  const helpMenu: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      ...(mac ? [] : [{ label: `About ${appName}`, click: () => actions.about() }, separator]),
      { label: 'Open Logs Folder', click: () => actions.openLogs() },
    ],
  };

  return [...(mac ? [appMenu] : []), fileMenu, editMenu, viewMenu, windowMenu, helpMenu];
}

/** Build the template and make it the application menu. */
export function installAppMenu(
  menu: Pick<typeof Menu, 'buildFromTemplate' | 'setApplicationMenu'>,
  options: MenuOptions,
): Menu {
  const built = menu.buildFromTemplate(buildMenuTemplate(options));
  menu.setApplicationMenu(built);
  return built;
}

/** The text of the About dialog. */
export function aboutDetail(info: {
  version: string;
  versions: Partial<Record<string, string>>;
  platform: string;
  arch: string;
}): string {
  const { versions } = info;
  return [
    `Version ${info.version}`,
    ...(versions.electron ? [`Electron ${versions.electron}`] : []),
    ...(versions.chrome ? [`Chromium ${versions.chrome}`] : []),
    `Node.js ${versions.node ?? 'unknown'}`,
    `${info.platform} ${info.arch}`,
  ].join('\n');
}
