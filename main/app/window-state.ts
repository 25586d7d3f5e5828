/**
 * The main window's size, position, maximized and full-screen state, remembered across runs in
 * `<userData>/window-state.json` (mode 0600).
 *
 * Pure logic first (parse a saved file, fit saved bounds onto the displays there are now), then
 * a small store that reads and writes the file, then the tracker that saves (debounced) while the
 * window moves and resizes and at once when it closes. Electron is imported for types only: the
 * window and the displays are passed in, so all of it runs under plain Node in tests.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../core/log/logger.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: centre on the primary display. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  isMaximized: boolean;
  isFullScreen: boolean;
}

export const MIN_WINDOW_WIDTH = 800;
export const MIN_WINDOW_HEIGHT = 500;

export const DEFAULT_WINDOW_STATE: WindowState = {
  width: 1200,
  height: 800,
  isMaximized: false,
  isFullScreen: false,
};

/** How much of a window must lie on a display for its saved position to be kept. */
const MIN_VISIBLE_WIDTH = 100;
const MIN_VISIBLE_HEIGHT = 50;

/** Largest coordinate or size believed (the file is user-editable). */
const MAX_COORD = 100_000;

const Coord = z.number().finite().min(-MAX_COORD).max(MAX_COORD);
const Size = z.number().finite().positive().max(MAX_COORD);

const WindowStateFileSchema = z.object({
  x: Coord.optional(),
  y: Coord.optional(),
  width: Size,
  height: Size,
  isMaximized: z.boolean().optional(),
  isFullScreen: z.boolean().optional(),
});

/**
 * A saved file's text as a WindowState; anything unreadable (bad JSON, wrong shape, absurd
 * numbers) gives the defaults with a warning. A position needs both coordinates.
 */
export function parseWindowState(text: string, logger?: Logger): WindowState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    logger?.warn({ err }, 'window-state.json is not valid JSON; using the default window size');
    return { ...DEFAULT_WINDOW_STATE };
  }
  const parsed = WindowStateFileSchema.safeParse(json);
  if (!parsed.success) {
    logger?.warn(
      { issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) },
      'window-state.json has an unexpected shape; using the default window size',
    );
    return { ...DEFAULT_WINDOW_STATE };
  }
  const { x, y, width, height, isMaximized = false, isFullScreen = false } = parsed.data;
  return {
    ...(x !== undefined && y !== undefined ? { x: Math.round(x), y: Math.round(y) } : {}),
    width: Math.round(width),
    height: Math.round(height),
    isMaximized,
    isFullScreen,
  };
}

export interface DisplayArea {
  /** The display's work area (without task bars, docks, menu bars). */
  workArea: Rect;
}

function overlap(a: Rect, b: Rect): { width: number; height: number } {
  return {
    width: Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x),
    height: Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y),
  };
}

/** Enough of the window on this work area to grab it, with its top edge (the title bar) inside. */
function isReachableOn(window: Rect, area: Rect): boolean {
  const o = overlap(window, area);
  return (
    o.width >= Math.min(MIN_VISIBLE_WIDTH, window.width) &&
    o.height >= Math.min(MIN_VISIBLE_HEIGHT, window.height) &&
    window.y >= area.y &&
    window.y <= area.y + area.height - Math.min(MIN_VISIBLE_HEIGHT, window.height)
  );
}

/** A size no smaller than the minimum (unless the display is) and no larger than the display. */
function fitSize(state: WindowState, area: Rect, min: { width: number; height: number }) {
  const clamp = (value: number, lower: number, upper: number): number =>
    Math.max(Math.min(lower, upper), Math.min(value, upper));
  return {
    width: Math.round(clamp(state.width, min.width, area.width)),
    height: Math.round(clamp(state.height, min.height, area.height)),
  };
}

export interface FitOptions {
  minWidth?: number;
  minHeight?: number;
}

/**
 * Place a saved window on the displays there are now: keep its position when enough of it is
 * on one of them (shrinking it to fit that display), otherwise centre it on the primary display.
 * The result always has a position, unless there are no displays at all.
 */
