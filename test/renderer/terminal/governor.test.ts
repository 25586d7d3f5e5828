// @vitest-environment happy-dom
/**
 * The resource governor's terminal policy: economy rendering (xterm's DOM renderer, no cursor
 * blink) and trimmed scrollback for background tabs, applied by the sessions store to every
 * pane and undone when lifted or when a tab comes to the front.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { DEFAULT_SETTINGS, type GovernorState } from '../../../preload/api.js';
import { DB1, WEB1, settle } from './fake-bridge.js';
import type { FakeKit } from './fake-kit.js';
import {
  bridge,
  disposeTerminalStores,
  freshTerminalPage,
  useSessionsStore,
  useSettingsStore,
} from './store-setup.js';
import { governorAt, governorState } from '../helpers/resources-fixtures.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));

const { useResourcesStore } = await import('../../../renderer/stores/resources.js');
const { terminalPolicy, NO_POLICY } = await import('../../../renderer/terminal/governor.js');

type Store = ReturnType<typeof useSessionsStore>;
let store: Store;

function kitOf(paneId: string): FakeKit {
  return store.paneController(paneId)!.kit as unknown as FakeKit;
}

function govern(state: GovernorState): void {
  useResourcesStore().applyGovernor({ state, change: null });
}

const ui = (partial: Partial<GovernorState['ui']>): GovernorState =>
  governorState({ ui: { updateIntervalMs: 1000, backgroundScrollback: null, economy: false, ...partial } });

beforeEach(async () => {
  freshTerminalPage();
  let stored = structuredClone(DEFAULT_SETTINGS);
  bridge.handle('settings.update', (patch) => {
    stored = { ...stored, ...patch, notifications: stored.notifications, resources: stored.resources };
    return structuredClone(stored);
  });
  store = useSessionsStore();
  await settle();
});

afterEach(() => {
  disposeTerminalStores();
  useResourcesStore().dispose();
});

describe('terminalPolicy', () => {
  it('asks nothing without a governor, trims only background terminals, economy for all', () => {
    expect(terminalPolicy(null, false)).toEqual(NO_POLICY);
    const trim = governorAt('trim').ui;
    expect(terminalPolicy(trim, true)).toEqual({ economy: true, scrollbackCap: null });
    expect(terminalPolicy(trim, false)).toEqual({ economy: true, scrollbackCap: 500 });
    expect(terminalPolicy(governorState().ui, false)).toEqual({ economy: false, scrollbackCap: null });
  });
});

describe('the governor and the terminals', () => {
  it('economy: canvas instead of WebGL and no cursor blink in every terminal, the settings restored after', async () => {
    await useSettingsStore().update({ renderer: 'webgl', cursorBlink: true });
    await store.openSession(WEB1);
    await store.openSession(DB1);
    const [a, b] = store.tabs.map((t) => kitOf(t.focusedPaneId));
    expect(a!.rendererSetting).toBe('webgl');
    expect(a!.term.options.cursorBlink).toBe(true);

    govern(ui({ economy: true }));
    await nextTick();
    for (const kit of [a!, b!]) {
      expect(kit.rendererSetting).toBe('canvas');
      expect(kit.renderer).toBe('canvas');
      expect(kit.term.options.cursorBlink).toBe(false);
    }

    // A settings change meanwhile is remembered, not applied over the governor.
    await useSettingsStore().update({ renderer: 'dom' });
    await nextTick();
    expect(a!.rendererSetting).toBe('dom'); // the DOM renderer set by the user is kept in economy
    expect(a!.term.options.cursorBlink).toBe(false);

    // A terminal opened during economy starts in economy.
    await store.openSession(WEB1);
    await nextTick();
    const c = kitOf(store.tabs[2]!.focusedPaneId);
    expect(c.rendererSetting).toBe('dom');
    expect(c.term.options.cursorBlink).toBe(false);

    govern(governorState());
    await nextTick();
    for (const kit of [a!, b!, c]) {
      expect(kit.rendererSetting).toBe('dom');
      expect(kit.term.options.cursorBlink).toBe(true);
    }
  });

  it('trims the scrollback of background tabs only, and restores it when shown or lifted', async () => {
    await store.openSession(WEB1);
    await store.openSession(DB1); // the active tab
    const [first, second] = store.tabs;
    const bg = kitOf(first!.focusedPaneId);
    const fg = kitOf(second!.focusedPaneId);
    expect(bg.term.options.scrollback).toBe(DEFAULT_SETTINGS.scrollback);

    govern(ui({ backgroundScrollback: 500 }));
    await nextTick();
    expect(bg.term.options.scrollback).toBe(500);
    expect(fg.term.options.scrollback).toBe(DEFAULT_SETTINGS.scrollback);
    expect(bg.rendererSetting).toBe(DEFAULT_SETTINGS.renderer); // no economy asked

    // Bring the first tab to the front: it gets its scrollback back, the other one is trimmed.
    store.activateTab(first!.id);
    await nextTick();
    expect(bg.term.options.scrollback).toBe(DEFAULT_SETTINGS.scrollback);
    expect(fg.term.options.scrollback).toBe(500);

    // A smaller setting than the cap wins; the setting comes back when the governor lifts it.
    await useSettingsStore().update({ scrollback: 300 });
    await nextTick();
    expect(fg.term.options.scrollback).toBe(300);
    await useSettingsStore().update({ scrollback: 20_000 });
    await nextTick();
    expect(fg.term.options.scrollback).toBe(500);
    govern(governorState());
    await nextTick();
    expect(fg.term.options.scrollback).toBe(20_000);
    expect(bg.term.options.scrollback).toBe(20_000);
  });

  it('splits in a background tab are trimmed too; closing panes leaves no stale policy', async () => {
    await store.openSession(WEB1);
    store.splitPane('right');
    await settle();
    const back = store.tabs[0]!;
    await store.openSession(DB1);
    govern(governorAt('trim'));
    await nextTick();
    const paneIds = Object.values(store.panes)
      .filter((p) => p.tabId === back.id)
      .map((p) => p.id);
    expect(paneIds).toHaveLength(2);
    for (const id of paneIds)
      expect(store.paneController(id)!.governorPolicy).toEqual({ economy: true, scrollbackCap: 500 });
    store.closeTab(back.id);
    await nextTick();
    const left = Object.keys(store.panes);
    expect(left).toHaveLength(1);
    expect(store.paneController(left[0]!)!.governorPolicy).toEqual({ economy: true, scrollbackCap: null });
  });
});
