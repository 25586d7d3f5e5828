// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import type { SessionInfo } from '../../../preload/api.js';
import { DB1, WEB1, nextSessionId, sessionInfo, settle } from './fake-bridge.js';
import { kits } from './fake-kit.js';
import {
  bridge,
  disposeTerminalStores,
  freshTerminalPage,
  useSessionsStore,
  useSettingsStore,
} from './store-setup.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));

const { useInstancesStore } = await import('../../../renderer/stores/instances.js');
const { default: TerminalWorkbench } = await import('../../../renderer/terminal/TerminalWorkbench.vue');
const { useAppStore } = await import('../../../renderer/stores/app.js');
const { useDiagnosticsStore } = await import('../../../renderer/stores/diagnostics.js');

let pinia: Pinia;
let wrapper: VueWrapper | undefined;
let opened: SessionInfo[];

function store() {
  return useSessionsStore();
}

async function mountWorkbench(): Promise<VueWrapper> {
  wrapper = mount(TerminalWorkbench, { global: { plugins: [pinia] }, attachTo: document.body });
  await settle();
  return wrapper;
}

beforeEach(() => {
  ({ opened, pinia } = freshTerminalPage());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  disposeTerminalStores();
  document.body.innerHTML = '';
});

describe('TerminalWorkbench', () => {
  it('shows an empty state without tabs', async () => {
    const w = await mountWorkbench();
    expect(w.find('[data-testid="workbench-empty"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="tab"]')).toHaveLength(0);
  });

  it('renders tabs and panes with their session ids and states, the terminal inside the pane', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await settle();
    const tab = w.get('[data-testid="tab"]');
    expect(tab.attributes('data-session-id')).toBe(opened[0]!.id);
    expect(tab.attributes('data-state')).toBe('open');
    expect(w.get('[data-testid="tab-title"]').text()).toBe('web-1');
    const pane = w.get('[data-testid="terminal-pane"]');
    expect(pane.attributes('data-session-id')).toBe(opened[0]!.id);
    // The pane's container holds the controller's element with the (fake) xterm in it.
    expect(pane.element.querySelector('.terminal-host .xterm')).not.toBeNull();
  });

  it('renames a tab by double-click (Enter keeps, Escape cancels)', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await settle();
    await w.get('[data-testid="tab"]').trigger('dblclick');
    const input = w.get<HTMLInputElement>('[data-testid="tab-rename"]');
    await input.setValue('build box');
    await input.trigger('keydown', { key: 'Enter' });
    expect(w.get('[data-testid="tab-title"]').text()).toBe('build box');

    await w.get('[data-testid="tab"]').trigger('dblclick');
    await w.get('[data-testid="tab-rename"]').setValue('nope');
    await w.get('[data-testid="tab-rename"]').trigger('keydown', { key: 'Escape' });
    expect(w.get('[data-testid="tab-title"]').text()).toBe('build box');
  });

  it('closes a tab with its button or a middle click, closing the sessions', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await store().openSession(DB1);
    await settle();
    await w.findAll('[data-testid="tab-close"]')[0]!.trigger('click');
    expect(w.findAll('[data-testid="tab"]')).toHaveLength(1);
    await w.get('[data-testid="tab"]').trigger('auxclick', { button: 1 });
    expect(w.findAll('[data-testid="tab"]')).toHaveLength(0);
    expect(bridge.callsTo('sessions.close').map((r) => r.sessionId)).toEqual([opened[0]!.id, opened[1]!.id]);
  });

  it('reorders tabs by drag and drop', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await store().openSession(DB1);
    await settle();
    const ids = store().tabs.map((t) => t.id);
    const tabs = w.findAll('[data-testid="tab"]');
    const data = new Map<string, string>();
    const dataTransfer = {
      effectAllowed: 'none',
      dropEffect: 'none',
      setData: (k: string, v: string) => void data.set(k, v),
      getData: (k: string) => data.get(k) ?? '',
    };
    await tabs[0]!.trigger('dragstart', { dataTransfer });
    tabs[1]!.element.getBoundingClientRect = () => ({ left: 100, width: 100, top: 0, height: 30 }) as DOMRect;
    await tabs[1]!.trigger('dragover', { dataTransfer, clientX: 190 });
    await tabs[1]!.trigger('drop', { dataTransfer, clientX: 190 });
    expect(store().tabs.map((t) => t.id)).toEqual([ids[1], ids[0]]);
  });

  it('switches and moves tabs with the keyboard', async () => {
    await mountWorkbench();
    await store().openSession(WEB1);
    await store().openSession(DB1);
    const [a, b] = store().tabs.map((t) => t.id);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', ctrlKey: true }));
    expect(store().activeTabId).toBe(a);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'PageDown', ctrlKey: true, shiftKey: true }));
    expect(store().tabs.map((t) => t.id)).toEqual([b, a]);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F', ctrlKey: true, shiftKey: true }));
    await settle();
    expect(store().search.open).toBe(true);
  });

  it('shows the reconnect overlay over the terminal, with a countdown and Cancel', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    const info = opened[0]!;
    bridge.emit('session.updated', {
      ...info,
      state: 'reconnecting',
      reconnect: {
        attempt: 2,
        maxAttempts: 3,
        nextAttemptAt: new Date(Date.now() + 2600).toISOString(),
        cause: 'The network connection was lost',
      },
    });
    await settle();
    const overlay = w.get('[data-testid="reconnect-overlay"]');
    expect(overlay.text()).toContain('Reconnecting… attempt 2 of 3, next try in 3 s');
    expect(overlay.text()).toContain('The network connection was lost');
    // The terminal stays underneath.
    expect(w.get('[data-testid="terminal-pane"]').element.querySelector('.xterm')).not.toBeNull();
    await w.get('[data-testid="reconnect-cancel"]').trigger('click');
    expect(bridge.callsTo('sessions.cancelReconnect')).toEqual([{ sessionId: info.id }]);

    bridge.emit('session.updated', { ...info, state: 'open' });
    await settle();
    expect(w.find('[data-testid="reconnect-overlay"]').exists()).toBe(false);
    expect(kits).toHaveLength(1);
  });

  it('shows "Session ended" with Reconnect (same pane) and Close tab', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    const info = opened[0]!;
    bridge.emit('session.updated', {
      ...info,
      state: 'closed',
      closed: { reason: 'The shell exited', how: 'ended', exitCode: 1 },
    });
    await settle();
    const banner = w.get('[data-testid="session-ended"]');
    expect(banner.text()).toContain('Session ended: The shell exited (exit code 1)');
    expect(w.get('[data-testid="tab"]').attributes('data-state')).toBe('closed');
    await w.get('[data-testid="session-reconnect"]').trigger('click');
    await settle();
    expect(opened).toHaveLength(2);
    expect(w.get('[data-testid="terminal-pane"]').attributes('data-session-id')).toBe(opened[1]!.id);
    expect(w.find('[data-testid="session-ended"]').exists()).toBe(false);
    expect(kits).toHaveLength(1);

    bridge.emit('session.updated', {
      ...opened[1]!,
      state: 'closed',
      closed: { reason: 'x', how: 'ended', exitCode: 0 },
    });
    await settle();
    expect(w.get('[data-testid="session-close"]').text()).toBe('Close tab');
    await w.get('[data-testid="session-close"]').trigger('click');
    expect(w.findAll('[data-testid="tab"]')).toHaveLength(0);
  });

  it('shows an open error with Retry', async () => {
    bridge.fail('sessions.open', 'instance is not connected');
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await settle();
    expect(w.get('[data-testid="tab"]').attributes('data-state')).toBe('error');
    expect(w.get('[data-testid="pane-error"]').text()).toContain('instance is not connected');
    bridge.handle('sessions.open', () => sessionInfo({ id: nextSessionId() }));
    await w.get('[data-testid="pane-retry"]').trigger('click');
    await settle();
    expect(w.find('[data-testid="pane-error"]').exists()).toBe(false);
    expect(w.get('[data-testid="tab"]').attributes('data-state')).toBe('open');
  });

  it('opens Diagnostics on the instance of a session that could not open', async () => {
    bridge.fail('sessions.open', 'instance is not connected');
    bridge.handle('diagnostics.run', () => new Promise(() => {}));
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await settle();
    await w.get('[data-testid="pane-diagnose"]').trigger('click');
    await settle();
    expect(useAppStore().activeView).toBe('diagnostics');
    expect(useDiagnosticsStore().instanceId).toBe(WEB1.instanceId);
    expect(useDiagnosticsStore().running).toBe('preventive');
  });

  it('splits with the buttons, up to four panes, and keeps each terminal when the layout changes', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    await settle();
    const firstHost = store().paneController(store().focusedPaneId!)!.element;
    await w.get('[data-testid="split-right"]').trigger('click');
    await settle();
    await w.get('[data-testid="split-down"]').trigger('click');
    await settle();
    await w.get('[data-testid="split-right"]').trigger('click');
    await settle();
    expect(w.findAll('[data-testid="terminal-pane"]')).toHaveLength(4);
    expect(w.get('[data-testid="split-right"]').attributes('disabled')).toBeDefined();
    expect(w.findAll('[data-testid="split-divider"]')).toHaveLength(3);
    // The first pane's terminal was moved, not recreated.
    expect(firstHost.isConnected).toBe(true);
    expect(kits).toHaveLength(4);
    expect(w.findAll('.pane.focused')).toHaveLength(1);
    expect(w.get('[data-testid="tab"]').text()).toContain('4');
  });

  it('search bar: typing searches, Enter goes to the next match, Escape closes', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    bridge.emit('session.output', { sessionId: opened[0]!.id, offset: 0, bytes: 11, data: 'abc abc abc' });
    store().openSearch();
    await settle();
    const input = w.get('[data-testid="search-input"]');
    await input.setValue('abc');
    expect(w.get('[data-testid="search-count"]').text()).toBe('1 of 3');
    await input.trigger('keydown', { key: 'Enter', shiftKey: true });
    expect(w.get('[data-testid="search-count"]').text()).toBe('3 of 3');
    await input.trigger('keydown', { key: 'Escape' });
    expect(w.find('[data-testid="search-input"]').exists()).toBe(false);
  });

  it('asks in a dialog before a long paste', async () => {
    const w = await mountWorkbench();
    await store().openSession(WEB1);
    const ctrl = store().paneController(store().focusedPaneId!)!;
    const pasting = ctrl.paste('line\n'.repeat(80) + 'last');
    await settle();
    const dialog = w.get('[data-testid="paste-confirm"]');
    expect(dialog.text()).toContain('81 lines');
    await w.get('[data-testid="paste-ok"]').trigger('click');
    expect(await pasting).toBe(true);
    await nextTick();
    expect(w.find('[data-testid="paste-confirm"]').exists()).toBe(false);
  });

  it('routes a native paste event through the confirmation and xterm', async () => {
    await mountWorkbench();
    await store().openSession(WEB1);
    const ctrl = store().paneController(store().focusedPaneId!)!;
    const event = new Event('paste', { bubbles: true, cancelable: true }) as ClipboardEvent;
    Object.defineProperty(event, 'clipboardData', { value: { getData: () => 'pwd\n' } });
    ctrl.element.querySelector('.xterm')!.dispatchEvent(event);
    await settle();
    expect(event.defaultPrevented).toBe(true);
    expect(bridge.callsTo('sessions.write').map((r) => r.data)).toEqual(['pwd\r']);
  });

  it('opening and closing many tabs leaves no subscription, terminal or window listener behind', async () => {
    const add = vi.spyOn(window, 'addEventListener');
    const remove = vi.spyOn(window, 'removeEventListener');
    const w = await mountWorkbench();
    const baseline = bridge.listenerCount();
    for (let i = 0; i < 12; i++) {
      await store().openSession(i % 2 ? WEB1 : DB1);
      if (i % 3 === 0) store().splitPane('right');
      await settle();
    }
    expect(w.findAll('[data-testid="tab"]')).toHaveLength(12);
    for (const close of w.findAll('[data-testid="tab-close"]')) await close.trigger('click');
    await settle();
    expect(w.findAll('[data-testid="terminal-pane"]')).toHaveLength(0);
    expect(kits.every((k) => k.disposed && k.term.listenerCount() === 0)).toBe(true);
    expect(bridge.listenerCount()).toBe(baseline);
    wrapper!.unmount();
    wrapper = undefined;
    store().$dispose();
    useSettingsStore().dispose();
    useInstancesStore().$dispose();
    expect(bridge.listenerCount()).toBe(0);
    const count = (spy: typeof add, type: string) => spy.mock.calls.filter((c) => c[0] === type).length;
    expect(count(remove, 'keydown')).toBe(count(add, 'keydown'));
    add.mockRestore();
    remove.mockRestore();
  });
});
