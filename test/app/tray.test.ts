import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { MenuItemConstructorOptions, Tray } from 'electron';
import { describe, expect, it } from 'vitest';
import {
  bindTrayToWorkspace,
  buildTrayTemplate,
  createAppTray,
  recentLabel,
  trayIconPath,
  trayTooltip,
  type TrayActions,
  type TrayState,
} from '../../main/app/tray.js';
import { FakeWorkspace, recent } from './fakes.js';

function recorder() {
  const calls: string[] = [];
  const actions: TrayActions = {
    open: () => calls.push('open'),
    newSession: (id) => calls.push(`new-session:${id}`),
    quit: () => calls.push('quit'),
  };
  return { calls, actions };
}

function click(item: MenuItemConstructorOptions | undefined): void {
  (item!.click as () => void)();
}

describe('trayTooltip', () => {
  it('counts active sessions', () => {
    expect(trayTooltip(0)).toBe('EC2 Connect — 0 active sessions');
    expect(trayTooltip(1)).toBe('EC2 Connect — 1 active session');
    expect(trayTooltip(12)).toBe('EC2 Connect — 12 active sessions');
  });
});

describe('recentLabel', () => {
  it('shows the name and the id, or only the id', () => {
    expect(recentLabel(recent('i-0123456789abcdef0', 'web-1'))).toBe('web-1 (i-0123456789abcdef0)');
    expect(recentLabel(recent('i-0123456789abcdef0', ''))).toBe('i-0123456789abcdef0');
    expect(recentLabel(recent('i-0123456789abcdef0', 'i-0123456789abcdef0'))).toBe('i-0123456789abcdef0');
  });
});

describe('buildTrayTemplate', () => {
  it('opens the window, starts sessions to recent instances and quits', () => {
    const { calls, actions } = recorder();
    const state: TrayState = {
      sessionCount: 2,
      recents: [recent('i-0123456789abcdef0', 'web-1'), recent('i-00000000000000001', 'db')],
    };
    const menu = buildTrayTemplate(state, actions);
    expect(menu.map((i) => i.label ?? i.type)).toEqual([
      'Open EC2 Connect',
      'New session to',
      'separator',
      '2 active sessions',
      'separator',
      'Quit',
    ]);
    const recents = menu[1]!.submenu as MenuItemConstructorOptions[];
    expect(recents.map((i) => i.label)).toEqual(['web-1 (i-0123456789abcdef0)', 'db (i-00000000000000001)']);
    click(menu[0]);
    click(recents[1]);
    click(menu.at(-1));
    expect(calls).toEqual(['open', 'new-session:i-00000000000000001', 'quit']);
    expect(menu[3]!.enabled).toBe(false);
  });

  it('says so, disabled, when there are no recent instances', () => {
    const menu = buildTrayTemplate({ sessionCount: 0, recents: [] }, recorder().actions);
    expect(menu[1]!.submenu).toEqual([{ label: 'No recent instances', enabled: false }]);
  });
});

describe('trayIconPath', () => {
  it('takes the 32 px image on Linux and the 16 px one (with its @2x) elsewhere', () => {
    expect(trayIconPath('/res', 'linux')).toBe(path.join('/res', 'tray', 'tray-32.png'));
    expect(trayIconPath('/res', 'darwin')).toBe(path.join('/res', 'tray', 'tray.png'));
    expect(trayIconPath('/res', 'win32')).toBe(path.join('/res', 'tray', 'tray.png'));
  });
});

