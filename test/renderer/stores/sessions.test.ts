// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SETTINGS, MAX_WRITE_CHARS, type SessionInfo } from '../../../preload/api.js';
import { DB1, WEB1, deferred, nextSessionId, sessionInfo, settle } from '../terminal/fake-bridge.js';
import { kits, type FakeKit } from '../terminal/fake-kit.js';
import { answerOpens, bridge, useSessionsStore, useSettingsStore } from '../terminal/store-setup.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('../terminal/fake-kit.js'));

const { paneIds } = await import('../../../renderer/terminal/layout.js');

type Store = ReturnType<typeof useSessionsStore>;
let store: Store;

function kitOf(paneId: string): FakeKit {
  const ctrl = store.paneController(paneId)!;
  return ctrl.kit as unknown as FakeKit;
}

function onlyPane(): string {
  const tab = store.activeTab!;
  return tab.focusedPaneId;
}

function output(sessionId: string, offset: number, data: string) {
  const bytes = new TextEncoder().encode(data).length;
  bridge.emit('session.output', { sessionId, offset, bytes, data });
  return offset + bytes;
}

beforeEach(async () => {
  sessionStorage.clear();
  bridge.reset();
  kits.length = 0;
  document.documentElement.removeAttribute('data-theme');
  setActivePinia(createPinia());
  store = useSessionsStore();
  await settle();
});

afterEach(() => {
  store.$dispose();
  useSettingsStore().dispose();
});

describe('opening a session', () => {
  it('opens a tab at once in a connecting state, then binds it to the session', async () => {
    const answer = deferred<SessionInfo>();
    bridge.handle('sessions.open', () => answer.promise);
    const opening = store.openSession(WEB1);
    await settle();
    expect(store.tabs).toHaveLength(1);
    const paneId = onlyPane();
    expect(store.paneStatus(paneId)).toBe('connecting');
    expect(store.tabTitle(store.tabs[0]!)).toBe('web-1');
    expect(bridge.callsTo('sessions.open')).toEqual([{ instanceId: WEB1.instanceId, cols: 80, rows: 24 }]);

    const info = sessionInfo({ id: nextSessionId() });
    answer.resolve(info);
    await opening;
    expect(store.panes[paneId]!.sessionId).toBe(info.id);
    expect(store.paneStatus(paneId)).toBe('open');
    expect(store.sessions[info.id]).toMatchObject({ id: info.id, state: 'open' });
    expect(store.list).toHaveLength(1);
    expect(store.liveCount).toBe(1);
    expect(store.tabSessionId(store.tabs[0]!)).toBe(info.id);
  });

  it('opens with the size of the last measured terminal', async () => {
    answerOpens();
    await store.openSession(WEB1);
    const ctrl = store.paneController(onlyPane())!;
    ctrl.mount(document.body.appendChild(document.createElement('div')));
    await store.openSession(DB1);
    expect(bridge.callsTo('sessions.open')[1]).toMatchObject({ cols: 100, rows: 30 });
  });

  it('shows an open error in the tab; Retry opens again; Close closes the tab', async () => {
    bridge.fail('sessions.open', 'i-0123456789abcdef0 is not connected', 'TargetNotConnected');
    await store.openSession(WEB1);
    const paneId = onlyPane();
    expect(store.paneStatus(paneId)).toBe('error');
    expect(store.panes[paneId]!.error).toBe('TargetNotConnected: i-0123456789abcdef0 is not connected');
    expect(store.tabStatus(store.tabs[0]!)).toBe('error');

    answerOpens();
    await store.retryPane(paneId);
    expect(store.paneStatus(paneId)).toBe('open');

    bridge.fail('sessions.open', 'nope');
    await store.openSession(DB1);
    const failed = onlyPane();
    store.closePane(failed);
    expect(store.tabs).toHaveLength(1);
    expect(bridge.callsTo('sessions.close')).toEqual([]); // nothing was open
  });

  it('a tab closed while opening closes the session that arrives late', async () => {
    const answer = deferred<SessionInfo>();
    bridge.handle('sessions.open', () => answer.promise);
    const opening = store.openSession(WEB1);
    await settle();
    store.closeTab(store.tabs[0]!.id);
    const info = sessionInfo({ id: nextSessionId() });
    answer.resolve(info);
    await opening;
    await settle();
    expect(bridge.callsTo('sessions.close')).toEqual([{ sessionId: info.id }]);
    expect(store.tabs).toHaveLength(0);
  });

  it('keeps output and state that arrive before sessions.open answers', async () => {
    const answer = deferred<SessionInfo>();
    bridge.handle('sessions.open', () => answer.promise);
    const opening = store.openSession(WEB1);
    await settle();
    const id = nextSessionId();
    output(id, 0, 'Last login: today\r\n$ ');
    bridge.emit('session.updated', sessionInfo({ id, state: 'open', bytesIn: 20 }));
    answer.resolve(sessionInfo({ id, state: 'connecting' }));
    await opening;
    const kit = kitOf(onlyPane());
    expect(kit.term.text).toBe('Last login: today\r\n$ ');
    expect(store.sessions[id]!.state).toBe('open'); // the event is newer than the answer
  });
});

