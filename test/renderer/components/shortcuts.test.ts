// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { shortcutAction, type KeyLike } from '../../../renderer/components/shortcuts.js';
import { shortcutLabel, views } from '../../../renderer/views/registry.js';

vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);
vi.mock('uplot', async () => (await import('../helpers/uplot-mock.js')).uplotModule());
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

function key(k: string, mods: Partial<KeyLike> = {}, target: EventTarget | null = document.body): KeyLike {
  return { key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, target, ...mods };
}

describe('shortcutAction', () => {
  const terminal = document.createElement('div');
  terminal.className = 'xterm';
  const textarea = document.createElement('textarea');
  terminal.appendChild(textarea);
  const input = document.createElement('input');
  document.body.append(terminal, input);

  it('maps Ctrl+Shift+letter to views everywhere, the terminal included', () => {
    expect(shortcutAction(key('E', { ctrlKey: true, shiftKey: true }), views, false)).toEqual({
      type: 'view',
      id: 'instances',
    });
    expect(shortcutAction(key('S', { ctrlKey: true, shiftKey: true }, textarea), views, false)).toEqual({
      type: 'view',
      id: 'sessions',
    });
    expect(shortcutAction(key('M', { ctrlKey: true, shiftKey: true }), views, false)).toEqual({
      type: 'view',
      id: 'performance',
    });
    expect(shortcutAction(key('G', { ctrlKey: true, shiftKey: true }, textarea), views, false)).toEqual({
      type: 'view',
      id: 'diagnostics',
    });
  });

  it('leaves plain Ctrl keys and / to the terminal', () => {
    expect(shortcutAction(key('k', { ctrlKey: true }, textarea), views, false)).toBeNull();
    expect(shortcutAction(key(',', { ctrlKey: true }, textarea), views, false)).toBeNull();
    expect(shortcutAction(key('/', {}, textarea), views, false)).toBeNull();
    expect(shortcutAction(key('b', { ctrlKey: true }, textarea), views, false)).toBeNull();
  });

  it('handles Ctrl+K, Ctrl+, Ctrl+B and / outside the terminal', () => {
    expect(shortcutAction(key('k', { ctrlKey: true }), views, false)).toEqual({ type: 'focus-filter' });
    expect(shortcutAction(key(',', { ctrlKey: true }), views, false)).toEqual({
      type: 'view',
      id: 'settings',
    });
    expect(shortcutAction(key('b', { ctrlKey: true }), views, false)).toEqual({ type: 'toggle-panel' });
    expect(shortcutAction(key('/'), views, false)).toEqual({ type: 'focus-filter' });
    expect(shortcutAction(key('/', {}, input), views, false)).toBeNull(); // typing a slash
    expect(shortcutAction(key('x', { ctrlKey: true }), views, false)).toBeNull();
    expect(
      shortcutAction(key('e', { ctrlKey: true, shiftKey: true, altKey: true }), views, false),
    ).toBeNull();
  });

  it('leaves Ctrl/Cmd+Shift+B (broadcast input) to the terminal workbench', () => {
    const target = document.body.querySelector('.xterm textarea');
    expect(shortcutAction(key('B', { ctrlKey: true, shiftKey: true }, target), views, false)).toBeNull();
    expect(shortcutAction(key('B', { ctrlKey: true, shiftKey: true }), views, false)).toBeNull();
    expect(shortcutAction(key('b', { metaKey: true, shiftKey: true }, target), views, true)).toBeNull();
  });

  it('uses Cmd on macOS', () => {
    expect(shortcutAction(key('k', { metaKey: true }), views, true)).toEqual({ type: 'focus-filter' });
    expect(shortcutAction(key('k', { ctrlKey: true }), views, true)).toBeNull();
    expect(shortcutLabel(views[0]!.shortcut, true)).toBe('⌘⇧E');
    expect(shortcutLabel(views[0]!.shortcut, false)).toBe('Ctrl+Shift+E');
  });
});
