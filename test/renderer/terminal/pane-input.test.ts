// @vitest-environment happy-dom
/**
 * A pane's input and size (renderer/terminal/pane-controller.ts) over a fake xterm and a fake
 * bridge: pastes go with delivery 'acknowledged' and a progress strip that Esc cancels, Ctrl-C
 * interrupts ahead of the paste, keys where xterm.js differs from xterm are sent as xterm sends
 * them, and the first size the session learns is the pane's real one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS, MAX_WRITE_CHARS, type RequestOf } from '../../../preload/api.js';
import { keySequence } from '../../../renderer/terminal/keys.js';
import { FakeTerminalBridge, deferred, settle } from './fake-bridge.js';
import { kits, type FakeKit } from './fake-kit.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));

const { PaneController } = await import('../../../renderer/terminal/pane-controller.js');
type Pane = InstanceType<typeof PaneController>;

const SESSION = '00000000-0000-4000-8000-0000000000aa';
let bridge: FakeTerminalBridge;
let pane: Pane;
let kit: FakeKit;
let writes: Array<RequestOf<'sessions.write'>>;
let held: Array<{ resolve(v: null): void }>;
let holdPastes = false;

function host() {
  return {
    bridge,
    settings: () => ({ ...DEFAULT_SETTINGS, pasteWarningLines: 0 }),
    theme: () => ({ theme: {}, search: { match: '', active: '' } as never }),
    isMac: () => false,
    confirmPaste: async () => true,
    onFocus: () => {},
    onSize: () => {},
    onSearchResults: () => {},
    onRendererChange: () => {},
    onInputError: () => {},
    openLink: () => {},
  };
}

function key(init: KeyboardEventInit & { key: string }): KeyboardEvent {
  return new KeyboardEvent('keydown', { cancelable: true, ...init });
}

beforeEach(() => {
  kits.length = 0;
  bridge = new FakeTerminalBridge();
  writes = [];
  held = [];
  holdPastes = false;
  bridge.handle('sessions.write', (req) => {
    writes.push(req);
    if (req.delivery === 'acknowledged' && holdPastes) {
      const d = deferred<null>();
      held.push(d);
      return d.promise;
    }
    return null;
  });
  pane = new PaneController('pane-1', host());
  kit = kits[0]!;
});

afterEach(() => {
  pane.dispose();
  document.body.innerHTML = '';
});

function mountAndBind(): void {
  const container = document.createElement('div');
  document.body.appendChild(container);
  pane.mount(container);
  pane.bind(SESSION, { openedWith: pane.size() });
}

describe('pane input', () => {
  it('sends paste pieces with delivery acknowledged, keystrokes without', async () => {
    mountAndBind();
    kit.term.type('l');
    await pane.paste('echo pasted\n');
    await settle();
    expect(writes).toEqual([
      { sessionId: SESSION, data: 'l' },
      { sessionId: SESSION, data: 'echo pasted\r', delivery: 'acknowledged' },
    ]);
  });

  it('shows a progress strip for a large paste; Esc cancels it and is not sent', async () => {
    mountAndBind();
    holdPastes = true;
    await pane.paste('z'.repeat(8 * MAX_WRITE_CHARS));
    await settle();
    expect(pane.pasteStatus.view).toMatchObject({ state: 'sending', totalBytes: 8 * MAX_WRITE_CHARS });
    expect(held).toHaveLength(2); // the paste window
    const esc = key({ key: 'Escape' });
    expect(kit.term.keyHandler!(esc)).toBe(false);
    expect(esc.defaultPrevented).toBe(true);
    expect(pane.pasteStatus.view).toMatchObject({ state: 'cancelled', sentBytes: 2 * MAX_WRITE_CHARS });
    for (const d of held) d.resolve(null);
    await settle();
    expect(writes.map((w) => w.data.length)).toEqual([MAX_WRITE_CHARS, MAX_WRITE_CHARS]);
    // Without a paste going, Esc is an ordinary key for xterm.
    expect(kit.term.keyHandler!(key({ key: 'Escape' }))).toBe(true);
  });

  it('a paste broadcast from another pane goes as a paste here (bounded, with progress), keys as keys', async () => {
    mountAndBind();
    holdPastes = true;
    pane.sendInput('k', 'keys');
    pane.sendInput('y'.repeat(8 * MAX_WRITE_CHARS), 'paste');
    await settle();
    expect(pane.pasteStatus.view).toMatchObject({ state: 'sending', totalBytes: 8 * MAX_WRITE_CHARS });
    expect(held).toHaveLength(2); // the same bounded flight as a paste typed here
    pane.sendInput('\x03', 'keys'); // Ctrl-C from the group cancels it here too
    await settle();
    expect(pane.pasteStatus.view).toMatchObject({ state: 'cancelled' });
    expect(writes[0]).toEqual({ sessionId: SESSION, data: 'k' });
    expect(writes.some((w) => w.data === '\x03')).toBe(true);
  });

  it('Ctrl-C during a paste cancels it and is sent at once, without waiting for the paste', async () => {
    mountAndBind();
    holdPastes = true;
    await pane.paste('y'.repeat(8 * MAX_WRITE_CHARS));
    await settle();
    kit.term.type('\x03');
    await settle();
    expect(writes.at(-1)).toEqual({ sessionId: SESSION, data: '\x03' });
    expect(pane.pasteStatus.view?.state).toBe('cancelled');
    for (const d of held) d.resolve(null);
    await settle();
    expect(writes).toHaveLength(3);
  });

  it('sends Alt+arrows and Alt+PageUp as xterm does, and leaves other keys to xterm.js', async () => {
    mountAndBind();
    const alt = key({ key: 'ArrowLeft', code: 'ArrowLeft', altKey: true });
    expect(kit.term.keyHandler!(alt)).toBe(false);
    expect(alt.defaultPrevented).toBe(true); // no browser "back"
    expect(kit.term.keyHandler!(key({ key: 'PageUp', altKey: true }))).toBe(false);
    expect(kit.term.keyHandler!(key({ key: 'ArrowLeft', ctrlKey: true }))).toBe(true);
    expect(kit.term.keyHandler!(new KeyboardEvent('keyup', { key: 'ArrowLeft', altKey: true }))).toBe(true);
    // The app's own shortcuts never reach the terminal.
    expect(kit.term.keyHandler!(key({ key: 'T', ctrlKey: true, shiftKey: true }))).toBe(false);
    await settle();
    expect(writes.map((w) => w.data)).toEqual(['\x1b[1;3D', '\x1b[5;3~']);
  });

  it('tells the session the pane’s real size when it was measured after sessions.open was sent', async () => {
    const container = document.createElement('div');
    document.body.appendChild(container);
    kit.fitSize = null; // not measurable yet: the session is opened with the default
    pane.mount(container);
    const openedWith = pane.size();
    expect(openedWith).toEqual({ cols: 80, rows: 24 });
    kit.fitSize = { cols: 132, rows: 41 };
    pane.fitNow(); // measured while sessions.open is in flight: no session to tell yet
    expect(bridge.callsTo('sessions.resize')).toEqual([]);
    pane.bind(SESSION, { openedWith });
    await settle();
    expect(bridge.callsTo('sessions.resize')).toEqual([{ sessionId: SESSION, cols: 132, rows: 41 }]);
    expect(pane.element.dataset).toMatchObject({ cols: '132', rows: '41' });
  });

  it('does not resend the size the session was opened with', async () => {
    const container = document.createElement('div');
    document.body.appendChild(container);
    pane.mount(container);
    pane.bind(SESSION, { openedWith: pane.size() });
    kit.term.resize(100, 30); // the same
    kit.term.resize(90, 28);
    await settle();
    expect(bridge.callsTo('sessions.resize')).toEqual([{ sessionId: SESSION, cols: 90, rows: 28 }]);
  });
});

describe('keySequence (keys where xterm.js and xterm differ)', () => {
  const k = (init: Partial<KeyboardEventInit> & { key: string }) => ({
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    altKey: false,
    ...init,
  });
  it.each([
    [k({ key: 'ArrowLeft', altKey: true }), false, '\x1b[1;3D'],
    [k({ key: 'ArrowRight', altKey: true }), false, '\x1b[1;3C'],
    [k({ key: 'ArrowUp', altKey: true }), false, '\x1b[1;3A'],
    [k({ key: 'ArrowDown', altKey: true }), false, '\x1b[1;3B'],
    [k({ key: 'ArrowLeft', altKey: true }), true, null], // macOS: Option+Left stays ESC b
    [k({ key: 'ArrowLeft', altKey: true, shiftKey: true }), false, null],
    [k({ key: 'PageUp', altKey: true }), false, '\x1b[5;3~'],
    [k({ key: 'PageDown', altKey: true }), true, '\x1b[6;3~'],
    [k({ key: 'Insert', altKey: true }), false, '\x1b[2;3~'],
    [k({ key: '/', ctrlKey: true }), false, '\x1f'],
    [k({ key: '2', ctrlKey: true }), false, '\x00'],
    [k({ key: 'a', ctrlKey: true }), false, null],
    [k({ key: 'Home' }), false, null],
  ])('%o (mac %s) -> %j', (e, mac, want) => {
    expect(keySequence(e, mac)).toBe(want);
  });
});
