// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import InstancesView from '../../../renderer/views/InstancesView.vue';
import { useAppStore } from '../../../renderer/stores/app.js';
import { useDiagnosticsStore } from '../../../renderer/stores/diagnostics.js';
import { useInstancesStore } from '../../../renderer/stores/instances.js';
import { usePortsStore } from '../../../renderer/stores/ports.js';
import { useResourcesStore } from '../../../renderer/stores/resources.js';
import { governorAt, governorState } from '../helpers/resources-fixtures.js';
import { appInfo, instance, instanceList, profileList } from '../helpers/fixtures.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { resetSessionsMock, type sessionsMock } from '../helpers/sessions-mock.js';
import { BridgeError, type InstanceList } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);

let bridge: FakeBridge;
let sessions: typeof sessionsMock;
let wrapper: VueWrapper | undefined;

async function mountView(list: InstanceList | (() => InstanceList | Promise<InstanceList>) = instanceList()) {
  bridge.handle('instances.list', list);
  wrapper = mount(InstancesView, { attachTo: document.body });
  await flush();
  return wrapper;
}

const rows = (w: VueWrapper) => w.findAll('[data-testid="instance-row"]');
const rowNames = (w: VueWrapper) => rows(w).map((r) => r.find('.row-name').text());
const selected = (w: VueWrapper) => w.find('[role="option"][aria-selected="true"]');

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  sessions = resetSessionsMock();
  bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  document.body.innerHTML = '';
});