describe('output and flow control', () => {
  it('writes every batch and acknowledges parsed bytes in one coalesced ack', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    const kit = kitOf(onlyPane());
    kit.term.autoParse = false;
    let offset = 0;
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const before = offset;
      offset = output(info!.id, offset, `line ${i}\r\n`);
      total += offset - before;
    }
    expect(kit.term.written).toHaveLength(20);
    await new Promise((r) => setTimeout(r, 30));
    expect(bridge.callsTo('sessions.ack')).toEqual([]); // not parsed yet: not acknowledged
    kit.term.parse();
    await new Promise((r) => setTimeout(r, 30));
    expect(bridge.callsTo('sessions.ack')).toEqual([{ sessionId: info!.id, bytes: total }]);
  });

  it('writes output of tabs that are not visible', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    await store.openSession(DB1);
    expect(store.activeTabId).toBe(store.tabs[1]!.id);
    output(opened[0]!.id, 0, 'background output');
    const hidden = kitOf(store.tabs[0]!.focusedPaneId);
    expect(hidden.term.text).toBe('background output');
  });

  it('ignores output of sessions it does not show', async () => {
    answerOpens();
    await store.openSession(WEB1);
    output(nextSessionId(), 0, 'someone else');
    expect(kits[0]!.term.text).toBe('');
  });
});

describe('re-attaching after a reload', () => {
  it('opens a tab per live session, writes the replay, then only newer output', async () => {
    store.$dispose();
    useSettingsStore().dispose();
    bridge.reset();
    kits.length = 0;
    const live = sessionInfo({ id: nextSessionId(), instanceName: 'web-1' });
    const reconnecting = sessionInfo({
      id: nextSessionId(),
      instanceName: 'db-1',
      instanceId: DB1.instanceId,
      state: 'reconnecting',
      reconnect: {
        attempt: 1,
        maxAttempts: 3,
        nextAttemptAt: new Date().toISOString(),
        cause: 'network lost',
      },
    });
    const closed = sessionInfo({ id: nextSessionId(), state: 'closed' });
    bridge.handle('sessions.list', () => [live, reconnecting, closed]);
    const replays = new Map([
      [live.id, deferred<{ data: string; endOffset: number; truncated: boolean }>()],
      [reconnecting.id, deferred<{ data: string; endOffset: number; truncated: boolean }>()],
    ]);
    bridge.handle('sessions.replay', (req) => replays.get(req.sessionId)!.promise);

    setActivePinia(createPinia());
    store = useSessionsStore();
    await settle();
    expect(store.tabs.map((t) => store.tabTitle(t))).toEqual(['web-1', 'db-1']);
    expect(store.activeTabId).toBe(store.tabs[0]!.id);
    expect(store.sessions[closed.id]).toBeUndefined();

    // Output while the replay is on its way: 0-10 is in the replay, 10-15 is not.
    output(live.id, 0, '0123456789');
    output(live.id, 10, 'ABCDE');
    const kit = kitOf(store.tabs[0]!.focusedPaneId);
    expect(kit.term.written).toEqual([]);
    replays.get(live.id)!.resolve({ data: '0123456789', endOffset: 10, truncated: false });
    await settle();
    output(live.id, 5, '56789'); // a late duplicate: ends at the replay's end
    output(live.id, 15, 'FG');
    expect(kit.term.written).toEqual(['0123456789', 'ABCDE', 'FG']);
    await new Promise((r) => setTimeout(r, 30));
    // The replay acknowledged 0-10; only 10-17 is acknowledged here.
    expect(bridge.callsTo('sessions.ack')).toEqual([{ sessionId: live.id, bytes: 7 }]);

    replays.get(reconnecting.id)!.resolve({ data: 'old', endOffset: 3, truncated: true });
    await settle();
    const kit2 = kitOf(store.tabs[1]!.focusedPaneId);
    expect(kit2.term.text).toContain('earlier output is no longer available');
    expect(kit2.term.text.endsWith('old')).toBe(true);
    expect(store.paneStatus(store.tabs[1]!.focusedPaneId)).toBe('reconnecting');
  });
});

