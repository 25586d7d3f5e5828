import type { BaseWindow, KeyboardEvent, MenuItem, MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { aboutDetail, buildMenuTemplate, installAppMenu, type MenuActions } from '../../main/app/menu.js';
import type { AppCommand } from '../../preload/api.js';

function recorder() {
  const calls: string[] = [];
  const actions: MenuActions = {
    send: (command: AppCommand) => calls.push(`send:${command}`),
    about: () => calls.push('about'),
    openLogs: () => calls.push('openLogs'),
    quit: () => calls.push('quit'),
  };
  return { calls, actions };
}

function template(platform: NodeJS.Platform, isPackaged = true) {
  const { calls, actions } = recorder();
  return { calls, menu: buildMenuTemplate({ platform, isPackaged, appName: 'EC2 Connect', actions }) };
}

/** Every item, depth first. */
function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [
    item,
    ...(Array.isArray(item.submenu) ? flatten(item.submenu as MenuItemConstructorOptions[]) : []),
  ]);
}

function find(items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions {
  const item = flatten(items).find((i) => i.label === label);
  if (!item) throw new Error(`no menu item ${label}`);
  return item;
}

function click(item: MenuItemConstructorOptions, window?: Partial<BaseWindow>): void {
  item.click!({} as MenuItem, window as BaseWindow | undefined, {} as KeyboardEvent);
}

const PLATFORMS: NodeJS.Platform[] = ['darwin', 'linux', 'win32'];

describe('buildMenuTemplate', () => {
  it.each(PLATFORMS)('%s: the commands the page carries out, with their shortcuts', (platform) => {
    const { menu, calls } = template(platform);
    const expected: Array<[string, string | undefined, AppCommand]> = [
      ['New Session…', 'CmdOrCtrl+Shift+T', 'new-session'],
      ['Close Tab', 'CmdOrCtrl+Shift+W', 'close-tab'],
      ['Instances', 'CmdOrCtrl+1', 'show-instances'],
      ['Sessions', 'CmdOrCtrl+2', 'show-sessions'],
      ['History', 'CmdOrCtrl+3', 'show-history'],
      ['Performance', 'CmdOrCtrl+4', 'show-performance'],
      ['Settings', 'CmdOrCtrl+5', 'show-settings'],
      ['Diagnostics', 'CmdOrCtrl+6', 'show-diagnostics'],
      ['Ports', 'CmdOrCtrl+7', 'show-ports'],
      ['Filter Instances', undefined, 'focus-filter'],
      ['Find…', 'CmdOrCtrl+Shift+F', 'find'],
      ['Split Right', 'CmdOrCtrl+Shift+D', 'split-right'],
      ['Split Down', 'CmdOrCtrl+Alt+D', 'split-down'],
      ['Next Tab', 'Ctrl+Tab', 'next-tab'],
      ['Previous Tab', 'Ctrl+Shift+Tab', 'previous-tab'],
      ['Clear Terminal', platform === 'darwin' ? 'Cmd+K' : 'Ctrl+Shift+K', 'clear-terminal'],
      ['Broadcast Input', 'CmdOrCtrl+Shift+B', 'toggle-broadcast'],
    ];
    for (const [label, accelerator, command] of expected) {
      const item = find(menu, label);
      expect(item.accelerator, label).toBe(accelerator);
      click(item);
      expect(calls.at(-1), label).toBe(`send:${command}`);
    }
    // The page toggles broadcast input on its key; a registered accelerator would toggle it twice.
    expect(find(menu, 'Broadcast Input').registerAccelerator).toBe(false);
  });

  it('macOS: an app menu with About, Settings (Cmd+,), Services, Hide and Quit', () => {
    const { menu, calls } = template('darwin');
    expect(menu.map((m) => m.label ?? m.role)).toEqual([
      'EC2 Connect',
      'File',
      'Edit',
      'View',
      'Window',
      'help',
    ]);
    const appMenu = menu[0]!.submenu as MenuItemConstructorOptions[];
    expect(appMenu.map((i) => i.role ?? i.label ?? i.type)).toEqual([
      'About EC2 Connect',
      'separator',
      'Settings…',
      'separator',
      'services',
      'separator',
      'hide',
      'hideOthers',
      'unhide',
      'separator',
      'quit',
    ]);
    click(find(menu, 'Settings…'));
    expect(calls).toEqual(['send:show-settings']);
    expect(find(menu, 'Settings…').accelerator).toBe('Cmd+,');
    // Cmd+W closes the window, as on every Mac app; Edit keeps its standard keys.
    expect(flatten(menu).some((i) => i.role === 'close')).toBe(true);
    expect(flatten(menu).find((i) => i.role === 'copy')).toEqual({ role: 'copy' });
  });

  it.each(['linux', 'win32'] as const)('%s: File > Quit, Help > About, no app menu', (platform) => {
    const { menu, calls } = template(platform);
    expect(menu.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'Window', 'help']);
    click(find(menu, 'Quit'));
    click(find(menu, 'About EC2 Connect'));
    click(find(menu, 'Open Logs Folder'));
    expect(calls).toEqual(['quit', 'about', 'openLogs']);
  });

  it.each(['linux', 'win32'] as const)(
    '%s: no registered shortcut takes a Ctrl+letter or Alt+letter from the terminal',
    (platform) => {
      const { menu } = template(platform, false);
      // Roles whose default accelerator is Ctrl+<letter> must override it or not register it.
      const CTRL_LETTER_ROLES = new Set([
        'undo',
        'redo',
        'cut',
        'copy',
        'paste',
        'selectAll',
        'reload',
        'close',
        'minimize',
        'quit',
      ]);
      for (const item of flatten(menu)) {
        const name = item.label ?? item.role ?? item.type;
        expect(item.label ?? '', `${name}: & makes an Alt mnemonic`).not.toContain('&');
        if (item.registerAccelerator === false) continue;
        if (item.role && CTRL_LETTER_ROLES.has(item.role))
          expect(item.accelerator, String(name)).toBeDefined();
        if (!item.accelerator) continue;
        const keys = item.accelerator.split('+');
        const key = keys.at(-1)!;
        const modifiers = keys.slice(0, -1).map((m) => m.toLowerCase());
        if (/^[A-Za-z]$/.test(key)) {
          // Shift, or Ctrl and Alt together (Ctrl+Alt+D: Split Down), are free in terminals.
          const ctrl = modifiers.some((m) =>
            ['ctrl', 'control', 'cmdorctrl', 'commandorcontrol'].includes(m),
          );
          const free = modifiers.includes('shift') || (ctrl && modifiers.includes('alt'));
          expect(free, `${name}: ${item.accelerator}`).toBe(true);
        }
      }
    },
  );

  it.each(['linux', 'win32'] as const)(
    '%s: copy and paste shown as Ctrl+Shift+C / Ctrl+Shift+V; the edit keys left to the page',
    (platform) => {
      const { menu } = template(platform);
      const items = flatten(menu);
      expect(items.find((i) => i.role === 'copy')?.accelerator).toBe('Ctrl+Shift+C');
      expect(items.find((i) => i.role === 'paste')?.accelerator).toBe('Ctrl+Shift+V');
      for (const role of ['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll'])
        expect(items.find((i) => i.role === role)?.registerAccelerator, role).toBe(false);
    },
  );

  it.each(PLATFORMS)('%s: Edit has the clipboard roles; View the zoom and full-screen roles', (platform) => {
    const roles = flatten(template(platform).menu).map((i) => i.role);
    for (const role of [
      'undo',
      'redo',
      'cut',
      'copy',
      'paste',
      'selectAll',
      'resetZoom',
      'zoomIn',
      'zoomOut',
      'togglefullscreen',
    ] as const)
      expect(roles, role).toContain(role);
  });

  it.each(PLATFORMS)('%s: reload and developer tools only when not packaged', (platform) => {
    const packaged = flatten(template(platform, true).menu).map((i) => i.role);
    const dev = flatten(template(platform, false).menu).map((i) => i.role);
    for (const role of ['reload', 'forceReload', 'toggleDevTools'] as const)
      expect(packaged).not.toContain(role);
    expect(dev).toContain('toggleDevTools');
    expect(dev).toContain('forceReload');
    // Ctrl+R is the shell's reverse search off macOS.
    if (platform === 'darwin') expect(dev).toContain('reload');
    else expect(dev).not.toContain('reload');
  });

  it('Windows/Linux: Minimize and Close Window act on the focused window', () => {
    const { menu } = template('linux');
    const done: string[] = [];
    click(find(menu, 'Minimize'), { minimize: () => done.push('minimize') });
    click(find(menu, 'Close Window'), { close: () => done.push('close') });
    click(find(menu, 'Close Window'), undefined); // no window focused: nothing happens
    expect(done).toEqual(['minimize', 'close']);
  });
});

