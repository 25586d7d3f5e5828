// @vitest-environment happy-dom
/**
 * The Settings view's window settings (ui.* and resources.* keys): the hand-made sections are
 * presentation overrides over configuration keys, rendered and saved like every other key.
 */
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsView from '../../../renderer/views/SettingsView.vue';
import { useConfigStore } from '../../../renderer/stores/config.js';
import { useResourcesStore } from '../../../renderer/stores/resources.js';
import { useSettingsStore } from '../../../renderer/stores/settings.js';
import { configBackend, configState } from '../helpers/config-fixtures.js';
import { governorState } from '../helpers/resources-fixtures.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { settings } from '../helpers/fixtures.js';
import { installMatchMedia, type FakeMediaQuery } from '../helpers/match-media.js';
import type { Settings } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

let bridge: FakeBridge;
let mq: FakeMediaQuery;
let backend: ReturnType<typeof configBackend>;

beforeEach(async () => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  localStorage.clear();
  mq = installMatchMedia(false);
  backend = configBackend(configState());
  bridge
    .handle('settings.get', () => settings())
    .handle('config.get', () => structuredClone(backend.state))
    .handle('config.update', (r) => {
      const next = backend.update(r);
      // As the main side does: a change of the configuration is a change of the settings too.
      bridge.emit('config.changed', structuredClone(next));
      bridge.emit('settings.changed', settings({ theme: next.values['ui.theme'] as Settings['theme'] }));
      return next;
    });
  await useSettingsStore().init();
});

afterEach(() => mq.uninstall());

async function mountView() {
  const w = mount(SettingsView);
  await flush();
  return w;
}

const input = (key: string) => `[data-testid="config-input-${key}"]`;
const error = (key: string) => `[data-testid="config-error-${key}"]`;

