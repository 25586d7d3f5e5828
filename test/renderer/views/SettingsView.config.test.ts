// @vitest-environment happy-dom
/** The Settings view's configuration part: sections generated from ConfigState.keys. */
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import SettingsView from '../../../renderer/views/SettingsView.vue';
import { useConfigStore } from '../../../renderer/stores/config.js';
import { useSettingsStore } from '../../../renderer/stores/settings.js';
import { configBackend, configState } from '../helpers/config-fixtures.js';
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
let stored: Settings;
let wrapper: VueWrapper | undefined;

beforeEach(async () => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  localStorage.clear();
  mq = installMatchMedia(false);
  stored = settings();
  backend = configBackend(
    configState({
      values: { 'logging.level': 'debug' },
      sources: { 'session.max_total_sessions': 'env' },
    }),
  );
  bridge
    .handle('settings.get', () => structuredClone(stored))
    .handle('settings.update', (patch) => {
      stored = { ...stored, ...patch } as Settings;
      return structuredClone(stored);
    })
    .handle('config.get', () => structuredClone(backend.state))
    .handle('config.update', (r) => backend.update(r))
    .handle('config.preset', (r) => backend.preset(r));
  await useSettingsStore().init();
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  mq.uninstall();
  document.body.innerHTML = '';
});

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(SettingsView, { attachTo: document.body });
  await flush();
  return wrapper;
}

const tid = (id: string) => `[data-testid="${id}"]`;

