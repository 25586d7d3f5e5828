// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  clampPanelWidth,
  SIDE_PANEL_MAX,
  SIDE_PANEL_MIN,
  useAppStore,
} from '../../../renderer/stores/app.js';
import { appInfo, profileList } from '../helpers/fixtures.js';
import { deferred, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import type { AppInfo } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

describe('useAppStore', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    bridge = resetFakeBridge('ipc');
    setActivePinia(createPinia());
    localStorage.clear();
    bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
  });

  it('loads the context and the transport once', async () => {
    const app = useAppStore();
    await app.init();
    await app.init();
    expect(app.info?.profile).toBe('sandbox');
    expect(app.profiles?.profiles.map((p) => p.name)).toEqual(['sandbox', 'prod', 'dev']);
    expect(app.transport).toBe('ipc');
    expect(app.activeKey).toBe('sandbox us-east-1');
    expect(bridge.callsTo('app.info')).toHaveLength(1);
    expect(bridge.listenerCount('app.profileChanged')).toBe(1);
  });

  it('selects a profile and region through profiles.select', async () => {
    bridge.handle('profiles.select', (req) => appInfo(req.profile, req.region ?? 'us-east-1'));
    const app = useAppStore();
    await app.init();
    expect(await app.selectProfile('prod', 'eu-west-1')).toBe(true);
    expect(bridge.callsTo('profiles.select')).toEqual([{ profile: 'prod', region: 'eu-west-1' }]);
    expect(app.info?.profile).toBe('prod');
    expect(app.profiles?.active).toEqual({ profile: 'prod', region: 'eu-west-1' });
    expect(app.switching).toBe(false);
  });

  it('keeps the active profile and explains a refused switch', async () => {
    bridge.fail('profiles.select', 'The SSO session has expired; run aws sso login', 'TokenExpiredError');
    const app = useAppStore();
    await app.init();
    expect(await app.selectProfile('prod', 'eu-west-1')).toBe(false);
    expect(app.selectError).toBe('TokenExpiredError: The SSO session has expired; run aws sso login');
    expect(app.info?.profile).toBe('sandbox');
    expect(app.switching).toBe(false);
  });

  it('follows app.profileChanged, and it wins over an older select still in flight', async () => {
    const pending = deferred<AppInfo>();
    bridge.handle('profiles.select', () => pending.promise);
    const app = useAppStore();
    await app.init();
    const select = app.selectProfile('dev', 'us-west-2');
    bridge.emit('app.profileChanged', appInfo('prod', 'eu-west-1'));
    expect(app.activeKey).toBe('prod eu-west-1');
    pending.resolve(appInfo('dev', 'us-west-2'));
    await select;
    expect(app.activeKey).toBe('prod eu-west-1');
  });

  it('ends switching when the switch is announced before its answer (as the main side does)', async () => {
    const pending = deferred<AppInfo>();
    bridge.handle('profiles.select', () => pending.promise);
    const app = useAppStore();
    await app.init();
    const select = app.selectProfile('prod', 'eu-west-1');
    expect(app.switching).toBe(true);
    bridge.emit('app.profileChanged', appInfo('prod', 'eu-west-1'));
    pending.resolve(appInfo('prod', 'eu-west-1'));
    expect(await select).toBe(true);
    expect(app.switching).toBe(false);
    expect(app.activeKey).toBe('prod eu-west-1');
  });

  it('shows the problem when the back end is not there', async () => {
    bridge.fail('app.info', 'back end not ready').fail('profiles.list', 'back end not ready');
    const app = useAppStore();
    await app.init();
    expect(app.info).toBeNull();
    expect(app.infoError).toBe('back end not ready');
    expect(app.profilesError).toBe('back end not ready');
  });

  it('toggles views like an activity bar and remembers the panel width', () => {
    const app = useAppStore();
    expect(app.activeView).toBe('instances');
    app.toggleView('instances');
    expect(app.sidePanelVisible).toBe(false);
    app.toggleView('sessions');
    expect(app.sidePanelVisible).toBe(true);
    expect(app.activeView).toBe('sessions');
    app.requestFilterFocus();
    expect(app.activeView).toBe('instances');
    expect(app.filterFocusRequest).toBe(1);

    app.setSidePanelWidth(5000);
    expect(app.sidePanelWidth).toBe(SIDE_PANEL_MAX);
    expect(localStorage.getItem('ec2connect.sidePanelWidth')).toBe(String(SIDE_PANEL_MAX));
    setActivePinia(createPinia());
    expect(useAppStore().sidePanelWidth).toBe(SIDE_PANEL_MAX);
    expect(clampPanelWidth(10)).toBe(SIDE_PANEL_MIN);
  });
});
