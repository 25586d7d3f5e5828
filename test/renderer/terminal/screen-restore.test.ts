// @vitest-environment happy-dom
/**
 * The screen of a lost session and its re-attach in the renderer: what is written into the pane
 * (reset, old screen, separator), the screens kept in memory and sessionStorage (bounded), and
 * the sessions store taking a re-attached session into the lost session's pane, by Re-attach or
 * by the session.reattached event of an automatic re-attach.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionInfo } from '../../../preload/api.js';
import {
  MAX_STORED_SCREENS,
  SCREEN_KEY_PREFIX,
  ScreenMemory,
  captureScreen,
  reattachLabel,
  restoreText,
  separatorLine,
  type ScreenSnapshot,
} from '../../../renderer/terminal/screen-restore.js';
import { WEB1, nextSessionId, sessionInfo, settle } from './fake-bridge.js';
import { FakeKit } from './fake-kit.js';
import { bridge, disposeTerminalStores, freshTerminalPage, useSessionsStore } from './store-setup.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));

const TMUX = { tool: 'tmux', name: 'ec2c-0a1b2c3d' } as const;

/** Text without its colour and style sequences. */
function withoutStyles(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}

function snapshot(partial: Partial<ScreenSnapshot> = {}): ScreenSnapshot {
  return { normal: 'old-line\r\n$ ', alternate: null, cols: 80, rows: 24, takenAt: 1, ...partial };
}

describe('what is written', () => {
  it('labels the separator with the tmux/screen session, the instance and the time, or says nothing was kept', () => {
    const at = new Date(2026, 10, 26, 9, 5);
    expect(reattachLabel({ persistence: TMUX, instanceName: 'web-1' }, at)).toBe(
      're-attached to tmux session ec2c-0a1b2c3d on web-1 at 09:05',
    );
    expect(reattachLabel({ instanceName: 'web-1' }, at)).toBe(
      'new shell on web-1 at 09:05: nothing was kept running there',
    );
  });

  it('draws a dim separator across the terminal, shortening a label that does not fit', () => {
    const line = separatorLine(40, 'hello');
    const plain = withoutStyles(line).trim();
    expect(plain).toMatch(/^─+ hello ─+$/);
    expect(plain.length).toBe(39);
    expect(line).toContain('\x1b[2m');
    const long = withoutStyles(separatorLine(20, 'x'.repeat(50))).trim();
    expect(long.length).toBe(19);
    expect(long).toContain('…');
  });

  it('resets, redraws the old screen (the alternate screen below the normal one), then the separator', () => {
    const plain = restoreText(snapshot(), 'LABEL', 60);
    expect(plain.startsWith('\x1bcold-line\r\n$ ')).toBe(true);
    expect(plain.indexOf('LABEL')).toBeGreaterThan(plain.indexOf('$ '));
    // The old program's mouse and paste modes are switched off before the new session.
    expect(plain).toContain('\x1b[?1000l');
    expect(plain).toContain('\x1b[?2004l');

    const tmux = restoreText(snapshot({ alternate: 'TMUX-SCREEN', rows: 30 }), 'LABEL', 60);
    const alt = tmux.indexOf('TMUX-SCREEN');
    expect(alt).toBeGreaterThan(tmux.indexOf('$ '));
    // Below the whole alternate screen before the separator, whatever its last cursor move was.
    expect(tmux.slice(alt).startsWith('TMUX-SCREEN\x1b[0m\x1b[30B\r')).toBe(true);
    expect(tmux.indexOf('LABEL')).toBeGreaterThan(alt);
    // Nothing switches to the alternate screen: it is all in the pane's own buffer.
    expect(tmux).not.toContain('\x1b[?1049h');
  });
});

describe('screens kept', () => {
  it('keeps a screen in memory and in storage, where a new page finds it', () => {
    const first = new ScreenMemory(sessionStorage);
    first.set('s1', snapshot({ normal: 'kept' }));
    expect(sessionStorage.getItem(`${SCREEN_KEY_PREFIX}s1`)).toContain('kept');
    const reloaded = new ScreenMemory(sessionStorage);
    expect(reloaded.get('s1')?.normal).toBe('kept');
    reloaded.delete('s1');
    expect(sessionStorage.getItem(`${SCREEN_KEY_PREFIX}s1`)).toBeNull();
    expect(new ScreenMemory(sessionStorage).get('s1')).toBeNull();
  });

  it('stores at most MAX_STORED_SCREENS (the newest), skips huge ones and ignores damaged ones', () => {
    const memory = new ScreenMemory(sessionStorage);
    for (let i = 0; i < MAX_STORED_SCREENS + 3; i++) memory.set(`s${i}`, snapshot({ takenAt: i + 1 }));
    const stored = Object.keys(sessionStorage).filter((k) => k.startsWith(SCREEN_KEY_PREFIX));
    expect(stored).toHaveLength(MAX_STORED_SCREENS);
    expect(stored).not.toContain(`${SCREEN_KEY_PREFIX}s0`);
    // All still in this page's memory.
    expect(memory.size).toBe(MAX_STORED_SCREENS + 3);

    memory.set('huge', snapshot({ normal: 'x'.repeat(2_100_000) }));
    expect(sessionStorage.getItem(`${SCREEN_KEY_PREFIX}huge`)).toBeNull();
    expect(memory.get('huge')).not.toBeNull();

    sessionStorage.setItem(`${SCREEN_KEY_PREFIX}bad`, '{not json');
    expect(new ScreenMemory(sessionStorage).get('bad')).toBeNull();
  });

  it('captures once what was written is parsed, through the kit’s serializer when it has one', async () => {
    const kit = new FakeKit({ terminal: {}, renderer: 'canvas', openLink: () => {} });
    kit.term.autoParse = false;
    kit.term.write('first\r\nsecond');
    const taken = captureScreen(kit);
    let done = false;
    void taken.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    kit.term.parse();
    expect((await taken).normal).toBe('first\r\nsecond');

    const withSerializer = Object.assign(kit, {
      snapshot: (scrollback: number) => ({ normal: `serialized-${scrollback}`, alternate: 'alt' }),
    });
    kit.term.autoParse = true;
    expect(await captureScreen(withSerializer)).toMatchObject({
      normal: 'serialized-5000',
      alternate: 'alt',
      cols: 80,
      rows: 24,
    });
  });
});

