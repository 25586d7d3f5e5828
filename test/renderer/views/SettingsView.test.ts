// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsView from '../../../renderer/views/SettingsView.vue';
import { useSettingsStore } from '../../../renderer/stores/settings.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { settings } from '../helpers/fixtures.js';
import { installMatchMedia, type FakeMediaQuery } from '../helpers/match-media.js';
import type { Settings } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

let bridge: FakeBridge;
let mq: FakeMediaQuery;
let stored: Settings;

beforeEach(async () => {
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
    } as Settings;
    return structuredClone(stored);
  });
  await useSettingsStore().init();
});

afterEach(() => mq.uninstall());

const field = (path: string) => `[data-testid="setting-${path}"]`;

describe('SettingsView', () => {
  it('shows the current settings', () => {
    const w = mount(SettingsView);
    expect((w.find(field('fontSize')).element as HTMLInputElement).value).toBe('14');
    expect((w.find(field('cursorBlink')).element as HTMLInputElement).checked).toBe(true);
    expect((w.find(field('renderer')).element as HTMLSelectElement).value).toBe('auto');
    expect(w.find(field('theme-system')).attributes('aria-checked')).toBe('true');
  });

  it('saves a valid change at once as a patch', async () => {
    const w = mount(SettingsView);
    await w.find(field('fontSize')).setValue('16');
    await w.find(field('fontSize')).trigger('change');
    await w.find(field('notifications.limits')).setValue(false);
    await w.find(field('renderer')).setValue('canvas');
    await w.find(field('theme-dark')).trigger('click');
    await flush();
    expect(bridge.callsTo('settings.update')).toEqual([
      { fontSize: 16 },
      { notifications: { limits: false } },
      { renderer: 'canvas' },
      { theme: 'dark' },
    ]);
    expect(useSettingsStore().theme).toBe('dark');
  });

  it('shows schema errors and does not send invalid values', async () => {
    const w = mount(SettingsView);
    await w.find(field('fontSize')).setValue('40');
    expect(w.find('[data-testid="error-fontSize"]').text()).toMatch(/32/);
    expect(w.find(field('fontSize')).attributes('aria-invalid')).toBe('true');
    await w.find(field('fontSize')).trigger('change');
    await w.find(field('scrollback')).setValue('');
    expect(w.find('[data-testid="error-scrollback"]').text()).toBe('Enter a number.');
    await w.find(field('lineHeight')).setValue('1.5');
    await w.find(field('lineHeight')).trigger('change');
    await w.find(field('notifications.minIntervalSeconds')).setValue('7200');
    expect(w.find('[data-testid="error-notifications.minIntervalSeconds"]').exists()).toBe(true);
    await w.find(field('fontFamily')).setValue('');
    expect(w.find('[data-testid="error-fontFamily"]').exists()).toBe(true);
    await flush();
    expect(bridge.callsTo('settings.update')).toEqual([{ lineHeight: 1.5 }]);

    // Fixing the value clears the error and saves it.
    await w.find(field('fontSize')).setValue('20');
    await w.find(field('fontSize')).trigger('change');
    await flush();
    expect(w.find('[data-testid="error-fontSize"]').exists()).toBe(false);
    expect(stored.fontSize).toBe(20);
  });

  it('disables the notification kinds while notifications are off', async () => {
    const w = mount(SettingsView);
    await w.find(field('notifications.enabled')).setValue(false);
    await flush();
    expect(w.find(field('notifications.disconnects')).attributes('disabled')).toBeDefined();
  });

  it('follows settings changed elsewhere', async () => {
    const w = mount(SettingsView);
    bridge.emit('settings.changed', settings({ scrollback: 5000 }));
    await flush();
    expect((w.find(field('scrollback')).element as HTMLInputElement).value).toBe('5000');
  });
});
