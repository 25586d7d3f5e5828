// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveTheme, useSettingsStore, validatePatch } from '../../../renderer/stores/settings.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { settings } from '../helpers/fixtures.js';
import { installMatchMedia, type FakeMediaQuery } from '../helpers/match-media.js';
import { DEFAULT_RESOURCE_SETTINGS, type Settings } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

describe('validatePatch', () => {
  it('accepts partial patches, nested notifications included', () => {
    expect(validatePatch({ fontSize: 16, notifications: { limits: false } })).toEqual({
      ok: true,
      patch: { fontSize: 16, notifications: { limits: false } },
    });
  });

  it('names the fields that are out of range or unknown', () => {
    const result = validatePatch({ fontSize: 40, notifications: { minIntervalSeconds: -1 }, bogus: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.issues.map((i) => i.path);
    expect(paths).toContain('fontSize');
    expect(paths).toContain('notifications.minIntervalSeconds');
    expect(paths).toContain('(root)'); // the unknown key
  });
});

describe('resolveTheme', () => {
  it('follows the system only for system', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});

describe('useSettingsStore', () => {
  let bridge: FakeBridge;
  let mq: FakeMediaQuery;
  let stored: Settings;

  beforeEach(() => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
    mq = installMatchMedia(false);
    stored = settings();
    bridge.handle('settings.get', () => structuredClone(stored));
    bridge.handle('settings.update', (patch) => {
      stored = {
        ...stored,
        ...patch,
        notifications: { ...stored.notifications, ...(patch.notifications ?? {}) },
        resources: { ...stored.resources, ...(patch.resources ?? {}) },
      } as Settings;
      return structuredClone(stored);
    });
  });

  afterEach(() => mq.uninstall());

  it('loads, updates with a patch and follows settings.changed', async () => {
    const store = useSettingsStore();
    await store.init();
    expect(store.settings.fontSize).toBe(14);
    expect(await store.update({ fontSize: 18, notifications: { limits: false } })).toEqual({ ok: true });
    expect(bridge.callsTo('settings.update')).toEqual([{ fontSize: 18, notifications: { limits: false } }]);
    expect(store.settings.fontSize).toBe(18);
    expect(store.settings.notifications.limits).toBe(false);
    expect(store.settings.notifications.enabled).toBe(true);

    bridge.emit('settings.changed', settings({ fontSize: 12 }));
    expect(store.settings.fontSize).toBe(12);
  });

  it('merges a partial resources patch at once (optimistically), the other limits kept', async () => {
    let answer!: () => void;
    const store = useSettingsStore();
    await store.init();
    bridge.handle(
      'settings.update',
      (patch) =>
        new Promise((resolve) => {
          answer = () =>
            resolve({ ...stored, resources: { ...stored.resources, ...patch!.resources } } as Settings);
        }),
    );
    const pending = store.update({ resources: { maxMemoryMb: 1 } });
    expect(store.settings.resources).toEqual({ ...stored.resources, maxMemoryMb: 1 });
    await flush();
    answer();
    expect(await pending).toEqual({ ok: true });
    expect(store.settings.resources.maxCpuPercent).toBe(DEFAULT_RESOURCE_SETTINGS.maxCpuPercent);
    expect((await store.update({ resources: { lowPower: 'sometimes' } })).ok).toBe(false);
  });

  it('does not send an invalid patch', async () => {
    const store = useSettingsStore();
    await store.init();
    const result = await store.update({ scrollback: 10 });
    expect(result.ok).toBe(false);
    expect(bridge.callsTo('settings.update')).toEqual([]);
    expect(store.settings.scrollback).toBe(10_000);
  });

  it('rolls back when the main side refuses', async () => {
    bridge.fail('settings.update', 'disk full', 'EIO');
    const store = useSettingsStore();
    await store.init();
    const result = await store.update({ fontSize: 20 });
    expect(result).toEqual({ ok: false, issues: [], error: 'EIO: disk full' });
    expect(store.settings.fontSize).toBe(14);
    expect(store.saveError).toBe('EIO: disk full');
  });

  it('follows the OS colour scheme live while the theme is system', async () => {
    const store = useSettingsStore();
    await store.init();
    expect(store.theme).toBe('light');
    mq.set(true);
    expect(store.theme).toBe('dark');
    await store.update({ theme: 'light' });
    expect(store.theme).toBe('light');
    mq.set(false);
    mq.set(true);
    expect(store.theme).toBe('light');
    await store.update({ theme: 'system' });
    expect(store.theme).toBe('dark');
    store.dispose();
    expect(mq.listenerCount()).toBe(0);
  });

  it('keeps the defaults when settings cannot be loaded', async () => {
    bridge.fail('settings.get', 'no such channel');
    const store = useSettingsStore();
    await store.init();
    expect(store.loadError).toBe('no such channel');
    expect(store.settings.theme).toBe('system');
  });
});