describe('the sessions store', () => {
  type Store = ReturnType<typeof useSessionsStore>;
  let store: Store;

  beforeEach(async () => {
    freshTerminalPage();
    store = useSessionsStore();
    await settle();
  });
  afterEach(disposeTerminalStores);

  /** A tab with a session in tmux that printed `text`, then lost for good. */
  async function lostSession(text: string): Promise<{ paneId: string; lost: SessionInfo; kit: FakeKit }> {
    const lost = sessionInfo({ id: nextSessionId(), persistence: TMUX });
    bridge.handle('sessions.open', () => lost);
    await store.openSession(WEB1);
    const paneId = store.activeTab!.focusedPaneId;
    bridge.emit('session.output', { sessionId: lost.id, offset: 0, bytes: text.length, data: text });
    await settle();
    bridge.emit('session.updated', {
      ...lost,
      state: 'closed',
      closed: { reason: 'Session x no longer exists.', how: 'ended', exitCode: null },
      reattachable: { reason: 'Session x no longer exists.' },
    });
    await settle();
    const kit = store.paneController(paneId)!.kit as unknown as FakeKit;
    return { paneId, lost, kit };
  }

  it('keeps the lost screen, re-attaches in the same pane below it, and continues from the replay', async () => {
    const { paneId, lost, kit } = await lostSession('before-42\r\n$ ');
    expect(store.paneStatus(paneId)).toBe('closed');
    expect(sessionStorage.getItem(`${SCREEN_KEY_PREFIX}${lost.id}`)).toContain('before-42');

    const next = sessionInfo({ id: nextSessionId(), persistence: TMUX, reattachedFrom: lost.id });
    bridge.handle('sessions.reattach', () => next);
    bridge.handle('sessions.replay', () => ({ data: 'tmux-redraw', endOffset: 11, truncated: false }));
    kit.term.written.length = 0;
    await store.reattachPane(paneId);
    await settle();

    expect(bridge.callsTo('sessions.reattach')).toEqual([{ sessionId: lost.id, cols: 80, rows: 24 }]);
    expect(store.panes[paneId]).toMatchObject({ sessionId: next.id, phase: 'attached' });
    expect(store.paneStatus(paneId)).toBe('open');
    expect(store.sessions[lost.id]).toBeUndefined();
    const written = kit.term.text;
    expect(written.indexOf('\x1bcbefore-42')).toBe(0);
    expect(written.indexOf('re-attached to tmux session ec2c-0a1b2c3d on web-1 at')).toBeGreaterThan(0);
    expect(written.indexOf('tmux-redraw')).toBeGreaterThan(written.indexOf('re-attached to tmux'));
    // The kept screen is no longer needed.
    expect(sessionStorage.getItem(`${SCREEN_KEY_PREFIX}${lost.id}`)).toBeNull();
    // Output after the replay is live in the same pane.
    bridge.emit('session.output', { sessionId: next.id, offset: 11, bytes: 6, data: 'live-1' });
    await settle();
    expect(kit.term.text.endsWith('live-1')).toBe(true);
  });

  it('follows an automatic re-attach (session.reattached) the same way, once', async () => {
    const { paneId, lost, kit } = await lostSession('auto-25\r\n$ ');
    const next = sessionInfo({ id: nextSessionId(), reattachedFrom: lost.id });
    bridge.handle('sessions.replay', () => ({ data: '$ ', endOffset: 2, truncated: false }));
    bridge.emit('session.reattached', { previousId: lost.id, session: next });
    bridge.emit('session.reattached', { previousId: lost.id, session: next });
    await settle();
    expect(store.panes[paneId]?.sessionId).toBe(next.id);
    expect(kit.term.text.split('new shell on web-1 at')).toHaveLength(2);
    expect(bridge.callsTo('sessions.replay')).toEqual([{ sessionId: next.id }]);
  });

  it('closing the pane of a lost session withdraws its re-attach and drops its screen', async () => {
    const { paneId, lost } = await lostSession('bye\r\n$ ');
    store.closePane(paneId);
    await settle();
    expect(bridge.callsTo('sessions.close')).toEqual([{ sessionId: lost.id }]);
    expect(sessionStorage.getItem(`${SCREEN_KEY_PREFIX}${lost.id}`)).toBeNull();
    expect(store.tabs).toHaveLength(0);
  });
});