describe('re-attaching: tabs and splits survive a reload', () => {
  it('restores names, splits and the active tab of sessions still open; new ones get their own tab', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    store.splitPane('down');
    await settle();
    store.renameTab(store.tabs[0]!.id, 'pair');
    await store.openSession(DB1);
    await store.openSession(WEB1);
    store.activateTab(store.tabs[1]!.id);
    const splitRatio = 0.3;
    const root = store.tabs[0]!.layout;
    if (root.kind === 'split') store.setSplitRatio(store.tabs[0]!.id, root.id, splitRatio);
    await new Promise((r) => setTimeout(r, 150)); // the layout is saved after 100 ms

    // Reload: the third tab's session ended meanwhile, and another window opened one more.
    store.$dispose();
    useSettingsStore().dispose();
    bridge.reset();
    kits.length = 0;
    const extra = sessionInfo({ id: nextSessionId(), instanceName: 'other' });
    const live = [opened[0]!, opened[1]!, opened[2]!, extra];
    bridge.handle('sessions.list', () => live);
    bridge.handle('sessions.replay', () => ({ data: '', endOffset: 0, truncated: false }));
    setActivePinia(createPinia());
    store = useSessionsStore();
    await settle();

    expect(store.tabs.map((t) => store.tabTitle(t))).toEqual(['pair', 'web-1', 'other']);
    const first = store.tabs[0]!;
    expect(first.layout).toMatchObject({ kind: 'split', direction: 'down', ratio: splitRatio });
    expect(paneIds(first.layout).map((p) => store.panes[p]!.sessionId)).toEqual([
      opened[0]!.id,
      opened[1]!.id,
    ]);
    expect(store.focusedPaneId).toBe(paneIds(store.tabs[1]!.layout)[0]);
    expect(store.activeTabId).toBe(store.tabs[1]!.id);
    expect(bridge.callsTo('sessions.replay')).toHaveLength(4);
  });

  it('ignores a saved layout that is not one', async () => {
    sessionStorage.setItem('ec2connect.workbench.v1', '{"tabs":[{"layout":{"kind":"bogus"}}]}');
    store.$dispose();
    useSettingsStore().dispose();
    bridge.reset();
    const info = sessionInfo({ id: nextSessionId() });
    bridge.handle('sessions.list', () => [info]);
    bridge.handle('sessions.replay', () => ({ data: 'x', endOffset: 1, truncated: false }));
    setActivePinia(createPinia());
    store = useSessionsStore();
    await settle();
    expect(store.tabs).toHaveLength(1);
  });
});

