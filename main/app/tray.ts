/**
 * The tray (menu bar on macOS, notification area on Windows, status notifier on Linux): the
 * number of live sessions in the tooltip (and next to the icon on macOS), and a menu to open
 * the window, start a session to a recent instance, or quit.
 *
 * `buildTrayTemplate` and `trayTooltip` are pure; `createAppTray` drives an Electron Tray that
 * is passed in (as a class), and `bindTrayToWorkspace` keeps it up to date. Electron is imported
 * for types only.
 */
import path from 'node:path';
import type { Menu, MenuItemConstructorOptions, Tray } from 'electron';
import type { BridgeEvent } from '../../preload/api.js';
import type { Logger } from '../core/log/logger.js';
import { toDisposable, type Disposable } from '../core/util/lifecycle.js';
import type { RecentInstance, WorkspaceService } from '../core/workspace/types.js';

export const TRAY_APP_NAME = 'EC2 Connect';

export function trayTooltip(sessionCount: number): string {
  return `${TRAY_APP_NAME} — ${sessionCount} active session${sessionCount === 1 ? '' : 's'}`;
}

/** A recent instance as a menu label: its name and id (just the id when it has no name). */
export function recentLabel(recent: RecentInstance): string {
  const name = recent.name.trim();
  return name && name !== recent.instanceId ? `${name} (${recent.instanceId})` : recent.instanceId;
}

export interface TrayActions {
  /** Show, restore and focus the main window (opening one if there is none). */
  open(): void;
  /** Open the window, then ask it for a new session to this instance. */
  newSession(instanceId: string): void;
  quit(): void;
}

export interface TrayState {
  sessionCount: number;
  recents: readonly RecentInstance[];
}

export function buildTrayTemplate(state: TrayState, actions: TrayActions): MenuItemConstructorOptions[] {
  const recents: MenuItemConstructorOptions[] =
    state.recents.length > 0
      ? state.recents.map((recent) => ({
          label: recentLabel(recent),
          toolTip: `${recent.profile}, ${recent.region}`,
          click: () => actions.newSession(recent.instanceId),
        }))
      : [{ label: 'No recent instances', enabled: false }];
  return [
    { label: `Open ${TRAY_APP_NAME}`, click: () => actions.open() },
    { label: 'New session to', submenu: recents },
    { type: 'separator' },
    { label: trayTooltip(state.sessionCount).replace(`${TRAY_APP_NAME} — `, ''), enabled: false },
    { type: 'separator' },
    { label: 'Quit', click: () => actions.quit() },
  ];
}

/** Which tray image to load: 16 px (+ @2x, picked up by Electron on HiDPI), 32 px on Linux. */
export function trayIconPath(resourcesDir: string, platform: NodeJS.Platform): string {
  return path.join(resourcesDir, 'tray', platform === 'linux' ? 'tray-32.png' : 'tray.png');
}

export interface AppTray extends Disposable {
  update(state: TrayState): void;
}

export interface AppTrayOptions {
  Tray: new (image: string) => Tray;
  Menu: Pick<typeof Menu, 'buildFromTemplate'>;
  iconPath: string;
  platform: NodeJS.Platform;
  actions: TrayActions;
  logger?: Logger;
}

function stateKey(state: TrayState): string {
  return JSON.stringify([
    state.sessionCount,
    state.recents.map((r) => [r.instanceId, r.name, r.profile, r.region]),
  ]);
}

export function createAppTray(options: AppTrayOptions): AppTray {
  const { platform, actions } = options;
  const tray = new options.Tray(options.iconPath);
  let lastKey: string | undefined;
  let disposed = false;

  // Windows: a click on the icon opens the window (the menu is on right-click). macOS and
  // Linux show the menu on click.
  const onClick = (): void => actions.open();
  if (platform === 'win32') tray.on('click', onClick);

  const update = (state: TrayState): void => {
    if (disposed) return;
    const key = stateKey(state);
    if (key === lastKey) return;
    lastKey = key;
    tray.setToolTip(trayTooltip(state.sessionCount));
    if (platform === 'darwin') tray.setTitle(state.sessionCount > 0 ? String(state.sessionCount) : '');
    // Linux needs the menu set again for any change to show; it is cheap everywhere.
    tray.setContextMenu(options.Menu.buildFromTemplate(buildTrayTemplate(state, actions)));
  };
  update({ sessionCount: 0, recents: [] });

  return {
    update,
    dispose() {
      if (disposed) return;
      disposed = true;
      if (platform === 'win32') tray.removeListener('click', onClick);
      if (!tray.isDestroyed()) tray.destroy();
    },
  };
}

/**
 * Keep the tray in step with the workspace: the session count when it changes, and the recent
 * instances (which change when a session opens: on the count and on session.updated events).
 */
export function bindTrayToWorkspace(
  tray: Pick<AppTray, 'update'>,
  workspace: Pick<WorkspaceService, 'onSessionCountChanged' | 'onEvent' | 'sessionCount' | 'recentInstances'>,
  logger?: Logger,
): Disposable {
  const refresh = (sessionCount = workspace.sessionCount()): void => {
    try {
      tray.update({ sessionCount, recents: workspace.recentInstances() });
    } catch (err) {
      logger?.warn({ err }, 'could not update the tray');
    }
  };
  const count = workspace.onSessionCountChanged((n) => refresh(n));
  const updates = workspace.onEvent((event: BridgeEvent) => {
    if (event.name === 'session.updated') refresh();
  });
  refresh();
  return toDisposable(() => {
    count.dispose();
    updates.dispose();
  });
}
