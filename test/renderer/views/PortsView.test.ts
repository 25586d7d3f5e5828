// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import PortsView from '../../../renderer/views/PortsView.vue';
import { useAppStore } from '../../../renderer/stores/app.js';
import { useInstancesStore } from '../../../renderer/stores/instances.js';
import { usePortsStore } from '../../../renderer/stores/ports.js';
import { shortcutAction } from '../../../renderer/components/shortcuts.js';
import { findView, shortcutLabel, viewForCommand, views } from '../../../renderer/views/registry.js';
import type { PortForwardInfo, PortList } from '../../../preload/api.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { appInfo, instanceList, profileList } from '../helpers/fixtures.js';
import { API1, WEB1, forward, portList, savedForward } from '../helpers/ports-fixtures.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const IN_USE =
  'Local port 5432 on 127.0.0.1 is already in use by another program. Choose another local port, or 0 to let the system pick a free one.';

let bridge: FakeBridge;
let wrapper: VueWrapper | undefined;
const writeText = vi.fn(async (_text: string) => {});

beforeEach(async () => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  sessionStorage.clear();
  bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
  bridge.handle('instances.list', instanceList());
  await useAppStore().init();
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
  writeText.mockClear();
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  usePortsStore().dispose();
  vi.useRealTimers();
  document.body.innerHTML = '';
});

async function mountView(list: PortList | (() => PortList | Promise<PortList>) = portList()) {
  bridge.handle('ports.list', list);
  wrapper = mount(PortsView, { attachTo: document.body });
  await flush();
  return wrapper;
}

const tid = (id: string) => `[data-testid="${id}"]`;
const row = (w: VueWrapper, f: PortForwardInfo) => w.find(`[data-forward-id="${f.id}"]`);
const selectEl = (w: VueWrapper) => w.find(tid('ports-instance')).element as HTMLSelectElement;

describe('PortsView: the Start form', () => {
  it('offers online instances first (name and id), defaulting to the one selected in Instances', async () => {
    useInstancesStore().selectedId = 'i-022e45fccb4896048'; // api-1
    const w = await mountView();
    const groups = w.findAll(`${tid('ports-instance')} optgroup`);
    expect(groups.map((g) => g.attributes('label'))).toEqual(['Online', 'Not available']);
    expect(groups[0]!.findAll('option').map((o) => o.text())).toEqual([
      'api-1 (i-022e45fccb4896048)',
      'web-1 (i-0b5bb7865829a72f8)',
      'web-2 (i-0a03534fd537d6397)',
      'win-build-1 (i-00072a1e30e84868d)',
    ]);
    expect(groups[1]!.findAll('option').map((o) => o.text())).toContain(
      'db-replica (i-0cff4813ded0cd81b) — SSM agent ConnectionLost',
    );
    expect(selectEl(w).value).toBe(API1);
    expect(w.find(tid('forwards-empty')).exists()).toBe(true);
    expect(w.find(tid('saved-empty')).exists()).toBe(true);

    await w.find(tid('ports-instance')).setValue('i-0cff4813ded0cd81b');
    expect(w.find(tid('ports-blocker')).text()).toBe('SSM agent ConnectionLost');
  });

  it('checks fields inline (after leaving them, or on Start) and sends nothing invalid', async () => {
    const w = await mountView();
    const remote = w.find(tid('ports-remote-port'));
    await remote.setValue('70000');
    expect(w.find(tid('ports-error-remotePort')).exists()).toBe(false); // not yet: still typing
    await remote.trigger('blur');
    expect(w.find(tid('ports-error-remotePort')).text()).toContain('1 to 65535');
    expect(remote.attributes('aria-invalid')).toBe('true');

    await w.find(tid('ports-local-port')).setValue('99999');
    await w.find(tid('ports-host')).setValue('not a host');
    await w.find(tid('ports-form')).trigger('submit');
    await flush();
    expect(w.find(tid('ports-error-localPort')).text()).toContain('0 to 65535');
    expect(w.find(tid('ports-error-host')).text()).toContain('host name or IP address');
    expect(bridge.callsTo('ports.open')).toHaveLength(0);
    expect(document.activeElement).toBe(remote.element); // the first field in error

    await remote.setValue('5432');
    await w.find(tid('ports-local-port')).setValue('');
    await w.find(tid('ports-host')).setValue('');
    expect(w.find(tid('ports-error-remotePort')).exists()).toBe(false);
    expect(w.find(tid('ports-error-localPort')).exists()).toBe(false);
  });

  it('starts a forward (saving it when asked), then clears the form; the forward is listed', async () => {
    const opened = forward({
      label: 'prod db',
      remotePort: 5432,
      localPort: 15432,
      localAddress: '127.0.0.1:15432',
    });
    const answer = deferred<PortForwardInfo>();
    bridge.handle('ports.open', () => answer.promise);
    const w = await mountView();
    await w.find(tid('ports-instance')).setValue(WEB1);
    await w.find(tid('ports-remote-port')).setValue('5432');
    await w.find(tid('ports-local-port')).setValue('15432');
    await w.find(tid('ports-host')).setValue('db.internal');
    await w.find(tid('ports-label')).setValue('prod db');
    await w.find(tid('ports-save')).setValue(true);
    await w.find(tid('ports-start')).trigger('click');
    await flush();
    expect(bridge.callsTo('ports.open')).toEqual([
      {
        instanceId: WEB1,
        remotePort: 5432,
        localPort: 15432,
        host: 'db.internal',
        label: 'prod db',
        save: true,
      },
    ]);
    expect(w.find(tid('ports-start')).text()).toBe('Starting…');
    expect(w.find(tid('ports-start')).attributes('disabled')).toBeDefined();

    answer.resolve({ ...opened, host: 'db.internal' });
    await flush();
    expect(w.find(tid('ports-start')).text()).toBe('Start');
    expect((w.find(tid('ports-remote-port')).element as HTMLInputElement).value).toBe('');
    expect((w.find(tid('ports-save')).element as HTMLInputElement).checked).toBe(false);
    expect(selectEl(w).value).toBe(WEB1); // the instance stays
    const r = row(w, opened);
    expect(r.find(tid('forward-title')).text()).toBe('prod db');
    expect(r.find(tid('forward-target')).text()).toBe('db.internal:5432 via web-1');
    expect(r.find(tid('forward-local')).text()).toBe('127.0.0.1:15432');
    expect(w.find(tid('ports-count')).text()).toBe('1');
  });

  it('shows the back end’s refusal under the form, as it is worded', async () => {
    bridge.fail('ports.open', IN_USE, 'PortForwardError');
    const w = await mountView();
    await w.find(tid('ports-remote-port')).setValue('5432');
    await w.find(tid('ports-local-port')).setValue('5432');
    await w.find(tid('ports-form')).trigger('submit');
    await flush();
    expect(w.find(tid('ports-form-error')).text()).toBe(IN_USE);
    // The form keeps what was typed, to change the local port.
    expect((w.find(tid('ports-local-port')).element as HTMLInputElement).value).toBe('5432');
  });

  it('focuses the form when opened for an instance (an instance row’s "Forward a port…")', async () => {
    const w = await mountView();
    usePortsStore().openFor('i-0a03534fd537d6397');
    await flush();
    expect(selectEl(w).value).toBe('i-0a03534fd537d6397');
    expect(document.activeElement).toBe(w.find(tid('ports-remote-port')).element);
    expect(useAppStore().activeView).toBe('ports');
  });
});