describe('input', () => {
  it('sends keystrokes to the session, in order', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    const term = kitOf(onlyPane()).term;
    for (const ch of 'echo hello\r') term.type(ch);
    await settle(10);
    const writes = bridge.callsTo('sessions.write');
    expect(writes.every((w) => w.sessionId === info!.id)).toBe(true);
    expect(writes.map((w) => w.data).join('')).toBe('echo hello\r');
  });

  it('keeps what is typed while connecting and sends it once open', async () => {
    const answer = deferred<SessionInfo>();
    bridge.handle('sessions.open', () => answer.promise);
    const opening = store.openSession(WEB1);
    await settle();
    kitOf(onlyPane()).term.type('ls\r');
    expect(bridge.callsTo('sessions.write')).toEqual([]);
    const info = sessionInfo({ id: nextSessionId() });
    answer.resolve(info);
    await opening;
    await settle();
    expect(bridge.callsTo('sessions.write')).toEqual([{ sessionId: info.id, data: 'ls\r' }]);
  });

  it('asks before a long paste, then sends it whole in pieces', async () => {
    answerOpens();
    await store.openSession(WEB1);
    const ctrl = store.paneController(onlyPane())!;
    const text = Array.from({ length: 2000 }, (_, i) => `echo ${'x'.repeat(40)} ${i}`).join('\n');
    const pasting = ctrl.paste(text);
    await settle();
    expect(store.pasteRequest).toMatchObject({ lines: 2000, chars: text.length });
    expect(bridge.callsTo('sessions.write')).toEqual([]);
    store.resolvePaste(true);
    expect(await pasting).toBe(true);
    await settle(40);
    const writes = bridge.callsTo('sessions.write').map((w) => w.data);
    expect(writes.join('')).toBe(text.replace(/\n/g, '\r'));
    expect(writes.length).toBe(Math.ceil(text.length / MAX_WRITE_CHARS));
    expect(store.pasteRequest).toBeNull();
  });

  it('a cancelled paste sends nothing; short pastes are not asked about', async () => {
    answerOpens();
    await store.openSession(WEB1);
    const ctrl = store.paneController(onlyPane())!;
    const pasting = ctrl.paste('a\n'.repeat(100));
    await settle();
    store.resolvePaste(false);
    expect(await pasting).toBe(false);
    expect(await ctrl.paste('one line')).toBe(true);
    await settle();
    expect(bridge.callsTo('sessions.write').map((w) => w.data)).toEqual(['one line']);
  });
});

describe('resize', () => {
  it('tells the session only when cols/rows change', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    const ctrl = store.paneController(onlyPane())!;
    const kit = kitOf(onlyPane());
    ctrl.mount(document.body.appendChild(document.createElement('div')));
    expect(bridge.callsTo('sessions.resize')).toEqual([{ sessionId: info!.id, cols: 100, rows: 30 }]);
    ctrl.fitNow();
    ctrl.fitNow();
    expect(bridge.callsTo('sessions.resize')).toHaveLength(1);
    kit.fitSize = { cols: 120, rows: 30 };
    ctrl.fitNow();
    kit.fitSize = null; // hidden: not measurable, nothing sent
    ctrl.fitNow();
    expect(bridge.callsTo('sessions.resize')).toEqual([
      { sessionId: info!.id, cols: 100, rows: 30 },
      { sessionId: info!.id, cols: 120, rows: 30 },
    ]);
  });

  it('does not resize when the terminal already has the size it was opened with', async () => {
    answerOpens();
    await store.openSession(WEB1);
    const first = store.paneController(onlyPane())!;
    first.mount(document.body.appendChild(document.createElement('div')));
    const before = bridge.callsTo('sessions.resize').length;
    await store.openSession(DB1); // opened with 100x30, the last measured size
    const second = store.paneController(onlyPane())!;
    second.mount(document.body.appendChild(document.createElement('div')));
    expect(bridge.callsTo('sessions.resize')).toHaveLength(before);
  });
});

