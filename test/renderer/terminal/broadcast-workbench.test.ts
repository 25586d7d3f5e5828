// @vitest-environment happy-dom
/**
 * Broadcast input in the terminal workbench (xterm faked): the selection mode (a checkbox per tab
 * and pane, quick choices), Ctrl+Shift+B, and the marks on exactly the receiving tabs and panes,
 * with words as well as colour.
 */
import { mount, type VueWrapper } from '@vue/test-utils';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionInfo } from '../../../preload/api.js';
import { DB1, WEB1, sessionInfo, settle } from './fake-bridge.js';
import { bridge, disposeTerminalStores, freshTerminalPage, useSessionsStore } from './store-setup.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));

const { useBroadcastStore } = await import('../../../renderer/stores/broadcast.js');
const { default: TerminalWorkbench } = await import('../../../renderer/terminal/TerminalWorkbench.vue');
const { default: StatusBar } = await import('../../../renderer/components/StatusBar.vue');

let pinia: Pinia;
let wrapper: VueWrapper | undefined;
let status: VueWrapper | undefined;
let opened: SessionInfo[];

function sessions() {
  return useSessionsStore();
}

async function mountWorkbench(): Promise<VueWrapper> {
  wrapper = mount(TerminalWorkbench, { global: { plugins: [pinia] }, attachTo: document.body });
  await settle();
  return wrapper;
}

function press(key: string, mods: KeyboardEventInit = {}): void {
  window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...mods }));
}

/** Session ids of the tabs that show the broadcast mark. */
function markedTabs(w: VueWrapper): string[] {
  return w
    .findAll('[data-testid="tab"]')
    .filter((t) => t.find('[data-testid="tab-broadcast"]').exists())
    .map((t) => t.attributes('data-session-id')!);
}

beforeEach(() => {
  ({ opened, pinia } = freshTerminalPage());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  status?.unmount();
  status = undefined;
  useBroadcastStore().$dispose();
  disposeTerminalStores();
  document.body.innerHTML = '';
});

describe('broadcast input in the workbench', () => {
  it('selects sessions with the tab checkboxes, then marks exactly the receiving tabs and panes', async () => {
    const w = await mountWorkbench();
    for (const instance of [WEB1, DB1, WEB1]) await sessions().openSession(instance);
    await settle();
    const [a, , c] = opened.map((s) => s.id);
    expect(w.find('[data-testid="broadcast-bar"]').exists()).toBe(false);
    expect(w.findAll('[data-testid="tab-broadcast-check"]')).toHaveLength(0);

    await w.get('[data-testid="broadcast-open"]').trigger('click');
    expect(w.get('[data-testid="broadcast-open"]').attributes('aria-pressed')).toBe('true');
    const bar = w.get('[data-testid="broadcast-bar"]');
    expect(bar.attributes('role')).toBe('toolbar');
    expect(bar.get('[data-testid="broadcast-start"]').attributes('disabled')).toBeDefined();
    const checks = w.findAll('[data-testid="tab-broadcast-check"]');
    expect(checks).toHaveLength(3);
    expect(checks[0]!.attributes('aria-label')).toBe('Broadcast input to web-1');
    await checks[0]!.setValue(true);
    await checks[2]!.setValue(true);
    expect(useBroadcastStore().members).toEqual([a, c]);
    expect(w.get('[data-testid="broadcast-selected"]').text()).toBe('2 of 3 selected');
    // Selected is not broadcasting yet: no marks.
    expect(markedTabs(w)).toEqual([]);

    await w.get('[data-testid="broadcast-start"]').trigger('click');
    await settle();
    expect(w.find('[data-testid="broadcast-bar"]').exists()).toBe(false);
    expect(markedTabs(w)).toEqual([a, c]);
    const mark = w.get('[data-testid="tab-broadcast"]');
    expect(mark.attributes('aria-label')).toBe('Receives broadcast input');
    expect(mark.attributes('title')).toBe('Receives broadcast input (Ctrl+Shift+B to stop)');
    expect(w.findAll('.tab.broadcasting')).toHaveLength(2);
    const banners = w.findAll('[data-testid="pane-broadcast"]');
    expect(banners).toHaveLength(2);
    expect(banners[0]!.text()).toBe('Broadcasting to 2 sessions — Ctrl+Shift+B to stop');
    expect(banners[0]!.attributes('role')).toBe('status');
    const panes = w.findAll('[data-testid="terminal-pane"]');
    expect(
      panes.filter((p) => p.classes('broadcasting')).map((p) => p.attributes('data-session-id')),
    ).toEqual([a, c]);

    // Ctrl+Shift+B stops it: every mark goes.
    press('B', { ctrlKey: true, shiftKey: true });
    await settle();
    expect(useBroadcastStore().enabled).toBe(false);
    expect(markedTabs(w)).toEqual([]);
    expect(w.findAll('[data-testid="pane-broadcast"]')).toHaveLength(0);
    // ... and starts it again with the same group.
    press('B', { ctrlKey: true, shiftKey: true });
    await settle();
    expect(markedTabs(w)).toEqual([a, c]);
  });

  it('Ctrl+Shift+B with nothing selected opens the selection; Escape closes it', async () => {
    const w = await mountWorkbench();
    await sessions().openSession(WEB1);
    await sessions().openSession(DB1);
    await settle();
    press('B', { ctrlKey: true, shiftKey: true });
    await settle();
    expect(useBroadcastStore().enabled).toBe(false);
    const bar = w.get('[data-testid="broadcast-bar"]');
    await bar.get('[data-testid="broadcast-all"]').trigger('click');
    expect(useBroadcastStore().members).toHaveLength(2);
    // Each pane has its own checkbox too.
    const paneChecks = w.findAll<HTMLInputElement>('[data-testid="pane-broadcast-check"]');
    expect(paneChecks).toHaveLength(2);
    expect(paneChecks.every((c) => c.element.checked)).toBe(true);
    await paneChecks[1]!.setValue(false);
    expect(useBroadcastStore().members).toEqual([opened[0]!.id]);
    // Space on a tab ticks it while selecting.
    await w.findAll('[data-testid="tab"]')[1]!.trigger('keydown', { key: ' ' });
    expect(useBroadcastStore().members).toEqual([opened[0]!.id, opened[1]!.id]);
    await bar.trigger('keydown', { key: 'Escape' });
    expect(w.find('[data-testid="broadcast-bar"]').exists()).toBe(false);
    expect(useBroadcastStore().selecting).toBe(false);
  });

  it('shows the count in the status bar while broadcasting', async () => {
    await mountWorkbench();
    status = mount(StatusBar, {
      props: { liveSessions: 2, reconnecting: 0 },
      global: { plugins: [pinia] },
    });
    await sessions().openSession(WEB1);
    await sessions().openSession(DB1);
    await settle();
    expect(status.find('[data-testid="status-broadcast"]').exists()).toBe(false);
    useBroadcastStore().selectAll();
    useBroadcastStore().setBroadcasting(true);
    await settle();
    const item = status.get('[data-testid="status-broadcast"]');
    expect(item.text()).toBe('Broadcast to 2');
    expect(item.attributes('aria-label')).toBe('Broadcasting to 2 sessions — Ctrl+Shift+B to stop');
    bridge.emit('session.updated', sessionInfo({ id: opened[1]!.id, state: 'closed' }));
    await settle();
    expect(status.get('[data-testid="status-broadcast"]').text()).toBe('Broadcast to 1');
  });
});
