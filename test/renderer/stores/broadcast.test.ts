// @vitest-environment happy-dom
/**
 * The broadcast store wired to the real sessions store and pane controllers (xterm faked): what
 * is typed into a member reaches every member's session through its own input queue, nothing
 * else does; members that close leave; a slow member holds back only itself.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionInfo } from '../../../preload/api.js';
import { DB1, WEB1, deferred, sessionInfo, settle } from '../terminal/fake-bridge.js';
import type { FakeKit } from '../terminal/fake-kit.js';
import {
  bridge,
  disposeTerminalStores,
  freshTerminalPage,
  useSessionsStore,
} from '../terminal/store-setup.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('../terminal/fake-kit.js'));

const { useBroadcastStore } = await import('../../../renderer/stores/broadcast.js');

let sessions: ReturnType<typeof useSessionsStore>;
let broadcast: ReturnType<typeof useBroadcastStore>;
let opened: SessionInfo[];

/** Open `n` tabs; their session ids, in order. */
async function openTabs(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    await sessions.openSession(i % 2 === 0 ? WEB1 : DB1);
    ids.push(opened.at(-1)!.id);
  }
  await settle();
  return ids;
}

function paneOf(sessionId: string): string {
  return Object.values(sessions.panes).find((p) => p.sessionId === sessionId)!.id;
}

/** Type into a session's terminal as xterm reports it: a key event on the terminal, then onData. */
function typeInto(sessionId: string, data: string): void {
  const ctrl = sessions.paneController(paneOf(sessionId))!;
  ctrl.element.dispatchEvent(new KeyboardEvent('keydown', { key: data.slice(-1), bubbles: true }));
  (ctrl.kit as unknown as FakeKit).term.type(data);
}

/** What the terminal sends by itself (a cursor position report): no key event. */
function replyFrom(sessionId: string, data: string): void {
  const ctrl = sessions.paneController(paneOf(sessionId))!;
  (ctrl.kit as unknown as FakeKit).term.type(data);
}

/** The writes so far, per session. */
function written(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of bridge.callsTo('sessions.write')) out[w.sessionId] = (out[w.sessionId] ?? '') + w.data;
  return out;
}

beforeEach(async () => {
  ({ opened } = freshTerminalPage());
  sessions = useSessionsStore();
  broadcast = useBroadcastStore();
  broadcast.start();
  await settle();
});

afterEach(() => {
  broadcast.$dispose();
  disposeTerminalStores();
});