describe('reconnecting and closed sessions', () => {
  it('follows reconnecting and back to open on the same terminal', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    const paneId = onlyPane();
    const kit = kitOf(paneId);
    output(info!.id, 0, 'scrollback line\r\n');
    bridge.emit('session.updated', {
      ...info!,
      state: 'reconnecting',
      reconnect: {
        attempt: 2,
        maxAttempts: 3,
        nextAttemptAt: new Date(Date.now() + 3000).toISOString(),
        cause: 'network lost',
      },
    });
    expect(store.paneStatus(paneId)).toBe('reconnecting');
    await store.cancelReconnect(info!.id);
    expect(bridge.callsTo('sessions.cancelReconnect')).toEqual([{ sessionId: info!.id }]);
    bridge.emit('session.updated', { ...info!, state: 'open', reconnects: 1 });
    expect(store.paneStatus(paneId)).toBe('open');
    expect(kitOf(paneId)).toBe(kit);
    expect(kits).toHaveLength(1);
    output(info!.id, 17, 'after\r\n');
    expect(kit.term.text).toBe('scrollback line\r\nafter\r\n');
  });

  it('after the session closes, input stops; Reconnect opens a new session in the same pane', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const paneId = onlyPane();
    const kit = kitOf(paneId);
    const first = opened[0]!;
    output(first.id, 0, 'old output\r\n');
    bridge.emit('session.updated', {
      ...first,
      state: 'closed',
      closed: { reason: 'the shell exited', how: 'ended', exitCode: 0 },
    });
    expect(store.paneStatus(paneId)).toBe('closed');
    expect(store.liveCount).toBe(0);
    kit.term.type('ignored');
    await settle();
    expect(bridge.callsTo('sessions.write')).toEqual([]);

    await store.reconnectPane(paneId);
    const second = opened[1]!;
    expect(store.panes[paneId]!.sessionId).toBe(second.id);
    expect(kitOf(paneId)).toBe(kit); // same terminal, old scrollback kept
    expect(kit.term.text).toContain('old output');
    expect(kit.term.text).toContain('session ended: the shell exited');
    expect(store.sessions[first.id]).toBeUndefined();
    output(first.id, 12, 'stale'); // the old session's output no longer lands here
    output(second.id, 0, 'new prompt');
    expect(kit.term.text.endsWith('new prompt')).toBe(true);
    kit.term.type('x');
    await settle();
    expect(bridge.callsTo('sessions.write')).toEqual([{ sessionId: second.id, data: 'x' }]);
  });

  it('closeSession ends the session and leaves the pane showing it ended', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    await store.closeSession(info!.id);
    expect(bridge.callsTo('sessions.close')).toEqual([{ sessionId: info!.id }]);
    bridge.emit('session.updated', {
      ...info!,
      state: 'closed',
      closed: { reason: 'terminated', how: 'terminated', exitCode: null },
    });
    expect(store.tabs).toHaveLength(1);
    expect(store.paneStatus(onlyPane())).toBe('closed');
  });

  it('sessions of other windows are listed; closed ones without a pane are forgotten', async () => {
    const other = sessionInfo({ id: nextSessionId() });
    bridge.emit('session.updated', other);
    expect(store.liveCount).toBe(1);
    expect(store.tabs).toHaveLength(0);
    bridge.emit('session.updated', {
      ...other,
      state: 'closed',
      closed: { reason: 'x', how: 'ended', exitCode: 0 },
    });
    expect(store.sessions[other.id]).toBeUndefined();
  });

  it('focusSession shows the tab of a session', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    await store.openSession(DB1);
    expect(store.focusSession(opened[0]!.id)).toBe(true);
    expect(store.activeTabId).toBe(store.tabs[0]!.id);
    expect(store.focusSession(nextSessionId())).toBe(false);
  });

  it('focusSession attaches a tab to a live session no tab shows', async () => {
    bridge.handle('sessions.replay', () => ({ data: 'earlier', endOffset: 7, truncated: false }));
    const elsewhere = sessionInfo({ id: nextSessionId(), instanceName: 'db-1' });
    bridge.emit('session.updated', elsewhere);
    expect(store.focusSession(elsewhere.id)).toBe(true);
    await settle();
    expect(store.tabs).toHaveLength(1);
    expect(store.activeTabId).toBe(store.tabs[0]!.id);
    expect(store.tabSessionId(store.tabs[0]!)).toBe(elsewhere.id);
    expect(kits[0]!.term.text).toBe('earlier');
  });
});