export function fitToDisplays(
  state: WindowState,
  displays: readonly DisplayArea[],
  primary: DisplayArea | undefined,
  options: FitOptions = {},
): WindowState {
  const min = { width: options.minWidth ?? MIN_WINDOW_WIDTH, height: options.minHeight ?? MIN_WINDOW_HEIGHT };
  const base = { isMaximized: state.isMaximized, isFullScreen: state.isFullScreen };
  const primaryArea = primary?.workArea ?? displays[0]?.workArea;
  if (!primaryArea) {
    const { x: _x, y: _y, ...rest } = state;
    return { ...rest, width: Math.max(rest.width, min.width), height: Math.max(rest.height, min.height) };
  }

  if (state.x !== undefined && state.y !== undefined) {
    for (const { workArea: area } of displays) {
      const size = fitSize(state, area, min);
      if (!isReachableOn({ x: state.x, y: state.y, ...size }, area)) continue;
      // Keep the position, but pull the window in when shrinking it left it hanging off.
      const x =
        size.width < state.width
          ? Math.max(area.x, Math.min(state.x, area.x + area.width - size.width))
          : state.x;
      const y =
        size.height < state.height
          ? Math.max(area.y, Math.min(state.y, area.y + area.height - size.height))
          : state.y;
      return { ...base, x, y, ...size };
    }
  }

  const size = fitSize(state, primaryArea, min);
  return {
    ...base,
    x: Math.round(primaryArea.x + (primaryArea.width - size.width) / 2),
    y: Math.round(primaryArea.y + (primaryArea.height - size.height) / 2),
    ...size,
  };
}

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

export interface WindowStateStore {
  load(): WindowState;
  save(state: WindowState): void;
}

/** Reads and writes the state file: atomically (temporary file, then rename), mode 0600, its folder made if missing. */
export function createWindowStateStore(file: string, logger?: Logger): WindowStateStore {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          logger?.warn({ err, file }, 'could not read the window state; using the default window size');
        return { ...DEFAULT_WINDOW_STATE };
      }
      return parseWindowState(text, logger);
    },
    save(state) {
      const tmp = `${file}.tmp`;
      try {
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
        chmodSync(tmp, 0o600); // in case an old temporary file had other permissions
        renameSync(tmp, file);
      } catch (err) {
        logger?.warn({ err, file }, 'could not save the window state');
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Following a window
// ---------------------------------------------------------------------------------------------

/** What the tracker needs of a BrowserWindow. */
export interface TrackedWindow {
  on(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
  isDestroyed(): boolean;
  isMaximized(): boolean;
  isFullScreen(): boolean;
  isMinimized(): boolean;
  /** The bounds the window returns to when it is no longer maximized, minimized or full screen. */
  getNormalBounds(): Rect;
}

export interface WindowStateTracker {
  /** Save now if anything changed since the last save. */
  flush(): void;
  /** Stop following the window (after saving what is pending). */
  dispose(): void;
}

export const SAVE_DEBOUNCE_MS = 500;

const CHANGE_EVENTS = [
  'resize',
  'move',
  'maximize',
  'unmaximize',
  'enter-full-screen',
  'leave-full-screen',
] as const;

/** The window's state as it would be saved now. */
export function captureWindowState(window: TrackedWindow): WindowState {
  const bounds = window.getNormalBounds();
  return {
    x: Math.round(bounds.x),
    y: Math.round(bounds.y),
    width: Math.round(bounds.width),
    height: Math.round(bounds.height),
    isMaximized: window.isMaximized(),
    isFullScreen: window.isFullScreen(),
  };
}

/**
 * Save the window's state, debounced, whenever it moves, resizes, maximizes or enters/leaves
 * full screen, and immediately when it closes.
 */
export function trackWindowState(
  window: TrackedWindow,
  store: Pick<WindowStateStore, 'save'>,
  options: { debounceMs?: number } = {},
): WindowStateTracker {
  const debounceMs = options.debounceMs ?? SAVE_DEBOUNCE_MS;
  let timer: NodeJS.Timeout | undefined;
  let last: WindowState | undefined;
  let pending: WindowState | undefined;
  let disposed = false;

  const capture = (): void => {
    // A minimized window's normal bounds are fine, but its maximized flag is unreliable on some
    // platforms: keep what we had.
    if (window.isDestroyed() || window.isMinimized()) return;
    pending = captureWindowState(window);
  };

  const write = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const next = pending;
    pending = undefined;
    if (last && JSON.stringify(last) === JSON.stringify(next)) return;
    last = next;
    store.save(next);
  };

  const onChange = (): void => {
    capture();
    if (timer) clearTimeout(timer);
    timer = setTimeout(write, debounceMs);
    timer.unref?.();
  };
  const onClose = (): void => {
    capture();
    write();
  };

  for (const name of CHANGE_EVENTS) window.on(name, onChange);
  window.on('close', onClose);

  return {
    flush() {
      if (disposed) return;
      capture();
      write();
    },
    dispose() {
      if (disposed) return;
      if (!window.isDestroyed()) capture();
      write();
      disposed = true;
      if (!window.isDestroyed()) {
        for (const name of CHANGE_EVENTS) window.removeListener(name, onChange);
        window.removeListener('close', onClose);
      }
    },
  };
}