describe('installAppMenu', () => {
  it('builds the template and sets it as the application menu', () => {
    const { actions } = recorder();
    const built = { id: 'menu' };
    let given: MenuItemConstructorOptions[] | undefined;
    let set: unknown;
    const Menu = {
      buildFromTemplate: (t: MenuItemConstructorOptions[]) => {
        given = t;
        return built;
      },
      setApplicationMenu: (m: unknown) => {
        set = m;
      },
    };
    const result = installAppMenu(Menu as never, {
      platform: 'linux',
      isPackaged: true,
      appName: 'X',
      actions,
    });
    expect(result).toBe(built);
    expect(set).toBe(built);
    expect(given?.map((m) => m.label ?? m.role)).toEqual(['File', 'Edit', 'View', 'Window', 'help']);
  });
});

describe('aboutDetail', () => {
  it('names the version and the runtime', () => {
    const text = aboutDetail({
      version: '1.2.3',
      versions: { electron: '41.0.0', chrome: '140.0.0.0', node: '22.0.0' },
      platform: 'linux',
      arch: 'x64',
    });
    expect(text.split('\n')).toEqual([
      'Version 1.2.3',
      'Electron 41.0.0',
      'Chromium 140.0.0.0',
      'Node.js 22.0.0',
      'linux x64',
    ]);
  });
});