describe('PortsView: opened for an instance before it showed', () => {
  it('focuses the form once, not on every later visit', async () => {
    bridge.handle('ports.list', portList());
    usePortsStore().openFor(WEB1);
    const w = await mountView();
    expect(selectEl(w).value).toBe(WEB1);
    expect(document.activeElement).toBe(w.find(tid('ports-remote-port')).element);
    w.unmount();
    (document.activeElement as HTMLElement | null)?.blur();
    const again = await mountView();
    expect(document.activeElement).not.toBe(again.find(tid('ports-remote-port')).element);
  });
});

describe('PortsView: forwards', () => {
  it('shows each forward: state, local address (copy), web hint, connections, bytes, uptime, mode', async () => {
    const web = forward({
      remotePort: 8080,
      localPort: 18080,
      localAddress: '127.0.0.1:18080',
      activeConnections: 2,
      totalConnections: 5,
      failedConnections: 1,
      bytesIn: 1536,
      bytesOut: 200,
      startedAt: Date.now() - 200_000,
      mode: 'basic',
      connections: [
        { id: 1, client: '127.0.0.1:51000', openedAt: Date.now() - 3_000, bytesIn: 1024, bytesOut: 100 },
        { id: 2, client: '127.0.0.1:51002', openedAt: Date.now() - 65_000, bytesIn: 512, bytesOut: 100 },
      ],
    });
    const db = forward({ remotePort: 5432, state: 'reconnecting', reason: null });
    const w = await mountView(portList({ forwards: [web, db] }));
    const r = row(w, web);
    expect(r.attributes('data-state')).toBe('open');
    expect(r.find(tid('forward-title')).text()).toBe('port 8080 on web-1');
    expect(r.find(tid('forward-state')).text()).toBe('open');
    expect(r.find(tid('forward-state')).classes()).toContain('ok');
    expect(r.find(tid('forward-hint')).text()).toBe('open http://127.0.0.1:18080');
    expect(r.find('a').exists()).toBe(false); // text, not a link
    expect(r.find(tid('forward-connections')).text()).toBe('2 / 5');
    expect(r.find(tid('forward-failed')).text()).toBe('1');
    expect(r.find(tid('forward-bytes-in')).text()).toBe('1.5 KiB');
    expect(r.find(tid('forward-bytes-out')).text()).toBe('200 B');
    expect(r.find(tid('forward-uptime')).text()).toBe('3 min 20 s');
    expect(r.find(tid('forward-mode')).text()).toBe('basic');
    expect(r.find(tid('forward-reason')).exists()).toBe(false);

    const d = row(w, db);
    expect(d.find(tid('forward-state')).classes()).toContain('warn');
    expect(d.find(tid('forward-hint')).exists()).toBe(false);
    expect(d.find(tid('forward-reason')).text()).toBe('Reconnecting…');

    await r.find(tid('forward-copy')).trigger('click');
    await flush();
    expect(writeText).toHaveBeenCalledWith('127.0.0.1:18080');

    // Current connections, on demand.
    expect(r.find(tid('forward-connection-list')).exists()).toBe(false);
    await r.find(tid('forward-connections-toggle')).trigger('click');
    const conns = r.findAll(tid('forward-connection'));
    expect(conns).toHaveLength(2);
    expect(conns[0]!.text()).toContain('127.0.0.1:51000');
    expect(conns[0]!.text()).toContain('1.0 KiB');
    expect(conns[1]!.text()).toContain('1 min 5 s');
  });

  it('ticks the uptime and follows ports.updated (connections and bytes)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
    const f = forward({ startedAt: Date.now() - 4_000 });
    const w = await mountView(portList({ forwards: [f] }));
    expect(row(w, f).find(tid('forward-uptime')).text()).toBe('4 s');
    vi.advanceTimersByTime(3_000);
    await flush();
    expect(row(w, f).find(tid('forward-uptime')).text()).toBe('7 s');

    bridge.emit('ports.updated', { ...f, activeConnections: 1, totalConnections: 1, bytesIn: 2048 });
    await flush();
    expect(row(w, f).find(tid('forward-connections')).text()).toBe('1 / 1');
    expect(row(w, f).find(tid('forward-bytes-in')).text()).toBe('2.0 KiB');
  });

  it('Stop closes it; a closed or failed one stays with its reason until dismissed', async () => {
    const f = forward();
    bridge.handle('ports.close', null);
    const w = await mountView(portList({ forwards: [f] }));
    await row(w, f).find(tid('forward-stop')).trigger('click');
    await flush();
    expect(bridge.callsTo('ports.close')).toEqual([{ id: f.id }]);

    bridge.emit('ports.updated', {
      ...f,
      state: 'failed',
      reason: 'The session was terminated: maintenance window',
      endedAt: Date.now(),
    });
    await flush();
    const r = row(w, f);
    expect(r.attributes('data-state')).toBe('failed');
    expect(r.find(tid('forward-reason')).text()).toBe('The session was terminated: maintenance window');
    expect(r.find(tid('forward-stop')).exists()).toBe(false);
    expect(r.find(tid('forward-copy')).exists()).toBe(false);
    expect(w.find(tid('ports-count')).text()).toBe('0');
    await r.find(tid('forward-dismiss')).trigger('click');
    expect(row(w, f).exists()).toBe(false);
    expect(w.find(tid('forwards-empty')).exists()).toBe(true);
  });

  it('"Start again" puts an ended forward back in the form; a Stop that fails says why', async () => {
    const ended = forward({
      state: 'closed',
      reason: 'Stopped.',
      endedAt: Date.now(),
      instanceId: API1,
      instanceName: 'api-1',
      remotePort: 3000,
      localPort: 13000,
      label: 'api',
    });
    const live = forward();
    bridge.fail('ports.close', 'the forward is gone');
    const w = await mountView(portList({ forwards: [ended, live] }));
    await row(w, ended).find(tid('forward-again')).trigger('click');
    await flush();
    expect(selectEl(w).value).toBe(API1);
    expect((w.find(tid('ports-remote-port')).element as HTMLInputElement).value).toBe('3000');
    expect((w.find(tid('ports-local-port')).element as HTMLInputElement).value).toBe('13000');
    expect((w.find(tid('ports-label')).element as HTMLInputElement).value).toBe('api');
    expect(document.activeElement).toBe(w.find(tid('ports-start')).element);

    await row(w, live).find(tid('forward-stop')).trigger('click');
    await flush();
    expect(row(w, live).find(tid('forward-error')).text()).toBe('Could not stop it: the forward is gone');

    await w.find(tid('forwards-dismiss-all')).trigger('click');
    expect(row(w, ended).exists()).toBe(false);
    expect(row(w, live).exists()).toBe(true);
  });
});

