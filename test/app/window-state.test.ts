import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_WINDOW_STATE,
  MIN_WINDOW_HEIGHT,
  MIN_WINDOW_WIDTH,
  SAVE_DEBOUNCE_MS,
  createWindowStateStore,
  fitToDisplays,
  parseWindowState,
  trackWindowState,
  type DisplayArea,
  type WindowState,
} from '../../main/app/window-state.js';
import { FakeWindow, captureLogger, warnings } from './fakes.js';

const display = (x: number, y: number, width: number, height: number): DisplayArea => ({
  workArea: { x, y, width, height },
});
const laptop = display(0, 25, 1920, 1055);
const rightMonitor = display(1920, 0, 2560, 1440);

describe('parseWindowState', () => {
  it('reads a saved state', () => {
    const state = parseWindowState(
      JSON.stringify({ x: 100, y: 80, width: 1300, height: 900, isMaximized: true, isFullScreen: false }),
    );
    expect(state).toEqual({
      x: 100,
      y: 80,
      width: 1300,
      height: 900,
      isMaximized: true,
      isFullScreen: false,
    });
  });

  it('needs both coordinates for a position, and rounds', () => {
    expect(parseWindowState('{"x": 5, "width": 900.4, "height": 600.6}')).toEqual({
      width: 900,
      height: 601,
      isMaximized: false,
      isFullScreen: false,
    });
  });

  it.each([
    ['not JSON', '{"x": 1,'],
    ['not an object', '[1, 2]'],
    ['missing size', '{"x": 1, "y": 2}'],
    ['negative size', '{"width": -5, "height": 600}'],
    ['absurd coordinates', '{"x": 1e12, "y": 0, "width": 900, "height": 600}'],
    ['wrong types', '{"width": "900", "height": 600}'],
  ])('falls back to the defaults with a warning: %s', (_what, text) => {
    const { logger, lines } = captureLogger();
    expect(parseWindowState(text, logger)).toEqual(DEFAULT_WINDOW_STATE);
    expect(warnings(lines)).toHaveLength(1);
    expect(warnings(lines)[0]).toMatch(/window-state\.json/);
  });
});

describe('fitToDisplays', () => {
  const saved = (patch: Partial<WindowState>): WindowState => ({ ...DEFAULT_WINDOW_STATE, ...patch });

  it('keeps a window that is on a display', () => {
    const state = saved({ x: 2000, y: 100, width: 1400, height: 900, isMaximized: true });
    expect(fitToDisplays(state, [laptop, rightMonitor], laptop)).toEqual(state);
  });

  it('centres a window whose display is gone on the primary display', () => {
    const state = saved({ x: 2000, y: 100, width: 1400, height: 900 });
    expect(fitToDisplays(state, [laptop], laptop)).toEqual(
      saved({ x: (1920 - 1400) / 2, y: 25 + Math.round((1055 - 900) / 2), width: 1400, height: 900 }),
    );
  });

  it('centres a window with no saved position', () => {
    expect(fitToDisplays(DEFAULT_WINDOW_STATE, [laptop, rightMonitor], laptop)).toEqual(
      saved({ x: 360, y: 25 + Math.round((1055 - 800) / 2) }),
    );
  });

  it('centres a window whose title bar is above the screen or that barely touches it', () => {
    expect(
      fitToDisplays(saved({ x: 100, y: -300, width: 900, height: 600 }), [laptop], laptop).y,
    ).toBeGreaterThan(25);
    const corner = fitToDisplays(saved({ x: 1900, y: 1060, width: 900, height: 600 }), [laptop], laptop);
    expect(corner.x).toBe((1920 - 900) / 2);
  });

  it('shrinks a window larger than its display and pulls it back on', () => {
    const state = fitToDisplays(saved({ x: 10, y: 30, width: 3000, height: 2000 }), [laptop], laptop);
    expect(state).toEqual(saved({ x: 0, y: 25, width: 1920, height: 1055 }));
  });

  it('enforces the minimum size (unless the display is smaller)', () => {
    expect(fitToDisplays(saved({ x: 0, y: 25, width: 300, height: 200 }), [laptop], laptop)).toMatchObject({
      width: MIN_WINDOW_WIDTH,
      height: MIN_WINDOW_HEIGHT,
    });
    const tiny = display(0, 0, 640, 480);
    expect(fitToDisplays(saved({ width: 300, height: 200 }), [tiny], tiny)).toMatchObject({
      x: 0,
      y: 0,
      width: 640,
      height: 480,
    });
  });

  it('leaves placement to Electron when there are no displays', () => {
    const state = fitToDisplays(saved({ x: 5, y: 5, width: 300, height: 900 }), [], undefined);
    expect(state).toEqual(saved({ width: MIN_WINDOW_WIDTH, height: 900 }));
  });

  it('always gives a window whose title bar can be grabbed on some display', () => {
    const area = fc.record({
      x: fc.integer({ min: -5000, max: 5000 }),
      y: fc.integer({ min: -3000, max: 3000 }),
      width: fc.integer({ min: 800, max: 6000 }),
      height: fc.integer({ min: 500, max: 4000 }),
    });
    fc.assert(
      fc.property(
        fc.array(area, { minLength: 1, maxLength: 4 }),
        fc.record({
          x: fc.integer({ min: -20000, max: 20000 }),
          y: fc.integer({ min: -20000, max: 20000 }),
          width: fc.integer({ min: 1, max: 10000 }),
          height: fc.integer({ min: 1, max: 10000 }),
        }),
        (areas, bounds) => {
          const displays = areas.map((workArea) => ({ workArea }));
          const result = fitToDisplays(saved(bounds), displays, displays[0]);
          expect(result.width).toBeGreaterThanOrEqual(MIN_WINDOW_WIDTH);
          expect(result.height).toBeGreaterThanOrEqual(MIN_WINDOW_HEIGHT);
          const home = displays.find(
            ({ workArea: a }) =>
              result.y! >= a.y &&
              result.y! + 50 <= a.y + a.height &&
              Math.min(result.x! + result.width, a.x + a.width) - Math.max(result.x!, a.x) >= 100 &&
              result.width <= a.width &&
              result.height <= a.height,
          );
          expect(home).toBeDefined();
        },
      ),
    );
  });
});

