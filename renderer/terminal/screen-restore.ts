/**
 * The screen of a lost session, kept for its re-attach (persistent sessions,
 * main/core/sessions/persistent.ts).
 *
 * When a session's connection is lost for longer than the service keeps sessions, its pane's
 * terminal is serialized (SerializeAddon, the last SCREEN_SCROLLBACK lines; what a full-screen
 * program such as tmux showed on the alternate screen goes with it) and kept for the tab: in
 * memory, and in sessionStorage so a reload of the window finds it too. On re-attach the pane is
 * reset and redrawn from it, then a dim separator line says what happened
 * ("re-attached to tmux session ec2c-1a2b3c4d on web-1 at 12:03"), then the new session's
 * output follows. tmux and screen redraw their own screen on top (they kept it); a fresh shell
 * (persistence off) starts below the old screen.
 */
import type { SessionInfo } from '../../preload/api.js';
import type { ScreenContent, TerminalKit } from './xterm-kit.js';

/** Lines of scrollback kept with a lost screen. */
export const SCREEN_SCROLLBACK = 5000;
/** sessionStorage keys of kept screens start with this, then the session id. */
export const SCREEN_KEY_PREFIX = 'ec2connect.screen.v1.';
/** Screens kept in sessionStorage at most (the oldest go first). */
export const MAX_STORED_SCREENS = 8;
/** A screen larger than this (characters) is kept in memory only. */
export const MAX_STORED_SCREEN_CHARS = 2_000_000;

export interface ScreenSnapshot extends ScreenContent {
  /** The terminal's width when taken (the separator is drawn at the current width). */
  cols: number;
  rows: number;
  /** Epoch ms. */
  takenAt: number;
}

/** The kit's serialized screen, or (a kit without a serializer) the text of its buffer. */
function contentOf(kit: TerminalKit): ScreenContent {
  if (kit.snapshot) return kit.snapshot(SCREEN_SCROLLBACK);
  const buffer = kit.term.buffer.active;
  const lines: string[] = [];
  for (let y = Math.max(0, buffer.length - SCREEN_SCROLLBACK); y < buffer.length; y++)
    lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { normal: lines.join('\r\n'), alternate: null };
}

/** The screen now (what is parsed so far). */
export function captureNow(kit: TerminalKit): ScreenSnapshot {
  return { ...contentOf(kit), cols: kit.term.cols, rows: kit.term.rows, takenAt: Date.now() };
}

/** The screen once everything written so far is parsed (xterm parses writes asynchronously). */
export function captureScreen(kit: TerminalKit): Promise<ScreenSnapshot> {
  return new Promise((resolve) => {
    try {
      kit.term.write('', () => resolve(captureNow(kit)));
    } catch {
      resolve(captureNow(kit));
    }
  });
}

function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

/** What the separator says about a re-attached session. */
export function reattachLabel(info: Pick<SessionInfo, 'persistence' | 'instanceName'>, at: Date): string {
  const time = `${twoDigits(at.getHours())}:${twoDigits(at.getMinutes())}`;
  const p = info.persistence;
  return p
    ? `re-attached to ${p.tool} session ${p.name} on ${info.instanceName} at ${time}`
    : `new shell on ${info.instanceName} at ${time}: nothing was kept running there`;
}

/** A dim line across `cols` columns with `label` in its middle (kept on one line). */
export function separatorLine(cols: number, label: string): string {
  const width = Math.max(10, cols - 1);
  const text = ` ${label.length > width - 6 ? `${label.slice(0, width - 7)}…` : label} `;
  const side = Math.max(2, Math.floor((width - text.length) / 2));
  const line = '─'.repeat(side) + text + '─'.repeat(Math.max(2, width - side - text.length));
  return `\x1b[0m\r\n\x1b[2m${line}\x1b[0m\r\n`;
}

/** Leave what the old program set (mouse reporting, bracketed paste, hidden cursor); the new one sets its own. */
const PLAIN_MODES = '\x1b[?25h\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l';

/**
 * What to write into the pane before the re-attached session's output: a full reset, the kept
 * screen (the normal buffer, then the last alternate screen below it), and the separator.
 */
export function restoreText(snapshot: ScreenSnapshot, label: string, cols: number): string {
  let text = `\x1bc${snapshot.normal}`;
  if (snapshot.alternate) {
    // Below the normal buffer; its final cursor move may go up, so go back down before the line.
    text += `\x1b[0m\r\n${snapshot.alternate}\x1b[0m\x1b[${snapshot.rows}B\r`;
  }
  return text + PLAIN_MODES + separatorLine(cols, label);
}

/** The screen as it was, before any re-attach (a reloaded window redraws a lost pane with it). */
export function screenText(snapshot: ScreenSnapshot): string {
  const alternate = snapshot.alternate ? `\x1b[0m\r\n${snapshot.alternate}` : '';
  return `\x1bc${snapshot.normal}${alternate}\x1b[0m${PLAIN_MODES}`;
}

function isSnapshot(value: unknown): value is ScreenSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.normal === 'string' &&
    (v.alternate === null || typeof v.alternate === 'string') &&
    typeof v.cols === 'number' &&
    typeof v.rows === 'number' &&
    typeof v.takenAt === 'number'
  );
}

/**
 * Kept screens by session id: in memory for this page, and in sessionStorage (this window only,
 * bounded in count and size) for a reload. Storage that is missing or full only loses the copy.
 */
export class ScreenMemory {
  private readonly screens = new Map<string, ScreenSnapshot>();

  constructor(
    private readonly storage: Pick<
      Storage,
      'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'
    > | null = browserStorage(),
  ) {}

  set(sessionId: string, snapshot: ScreenSnapshot): void {
    this.screens.set(sessionId, snapshot);
    if (!this.storage) return;
    const text = JSON.stringify(snapshot);
    if (text.length > MAX_STORED_SCREEN_CHARS) return;
    try {
      this.storage.setItem(SCREEN_KEY_PREFIX + sessionId, text);
      this.trimStored();
    } catch {
      // full or unavailable: the copy in memory is enough until a reload
    }
  }

  get(sessionId: string): ScreenSnapshot | null {
    const inMemory = this.screens.get(sessionId);
    if (inMemory) return inMemory;
    try {
      const raw = this.storage?.getItem(SCREEN_KEY_PREFIX + sessionId);
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      if (isSnapshot(parsed)) {
        this.screens.set(sessionId, parsed);
        return parsed;
      }
    } catch {
      // damaged: as if none
    }
    return null;
  }

  has(sessionId: string): boolean {
    return this.get(sessionId) !== null;
  }

  delete(sessionId: string): void {
    this.screens.delete(sessionId);
    try {
      this.storage?.removeItem(SCREEN_KEY_PREFIX + sessionId);
    } catch {
      // unavailable
    }
  }

  get size(): number {
    return this.screens.size;
  }

  /** Keep the newest MAX_STORED_SCREENS in storage. */
  private trimStored(): void {
    const storage = this.storage;
    if (!storage) return;
    const kept: Array<{ key: string; takenAt: number }> = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (!key?.startsWith(SCREEN_KEY_PREFIX)) continue;
      let takenAt = 0;
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? 'null');
        if (isSnapshot(parsed)) takenAt = parsed.takenAt;
      } catch {
        // damaged: oldest
      }
      kept.push({ key, takenAt });
    }
    kept.sort((a, b) => b.takenAt - a.takenAt);
    for (const old of kept.slice(MAX_STORED_SCREENS)) storage.removeItem(old.key);
  }
}

function browserStorage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}
