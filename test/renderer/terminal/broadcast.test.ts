// @vitest-environment happy-dom
/**
 * Broadcast input's pure parts: the group (membership, closed sessions leaving, targets, fan-out
 * order and isolation, quick choices), its shortcut, and the gate that tells typed input from
 * the terminal's own replies.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EMPTY_BROADCAST,
  broadcastBanner,
  fanOut,
  groupChoices,
  inputTargets,
  retainLive,
  setEnabled,
  setMembership,
  toggleMember,
  withMembers,
  type BroadcastCandidate,
  type BroadcastState,
} from '../../../renderer/terminal/broadcast.js';
import { reservedForApp, terminalShortcut } from '../../../renderer/terminal/keys.js';
import { UserInputGate } from '../../../renderer/terminal/user-input.js';

const on = (members: string[]): BroadcastState => setEnabled(withMembers(EMPTY_BROADCAST, members), true);

describe('the broadcast group', () => {
  it('adds and removes members in the order they joined, without duplicates', () => {
    let s = setMembership(EMPTY_BROADCAST, ['b', 'a'], true);
    expect(s.members).toEqual(['b', 'a']);
    s = setMembership(s, ['a', 'c'], true);
    expect(s.members).toEqual(['b', 'a', 'c']);
    s = toggleMember(s, 'a');
    expect(s.members).toEqual(['b', 'c']);
    s = toggleMember(s, 'a');
    expect(s.members).toEqual(['b', 'c', 'a']);
    s = setMembership(s, ['b', 'c'], false);
    expect(s.members).toEqual(['a']);
  });

  it('turns on only with members, and off by itself when the last one leaves', () => {
    expect(setEnabled(EMPTY_BROADCAST, true).enabled).toBe(false);
    let s = on(['a', 'b']);
    expect(s.enabled).toBe(true);
    s = setMembership(s, ['a'], false);
    expect(s).toEqual({ enabled: true, members: ['b'] });
    s = toggleMember(s, 'b');
    expect(s).toEqual({ enabled: false, members: [] });
    // Off keeps the group, so that on again broadcasts to the same sessions.
    expect(setEnabled(on(['x', 'y']), false)).toEqual({ enabled: false, members: ['x', 'y'] });
  });

  it('drops members that closed (retainLive), unchanged state when all are open', () => {
    const s = on(['a', 'b', 'c']);
    expect(retainLive(s, new Set(['a', 'b', 'c', 'd']))).toBe(s);
    expect(retainLive(s, new Set(['a', 'c']))).toEqual({ enabled: true, members: ['a', 'c'] });
    expect(retainLive(s, new Set(['d']))).toEqual({ enabled: false, members: [] });
  });

  it('sends input typed into a member to every member (that one first), anything else to its own pane', () => {
    const s = on(['a', 'b', 'c']);
    expect(inputTargets(s, 'b')).toEqual(['b', 'a', 'c']);
    expect(inputTargets(s, 'x')).toEqual(['x']); // not a member
    expect(inputTargets(setEnabled(s, false), 'b')).toEqual(['b']); // broadcasting off
  });

  it('fans out each piece to every target in order, one failing target not stopping the others', () => {
    const s = on(['a', 'b', 'c']);
    const got: Record<string, string[]> = { a: [], b: [], c: [] };
    const errors: string[] = [];
    const deliver = (id: string, data: string): void => {
      if (id === 'b' && data === '2') throw new Error('b is gone');
      got[id]!.push(data);
    };
    for (const piece of ['1', '2', '3', '\x03']) {
      fanOut(s, piece === '3' ? 'c' : 'a', piece, deliver, (id, err) =>
        errors.push(`${id}: ${(err as Error).message}`),
      );
    }
    expect(got).toEqual({ a: ['1', '2', '3', '\x03'], b: ['1', '3', '\x03'], c: ['1', '2', '3', '\x03'] });
    expect(errors).toEqual(['b: b is gone']);
    // A non-member's input goes to it alone.
    const alone: string[] = [];
    expect(fanOut(s, 'x', 'ls\r', (id) => alone.push(id))).toEqual(['x']);
    expect(alone).toEqual(['x']);
  });

  it('offers quick choices: sessions of one instance, or sharing a tag (not Name), most first', () => {
    const c = (sessionId: string, instanceId: string, tags: Record<string, string>): BroadcastCandidate => ({
      sessionId,
      paneId: `p-${sessionId}`,
      tabId: `t-${sessionId}`,
      instanceId,
      instanceName: tags.Name ?? instanceId,
      tags,
    });
    const list = [
      c('s1', 'i-1', { Name: 'web-1', Role: 'web', Environment: 'prod' }),
      c('s2', 'i-1', { Name: 'web-1', Role: 'web', Environment: 'prod' }),
      c('s3', 'i-2', { Name: 'web-2', Role: 'web', Environment: 'prod' }),
      c('s4', 'i-3', { Name: 'db-1', Role: 'db', Environment: 'prod' }),
    ];
    const choices = groupChoices(list);
    // Environment=prod is every session ("All sessions" covers it); Role=web and web-1 remain.
    expect(choices.map((g) => [g.label, g.sessionIds])).toEqual([
      ['Role=web', ['s1', 's2', 's3']],
      ['web-1', ['s1', 's2']],
    ]);
    expect(groupChoices([list[0]!, list[3]!])).toEqual([]);
  });

  it('says how to stop in the banner', () => {
    expect(broadcastBanner(3, false)).toBe('Broadcasting to 3 sessions — Ctrl+Shift+B to stop');
    expect(broadcastBanner(1, true)).toBe('Broadcasting to 1 session — ⌘⇧B to stop');
  });
});

describe('the broadcast shortcut', () => {
  const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'shiftKey' | 'altKey', boolean>>) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    ...mods,
  });

  it('is Ctrl+Shift+B (Cmd+Shift+B on macOS), kept away from xterm; Ctrl+B stays the shell’s', () => {
    expect(terminalShortcut(key('B', { ctrlKey: true, shiftKey: true }), false)).toBe('toggle-broadcast');
    expect(terminalShortcut(key('b', { metaKey: true, shiftKey: true }), true)).toBe('toggle-broadcast');
    expect(reservedForApp(key('B', { ctrlKey: true, shiftKey: true }), false)).toBe(true);
    expect(reservedForApp(key('b', { metaKey: true, shiftKey: true }), true)).toBe(true);
    expect(terminalShortcut(key('b', { ctrlKey: true }), false)).toBeNull();
    expect(reservedForApp(key('b', { ctrlKey: true }), false)).toBe(false); // tmux's prefix
    expect(terminalShortcut(key('b', { metaKey: true }), true)).toBeNull();
  });
});

describe('UserInputGate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is open while a key, text input or composition is handled and shortly after, closed otherwise', () => {
    vi.useFakeTimers();
    const el = document.createElement('div');
    const textarea = document.createElement('textarea');
    el.appendChild(textarea);
    const gate = new UserInputGate(el);
    const seen: boolean[] = [];
    // xterm answers on the textarea, after our capture listener saw the event.
    textarea.addEventListener('keydown', () => seen.push(gate.active));
    expect(gate.active).toBe(false);
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }));
    expect(seen).toEqual([true]);
    // xterm sends composed text from a zero-delay timer of its own, set after the event.
    textarea.dispatchEvent(new Event('compositionend', { bubbles: true }));
    setTimeout(() => seen.push(gate.active), 0);
    vi.runAllTimers();
    expect(seen).toEqual([true, true]);
    expect(gate.active).toBe(false); // a reply parsed later is not the user's
    expect(gate.during(() => gate.active)).toBe(true); // a paste
    expect(gate.active).toBe(false);
    gate.dispose();
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'a', bubbles: true }));
    expect(gate.active).toBe(false);
  });

  it('stays closed for mouse and focus events (their reports belong to the pane)', () => {
    vi.useFakeTimers();
    const el = document.createElement('div');
    const gate = new UserInputGate(el);
    for (const type of ['mousedown', 'mouseup', 'wheel', 'focusin', 'focus'])
      el.dispatchEvent(new Event(type, { bubbles: true }));
    expect(gate.active).toBe(false);
    gate.dispose();
  });
});