describe('SettingsView: the window settings', () => {
  it('shows the current settings with their hand-made labels and controls', async () => {
    const w = await mountView();
    expect((w.find(input('ui.font_size')).element as HTMLInputElement).value).toBe('14');
    expect(w.find('[data-testid="config-field-ui.font_size"]').text()).toContain('Font size');
    expect((w.find(input('ui.cursor_blink')).element as HTMLInputElement).checked).toBe(true);
    const renderer = w.find(input('ui.renderer'));
    expect((renderer.element as HTMLSelectElement).value).toBe('auto');
    expect(renderer.findAll('option').map((o) => o.text())).toEqual(['Auto', 'WebGL', 'Canvas', 'DOM']);
    expect(w.find(input('ui.theme')).attributes('role')).toBe('radiogroup');
    expect(w.find(input('ui.theme-system')).attributes('aria-checked')).toBe('true');
    expect(w.find(input('ui.theme-system')).text()).toBe('System');
    expect(w.find(input('ui.scrollback')).attributes('step')).toBe('1000');
    expect(w.find('[data-testid="config-field-ui.scrollback"]').text()).toContain(
      'Lines kept per terminal. Between 100 and 200,000 lines.',
    );
  });

  it('saves a valid change at once through config.update', async () => {
    const w = await mountView();
    await w.find(input('ui.font_size')).setValue('16');
    await w.find(input('ui.font_size')).trigger('change');
    await w.find(input('ui.notify_limits')).setValue(false);
    await w.find(input('ui.renderer')).setValue('canvas');
    await w.find(input('ui.theme-dark')).trigger('click');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([
      { values: { 'ui.font_size': 16 } },
      { values: { 'ui.notify_limits': false } },
      { values: { 'ui.renderer': 'canvas' } },
      { values: { 'ui.theme': 'dark' } },
    ]);
    expect(bridge.callsTo('settings.update')).toEqual([]);
    expect(w.find(input('ui.theme-dark')).attributes('aria-checked')).toBe('true');
    expect(useSettingsStore().theme).toBe('dark');
  });

  it('checks values as they are typed and does not send invalid ones', async () => {
    const w = await mountView();
    await w.find(input('ui.font_size')).setValue('40');
    expect(w.find(error('ui.font_size')).text()).toBe('Must be between 8 and 32 px.');
    expect(w.find(input('ui.font_size')).attributes('aria-invalid')).toBe('true');
    await w.find(input('ui.font_size')).trigger('change');
    await w.find(input('ui.scrollback')).setValue('');
    expect(w.find(error('ui.scrollback')).text()).toBe('Enter a number.');
    await w.find(input('ui.line_height')).setValue('1.5');
    await w.find(input('ui.line_height')).trigger('change');
    await w.find(input('ui.notification_min_interval_seconds')).setValue('7200');
    expect(w.find(error('ui.notification_min_interval_seconds')).exists()).toBe(true);
    await w.find(input('ui.font_family')).setValue('');
    expect(w.find(error('ui.font_family')).text()).toBe('A value is needed.');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([{ values: { 'ui.line_height': 1.5 } }]);

    // Fixing the value clears the error and saves it.
    await w.find(input('ui.font_size')).setValue('20');
    await w.find(input('ui.font_size')).trigger('change');
    await flush();
    expect(w.find(error('ui.font_size')).exists()).toBe(false);
    expect(backend.state.values['ui.font_size']).toBe(20);
  });

  it('disables the notification kinds while notifications are off', async () => {
    const w = await mountView();
    expect(w.find(input('ui.notify_disconnects')).attributes('disabled')).toBeUndefined();
    await w.find(input('ui.notifications_enabled')).setValue(false);
    await flush();
    expect(w.find(input('ui.notify_disconnects')).attributes('disabled')).toBeDefined();
    expect(w.find(input('ui.notification_min_interval_seconds')).attributes('disabled')).toBeDefined();
    expect(w.find('[data-testid="config-field-ui.notify_limits"]').classes()).toContain('disabled');
  });

  it('follows settings changed elsewhere', async () => {
    const w = await mountView();
    bridge.emit('config.changed', configState({ values: { 'ui.scrollback': 5000 } }));
    await flush();
    expect((w.find(input('ui.scrollback')).element as HTMLInputElement).value).toBe('5000');
    expect(w.find('[data-testid="config-source-ui.scrollback"]').text()).toBe('file');
  });

  it('has a Resources section: limits, low power and Prometheus, validated and saved', async () => {
    const w = await mountView();
    const resources = w.find('[data-testid="settings-section-resources"]');
    expect(resources.findAll('[data-config-key]').map((e) => e.attributes('data-config-key'))).toEqual([
      'resources.max_memory_mb',
      'resources.max_cpu_percent',
      'resources.low_power_mode',
      'resources.monitoring_interval',
      'resources.prometheus_port',
    ]);
    expect((w.find(input('resources.max_memory_mb')).element as HTMLInputElement).value).toBe('1536');
    expect((w.find(input('resources.max_cpu_percent')).element as HTMLInputElement).value).toBe('80');
    expect((w.find(input('resources.monitoring_interval')).element as HTMLInputElement).value).toBe('5000');
    expect((w.find(input('resources.prometheus_port')).element as HTMLInputElement).value).toBe('0');
    expect(w.find(input('resources.low_power_mode-auto')).attributes('aria-checked')).toBe('true');
    expect(w.find(input('resources.low_power_mode-auto')).text()).toBe('Automatic');

    await w.find(input('resources.max_memory_mb')).setValue('-5');
    expect(w.find(error('resources.max_memory_mb')).exists()).toBe(true);
    await w.find(input('resources.max_cpu_percent')).setValue('150');
    expect(w.find(error('resources.max_cpu_percent')).text()).toMatch(/100/);
    await w.find(input('resources.monitoring_interval')).setValue('10');
    expect(w.find(error('resources.monitoring_interval')).exists()).toBe(true);
    await w.find(input('resources.prometheus_port')).setValue('70000');
    expect(w.find(error('resources.prometheus_port')).exists()).toBe(true);
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([]);

    await w.find(input('resources.max_memory_mb')).setValue('512');
    await w.find(input('resources.max_memory_mb')).trigger('change');
    await w.find(input('resources.max_cpu_percent')).setValue('25.5');
    await w.find(input('resources.max_cpu_percent')).trigger('change');
    await w.find(input('resources.low_power_mode-on')).trigger('click');
    await w.find(input('resources.prometheus_port')).setValue('9464');
    await w.find(input('resources.prometheus_port')).trigger('change');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([
      { values: { 'resources.max_memory_mb': 512 } },
      { values: { 'resources.max_cpu_percent': 25.5 } },
      { values: { 'resources.low_power_mode': 'on' } },
      { values: { 'resources.prometheus_port': 9464 } },
    ]);
    expect(useConfigStore().value('resources.low_power_mode')).toBe('on');
  });

  it('says which resource limits an environment variable pins, with the value the governor applies', async () => {
    backend.state = configState({
      sources: { 'resources.max_memory_mb': 'env', 'resources.low_power_mode': 'env' },
    });
    const w = await mountView();
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
    const pinned = (key: string) => w.find(`[data-testid="config-pinned-${key}"]`);
    expect(pinned('resources.max_memory_mb').text()).toBe(
      'Set by EC2_CONNECT_MAX_MEMORY_MB (in effect: 256 MiB); read-only here. Unset it to change this setting.',
    );
    expect(pinned('resources.low_power_mode').text()).toContain('in effect: on');
    expect(pinned('resources.max_cpu_percent').exists()).toBe(false);
    expect(pinned('resources.monitoring_interval').exists()).toBe(false);

    // Read-only: a pick or a typed value is not sent.
    await w.find(input('resources.low_power_mode-off')).trigger('click');
    const memory = w.find(input('resources.max_memory_mb'));
    expect(memory.attributes('readonly')).toBeDefined();
    await memory.setValue('64');
    await memory.trigger('change');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([]);
  });

  it('previews the terminal font as it is typed, before it is saved', async () => {
    const w = await mountView();
    const preview = () => w.find('[data-testid="font-preview"]').element as HTMLElement;
    /** Typing without leaving the field (input events only; setValue also fires change). */
    const type = async (key: string, text: string) => {
      const el = w.find(input(key));
      (el.element as HTMLInputElement).value = text;
      await el.trigger('input');
    };
    expect(preview().style.fontSize).toBe('14px');
    await type('ui.font_size', '20');
    expect(preview().style.fontSize).toBe('20px');
    await type('ui.font_size', '99'); // invalid: the saved size shows
    expect(preview().style.fontSize).toBe('14px');
    await type('ui.line_height', '1.5');
    expect(preview().style.lineHeight).toBe('1.5');
    expect(bridge.callsTo('config.update')).toEqual([]);
  });
});