describe('PortsView: saved forwards', () => {
  it('opens a saved forward with one click; it then shows as active; Delete forgets it', async () => {
    const s = savedForward({ label: 'prod db', host: 'db.internal', localPort: 15432 });
    const other = savedForward({ label: 'grafana', remotePort: 3000, profile: 'prod', region: 'eu-west-1' });
    const w = await mountView(portList({ saved: [s, other] }));
    const rows = w.findAll(tid('saved-row'));
    expect(rows.map((r) => r.find('.row-name').text())).toEqual(['grafana', 'prod db']);
    const r = w.find(`[data-saved-id="${s.id}"]`);
    expect(r.text()).toContain('db.internal:5432 via web-1');
    expect(r.text()).toContain('local port 15432');
    expect(r.text()).toContain('sandbox · us-east-1');
    expect(w.find(`[data-saved-id="${other.id}"]`).text()).toContain('any free port');
    expect(w.find(`[data-saved-id="${other.id}"]`).text()).toContain('prod · eu-west-1');

    const opened = forward({
      savedId: s.id,
      label: s.label,
      host: 'db.internal',
      localAddress: '127.0.0.1:15432',
    });
    bridge.handle('ports.openSaved', () => opened);
    await r.find(tid('saved-open')).trigger('click');
    await flush();
    expect(bridge.callsTo('ports.openSaved')).toEqual([{ id: s.id }]);
    expect(row(w, opened).find(tid('forward-title')).text()).toBe('prod db');
    const after = w.find(`[data-saved-id="${s.id}"]`);
    expect(after.attributes('data-active')).toBe('true');
    expect(after.find(tid('saved-active')).exists()).toBe(true);
    expect(after.find(tid('saved-open')).attributes('disabled')).toBeDefined();
    // An opened saved forward is not offered for saving again.
    expect(row(w, opened).find(tid('forward-save')).exists()).toBe(false);

    bridge.handle('ports.unsave', null);
    await w.find(`[data-saved-id="${other.id}"]`).find(tid('saved-delete')).trigger('click');
    await flush();
    expect(bridge.callsTo('ports.unsave')).toEqual([{ id: other.id }]);
    expect(w.findAll(tid('saved-row'))).toHaveLength(1);
  });

  it('says why a saved forward did not open, on its row; a damaged file is reported', async () => {
    const s = savedForward();
    bridge.fail('ports.openSaved', 'Profile prod needs an MFA code.', 'CredentialsError');
    const w = await mountView(
      portList({ saved: [s], savedProblem: 'The saved forwards file was damaged; it was set aside.' }),
    );
    expect(w.find(tid('saved-problem')).text()).toContain('set aside');
    await w.find(tid('saved-open')).trigger('click');
    await flush();
    expect(w.find(tid('saved-error')).text()).toBe('Profile prod needs an MFA code.');
    expect(w.find(tid('ports-form-error')).exists()).toBe(false);
  });

  it('saves a running forward of the active profile from its row', async () => {
    const f = forward({ remotePort: 6379 });
    const elsewhere = forward({ profile: 'prod', region: 'eu-west-1' });
    const entry = savedForward({ remotePort: 6379, label: 'port 6379 on web-1' });
    bridge.handle('ports.save', () => entry);
    const w = await mountView(portList({ forwards: [f, elsewhere] }));
    expect(row(w, elsewhere).find(tid('forward-save')).exists()).toBe(false);
    await row(w, f).find(tid('forward-save')).trigger('click');
    await flush();
    expect(bridge.callsTo('ports.save')).toEqual([
      { instanceId: WEB1, remotePort: 6379, localPort: f.localPort },
    ]);
    expect(row(w, f).find(tid('forward-save')).exists()).toBe(false);
    expect(w.findAll(tid('saved-row'))).toHaveLength(1);
  });
});

describe('the Ports view in the activity bar', () => {
  it('is shown by show-ports and Ctrl/Cmd+Shift+P', () => {
    expect(views.map((v) => v.id)).toContain('ports');
    expect(viewForCommand('show-ports')?.id).toBe('ports');
    const key = { key: 'P', ctrlKey: true, metaKey: false, shiftKey: true, altKey: false, target: null };
    expect(shortcutAction(key, views, false)).toEqual({ type: 'view', id: 'ports' });
    expect(shortcutAction({ ...key, ctrlKey: false, metaKey: true }, views, true)).toEqual({
      type: 'view',
      id: 'ports',
    });
    expect(shortcutLabel(findView('ports')?.shortcut, false)).toBe('Ctrl+Shift+P');
    // Every view has its own key.
    const keys = views.map((v) => `${v.shortcut?.shift}:${v.shortcut?.key}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