class FakeTray extends EventEmitter {
  static last: FakeTray | undefined;
  tooltip = '';
  title: string | undefined;
  menus: MenuItemConstructorOptions[][] = [];
  destroyed = false;
  constructor(readonly image: string) {
    super();
    FakeTray.last = this;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setTitle(text: string): void {
    this.title = text;
  }
  setContextMenu(menu: MenuItemConstructorOptions[]): void {
    this.menus.push(menu);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** Menu.buildFromTemplate stand-in: the "menu" is the template itself. */
const FakeMenu = { buildFromTemplate: (t: MenuItemConstructorOptions[]) => t as never };

function makeTray(platform: NodeJS.Platform) {
  const { calls, actions } = recorder();
  const appTray = createAppTray({
    Tray: FakeTray as unknown as new (image: string) => Tray,
    Menu: FakeMenu,
    iconPath: '/res/tray/tray.png',
    platform,
    actions,
  });
  return { appTray, tray: FakeTray.last!, calls };
}

describe('createAppTray', () => {
  it('starts with no sessions and rebuilds its menu only when something changed', () => {
    const { appTray, tray } = makeTray('linux');
    expect(tray.image).toBe('/res/tray/tray.png');
    expect(tray.tooltip).toBe('EC2 Connect — 0 active sessions');
    expect(tray.menus).toHaveLength(1);
    appTray.update({ sessionCount: 0, recents: [] });
    expect(tray.menus).toHaveLength(1);
    appTray.update({ sessionCount: 1, recents: [recent('i-0123456789abcdef0', 'web-1')] });
    expect(tray.tooltip).toBe('EC2 Connect — 1 active session');
    expect(tray.menus).toHaveLength(2);
    expect((tray.menus[1]![1]!.submenu as MenuItemConstructorOptions[])[0]!.label).toBe(
      'web-1 (i-0123456789abcdef0)',
    );
    appTray.update({ sessionCount: 1, recents: [recent('i-0123456789abcdef0', 'web-1')] });
    expect(tray.menus).toHaveLength(2);
    expect(tray.title).toBeUndefined(); // only macOS shows text next to the icon
  });

  it('macOS: shows the count next to the icon (nothing at zero)', () => {
    const { appTray, tray } = makeTray('darwin');
    expect(tray.title).toBe('');
    appTray.update({ sessionCount: 3, recents: [] });
    expect(tray.title).toBe('3');
  });

  it('Windows: a click on the icon opens the window', () => {
    const { tray, calls, appTray } = makeTray('win32');
    tray.emit('click');
    expect(calls).toEqual(['open']);
    appTray.dispose();
    expect(tray.listenerCount('click')).toBe(0);
  });

  it('is destroyed on dispose and ignores later updates', () => {
    const { appTray, tray } = makeTray('linux');
    appTray.dispose();
    expect(tray.destroyed).toBe(true);
    appTray.update({ sessionCount: 5, recents: [] });
    expect(tray.tooltip).toBe('EC2 Connect — 0 active sessions');
    expect(() => appTray.dispose()).not.toThrow();
  });
});

describe('bindTrayToWorkspace', () => {
  it('follows the session count and the recent instances', () => {
    const workspace = new FakeWorkspace();
    const states: TrayState[] = [];
    const binding = bindTrayToWorkspace({ update: (s) => states.push(s) }, workspace);
    expect(states).toEqual([{ sessionCount: 0, recents: [] }]);

    workspace.recents = [recent('i-0123456789abcdef0', 'web-1')];
    workspace.setCount(1);
    expect(states.at(-1)).toEqual({ sessionCount: 1, recents: workspace.recents });

    workspace.recents = [recent('i-00000000000000001', 'db'), ...workspace.recents];
    workspace.events.fire({ name: 'session.updated', payload: {} as never });
    expect(states.at(-1)!.recents.map((r) => r.name)).toEqual(['db', 'web-1']);

    const before = states.length;
    workspace.events.fire({ name: 'settings.changed', payload: {} as never });
    expect(states).toHaveLength(before);

    binding.dispose();
    workspace.setCount(4);
    workspace.events.fire({ name: 'session.updated', payload: {} as never });
    expect(states).toHaveLength(before);
    expect(workspace.counts.listenerCount + workspace.events.listenerCount).toBe(0);
  });
});
