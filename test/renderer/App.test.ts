// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from '../../renderer/App.vue';
import { useAppStore } from '../../renderer/stores/app.js';
import { flush, resetFakeBridge, type FakeBridge } from './helpers/fake-bridge.js';
import { appInfo, instanceList, profileList, session, settings } from './helpers/fixtures.js';
import { configState, mfaPrompt } from './helpers/config-fixtures.js';
import { governorAt, governorState, snapshot } from './helpers/resources-fixtures.js';
import { installMatchMedia, type FakeMediaQuery } from './helpers/match-media.js';
import { resetSessionsMock } from './helpers/sessions-mock.js';
import type { Settings } from '../../preload/api.js';

vi.mock('../../renderer/bridge/index.js', async () =>
  (await import('./helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../renderer/stores/sessions.js', async () =>
  (await import('./helpers/sessions-mock.js')).sessionsModule(),
);
vi.mock('../../renderer/terminal/TerminalWorkbench.vue', async () => {
  const { defineComponent, h } = await import('vue');
  return { default: defineComponent({ render: () => h('div', { 'data-testid': 'terminal-workbench' }) }) };
});
vi.mock('uplot', async () => (await import('./helpers/uplot-mock.js')).uplotModule());
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

let bridge: FakeBridge;
let mq: FakeMediaQuery;
let stored: Settings;
let wrapper: VueWrapper | undefined;

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  localStorage.clear();
  mq = installMatchMedia(true);
  stored = settings();
  bridge
    .handle('app.info', appInfo())
    .handle('profiles.list', profileList())
    .handle('instances.list', instanceList())
    .handle('metrics.history', { intervalMs: 1000, sessions: [] })
    .handle('resources.get', snapshot())
    .handle('ports.list', { forwards: [], saved: [], savedProblem: null })
    .handle('settings.get', () => structuredClone(stored))
    .handle('settings.update', (patch) => {
      stored = { ...stored, ...patch } as Settings;
      return structuredClone(stored);
    });
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  mq.uninstall();
  document.body.innerHTML = '';
  delete document.documentElement.dataset.theme;
});

async function mountApp(): Promise<VueWrapper> {
  wrapper = mount(App, { attachTo: document.body });
  await flush();
  return wrapper;
}

const panelView = (w: VueWrapper) => w.find('[data-testid="side-panel"]').attributes('data-view');

function press(key: string, mods: KeyboardEventInit = {}, target: EventTarget = document.body): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...mods }));
}

