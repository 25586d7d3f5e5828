// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsView from '../../../renderer/views/SettingsView.vue';
import { useResourcesStore } from '../../../renderer/stores/resources.js';
import { useSettingsStore } from '../../../renderer/stores/settings.js';
import { governorState } from '../helpers/resources-fixtures.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { settings } from '../helpers/fixtures.js';
import { installMatchMedia, type FakeMediaQuery } from '../helpers/match-media.js';
import { DEFAULT_RESOURCE_SETTINGS, type Settings } from '../../../preload/api.js';

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
      resources: { ...stored.resources, ...(patch.resources ?? {}) },
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

  it('has a Resources section: limits, low power and Prometheus, validated and saved as patches', async () => {
    const w = mount(SettingsView);
    expect((w.find(field('resources.maxMemoryMb')).element as HTMLInputElement).value).toBe('1536');
    expect((w.find(field('resources.maxCpuPercent')).element as HTMLInputElement).value).toBe(
      String(DEFAULT_RESOURCE_SETTINGS.maxCpuPercent),
    );
    expect((w.find(field('resources.monitoringIntervalMs')).element as HTMLInputElement).value).toBe('5000');
    expect((w.find(field('resources.prometheusPort')).element as HTMLInputElement).value).toBe('0');
    expect(w.find(field('resources.lowPower-auto')).attributes('aria-checked')).toBe('true');

    await w.find(field('resources.maxMemoryMb')).setValue('-5');
    expect(w.find('[data-testid="error-resources.maxMemoryMb"]').exists()).toBe(true);
    await w.find(field('resources.maxCpuPercent')).setValue('150');
    expect(w.find('[data-testid="error-resources.maxCpuPercent"]').text()).toMatch(/100/);
    await w.find(field('resources.monitoringIntervalMs')).setValue('10');
    expect(w.find('[data-testid="error-resources.monitoringIntervalMs"]').exists()).toBe(true);
    await w.find(field('resources.prometheusPort')).setValue('70000');
    expect(w.find('[data-testid="error-resources.prometheusPort"]').exists()).toBe(true);
    await flush();
    expect(bridge.callsTo('settings.update')).toEqual([]);

    await w.find(field('resources.maxMemoryMb')).setValue('512');
    await w.find(field('resources.maxMemoryMb')).trigger('change');
    await w.find(field('resources.maxCpuPercent')).setValue('25.5');
    await w.find(field('resources.maxCpuPercent')).trigger('change');
    await w.find(field('resources.lowPower-on')).trigger('click');
    await w.find(field('resources.prometheusPort')).setValue('9464');
    await w.find(field('resources.prometheusPort')).trigger('change');
    await flush();
    expect(bridge.callsTo('settings.update')).toEqual([
      { resources: { maxMemoryMb: 512 } },
      { resources: { maxCpuPercent: 25.5 } },
      { resources: { lowPower: 'on' } },
      { resources: { prometheusPort: 9464 } },
    ]);
    expect(stored.resources).toEqual({
      monitoringIntervalMs: 5000,
      maxMemoryMb: 512,
      maxCpuPercent: 25.5,
      lowPower: 'on',
      prometheusPort: 9464,
    });
  });

  it('says which resource limits an environment variable overrides, with the value in effect', async () => {
    const w = mount(SettingsView);
    expect(w.find('[data-testid="env-resources.maxMemoryMb"]').exists()).toBe(false);
    useResourcesStore().applyGovernor({
      state: governorState({
        memory: { usedBytes: 100 * 1024 * 1024, limitBytes: 256 * 1024 * 1024 },
        lowPower: { active: true, mode: 'on', reasons: ['env'] },
        sources: {
          maxMemoryMb: 'env',
          maxCpuPercent: 'settings',
          lowPower: 'env',
          monitoringIntervalMs: 'default',
        },
      }),
      change: null,
    });
    await flush();
    expect(w.find('[data-testid="env-resources.maxMemoryMb"]').text()).toContain('in effect: 256 MiB');
    expect(w.find('[data-testid="env-resources.lowPower"]').text()).toContain('in effect: on');
    expect(w.find('[data-testid="env-resources.maxCpuPercent"]').exists()).toBe(false);
    expect(w.find('[data-testid="env-resources.monitoringIntervalMs"]').exists()).toBe(false);
  });
});
