import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createMainWindow, revealWindow, type BrowserWindowClass } from '../../main/app/window.js';
import { DEFAULT_WINDOW_STATE } from '../../main/app/window-state.js';
import { captureLogger } from './fakes.js';

class FakeBrowserWindow extends EventEmitter {
  static last: FakeBrowserWindow | undefined;
  static loadError: Error | undefined;
  calls: string[] = [];
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.last = this;
  }
  loadURL(url: string): Promise<void> {
    this.calls.push(`load:${url}`);
    return FakeBrowserWindow.loadError ? Promise.reject(FakeBrowserWindow.loadError) : Promise.resolve();
  }
  maximize(): void {
    this.calls.push('maximize');
  }
  setFullScreen(on: boolean): void {
    this.calls.push(`fullscreen:${on}`);
  }
  show(): void {
    this.calls.push('show');
  }
}

const Window = FakeBrowserWindow as unknown as BrowserWindowClass;

describe('createMainWindow', () => {
  it('loads the app hidden and shows it once painted, maximized again if it was', () => {
    FakeBrowserWindow.loadError = undefined;
    createMainWindow(Window, {
      preloadPath: '/p.cjs',
      url: 'app://renderer/index.html',
      state: { ...DEFAULT_WINDOW_STATE, x: 0, y: 0, isMaximized: true },
    });
    const window = FakeBrowserWindow.last!;
    expect(window.options.show).toBe(false);
    expect(window.calls).toEqual(['load:app://renderer/index.html']);
    window.emit('ready-to-show');
    expect(window.calls).toEqual(['load:app://renderer/index.html', 'maximize', 'show']);
  });

  it('restores full screen', () => {
    createMainWindow(Window, {
      preloadPath: '/p.cjs',
      url: 'x',
      state: { ...DEFAULT_WINDOW_STATE, isFullScreen: true },
    });
    FakeBrowserWindow.last!.emit('ready-to-show');
    expect(FakeBrowserWindow.last!.calls.slice(1)).toEqual(['fullscreen:true', 'show']);
  });

  it('logs a page that fails to load', async () => {
    FakeBrowserWindow.loadError = new Error('ERR_FILE_NOT_FOUND');
    const { logger, lines } = captureLogger();
    createMainWindow(Window, { preloadPath: '/p.cjs', url: 'x', state: DEFAULT_WINDOW_STATE, logger });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toContain('the window could not load the app');
    FakeBrowserWindow.loadError = undefined;
  });
});

describe('revealWindow', () => {
  it('restores a minimized window, shows and focuses it', () => {
    const calls: string[] = [];
    const window = {
      isMinimized: () => true,
      restore: () => calls.push('restore'),
      show: () => calls.push('show'),
      focus: () => calls.push('focus'),
    };
    revealWindow(window);
    expect(calls).toEqual(['restore', 'show', 'focus']);
    calls.length = 0;
    revealWindow({ ...window, isMinimized: () => false });
    expect(calls).toEqual(['show', 'focus']);
  });
});