describe('tabs', () => {
  it('reorders, renames, cycles and closes', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    await store.openSession(DB1);
    await store.openSession({ instanceId: 'i-0aaaaaaaaaaaaaaaa', name: '' });
    const [a, b, c] = store.tabs.map((t) => t.id);
    expect(store.tabTitle(store.tabs[2]!)).toBe('i-0aaaaaaaaaaaaaaaa');

    store.moveTab(0, 2);
    expect(store.tabs.map((t) => t.id)).toEqual([b, c, a]);
    store.activateTab(a!);
    store.moveActiveTab(-1);
    expect(store.tabs.map((t) => t.id)).toEqual([b, a, c]);

    store.renameTab(a!, '  prod web  ');
    expect(store.tabTitle(store.tabs[1]!)).toBe('prod web');
    store.renameTab(a!, '   ');
    expect(store.tabTitle(store.tabs[1]!)).toBe('web-1');

    store.nextTab();
    expect(store.activeTabId).toBe(c);
    store.nextTab();
    expect(store.activeTabId).toBe(b);
    store.previousTab();
    expect(store.activeTabId).toBe(c);

    store.closeTab(c!);
    expect(store.tabs.map((t) => t.id)).toEqual([b, a]);
    expect(store.activeTabId).toBe(a);
    expect(bridge.callsTo('sessions.close')).toEqual([{ sessionId: opened[2]!.id }]);
  });

  it('splits up to four panes, each its own session to the same instance', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const tab = store.activeTab!;
    expect(store.splitPane('right')).toBe(true);
    expect(store.splitPane('down')).toBe(true);
    expect(store.splitPane('right')).toBe(true);
    expect(store.canSplitActive).toBe(false);
    expect(store.splitPane('down')).toBe(false);
    await settle();
    expect(paneIds(tab.layout)).toHaveLength(4);
    expect(opened).toHaveLength(4);
    expect(bridge.callsTo('sessions.open').every((r) => r.instanceId === WEB1.instanceId)).toBe(true);
    expect(new Set(paneIds(tab.layout).map((p) => store.panes[p]!.sessionId)).size).toBe(4);
    // The new pane has the focus.
    expect(store.focusedPaneId).toBe(paneIds(tab.layout).at(-1));

    const closing = store.focusedPaneId!;
    const closingSession = store.panes[closing]!.sessionId;
    store.closePane(closing);
    expect(paneIds(tab.layout)).toHaveLength(3);
    expect(bridge.callsTo('sessions.close')).toEqual([{ sessionId: closingSession }]);
    expect(store.panes[store.focusedPaneId!]).toBeDefined();

    store.closeTab(tab.id);
    expect(store.tabs).toHaveLength(0);
    expect(bridge.callsTo('sessions.close')).toHaveLength(4);
  });

  it('split ratios are clamped', async () => {
    answerOpens();
    await store.openSession(WEB1);
    store.splitPane('right');
    const tab = store.activeTab!;
    const split = tab.layout.kind === 'split' ? tab.layout : undefined;
    store.setSplitRatio(tab.id, split!.id, 0.02);
    expect(split!.ratio).toBe(0.1);
  });
});

describe('app.command', () => {
  it('carries out the workbench commands', async () => {
    const opened = answerOpens();
    bridge.emit('app.command', { command: 'new-session', instanceId: DB1.instanceId });
    await settle();
    expect(store.tabs).toHaveLength(1);
    expect(bridge.callsTo('sessions.open')[0]).toMatchObject({ instanceId: DB1.instanceId });

    bridge.emit('app.command', { command: 'new-session' }); // another session to the same instance
    await settle();
    expect(store.tabs).toHaveLength(2);

    bridge.emit('app.command', { command: 'split-right' });
    bridge.emit('app.command', { command: 'split-down' });
    await settle();
    expect(paneIds(store.activeTab!.layout)).toHaveLength(3);

    bridge.emit('app.command', { command: 'previous-tab' });
    expect(store.activeTabId).toBe(store.tabs[0]!.id);
    bridge.emit('app.command', { command: 'next-tab' });
    expect(store.activeTabId).toBe(store.tabs[1]!.id);

    bridge.emit('app.command', { command: 'find' });
    expect(store.search.open).toBe(true);

    bridge.emit('app.command', { command: 'clear-terminal' });
    expect(kitOf(store.focusedPaneId!).term.cleared).toBe(1);

    bridge.emit('app.command', { command: 'close-tab' });
    expect(store.tabs).toHaveLength(1);
    expect(bridge.callsTo('sessions.close')).toHaveLength(3);
    expect(opened).toHaveLength(4);

    expect(store.runCommand('show-settings')).toBe(false);
  });
});

