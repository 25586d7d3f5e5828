/**
 * The terminal workbench's keyboard shortcuts (pure). Inside a terminal every other key belongs to
 * the remote shell; the workspace's own Ctrl/Cmd+Shift shortcuts (renderer/components/shortcuts.ts)
 * must reach the window too, so xterm is told to leave all Ctrl+Shift+letter (Cmd+key on macOS)
 * combinations alone (`reservedForApp`).
 */

export type TerminalShortcut =
  | 'copy'
  | 'paste'
  | 'find'
  | 'next-tab'
  | 'previous-tab'
  | 'move-tab-left'
  | 'move-tab-right'
  | 'toggle-broadcast';

export interface KeyEventLike {
  type?: string;
  key: string;
  code?: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

export function terminalShortcut(e: KeyEventLike, mac: boolean): TerminalShortcut | null {
  if (e.altKey) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;

  // Tab switching and reordering: Ctrl on every platform (Cmd+Tab belongs to macOS).
  if (e.ctrlKey && !e.metaKey) {
    if (key === 'Tab') return e.shiftKey ? 'previous-tab' : 'next-tab';
    if (e.shiftKey && key === 'PageUp') return 'move-tab-left';
    if (e.shiftKey && key === 'PageDown') return 'move-tab-right';
  }

  if (mac) {
    if (!e.metaKey || e.ctrlKey) return null;
    if (key === 'f') return 'find';
    if (e.shiftKey && key === 'b') return 'toggle-broadcast';
    if (!e.shiftKey && key === 'c') return 'copy';
    if (!e.shiftKey && key === 'v') return 'paste';
    return null;
  }
  if (!e.ctrlKey || e.metaKey || !e.shiftKey) return null;
  if (key === 'c') return 'copy';
  if (key === 'v') return 'paste';
  if (key === 'f') return 'find';
  if (key === 'b') return 'toggle-broadcast';
  return null;
}

/** Keys xterm must not turn into terminal input: they are the app's. */
export function reservedForApp(e: KeyEventLike, mac: boolean): boolean {
  if (terminalShortcut(e, mac) !== null) return true;
  if (e.altKey) return false;
  if (mac) return e.metaKey;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  return e.ctrlKey && e.shiftKey && !e.metaKey && key.length === 1 && key >= 'a' && key <= 'z';
}

/** Lines of a paste as the shell will see them (a trailing newline does not start a line). */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  let lines = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 /* \n */ || (c === 13 /* \r */ && text.charCodeAt(i + 1) !== 10)) {
      if (i < text.length - 1) lines++;
    }
  }
  return lines;
}

/** Does this paste need a confirmation? (`warnAbove` 0 = never.) */
export function needsPasteConfirmation(text: string, warnAbove: number): boolean {
  return warnAbove > 0 && countLines(text) > warnAbove;
}

const ALT_ARROWS: Record<string, string> = { ArrowUp: 'A', ArrowDown: 'B', ArrowRight: 'C', ArrowLeft: 'D' };
const ALT_TILDE_KEYS: Record<string, string> = { Insert: '2', PageUp: '5', PageDown: '6' };

/**
 * Keys where xterm.js sends something other than a local xterm does, with what xterm sends
 * (null: leave the key to xterm.js, which already matches). xterm.js turns Alt+arrows into
 * Ctrl+arrows (ESC[1;5D, a word-motion convenience) and drops Alt from Insert/PageUp/PageDown;
 * xterm sends ESC[1;3D and ESC[5;3~. It sends nothing for Ctrl+/ and Ctrl+2, where xterm sends
 * US (0x1f) and NUL. On macOS, Option+arrows keep xterm.js's word motions (ESC b / ESC f, as
 * Terminal.app sends them).
 */
export function keySequence(e: KeyEventLike, mac: boolean): string | null {
  const onlyAlt = e.altKey && !e.ctrlKey && !e.shiftKey && !e.metaKey;
  const onlyCtrl = e.ctrlKey && !e.altKey && !e.shiftKey && !e.metaKey;
  if (onlyAlt && !mac) {
    const arrow = ALT_ARROWS[e.key];
    if (arrow) return `\x1b[1;3${arrow}`;
  }
  if (onlyAlt) {
    const tilde = ALT_TILDE_KEYS[e.key];
    if (tilde) return `\x1b[${tilde};3~`;
  }
  if (onlyCtrl && e.key === '/') return '\x1f';
  if (onlyCtrl && e.key === '2') return '\x00';
  return null;
}
