import { describe, expect, it } from 'vitest';
import {
  MAX_PANES,
  canSplit,
  clampRatio,
  countPanes,
  cycleIndex,
  findSplit,
  leaf,
  moveItem,
  neighbourAfterClose,
  paneIds,
  removePane,
  splitPane,
  type LayoutNode,
} from '../../../renderer/terminal/layout.js';
import {
  countLines,
  needsPasteConfirmation,
  reservedForApp,
  terminalShortcut,
} from '../../../renderer/terminal/keys.js';

describe('split layout', () => {
  it('splits a pane right and down, the new pane after the old one', () => {
    let layout: LayoutNode = leaf('a');
    layout = splitPane(layout, 'a', 'right', 'b', 's1')!;
    expect(paneIds(layout)).toEqual(['a', 'b']);
    layout = splitPane(layout, 'a', 'down', 'c', 's2')!;
    expect(paneIds(layout)).toEqual(['a', 'c', 'b']);
    expect(findSplit(layout, 's2')).toMatchObject({ direction: 'down', ratio: 0.5 });
  });

  it('holds at most MAX_PANES panes', () => {
    let layout: LayoutNode = leaf('p0');
    for (let i = 1; i < MAX_PANES; i++) layout = splitPane(layout, `p${i - 1}`, 'right', `p${i}`, `s${i}`)!;
    expect(countPanes(layout)).toBe(MAX_PANES);
    expect(canSplit(layout)).toBe(false);
    expect(splitPane(layout, 'p0', 'down', 'px', 'sx')).toBeUndefined();
  });

  it('does not split a pane that is not there', () => {
    expect(splitPane(leaf('a'), 'zz', 'right', 'b', 's')).toBeUndefined();
  });

  it('closing a pane gives its place to its sibling; the last one empties the tab', () => {
    let layout: LayoutNode = splitPane(leaf('a'), 'a', 'right', 'b', 's1')!;
    layout = splitPane(layout, 'b', 'down', 'c', 's2')!;
    const withoutB = removePane(layout, 'b')!;
    expect(paneIds(withoutB)).toEqual(['a', 'c']);
    expect(findSplit(withoutB, 's2')).toBeUndefined();
    expect(removePane(removePane(withoutB, 'a')!, 'c')).toBeUndefined();
    expect(removePane(leaf('a'), 'other')).toEqual(leaf('a'));
  });

  it('focus after closing goes to the previous pane, else the next', () => {
    const layout = splitPane(splitPane(leaf('a'), 'a', 'right', 'b', 's1')!, 'b', 'right', 'c', 's2')!;
    expect(neighbourAfterClose(layout, 'b')).toBe('a');
    expect(neighbourAfterClose(layout, 'a')).toBe('b');
  });

  it('clamps divider ratios', () => {
    expect(clampRatio(0)).toBe(0.1);
    expect(clampRatio(1)).toBe(0.9);
    expect(clampRatio(0.3)).toBe(0.3);
    expect(clampRatio(Number.NaN)).toBe(0.5);
  });

  it('moves items and cycles indexes', () => {
    expect(moveItem(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd']);
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b', 'c'], 1, 10)).toEqual(['a', 'c', 'b']);
    expect(moveItem(['a', 'b'], 5, 0)).toEqual(['a', 'b']);
    expect(cycleIndex(2, 1, 3)).toBe(0);
    expect(cycleIndex(0, -1, 3)).toBe(2);
    expect(cycleIndex(0, 1, 0)).toBe(-1);
  });
});

const key = (
  k: string,
  mods: Partial<Record<'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey', boolean>> = {},
) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('terminal shortcuts', () => {
  it('maps the workbench shortcuts (Linux/Windows)', () => {
    expect(terminalShortcut(key('C', { ctrlKey: true, shiftKey: true }), false)).toBe('copy');
    expect(terminalShortcut(key('V', { ctrlKey: true, shiftKey: true }), false)).toBe('paste');
    expect(terminalShortcut(key('F', { ctrlKey: true, shiftKey: true }), false)).toBe('find');
    expect(terminalShortcut(key('Tab', { ctrlKey: true }), false)).toBe('next-tab');
    expect(terminalShortcut(key('Tab', { ctrlKey: true, shiftKey: true }), false)).toBe('previous-tab');
    expect(terminalShortcut(key('PageUp', { ctrlKey: true, shiftKey: true }), false)).toBe('move-tab-left');
    expect(terminalShortcut(key('PageDown', { ctrlKey: true, shiftKey: true }), false)).toBe(
      'move-tab-right',
    );
    // Plain Ctrl+C / Ctrl+V belong to the shell.
    expect(terminalShortcut(key('c', { ctrlKey: true }), false)).toBeNull();
    expect(terminalShortcut(key('v', { ctrlKey: true }), false)).toBeNull();
    expect(terminalShortcut(key('PageUp', { ctrlKey: true }), false)).toBeNull();
  });

  it('maps Cmd on macOS', () => {
    expect(terminalShortcut(key('c', { metaKey: true }), true)).toBe('copy');
    expect(terminalShortcut(key('v', { metaKey: true }), true)).toBe('paste');
    expect(terminalShortcut(key('f', { metaKey: true }), true)).toBe('find');
    expect(terminalShortcut(key('c', { ctrlKey: true }), true)).toBeNull();
    expect(terminalShortcut(key('Tab', { ctrlKey: true }), true)).toBe('next-tab');
  });

  it('keeps the app shortcuts away from the shell, and only those', () => {
    expect(reservedForApp(key('E', { ctrlKey: true, shiftKey: true }), false)).toBe(true);
    expect(reservedForApp(key('Tab', { ctrlKey: true }), false)).toBe(true);
    expect(reservedForApp(key('c', { ctrlKey: true }), false)).toBe(false);
    expect(reservedForApp(key('_', { ctrlKey: true, shiftKey: true }), false)).toBe(false); // Ctrl+_ (undo)
    expect(reservedForApp(key('a'), false)).toBe(false);
    expect(reservedForApp(key('k', { metaKey: true }), true)).toBe(true);
    expect(reservedForApp(key('c', { ctrlKey: true }), true)).toBe(false);
  });
});

describe('paste lines', () => {
  it('counts lines as the shell sees them', () => {
    expect(countLines('')).toBe(0);
    expect(countLines('one')).toBe(1);
    expect(countLines('one\n')).toBe(1);
    expect(countLines('one\ntwo')).toBe(2);
    expect(countLines('one\r\ntwo\r\nthree\r\n')).toBe(3);
    expect(countLines('a\rb\rc')).toBe(3);
  });

  it('asks only above the setting (0 = never)', () => {
    const text = Array.from({ length: 51 }, (_, i) => `line ${i}`).join('\n');
    expect(needsPasteConfirmation(text, 50)).toBe(true);
    expect(needsPasteConfirmation(text, 51)).toBe(false);
    expect(needsPasteConfirmation(text, 0)).toBe(false);
  });
});