describe('SettingsView: the configuration', () => {
  it('generates every section, each key once, with a control per type', async () => {
    const w = await mountView();
    const sections = w.findAll('[data-testid^="settings-section-toggle-"]').map((s) => s.text());
    expect(sections.map((t) => t.replace(/\d+$/, '').trim())).toEqual([
      'Appearance',
      'Terminal',
      'Notifications',
      'Resources',
      'AWS',
      'Sessions',
      'Connection',
      'Performance',
      'Logging',
      'Database',
    ]);
    // Every key shown once (hand-made ui/resources fields stand for their keys).
    const shown = w.findAll('[data-config-key]').map((e) => e.attributes('data-config-key'));
    expect(new Set(shown).size).toBe(shown.length);
    for (const k of backend.state.keys) expect(shown).toContain(k.key);

    const total = w.find(tid('config-input-session.max_total_sessions'));
    expect(total.attributes('type')).toBe('number');
    expect(total.attributes('min')).toBe('1');
    expect(total.attributes('max')).toBe('1000');
    expect(w.find(tid('config-field-session.max_total_sessions')).text()).toContain('sessions');
    expect(w.find(tid('config-input-session.aggressive_reconnection')).attributes('role')).toBe('switch');
    const level = w.find(tid('config-input-logging.level'));
    expect(level.element.tagName).toBe('SELECT');
    expect((level.element as HTMLSelectElement).value).toBe('debug');
    expect(level.findAll('option').map((o) => o.text())).toEqual([
      'silent',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
    ]);
    const region = w.find(tid('config-input-aws.region'));
    expect(region.attributes('type')).toBe('text');
    expect(region.attributes('placeholder')).toBe('default');
    expect(w.find(tid('config-field-aws.region')).text()).toContain('Region');
  });

  it('shows each value’s source, the live hint, the default and a reset', async () => {
    const w = await mountView();
    expect(w.find(tid('config-source-logging.level')).text()).toBe('file');
    expect(w.find(tid('config-source-logging.level')).attributes('title')).toContain(
      '/home/u/.config/ec2-connect/config.json',
    );
    expect(w.find(tid('config-source-logging.directory')).text()).toBe('default');
    expect(w.find(tid('config-live-logging.level')).text()).toBe('Applies live');
    expect(w.find(tid('config-live-connection.request_timeout')).text()).toBe(
      'Applies to new sessions or at restart',
    );
    expect(w.find(tid('config-meta-logging.level')).text()).toContain('default warn');
    expect(w.find(tid('config-reset-logging.directory')).exists()).toBe(false); // nothing to reset

    await w.find(tid('config-reset-logging.level')).trigger('click');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([{ values: { 'logging.level': null } }]);
    expect(w.find(tid('config-source-logging.level')).text()).toBe('default');
    expect((w.find(tid('config-input-logging.level')).element as HTMLSelectElement).value).toBe('warn');
  });

  it('keeps env-pinned keys read-only and names the variable', async () => {
    const w = await mountView();
    const input = w.find(tid('config-input-session.max_total_sessions'));
    expect(input.attributes('readonly')).toBeDefined();
    expect(w.find(tid('config-source-session.max_total_sessions')).text()).toBe('env');
    expect(w.find(tid('config-pinned-session.max_total_sessions')).text()).toContain(
      'EC2_CONNECT_MAX_TOTAL_SESSIONS',
    );
    await input.setValue('7');
    await input.trigger('change');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([]);
  });

  it('saves valid values on change, checks them first, and shows refusals inline', async () => {
    const w = await mountView();
    const input = w.find(tid('config-input-session.max_sessions_per_instance'));
    await input.setValue('500');
    expect(w.find(tid('config-error-session.max_sessions_per_instance')).text()).toBe(
      'Must be between 1 and 100 sessions.',
    );
    expect(input.attributes('aria-invalid')).toBe('true');
    await input.trigger('change');
    await input.setValue('');
    await input.trigger('change');
    expect(w.find(tid('config-error-session.max_sessions_per_instance')).text()).toBe('Enter a number.');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([]);

    await input.setValue('8');
    await input.trigger('change');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([{ values: { 'session.max_sessions_per_instance': 8 } }]);
    expect(w.find(tid('config-error-session.max_sessions_per_instance')).exists()).toBe(false);
    expect(w.find(tid('config-source-session.max_sessions_per_instance')).text()).toBe('file');

    // A switch and a select save at once.
    await w.find(tid('config-input-session.aggressive_reconnection')).setValue(true);
    await w.find(tid('config-input-logging.level')).setValue('trace');
    await flush();
    expect(bridge.callsTo('config.update').slice(1)).toEqual([
      { values: { 'session.aggressive_reconnection': true } },
      { values: { 'logging.level': 'trace' } },
    ]);

    // The main side refuses what it alone can check (a region's form): shown under the field.
    bridge.fail(
      'config.update',
      'aws.region = "mars" is not valid; allowed: a region name such as us-east-1.',
    );
    const region = w.find(tid('config-input-aws.region'));
    await region.setValue('mars');
    await region.trigger('change');
    await flush();
    expect(w.find(tid('config-error-aws.region')).text()).toContain('a region name such as us-east-1');
    // A valid value replaces it.
    bridge.handle('config.update', (r) => backend.update(r));
    await region.setValue('eu-west-1');
    await flush();
    expect(w.find(tid('config-error-aws.region')).exists()).toBe(false);
    expect(backend.state.values['aws.region']).toBe('eu-west-1');
  });

  it('lists the problems with a link that opens the key', async () => {
    backend.state = configState({
      problems: [
        {
          key: 'performance.ui_update_interval_ms',
          source: 'file',
          value: '2',
          message:
            'performance.ui_update_interval_ms = 2 is out of range; allowed: a whole number from 4 to 1000 (ms).',
        },
        { key: '', source: 'file', value: '{', message: 'The file is not JSON.' },
      ],
    });
    localStorage.setItem('ec2connect.settings.collapsed', JSON.stringify(['performance']));
    const w = await mountView();
    const list = w.find(tid('config-problems'));
    expect(list.text()).toContain('2 problems in the configuration');
    expect(list.text()).toContain('out of range; allowed: a whole number from 4 to 1000');
    expect(list.text()).toContain('the file');
    expect(w.find(tid('config-problem-note-performance.ui_update_interval_ms')).text()).toContain('2');
    const body = () => w.find('#settings-section-performance-body');
    expect((body().element as HTMLElement).style.display).toBe('none');
    await w.find(tid('config-problem-link-performance.ui_update_interval_ms')).trigger('click');
    await flush();
    expect((body().element as HTMLElement).style.display).toBe('');
    expect(document.activeElement).toBe(
      w.find(tid('config-input-performance.ui_update_interval_ms')).element,
    );
  });

  it('applies a preset and shows what it changed, with undo', async () => {
    const w = await mountView();
    const select = w.find(tid('config-preset'));
    expect(select.findAll('option').map((o) => o.text())).toEqual([
      'None',
      'production',
      'development',
      'ci',
      'low-end',
      'high-performance',
      'container',
    ]);
    await select.setValue('ci');
    await flush();
    expect(bridge.callsTo('config.preset')).toEqual([{ name: 'ci' }]);
    const change = w.find(tid('preset-change'));
    expect(change.text()).toContain('Preset ci: 1 value changed');
    const item = change.find('[data-testid="preset-change-item"][data-key="resources.low_power_mode"]');
    // Named as the field shows it (its section and label).
    expect(item.text()).toContain('Resources: Low-power mode');
    expect(item.text()).toMatch(/auto\s*→\s*off/);
    expect(w.find('[data-config-key="resources.low_power_mode"]').attributes('data-source')).toBe('preset');
    await w.find(tid('preset-undo')).trigger('click');
    await flush();
    expect(bridge.callsTo('config.preset').at(-1)).toEqual({ name: null });
    expect((w.find(tid('config-preset')).element as HTMLSelectElement).value).toBe('');
  });

  it('searches keys by name, key, description and variable; collapses sections', async () => {
    const w = await mountView();
    const search = w.find(tid('settings-search'));
    await search.setValue('EC2_CONNECT_REQUEST_TIMEOUT');
    expect(w.findAll('[data-config-key]').map((e) => e.attributes('data-config-key'))).toEqual([
      'connection.request_timeout',
    ]);
    expect(w.find(tid('settings-match-count')).text()).toBe('1 match');
    await search.setValue('font');
    expect(w.findAll('[data-config-key]').map((e) => e.attributes('data-config-key'))).toEqual([
      'ui.font_family',
      'ui.font_size',
      'ui.line_height', // "a multiple of the font size"
    ]);
    await search.setValue('nothing-like-this');
    expect(w.find(tid('settings-no-match')).exists()).toBe(true);
    await search.trigger('keydown', { key: 'Escape' });
    expect((search.element as HTMLInputElement).value).toBe('');

    const toggle = w.find(tid('settings-section-toggle-logging'));
    expect(toggle.attributes('aria-expanded')).toBe('true');
    await toggle.trigger('click');
    expect(toggle.attributes('aria-expanded')).toBe('false');
    expect(JSON.parse(localStorage.getItem('ec2connect.settings.collapsed')!)).toEqual(['logging']);
    await w.find(tid('settings-toggle-all')).trigger('click');
    expect(w.find(tid('settings-section-toggle-logging')).attributes('aria-expanded')).toBe('true');
    await w.find(tid('settings-toggle-all')).trigger('click');
    expect(w.findAll('[aria-expanded="true"]')).toHaveLength(0);
  });

  it('renders the window settings like every other key: source, pin, read-only', async () => {
    backend.state = configState({
      values: { 'ui.font_size': 16 },
      sources: { 'resources.max_memory_mb': 'env' },
    });
    const w = await mountView();
    expect(w.find(tid('config-source-ui.font_size')).text()).toBe('file');
    expect(w.find(tid('config-reset-ui.font_size')).exists()).toBe(true);
    const memory = w.find(tid('config-input-resources.max_memory_mb'));
    expect(memory.attributes('readonly')).toBeDefined();
    // Said once, with the variable.
    expect(w.findAll(tid('config-pinned-resources.max_memory_mb'))).toHaveLength(1);
    expect(w.find(tid('config-pinned-resources.max_memory_mb')).text()).toBe(
      'Set by EC2_CONNECT_MAX_MEMORY_MB; read-only here. Unset it to change this setting.',
    );
    expect(w.find(tid('config-source-resources.max_memory_mb')).text()).toBe('env');
    await memory.setValue('64');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([]);
    expect(bridge.callsTo('settings.update')).toEqual([]);
    // Saved like any key; the font preview follows.
    await w.find(tid('config-input-ui.font_size')).setValue('20');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([{ values: { 'ui.font_size': 20 } }]);
    expect((w.find(tid('font-preview')).element as HTMLElement).style.fontSize).toBe('20px');
  });

  it('resets every value set in the file after a confirmation', async () => {
    const w = await mountView();
    const reset = w.find(tid('settings-reset'));
    await reset.trigger('click');
    expect(reset.text()).toBe('Remove 1 value from the file?');
    expect(bridge.callsTo('config.update')).toEqual([]);
    await reset.trigger('click');
    await flush();
    expect(bridge.callsTo('config.update')).toEqual([{ values: { 'logging.level': null } }]);
    expect(useConfigStore().source('logging.level')).toBe('default');
  });
});
