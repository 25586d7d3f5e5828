// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { usePortsStore } from '../../../renderer/stores/ports.js';
import { useAppStore } from '../../../renderer/stores/app.js';
import { useNoticesStore } from '../../../renderer/stores/notices.js';
import {
  emptyDraft,
  formatUptime,
  forwardTitle,
  sameTarget,
  sortForwards,
  specOf,
  targetText,
  validateDraft,
  webHint,
} from '../../../renderer/components/ports/ports-format.js';
import { BridgeError, type PortList } from '../../../preload/api.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { appInfo, profileList } from '../helpers/fixtures.js';
import { API1, WEB1, forward, portList, savedForward } from '../helpers/ports-fixtures.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const IN_USE =
  'Local port 5432 on 127.0.0.1 is already in use by another program. Choose another local port, or 0 to let the system pick a free one.';

describe('ports-format', () => {
  it('names a forward by its label, else its target', () => {
    const f = forward({ remotePort: 5432, instanceName: 'db-1' });
    expect(targetText(f)).toBe('port 5432 on db-1');
    expect(forwardTitle(f)).toBe('port 5432 on db-1');
    expect(targetText({ ...f, host: 'db.internal' })).toBe('db.internal:5432 via db-1');
    expect(forwardTitle({ ...f, label: 'prod db' })).toBe('prod db');
    expect(forwardTitle({ ...f, label: '  ' })).toBe('port 5432 on db-1');
  });

  it('checks the form: ports 1-65535, local 0-65535 or blank, a host name, the label length', () => {
    const draft = { ...emptyDraft(WEB1), remotePort: '5432' };
    expect(validateDraft(draft)).toEqual({ ok: true, spec: { instanceId: WEB1, remotePort: 5432 } });
    expect(
      validateDraft({
        ...draft,
        localPort: ' 15432 ',
        host: 'db.internal',
        label: ' prod db ',
        save: true,
      }),
    ).toEqual({
      ok: true,
      spec: {
        instanceId: WEB1,
        remotePort: 5432,
        localPort: 15432,
        host: 'db.internal',
        label: 'prod db',
        save: true,
      },
    });
    // 0 = any free port: not sent.
    expect(validateDraft({ ...draft, localPort: '0' })).toEqual({
      ok: true,
      spec: { instanceId: WEB1, remotePort: 5432 },
    });

    const errorsOf = (patch: Partial<typeof draft>) => {
      const r = validateDraft({ ...draft, ...patch });
      return r.ok ? {} : r.errors;
    };
    expect(Object.keys(errorsOf({ remotePort: '' }))).toEqual(['remotePort']);
    expect(errorsOf({ remotePort: '0' }).remotePort).toMatch(/1 to 65535/);
    expect(errorsOf({ remotePort: '65536' }).remotePort).toMatch(/1 to 65535/);
    expect(errorsOf({ remotePort: '80a' }).remotePort).toMatch(/1 to 65535/);
    expect(errorsOf({ remotePort: '22.5' }).remotePort).toMatch(/1 to 65535/);
    expect(errorsOf({ localPort: '70000' }).localPort).toMatch(/0 to 65535/);
    expect(errorsOf({ localPort: '-1' }).localPort).toMatch(/0 to 65535/);
    expect(errorsOf({ host: 'db internal' }).host).toMatch(/^Expected a host name or IP address/);
    expect(errorsOf({ label: 'x'.repeat(81) }).label).toMatch(/80/);
    expect(errorsOf({ instanceId: null }).instanceId).toBe('Choose an instance.');
  });

  it('hints a browser address for web ports only, sorts live first, and matches saved targets', () => {
    expect(webHint(8080, '127.0.0.1:18080')).toBe('http://127.0.0.1:18080');
    expect(webHint(443, '127.0.0.1:8443')).toBe('https://127.0.0.1:8443');
    expect(webHint(5432, '127.0.0.1:5432')).toBeNull();
    expect(webHint(80, '')).toBeNull();

    expect(formatUptime(3_400)).toBe('3 s');
    expect(formatUptime(-5)).toBe('0 s');
    expect(formatUptime(200_000)).toBe('3 min 20 s');

    const old = forward({ startedAt: 1 });
    const fresh = forward({ startedAt: 2 });
    const failed = forward({ state: 'failed', startedAt: 3, endedAt: 10 });
    const closed = forward({ state: 'closed', startedAt: 3, endedAt: 20 });
    expect(sortForwards([failed, old, closed, fresh]).map((f) => f.id)).toEqual([
      fresh.id,
      old.id,
      closed.id,
      failed.id,
    ]);

    const f = forward({ host: 'db.internal', localPort: 15432, label: 'x' });
    expect(specOf(f)).toEqual({
      instanceId: WEB1,
      remotePort: 5432,
      localPort: 15432,
      host: 'db.internal',
      label: 'x',
    });
    expect(sameTarget(f, savedForward({ host: 'db.internal' }))).toBe(true);
    expect(sameTarget(f, savedForward({ host: null }))).toBe(false);
    expect(sameTarget(f, savedForward({ host: 'db.internal', region: 'eu-west-1' }))).toBe(false);
  });
});