describe('createWindowStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ec2c-window-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the defaults, silently, when there is no file yet', () => {
    const { logger, lines } = captureLogger();
    expect(createWindowStateStore(path.join(dir, 'window-state.json'), logger).load()).toEqual(
      DEFAULT_WINDOW_STATE,
    );
    expect(warnings(lines)).toEqual([]);
  });

  it('saves as JSON readable only by the user, and loads it back', () => {
    const file = path.join(dir, 'window-state.json');
    const store = createWindowStateStore(file);
    const state: WindowState = {
      x: 1,
      y: 2,
      width: 1024,
      height: 768,
      isMaximized: false,
      isFullScreen: true,
    };
    store.save(state);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(state);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(store.load()).toEqual(state);
  });

  it('replaces a corrupt file with the defaults and a warning', () => {
    const file = path.join(dir, 'window-state.json');
    writeFileSync(file, '\u0000garbage');
    const { logger, lines } = captureLogger();
    expect(createWindowStateStore(file, logger).load()).toEqual(DEFAULT_WINDOW_STATE);
    expect(warnings(lines)).toHaveLength(1);
  });

  it('makes its folder when missing', () => {
    const file = path.join(dir, 'new', 'window-state.json');
    createWindowStateStore(file).save(DEFAULT_WINDOW_STATE);
    expect(createWindowStateStore(file).load()).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('logs, and does not throw, when it cannot save', () => {
    const { logger, lines } = captureLogger();
    writeFileSync(path.join(dir, 'a-file'), '');
    createWindowStateStore(path.join(dir, 'a-file', 'window-state.json'), logger).save(DEFAULT_WINDOW_STATE);
    expect(warnings(lines)).toEqual(['could not save the window state']);
  });
});

describe('trackWindowState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('saves once, debounced, after moves and resizes', () => {
    const window = new FakeWindow();
    const saved: WindowState[] = [];
    trackWindowState(window, { save: (s) => saved.push(s) });
    window.emit('move');
    window.bounds = { x: 50, y: 60, width: 1100, height: 750 };
    window.emit('resize');
    vi.advanceTimersByTime(SAVE_DEBOUNCE_MS - 1);
    expect(saved).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(saved).toEqual([
      { x: 50, y: 60, width: 1100, height: 750, isMaximized: false, isFullScreen: false },
    ]);
  });

  it('saves at once on close, with the normal bounds and the maximized flag', () => {
    const window = new FakeWindow();
    const saved: WindowState[] = [];
    trackWindowState(window, { save: (s) => saved.push(s) });
    window.maximized = true;
    window.emit('maximize');
    window.emit('close');
    expect(saved).toEqual([
      { x: 10, y: 20, width: 1000, height: 700, isMaximized: true, isFullScreen: false },
    ]);
    vi.runAllTimers();
    expect(saved).toHaveLength(1); // the debounced save found nothing new
  });

  it('keeps the last state while minimized', () => {
    const window = new FakeWindow();
    const saved: WindowState[] = [];
    const tracker = trackWindowState(window, { save: (s) => saved.push(s) });
    window.emit('resize');
    vi.runAllTimers();
    window.minimized = true;
    window.emit('resize');
    vi.runAllTimers();
    tracker.flush();
    expect(saved).toHaveLength(1);
  });

  it('saves what is pending on dispose and then stops listening', () => {
    const window = new FakeWindow();
    const saved: WindowState[] = [];
    const tracker = trackWindowState(window, { save: (s) => saved.push(s) });
    window.emit('move');
    tracker.dispose();
    expect(saved).toHaveLength(1);
    for (const name of [
      'resize',
      'move',
      'maximize',
      'unmaximize',
      'enter-full-screen',
      'leave-full-screen',
      'close',
    ])
      expect(window.listenerCount(name), name).toBe(0);
    window.bounds = { x: 0, y: 0, width: 900, height: 600 };
    window.emit('close');
    vi.runAllTimers();
    expect(saved).toHaveLength(1);
  });

  it('does not touch a destroyed window', () => {
    const window = new FakeWindow();
    const saved: WindowState[] = [];
    const tracker = trackWindowState(window, { save: (s) => saved.push(s) });
    window.destroyed = true;
    window.getNormalBounds = () => {
      throw new Error('Object has been destroyed');
    };
    expect(() => tracker.dispose()).not.toThrow();
    expect(saved).toEqual([]);
  });
});
