// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import SessionsView from '../../../renderer/views/SessionsView.vue';
import { useAppStore } from '../../../renderer/stores/app.js';
import { useNoticesStore } from '../../../renderer/stores/notices.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { session } from '../helpers/fixtures.js';
import { resetSessionsMock } from '../helpers/sessions-mock.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);

let bridge: FakeBridge;

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
});

describe('SessionsView', () => {
  it('lists sessions with state, instance, bytes and reconnects, live ones first', async () => {
    const open = session({ instanceName: 'web-1', bytesIn: 1536, bytesOut: 20, reconnects: 2 });
    const reconnecting = session({
      instanceName: 'api-1',
      instanceId: 'i-022e45fccb4896048',
      state: 'reconnecting',
      reconnect: {
        attempt: 2,
        maxAttempts: 5,
        nextAttemptAt: new Date().toISOString(),
        cause: 'network lost',
      },
    });
    const closed = session({
      instanceName: 'db',
      state: 'closed',
      closed: { reason: 'the shell exited', how: 'ended', exitCode: 0 },
    });
    resetSessionsMock([closed, open, reconnecting]);
    const w = mount(SessionsView);
    const rows = w.findAll('[data-testid="session-row"]');
    expect(rows).toHaveLength(3);
    const byId = (id: string) => w.find(`[data-session-id="${id}"]`);
    expect(rows[2]!.attributes('data-session-id')).toBe(closed.id);
    expect(byId(open.id).find('[data-testid="session-state"]').text()).toBe('open');
    expect(byId(open.id).find('[data-testid="session-bytes-in"]').text()).toBe('1.5 KiB');
    expect(byId(open.id).find('[data-testid="session-bytes-out"]').text()).toBe('20 B');
    expect(byId(open.id).find('[data-testid="session-reconnects"]').text()).toBe('2');
    expect(byId(open.id).text()).toContain('web-1');
    expect(byId(reconnecting.id).find('[data-testid="session-state"]').text()).toBe('reconnecting (2/5)');
    expect(byId(closed.id).find('[data-testid="session-state"]').text()).toBe('closed: the shell exited');
    expect(byId(closed.id).find('[data-testid="session-close"]').exists()).toBe(false);
  });

  it('refreshes the traffic counters from sessions.list while showing', async () => {
    vi.useFakeTimers();
    try {
      const s = session({ bytesIn: 10, bytesOut: 1 });
      resetSessionsMock([s]);
      let bytesIn = 4096;
      bridge.handle('sessions.list', () => [{ ...s, bytesIn, bytesOut: 30 }]);
      const w = mount(SessionsView);
      await vi.advanceTimersByTimeAsync(10);
      expect(w.find('[data-testid="session-bytes-in"]').text()).toBe('4.0 KiB');
      expect(w.find('[data-testid="session-bytes-out"]').text()).toBe('30 B');
      bytesIn = 8192;
      await vi.advanceTimersByTimeAsync(2000);
      expect(w.find('[data-testid="session-bytes-in"]').text()).toBe('8.0 KiB');
      w.unmount();
      const calls = bridge.callsTo('sessions.list').length;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(bridge.callsTo('sessions.list')).toHaveLength(calls);
    } finally {
      vi.useRealTimers();
    }
  });

  it('focuses and closes sessions', async () => {
    const s = session();
    const mock = resetSessionsMock([s]);
    const w = mount(SessionsView);
    await w.find('[data-testid="session-focus"]').trigger('click');
    expect(mock.focusSession).toHaveBeenCalledWith(s.id);
    await w.find('[data-testid="session-close"]').trigger('click');
    expect(mock.closeSession).toHaveBeenCalledWith(s.id);
    await w.find('[data-testid="session-row"]').trigger('keydown', { key: 'Enter' });
    expect(mock.focusSession).toHaveBeenCalledTimes(2);
  });

  it('reports a failed close as a toast', async () => {
    const s = session({ instanceName: 'web-9' });
    const mock = resetSessionsMock([s]);
    mock.closeSession.mockRejectedValueOnce(new Error('HANDLER_FAILED: InvalidSessionId'));
    const w = mount(SessionsView);
    await w.find('[data-testid="session-close"]').trigger('click');
    await flush();
    expect(useNoticesStore().toasts[0]?.message).toBe('web-9: InvalidSessionId');
  });

  it('updates when the store changes, and offers the instance list when empty', async () => {
    const mock = resetSessionsMock();
    const w = mount(SessionsView);
    expect(w.find('[data-testid="sessions-empty"]').exists()).toBe(true);
    const s = session({ state: 'connecting' });
    mock.sessions[s.id] = s;
    await flush();
    expect(w.find('[data-testid="session-state"]').text()).toBe('connecting');
    delete mock.sessions[s.id];
    await flush();
    const app = useAppStore();
    app.showView('sessions');
    await w.find('[data-testid="sessions-empty"] button').trigger('click');
    expect(app.activeView).toBe('instances');
  });
});
