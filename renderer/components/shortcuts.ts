/**
 * The workspace's keyboard shortcuts (the terminal's own are the terminal workbench's:
 * renderer/terminal/keys.ts, e.g. Ctrl/Cmd+Shift+F find and Ctrl/Cmd+Shift+B broadcast input,
 * which this table leaves alone).
 * Inside a terminal (`.xterm`) only Ctrl/Cmd+Shift combinations are taken: every other key
 * belongs to the remote shell.
 */
import type { ViewDef } from '../views/registry.js';

export type ShortcutAction =
  { type: 'view'; id: string } | { type: 'focus-filter' } | { type: 'toggle-panel' };

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
}

function closest(target: EventTarget | null, selector: string): boolean {
  const el = target as { closest?: (s: string) => unknown } | null;
  return !!el && typeof el.closest === 'function' && el.closest(selector) !== null;
}

export function isInTerminal(target: EventTarget | null): boolean {
  return closest(target, '.xterm');
}

export function isEditable(target: EventTarget | null): boolean {
  return closest(target, 'input, textarea, select, [contenteditable=""], [contenteditable="true"]');
}

export function shortcutAction(e: KeyLike, views: readonly ViewDef[], mac: boolean): ShortcutAction | null {
  if (e.altKey) return null;
  const mod = mac ? e.metaKey : e.ctrlKey;
  const otherMod = mac ? e.ctrlKey : e.metaKey;
  const key = e.key.toLowerCase();
  const inTerminal = isInTerminal(e.target);

  if (mod && !otherMod) {
    if (e.shiftKey) {
      const view = views.find((v) => v.shortcut?.shift && v.shortcut.key === key);
      return view ? { type: 'view', id: view.id } : null;
    }
    if (inTerminal) return null;
    const view = views.find((v) => v.shortcut && !v.shortcut.shift && v.shortcut.key === key);
    if (view) return { type: 'view', id: view.id };
    if (key === 'k') return { type: 'focus-filter' };
    if (key === 'b') return { type: 'toggle-panel' };
    return null;
  }
  if (!e.ctrlKey && !e.metaKey && !e.shiftKey && key === '/' && !inTerminal && !isEditable(e.target)) {
    return { type: 'focus-filter' };
  }
  return null;
}