describe('search', () => {
  it('finds in the focused terminal and reports the match count', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    output(info!.id, 0, 'foo bar foo baz foo');
    store.openSearch();
    store.search.query = 'foo';
    expect(store.find('next')).toBe(true);
    expect(store.search).toMatchObject({ resultIndex: 0, resultCount: 3 });
    store.find('previous');
    expect(store.search.resultIndex).toBe(2);
    store.search.regex = true;
    store.search.query = '(';
    expect(store.find('next')).toBe(false);
    expect(store.search.invalid).toBe(true);
    store.closeSearch();
    expect(store.search.open).toBe(false);
    expect(kitOf(onlyPane()).searchCleared).toBeGreaterThan(0);
  });
});

describe('settings and theme', () => {
  it('applies settings changes to every terminal', async () => {
    answerOpens();
    await store.openSession(WEB1);
    await store.openSession(DB1);
    bridge.emit('settings.changed', { ...DEFAULT_SETTINGS, fontSize: 18, renderer: 'dom', scrollback: 5000 });
    await settle();
    for (const kit of kits) {
      expect(kit.term.options.fontSize).toBe(18);
      expect(kit.term.options.scrollback).toBe(5000);
      expect(kit.rendererSetting).toBe('dom');
    }
  });

  it('re-reads the colours when data-theme changes', async () => {
    answerOpens();
    await store.openSession(WEB1);
    const kit = kits[0]!;
    document.documentElement.style.setProperty('--terminal-bg', '#123456');
    document.documentElement.setAttribute('data-theme', 'dark');
    await settle();
    expect(kit.term.options.theme?.background).toBe('#123456');
    document.documentElement.style.removeProperty('--terminal-bg');
  });
});

describe('lifecycle', () => {
  it('leaves no terminal, listener or subscription behind after many tabs open and close', async () => {
    answerOpens();
    const baseline = bridge.listenerCount();
    expect(bridge.listenerCount('session.output')).toBe(1);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 6; i++) await store.openSession(i % 2 ? WEB1 : DB1);
      store.splitPane('right');
      store.splitPane('down');
      await settle();
      for (const paneId of Object.keys(store.panes)) {
        const ctrl = store.paneController(paneId)!;
        ctrl.mount(document.body.appendChild(document.createElement('div')));
      }
      if (round % 2) for (const tab of [...store.tabs]) store.closeTab(tab.id);
      else for (const paneId of Object.keys(store.panes)) store.closePane(paneId);
      expect(store.tabs).toHaveLength(0);
      expect(Object.keys(store.panes)).toHaveLength(0);
    }
    expect(kits).toHaveLength(40);
    for (const kit of kits) {
      expect(kit.disposed).toBe(true);
      expect(kit.term.listenerCount()).toBe(0);
      expect(kit.term.element?.isConnected ?? false).toBe(false);
    }
    expect(bridge.listenerCount()).toBe(baseline);
    expect(bridge.callsTo('sessions.close')).toHaveLength(40);

    store.$dispose();
    expect(bridge.listenerCount('session.output')).toBe(0);
    expect(bridge.listenerCount('session.updated')).toBe(0);
    expect(bridge.listenerCount('app.command')).toBe(0);
    expect(window.__ec2connectTest).toBeUndefined();
  });

  it('exposes the buffer text for end-to-end tests', async () => {
    const opened = answerOpens();
    await store.openSession(WEB1);
    const info = opened[0];
    output(info!.id, 0, '$ echo hello\r\nhello\r\n$ ');
    expect(window.__ec2connectTest!.bufferText(info!.id)).toBe('$ echo hello\nhello\n$');
  });
});