describe('ports store', () => {
  let bridge: FakeBridge;

  beforeEach(async () => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
    sessionStorage.clear();
    bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
    await useAppStore().init();
  });

  afterEach(() => {
    usePortsStore().dispose();
    useNoticesStore().dispose();
  });

  it('loads forwards and saved ones, then follows ports.updated and ports.savedChanged', async () => {
    const a = forward({ startedAt: 100 });
    const s = savedForward();
    bridge.handle('ports.list', portList({ forwards: [a], saved: [s], savedProblem: 'set aside' }));
    const store = usePortsStore();
    await store.init();
    await store.init(); // once
    expect(bridge.callsTo('ports.list')).toHaveLength(1);
    expect(store.forwards.map((f) => f.id)).toEqual([a.id]);
    expect(store.saved).toEqual([s]);
    expect(store.savedProblem).toBe('set aside');
    expect(store.live).toHaveLength(1);

    const b = forward({ startedAt: 200, state: 'starting', localAddress: '' });
    bridge.emit('ports.updated', b);
    bridge.emit('ports.updated', { ...a, activeConnections: 2, totalConnections: 3, bytesIn: 4096 });
    expect(store.forwards.map((f) => f.id)).toEqual([b.id, a.id]);
    expect(store.byId.get(a.id)?.bytesIn).toBe(4096);

    const s2 = savedForward({ label: 'api' });
    bridge.emit('ports.savedChanged', { saved: [s, s2] });
    expect(store.savedSorted.map((x) => x.label)).toEqual(['api', 'prod db']);

    store.dispose();
    expect(bridge.listenerCount('ports.updated')).toBe(0);
  });

  it('keeps an event that came while the list was on its way', async () => {
    const a = forward();
    const answer = deferred<PortList>();
    bridge.handle('ports.list', () => answer.promise);
    const store = usePortsStore();
    const loading = store.init();
    await flush();
    bridge.emit('ports.updated', { ...a, state: 'failed', reason: 'the session ended' });
    answer.resolve(portList({ forwards: [a] }));
    await loading;
    expect(store.byId.get(a.id)?.state).toBe('failed');
  });

  it('opens a forward; a refusal is kept as the back end worded it', async () => {
    bridge.handle('ports.list', portList());
    const store = usePortsStore();
    await store.init();
    const opened = forward({ label: 'db' });
    bridge.handle('ports.open', () => opened);
    const pending = store.open({ instanceId: WEB1, remotePort: 5432, label: 'db', save: true });
    expect(store.busy.open).toBe(true);
    expect(await pending).toEqual(opened);
    expect(store.busy.open).toBe(false);
    expect(bridge.callsTo('ports.open')).toEqual([
      { instanceId: WEB1, remotePort: 5432, label: 'db', save: true },
    ]);
    expect(store.byId.get(opened.id)).toEqual(opened);
    expect(store.lastOpened).toBe(opened.id);

    bridge.fail('ports.open', IN_USE, 'PortForwardError');
    expect(await store.open({ instanceId: WEB1, remotePort: 5432, localPort: 5432 })).toBeNull();
    expect(store.errors.open).toBe(IN_USE);
    // The next attempt clears it.
    bridge.handle('ports.open', () => forward());
    await store.open({ instanceId: WEB1, remotePort: 5432 });
    expect(store.errors.open).toBeNull();
  });

  it('a refused open does not also list the forward it left behind (its reason is the form error)', async () => {
    bridge.handle('ports.list', portList());
    const store = usePortsStore();
    await store.init();
    const f = forward({ state: 'starting', localAddress: '' });
    bridge.handle('ports.open', () => {
      // As the back end does: starting, then failed with the reason, then the refusal.
      bridge.emit('ports.updated', f);
      bridge.emit('ports.updated', { ...f, state: 'failed', reason: IN_USE, endedAt: Date.now() });
      throw new BridgeError({ code: 'HANDLER_FAILED', message: IN_USE, name: 'PortForwardError' });
    });
    await store.open({ instanceId: WEB1, remotePort: 5432, localPort: 5432 });
    expect(store.errors.open).toBe(IN_USE);
    expect(store.shown).toEqual([]);

    // One still starting when the refusal came is dismissed when it fails.
    const g = forward({ state: 'starting', localAddress: '' });
    bridge.handle('ports.openSaved', () => {
      bridge.emit('ports.updated', g);
      throw new BridgeError({ code: 'HANDLER_FAILED', message: 'timed out' });
    });
    await store.openSaved(savedForward().id);
    expect(store.shown.map((x) => x.id)).toEqual([g.id]);
    bridge.emit('ports.updated', { ...g, state: 'failed', reason: 'timed out', endedAt: Date.now() });
    expect(store.shown).toEqual([]);
    expect(useNoticesStore().toasts).toHaveLength(0);
  });

  it('an answer does not undo a newer event about the same forward', async () => {
    bridge.handle('ports.list', portList());
    const store = usePortsStore();
    await store.init();
    const f = forward();
    const answer = deferred<typeof f>();
    bridge.handle('ports.open', () => answer.promise);
    const pending = store.open({ instanceId: WEB1, remotePort: 5432 });
    await flush();
    bridge.emit('ports.updated', { ...f, totalConnections: 1, activeConnections: 1 });
    answer.resolve(f);
    await pending;
    expect(store.byId.get(f.id)?.totalConnections).toBe(1);
  });

  it('keeps errors per action and per forward: close, unsave, openSaved, save', async () => {
    const a = forward();
    const b = forward();
    const s = savedForward();
    bridge.handle('ports.list', portList({ forwards: [a, b], saved: [s] }));
    const store = usePortsStore();
    await store.init();

    bridge.fail('ports.close', 'no such forward');
    expect(await store.close(a.id)).toBe(false);
    expect(store.errors.close).toEqual({ [a.id]: 'no such forward' });
    bridge.handle('ports.close', null);
    expect(await store.close(b.id)).toBe(true);
    expect(store.errors.close[a.id]).toBe('no such forward');
    expect(store.errors.close[b.id]).toBeUndefined();

    bridge.fail('ports.openSaved', 'Profile prod needs an MFA code.', 'CredentialsError');
    expect(await store.openSaved(s.id)).toBeNull();
    expect(store.errors.openSaved[s.id]).toBe('Profile prod needs an MFA code.');
    expect(store.errors.open).toBeNull();

    bridge.fail('ports.unsave', 'the saved forwards file is read-only');
    expect(await store.unsave(s.id)).toBe(false);
    expect(store.errors.unsave[s.id]).toBe('the saved forwards file is read-only');
    expect(store.saved).toHaveLength(1);
    bridge.handle('ports.unsave', null);
    expect(await store.unsave(s.id)).toBe(true);
    expect(store.saved).toHaveLength(0);

    const entry = savedForward({ label: 'port 5432 on web-1' });
    bridge.handle('ports.save', () => entry);
    expect(await store.save(specOf(a), a.id)).toEqual(entry);
    expect(store.saved).toEqual([entry]);
    expect(store.savedFor(a)).toEqual(entry); // same target
    bridge.fail('ports.save', 'disk full');
    expect(await store.save(specOf(b), b.id)).toBeNull();
    expect(store.errors.save[b.id]).toBe('disk full');
  });

  it('an opened saved forward is active; the answer lists it', async () => {
    const s = savedForward();
    bridge.handle('ports.list', portList({ saved: [s] }));
    const store = usePortsStore();
    await store.init();
    expect(store.activeFor(s.id)).toBeUndefined();
    const opened = forward({ savedId: s.id, label: s.label });
    bridge.handle('ports.openSaved', () => opened);
    await store.openSaved(s.id);
    expect(bridge.callsTo('ports.openSaved')).toEqual([{ id: s.id }]);
    expect(store.activeFor(s.id)?.id).toBe(opened.id);
    bridge.emit('ports.updated', { ...opened, state: 'closed', reason: 'stopped', endedAt: Date.now() });
    expect(store.activeFor(s.id)).toBeUndefined();
  });

  it('raises a toast when a working forward breaks, naming it and the reason', async () => {
    const a = forward({ label: 'prod db', localAddress: '127.0.0.1:15432' });
    const starting = forward({ state: 'starting', localAddress: '' });
    bridge.handle('ports.list', portList({ forwards: [a, starting] }));
    const store = usePortsStore();
    const notices = useNoticesStore();
    await store.init();

    bridge.emit('ports.updated', { ...a, state: 'reconnecting' });
    expect(notices.toasts).toHaveLength(0);
    bridge.emit('ports.updated', {
      ...a,
      state: 'failed',
      reason: 'The session was terminated: maintenance',
      endedAt: Date.now(),
    });
    expect(notices.toasts).toHaveLength(1);
    expect(notices.toasts[0]).toMatchObject({
      tone: 'bad',
      title: 'Port forward broke',
      message: 'prod db (127.0.0.1:15432): The session was terminated: maintenance',
    });
    // Again failed: no second toast. One that never opened: its error is the action's.
    bridge.emit('ports.updated', { ...a, state: 'failed', reason: 'x' });
    bridge.emit('ports.updated', { ...starting, state: 'failed', reason: 'could not start' });
    bridge.emit('ports.updated', forward({ state: 'failed', reason: 'unknown before' }));
    expect(notices.toasts).toHaveLength(1);
  });

  it('ended forwards stay listed until dismissed (remembered for the tab); live ones cannot be', async () => {
    const live = forward();
    const failed = forward({ state: 'failed', reason: 'boom', endedAt: 5 });
    const closed = forward({ state: 'closed', reason: 'stopped', endedAt: 6 });
    bridge.handle('ports.list', portList({ forwards: [live, failed, closed] }));
    const store = usePortsStore();
    await store.init();
    expect(store.shown).toHaveLength(3);
    expect(store.ended.map((f) => f.id)).toEqual([closed.id, failed.id]);
    store.dismiss(live.id, failed.id);
    expect(store.shown.map((f) => f.id)).toEqual([live.id, closed.id]);
    expect(JSON.parse(sessionStorage.getItem('ec2connect.ports.dismissed')!)).toEqual([failed.id]);

    // A new page in this tab remembers it.
    setActivePinia(createPinia());
    const again = usePortsStore();
    await again.init();
    expect(again.shown.map((f) => f.id)).toEqual([live.id, closed.id]);
    again.dismissEnded();
    expect(again.shown.map((f) => f.id)).toEqual([live.id]);
    again.dispose();
  });

  it('openFor shows the view with the instance chosen and asks the form for focus', async () => {
    bridge.handle('ports.list', portList());
    const store = usePortsStore();
    const app = useAppStore();
    store.draft = { ...emptyDraft(WEB1), remotePort: '80' };
    store.errors.open = 'old';
    store.openFor(API1);
    expect(app.activeView).toBe('ports');
    expect(app.sidePanelVisible).toBe(true);
    expect(store.draft).toMatchObject({ instanceId: API1, remotePort: '80' });
    expect(store.errors.open).toBeNull();
    expect(store.openRequest).toBe(1);
    store.resetDraft();
    expect(store.draft).toEqual(emptyDraft(API1));
  });
});