describe('App', () => {
  it('lays out the workspace: activity bar, side view, terminal workbench, status bar', async () => {
    const s = session();
    resetSessionsMock([s, session({ state: 'closed' })]);
    const w = await mountApp();
    expect(w.findAll('[data-testid^="view-"]').map((b) => b.attributes('data-testid'))).toEqual([
      'view-instances',
      'view-sessions',
      'view-history',
      'view-performance',
      'view-diagnostics',
      'view-ports',
      'view-settings',
    ]);
    expect(panelView(w)).toBe('instances');
    expect(w.find('[data-testid="terminal-workbench"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="instance-row"]')).toHaveLength(7);
    expect(w.find('[data-testid="session-count"]').text()).toBe('1 session');
    expect(w.find('[data-testid="badge-sessions"]').text()).toBe('1');
    expect(w.find('[data-testid="transport"]').text()).toBe('Web mode');
    expect(w.find('[data-testid="profile-select"]').exists()).toBe(true);
  });

  it('switches views from the activity bar; the active icon hides the panel', async () => {
    resetSessionsMock();
    const w = await mountApp();
    await w.find('[data-testid="view-performance"]').trigger('click');
    expect(panelView(w)).toBe('performance');
    expect(w.find('[data-testid="performance-empty"]').exists()).toBe(true);
    await w.find('[data-testid="view-performance"]').trigger('click');
    expect(useAppStore().sidePanelVisible).toBe(false);
    await w.find('[data-testid="view-settings"]').trigger('click');
    expect(panelView(w)).toBe('settings');
  });

  it('carries out app.command events', async () => {
    resetSessionsMock();
    const w = await mountApp();
    bridge.emit('app.command', { command: 'show-sessions' });
    await flush();
    expect(panelView(w)).toBe('sessions');
    bridge.emit('app.command', { command: 'show-settings' });
    await flush();
    expect(panelView(w)).toBe('settings');
    bridge.emit('app.command', { command: 'focus-filter' });
    await flush();
    expect(panelView(w)).toBe('instances');
    expect(document.activeElement?.getAttribute('data-testid')).toBe('instance-filter');
    bridge.emit('app.command', { command: 'split-right' }); // the workbench's, ignored here
    await flush();
    expect(panelView(w)).toBe('instances');
  });

  it('shows Ports on show-ports; its badge counts the open forwards', async () => {
    resetSessionsMock();
    const open = {
      id: '00000000-0000-4000-8000-00000000beef',
      instanceId: 'i-0b5bb7865829a72f8',
      instanceName: 'web-1',
      profile: 'sandbox',
      region: 'us-east-1',
      remotePort: 5432,
      host: null,
      label: null,
      localAddress: '127.0.0.1:15432',
      localPort: 15432,
      mode: 'multiplexed' as const,
      state: 'open' as const,
      sessionId: 'user-1',
      startedAt: Date.now(),
      endedAt: null,
      reason: null,
      activeConnections: 0,
      totalConnections: 0,
      failedConnections: 0,
      bytesIn: 0,
      bytesOut: 0,
      connections: [],
      savedId: null,
    };
    bridge.handle('ports.list', { forwards: [open], saved: [], savedProblem: null });
    const w = await mountApp();
    expect(w.find('[data-testid="badge-ports"]').text()).toBe('1');
    bridge.emit('app.command', { command: 'show-ports' });
    await flush();
    expect(panelView(w)).toBe('ports');
    expect(w.find('[data-testid="forward-row"]').exists()).toBe(true);
    // It breaks while another view shows: a toast says so.
    bridge.emit('app.command', { command: 'show-sessions' });
    bridge.emit('ports.updated', {
      ...open,
      state: 'failed',
      reason: 'the session ended',
      endedAt: Date.now(),
    });
    await flush();
    expect(w.find('[data-testid="badge-ports"]').exists()).toBe(false);
    expect(w.find('[data-testid="toast"]').text()).toContain('port 5432 on web-1');
  });

  it('handles shortcuts, and only Ctrl+Shift ones inside a terminal', async () => {
    resetSessionsMock();
    const w = await mountApp();
    press('S', { ctrlKey: true, shiftKey: true });
    await flush();
    expect(panelView(w)).toBe('sessions');

    const term = document.createElement('div');
    term.className = 'xterm';
    const textarea = document.createElement('textarea');
    term.appendChild(textarea);
    document.body.appendChild(term);
    press('k', { ctrlKey: true }, textarea);
    await flush();
    expect(panelView(w)).toBe('sessions');
    press('E', { ctrlKey: true, shiftKey: true }, textarea);
    await flush();
    expect(panelView(w)).toBe('instances');

    press(',', { ctrlKey: true });
    await flush();
    expect(panelView(w)).toBe('settings');
    press('/');
    await flush();
    expect(panelView(w)).toBe('instances');
    expect(document.activeElement?.getAttribute('data-testid')).toBe('instance-filter');
  });

  it('sets data-theme from the OS while the theme is system, live, and from the toggle', async () => {
    resetSessionsMock();
    const w = await mountApp();
    expect(document.documentElement.dataset.theme).toBe('dark');
    mq.set(false);
    await flush();
    expect(document.documentElement.dataset.theme).toBe('light');
    mq.set(true);
    await flush();
    expect(document.documentElement.dataset.theme).toBe('dark');

    await w.find('[data-testid="theme-toggle"]').trigger('click');
    await flush();
    expect(bridge.callsTo('settings.update')).toEqual([{ theme: 'light' }]);
    expect(document.documentElement.dataset.theme).toBe('light');
    mq.set(false);
    mq.set(true);
    await flush();
    expect(document.documentElement.dataset.theme).toBe('light');
  });

  it('shows session notices as toasts', async () => {
    resetSessionsMock();
    const w = await mountApp();
    bridge.emit('session.notice', {
      sessionId: null,
      kind: 'network-lost',
      message: 'web-1: network lost',
      at: new Date().toISOString(),
    });
    await flush();
    expect(w.find('[data-testid="toast"]').text()).toContain('web-1: network lost');
  });

  it('shows the governor level and low-power mode in the status bar; the level opens Performance', async () => {
    resetSessionsMock();
    // The main side's state: what events announce, and what resources.get answers.
    let current = governorState();
    const govern = (state: typeof current) => {
      current = state;
      bridge.emit('governor.changed', { state, change: null });
    };
    bridge.handle('resources.get', () => snapshot({ governor: current }));
    const w = await mountApp();
    expect(w.find('[data-testid="status-governor"]').exists()).toBe(false);
    expect(w.find('[data-testid="status-low-power"]').exists()).toBe(false);

    govern(governorAt('refuse'));
    await flush();
    const badge = w.get('[data-testid="status-governor"]');
    expect(badge.text()).toBe('Refusing sessions');
    expect(badge.classes()).toContain('bad');
    expect(badge.attributes('title')).toContain('over the 300 MiB limit');
    const lowPower = w.get('[data-testid="status-low-power"]');
    expect(lowPower.text()).toBe('Low power');
    expect(lowPower.attributes('title')).toContain('a resource limit was reached');
    await badge.trigger('click');
    expect(panelView(w)).toBe('performance');

    await flush();
    govern(governorState({ lowPower: { active: true, mode: 'on', reasons: ['config'] } }));
    await flush();
    expect(w.find('[data-testid="status-governor"]').exists()).toBe(false);
    expect(w.get('[data-testid="status-low-power"]').attributes('title')).toContain('turned on in Settings');
    govern(governorState());
    await flush();
    expect(w.find('[data-testid="status-low-power"]').exists()).toBe(false);
  });

  it('shows resources notices as toasts', async () => {
    resetSessionsMock();
    const w = await mountApp();
    bridge.emit('session.notice', {
      sessionId: null,
      kind: 'resources',
      message: 'Memory 390 MiB is over the 300 MiB limit: new sessions are refused',
      at: new Date().toISOString(),
    });
    await flush();
    const toast = w.get('[data-testid="toast"]');
    expect(toast.attributes('data-kind')).toBe('resources');
    expect(toast.text()).toContain('Resource limit');
    expect(toast.classes()).toContain('warn');
  });

  it('asks for credentials over everything, and counts configuration problems on Settings', async () => {
    resetSessionsMock();
    bridge.handle('config.get', configState()).handle('credentials.answer', null);
    const w = await mountApp();
    expect(w.find('[data-testid="badge-settings"]').exists()).toBe(false);
    bridge.emit('config.changed', {
      ...configState(),
      problems: [{ key: 'session.max_total_sessions', source: 'env', value: '0', message: 'out of range' }],
    });
    await flush();
    expect(w.get('[data-testid="badge-settings"]').text()).toBe('1');

    bridge.emit('credentials.prompt', mfaPrompt());
    await flush();
    expect(w.get('[data-testid="credential-prompt"]').attributes('data-kind')).toBe('mfa');
    await w.get('[data-testid="mfa-code"]').setValue('654321');
    await w.get('[data-testid="credential-prompt"] form').trigger('submit');
    await flush();
    expect(bridge.callsTo('credentials.answer')).toEqual([{ id: mfaPrompt().id, code: '654321' }]);
    expect(w.find('[data-testid="credential-prompt"]').exists()).toBe(false);
  });

  it('opens Diagnostics with Ctrl+Shift+G', async () => {
    resetSessionsMock();
    const w = await mountApp();
    press('G', { ctrlKey: true, shiftKey: true });
    await flush();
    expect(panelView(w)).toBe('diagnostics');
    expect(w.find('[data-testid="diagnostics-view"]').exists()).toBe(true);
  });
});