describe('InstancesView', () => {
  it('lists instances sorted by name with their details', async () => {
    const w = await mountView();
    expect(rowNames(w)).toEqual([
      'api-1',
      'db-replica',
      'ftp-legacy',
      'web-1',
      'web-2',
      'win-build-1',
      'worker-2',
    ]);
    const web1 = w.find('[data-instance-id="i-0b5bb7865829a72f8"]');
    expect(web1.text()).toContain('i-0b5bb7865829a72f8');
    expect(web1.text()).toContain('running');
    expect(web1.text()).toContain('Amazon Linux');
    expect(web1.text()).toContain('t3.small');
    expect(web1.text()).toContain('us-east-1a');
    expect(web1.text()).toContain('10.0.1.11');
    expect(web1.text()).toContain('Environment=prod');
    expect(web1.find('[data-testid="ping-status"]').classes()).toContain('ok');
    expect(w.find('[data-testid="instance-count"]').text()).toBe('7');
    expect(w.find('[role="listbox"]').exists()).toBe(true);
  });

  it('dims instances that cannot take a session and says why', async () => {
    const w = await mountView();
    const reason = (id: string) =>
      w.find(`[data-instance-id="${id}"] [data-testid="instance-reason"]`).text();
    expect(reason('i-00c33943c694df560')).toBe('the instance is stopped'); // unavailableReason wins
    expect(reason('i-0cff4813ded0cd81b')).toBe('SSM agent ConnectionLost');
    expect(reason('i-07f645976171c294b')).toBe('not managed by SSM');
    expect(w.find('[data-instance-id="i-00c33943c694df560"]').classes()).toContain('blocked');
    expect(w.find('[data-instance-id="i-0b5bb7865829a72f8"]').classes()).not.toContain('blocked');
    expect(w.find('[data-instance-id="i-0cff4813ded0cd81b"] [data-testid="instance-connect"]').exists()).toBe(
      false,
    );
  });

  it('filters as you type, with tag syntax, state chips and connectable only', async () => {
    const w = await mountView();
    const input = w.find('[data-testid="instance-filter"]');
    await input.setValue('Environment=prod');
    expect(rowNames(w)).toEqual(['api-1', 'db-replica', 'web-1', 'web-2']);
    expect(w.find('[data-testid="instance-count"]').text()).toBe('4 of 7');
    await w.find('[data-testid="connectable-only"]').setValue(true);
    expect(rowNames(w)).toEqual(['api-1', 'web-1', 'web-2']);
    await input.setValue('');
    await w.find('[data-testid="state-stopped"]').trigger('click');
    expect(rowNames(w)).toEqual([]);
    await w.find('[data-testid="connectable-only"]').setValue(false);
    expect(rowNames(w)).toEqual(['worker-2']);
    await input.setValue('nothing-like-this');
    expect(w.find('[data-testid="instances-no-match"]').exists()).toBe(true);
    await w.find('[data-testid="instance-filter-clear"]').trigger('click');
    expect((input.element as HTMLInputElement).value).toBe('');
    expect(rowNames(w)).toEqual(['worker-2']);
    await input.setValue('web');
    await input.trigger('keydown', { key: 'Escape' });
    expect((input.element as HTMLInputElement).value).toBe('');
  });

  it('moves the selection with the keyboard and connects with Enter', async () => {
    const w = await mountView();
    const list = w.find('[role="listbox"]');
    expect(selected(w).find('.row-name').text()).toBe('api-1');
    await list.trigger('keydown', { key: 'ArrowDown' });
    await list.trigger('keydown', { key: 'ArrowDown' });
    await list.trigger('keydown', { key: 'ArrowDown' });
    expect(selected(w).find('.row-name').text()).toBe('web-1');
    expect(list.attributes('aria-activedescendant')).toBe('instance-i-0b5bb7865829a72f8');
    await list.trigger('keydown', { key: 'End' });
    expect(selected(w).find('.row-name').text()).toBe('worker-2');
    await list.trigger('keydown', { key: 'Home' });
    expect(selected(w).find('.row-name').text()).toBe('api-1');
    await list.trigger('keydown', { key: 'ArrowUp' });
    expect(selected(w).find('.row-name').text()).toBe('api-1');
    await list.trigger('keydown', { key: 'PageDown' });
    expect(selected(w).find('.row-name').text()).toBe('worker-2');
    await list.trigger('keydown', { key: 'PageUp' });
    expect(selected(w).find('.row-name').text()).toBe('api-1');

    await list.trigger('keydown', { key: 'Enter' });
    await flush();
    expect(sessions.openSession).toHaveBeenCalledTimes(1);
    expect(sessions.openSession.mock.calls[0]![0]).toMatchObject({
      instanceId: 'i-022e45fccb4896048',
      name: 'api-1',
    });
  });

  it('connects from the filter box: type, arrow down, Enter', async () => {
    const w = await mountView();
    const input = w.find('[data-testid="instance-filter"]');
    await input.setValue('web');
    await input.trigger('keydown', { key: 'ArrowDown' });
    await input.trigger('keydown', { key: 'Enter' });
    await flush();
    expect(sessions.openSession.mock.calls[0]![0]).toMatchObject({ name: 'web-2' });
  });

  it('shows the reason instead of connecting to an offline instance', async () => {
    const w = await mountView();
    await w.find('[data-testid="instance-filter"]').setValue('db-replica');
    await w.find('[role="listbox"]').trigger('keydown', { key: 'Enter' });
    await flush();
    expect(sessions.openSession).not.toHaveBeenCalled();
    expect(w.find('[data-testid="instance-message"]').text()).toBe(
      'Cannot connect to db-replica: SSM agent ConnectionLost',
    );
    await w.find('[data-instance-id="i-0cff4813ded0cd81b"]').trigger('dblclick');
    expect(sessions.openSession).not.toHaveBeenCalled();
  });

  it('connects on double-click and with the Connect button, and reports a failed open', async () => {
    const w = await mountView();
    await w.find('[data-instance-id="i-0a03534fd537d6397"]').trigger('dblclick');
    expect(sessions.openSession.mock.calls[0]![0]).toMatchObject({ name: 'web-2' });

    sessions.openSession.mockRejectedValueOnce(new Error('HANDLER_FAILED: TargetNotConnected'));
    await w
      .find('[data-instance-id="i-0b5bb7865829a72f8"] [data-testid="instance-connect"]')
      .trigger('click');
    await flush();
    expect(sessions.openSession).toHaveBeenCalledTimes(2);
    expect(w.find('[data-testid="instance-message"]').text()).toContain(
      'Could not connect to web-1: TargetNotConnected',
    );
  });

  it('shows loading, then an error with Retry (errorName: detail), then the list', async () => {
    const first = deferred<InstanceList>();
    let call = 0;
    const w = await mountView(() => {
      call++;
      if (call === 1) return first.promise;
      return instanceList();
    });
    expect(w.find('[data-testid="instances-loading"]').exists()).toBe(true);
    first.reject(
      new BridgeError({
        code: 'HANDLER_FAILED',
        message: 'The security token included in the request is expired',
        name: 'ExpiredTokenException',
      }),
    );
    await flush();
    expect(w.find('[data-testid="instances-error"]').text()).toContain(
      'ExpiredTokenException: The security token included in the request is expired',
    );
    await w.find('[data-testid="instances-retry"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="instances-error"]').exists()).toBe(false);
    expect(rows(w)).toHaveLength(7);
  });

  it('says while new sessions are refused, with a way to the details', async () => {
    const w = await mountView();
    expect(w.find('[data-testid="instances-refusal"]').exists()).toBe(false);
    useResourcesStore().applyGovernor({ state: governorAt('refuse'), change: null });
    await flush();
    expect(w.get('[data-testid="instances-refusal"]').text()).toContain('New sessions are refused');
    await w.get('[data-testid="instances-refusal-details"]').trigger('click');
    expect(useAppStore().activeView).toBe('performance');
    useResourcesStore().applyGovernor({ state: governorState(), change: null });
    await flush();
    expect(w.find('[data-testid="instances-refusal"]').exists()).toBe(false);
  });

  it('shows an empty state for a region without instances', async () => {
    const w = await mountView(instanceList([]));
    expect(w.find('[data-testid="instances-empty"]').text()).toContain('No instances');
  });

  it('focuses the filter when asked (Ctrl+K, /, app.command focus-filter)', async () => {
    const w = await mountView();
    const app = useAppStore();
    app.requestFilterFocus();
    await flush();
    expect(document.activeElement).toBe(w.find('[data-testid="instance-filter"]').element);
  });

  it('renders only a window of a very long list', async () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      instance({ instanceId: `i-${i.toString(16).padStart(17, '0')}`, name: `node-${i}` }),
    );
    const w = await mountView(instanceList(many));
    expect(useInstancesStore().filtered).toHaveLength(5000);
    expect(rows(w).length).toBeGreaterThan(5);
    expect(rows(w).length).toBeLessThan(60);
    await w.find('[role="listbox"]').trigger('keydown', { key: 'End' });
    expect(selected(w).find('.row-name').text()).toBe('node-4999');
  });

  it('diagnoses an instance from its row or from the reason it cannot connect', async () => {
    bridge.handle('diagnostics.run', () => new Promise(() => {}));
    const w = await mountView();
    await w.find('[data-instance-id="i-0a03534fd537d6397"]').trigger('click');
    expect(useInstancesStore().selectedId).toBe('i-0a03534fd537d6397');
    await w
      .find('[data-instance-id="i-0cff4813ded0cd81b"] [data-testid="instance-diagnose"]')
      .trigger('click');
    await flush();
    expect(useAppStore().activeView).toBe('diagnostics');
    expect(useDiagnosticsStore().instanceId).toBe('i-0cff4813ded0cd81b');
    expect(bridge.callsTo('diagnostics.run')).toEqual([
      { kind: 'preventive', instanceId: 'i-0cff4813ded0cd81b' },
    ]);

    useAppStore().showView('instances');
    await w.find('[data-testid="instance-filter"]').setValue('worker-2');
    await w.find('[role="listbox"]').trigger('keydown', { key: 'Enter' });
    await flush();
    await w.find('[data-testid="instance-message-diagnose"]').trigger('click');
    expect(useDiagnosticsStore().instanceId).toBe('i-00c33943c694df560');
    expect(useAppStore().activeView).toBe('diagnostics');
  });

  it('"Forward a port…" on an instance that can take a session opens Ports with it chosen', async () => {
    const w = await mountView();
    expect(w.find('[data-instance-id="i-0cff4813ded0cd81b"] [data-testid="instance-forward"]').exists()).toBe(
      false,
    ); // agent offline: no forward
    await w
      .find('[data-instance-id="i-0a03534fd537d6397"] [data-testid="instance-forward"]')
      .trigger('click');
    expect(useAppStore().activeView).toBe('ports');
    expect(usePortsStore().draft.instanceId).toBe('i-0a03534fd537d6397');
    expect(usePortsStore().openRequest).toBe(1);
    expect(useInstancesStore().selectedId).toBe('i-0a03534fd537d6397');
  });
});