describe('broadcast input', () => {
  it('lists the open sessions of every tab as candidates, in tab order', async () => {
    const [a, b, c] = await openTabs(3);
    expect(broadcast.candidates.map((x) => x.sessionId)).toEqual([a, b, c]);
    expect(broadcast.candidates[1]).toMatchObject({
      instanceId: DB1.instanceId,
      tabId: sessions.tabs[1]!.id,
    });
  });

  it('sends what is typed into a member to every member, and nothing to the others', async () => {
    const [a, b, c] = await openTabs(3);
    broadcast.setSessions([a!, b!], true);
    expect(broadcast.setBroadcasting(true)).toBe(true);
    expect(broadcast.receivingCount).toBe(2);

    typeInto(a!, 'echo hi');
    typeInto(a!, '\r');
    typeInto(b!, '\x03'); // Ctrl-C from the other member goes to both too
    await settle();
    expect(written()).toEqual({ [a!]: 'echo hi\r\x03', [b!]: 'echo hi\r\x03' });

    // A non-member's input is its own.
    typeInto(c!, 'ls\r');
    await settle();
    expect(written()[c!]).toBe('ls\r');
    expect(written()[a!]).toBe('echo hi\r\x03');
  });

  it('broadcasts a paste, but not what the terminal answers by itself (reports, mouse, focus)', async () => {
    const [a, b] = await openTabs(2);
    broadcast.setSessions([a!, b!], true);
    broadcast.setBroadcasting(true);
    await settle();
    replyFrom(a!, '\x1b[12;1R'); // a cursor position report, parsed from output
    replyFrom(b!, '\x1b[I'); // focus in
    await sessions.paneController(paneOf(a!))!.paste('make test');
    await settle();
    expect(written()).toEqual({ [a!]: '\x1b[12;1Rmake test', [b!]: '\x1b[Imake test' });
  });

  it('turned off, every pane writes to its own session again (the group is kept)', async () => {
    const [a, b] = await openTabs(2);
    broadcast.setSessions([a!, b!], true);
    broadcast.toggle();
    expect(broadcast.enabled).toBe(true);
    broadcast.toggle();
    expect(broadcast.enabled).toBe(false);
    expect(broadcast.members).toEqual([a, b]);
    typeInto(a!, 'only-a\r');
    await settle();
    expect(written()).toEqual({ [a!]: 'only-a\r' });
    expect(broadcast.receivingCount).toBe(0);
  });

  it('Ctrl+Shift+B with nothing selected opens the selection instead of broadcasting', async () => {
    await openTabs(2);
    broadcast.toggle();
    expect(broadcast.enabled).toBe(false);
    expect(broadcast.selecting).toBe(true);
    broadcast.selectAll();
    broadcast.toggle();
    expect(broadcast.enabled).toBe(true);
    expect(broadcast.selecting).toBe(false);
  });

  it('follows the menu’s toggle-broadcast command', async () => {
    const [a, b] = await openTabs(2);
    broadcast.setSessions([a!, b!], true);
    bridge.emit('app.command', { command: 'toggle-broadcast' });
    expect(broadcast.enabled).toBe(true);
    bridge.emit('app.command', { command: 'toggle-broadcast' });
    expect(broadcast.enabled).toBe(false);
  });

  it('a member that closes leaves the group; broadcasting stops with the last one', async () => {
    const [a, b, c] = await openTabs(3);
    broadcast.setSessions([a!, b!, c!], true);
    broadcast.setBroadcasting(true);

    bridge.emit('session.updated', sessionInfo({ id: b!, state: 'closed' }));
    expect(broadcast.members).toEqual([a, c]);
    typeInto(a!, 'x');
    await settle();
    expect(written()).toEqual({ [a!]: 'x', [c!]: 'x' });

    sessions.closeTab(sessions.tabs[2]!.id); // c's tab
    expect(broadcast.members).toEqual([a]);
    expect(broadcast.enabled).toBe(true);
    bridge.emit('session.updated', sessionInfo({ id: a!, state: 'closed' }));
    expect(broadcast.members).toEqual([]);
    expect(broadcast.enabled).toBe(false);
    expect(broadcast.candidates).toEqual([]);
  });

  it('a slow member holds back only its own input, which still arrives whole and in order', async () => {
    const [a, b, c] = await openTabs(3);
    broadcast.setSessions([a!, b!, c!], true);
    broadcast.setBroadcasting(true);
    const stuck = deferred<null>();
    bridge.handle('sessions.write', (req) => (req.sessionId === b ? stuck.promise : null));

    for (const key of ['u', 'p', 't', 'i', 'm', 'e', '\r']) {
      typeInto(a!, key);
      await settle(1);
    }
    await settle();
    expect(written()[a!]).toBe('uptime\r');
    expect(written()[c!]).toBe('uptime\r');
    // b: its first write is still in flight, the rest waits in its queue.
    expect(written()[b!]).toBe('u');

    bridge.handle('sessions.write', () => null);
    stuck.resolve(null);
    await settle();
    expect(written()[b!]).toBe('uptime\r');
  });

  it('a reconnecting member stays in the group; its input is queued for it as usual', async () => {
    const [a, b] = await openTabs(2);
    broadcast.setSessions([a!, b!], true);
    broadcast.setBroadcasting(true);
    bridge.emit('session.updated', sessionInfo({ id: b!, state: 'reconnecting' }));
    expect(broadcast.members).toEqual([a, b]);
    typeInto(a!, 'df\r');
    await settle();
    expect(written()).toEqual({ [a!]: 'df\r', [b!]: 'df\r' });
  });

  it('selects a tab’s sessions, all of them, or none; only open sessions can join', async () => {
    const [a, b] = await openTabs(2);
    broadcast.toggleTab(sessions.tabs[1]!.id);
    expect(broadcast.members).toEqual([b]);
    expect(broadcast.tabMembership(sessions.tabs[1]!.id)).toBe('all');
    expect(broadcast.tabMembership(sessions.tabs[0]!.id)).toBe('none');
    broadcast.selectAll();
    expect(broadcast.members).toEqual([a, b]);
    broadcast.toggleSession('00000000-0000-4000-8000-ffffffffffff');
    broadcast.setSessions(['00000000-0000-4000-8000-fffffffffffe'], true);
    expect(broadcast.members).toEqual([a, b]);
    broadcast.selectNone();
    expect(broadcast.members).toEqual([]);
  });

  it('stop() gives every pane its own input back', async () => {
    const [a, b] = await openTabs(2);
    broadcast.setSessions([a!, b!], true);
    broadcast.setBroadcasting(true);
    broadcast.stop();
    typeInto(a!, 'solo\r');
    await settle();
    expect(written()).toEqual({ [a!]: 'solo\r' });
  });
});
