/** Presets: valid against the schema, one-line descriptions, and the settings each is for. */
import { describe, expect, it } from 'vitest';
import { PRESETS, PRESET_NAMES, isPresetName } from '../../../main/core/config/presets.js';
import { loadConfig } from '../../../main/core/config/load.js';
import { checkValue, flattenConfig, isConfigKey } from '../../../main/core/config/schema.js';

describe('presets', () => {
  it('are the six of the design', () => {
    expect(PRESET_NAMES).toEqual([
      'production',
      'development',
      'ci',
      'low-end',
      'high-performance',
      'container',
    ]);
    expect(Object.keys(PRESETS)).toEqual([...PRESET_NAMES]);
    expect(isPresetName('ci')).toBe(true);
    expect(isPresetName('CI')).toBe(false);
  });

  it.each(PRESET_NAMES)('%s is valid against the schema, with a one-line description', (name) => {
    const preset = PRESETS[name];
    expect(preset.name).toBe(name);
    expect(preset.description).not.toContain('\n');
    expect(preset.description.length).toBeGreaterThan(20);
    expect(preset.description.length).toBeLessThan(160);
    const values = flattenConfig(preset.values);
    expect(Object.keys(values).length).toBeGreaterThan(2);
    for (const [key, value] of Object.entries(values)) {
      expect(isConfigKey(key), key).toBe(true);
      expect(checkValue(key, value), `${name}: ${key}`).toEqual({ ok: true, value });
    }
    const loaded = loadConfig({ file: '/nonexistent/config.json', env: {}, preset: name });
    expect(loaded.problems).toEqual([]);
    for (const key of Object.keys(values)) expect(loaded.sources[key]).toBe('preset');
  });

  it('set what each is for', () => {
    const v = (name: keyof typeof PRESETS) => flattenConfig(PRESETS[name].values);
    expect(v('ci')).toMatchObject({
      'logging.format': 'json',
      'logging.file': false,
      'database.enabled': false,
      'resources.low_power_mode': 'off',
      'ui.notifications_enabled': false,
      'aws.sso_open_browser': false,
    });
    expect(v('low-end')).toMatchObject({
      'resources.low_power_mode': 'on',
      'resources.max_memory_mb': 512,
      'resources.monitoring_interval': 15_000,
      'ui.scrollback': 2000,
      'performance.ui_update_interval_ms': 50,
    });
    expect(v('container')).toMatchObject({ 'logging.file': false, 'logging.format': 'json' });
    expect(v('development')).toMatchObject({ 'logging.format': 'pretty', 'logging.level': 'debug' });
    expect(v('high-performance')).toMatchObject({ 'resources.low_power_mode': 'off' });
    expect(v('production')).toMatchObject({ 'logging.file': true, 'logging.format': 'json' });
  });

  it('are a base: the file and the environment override them', () => {
    const loaded = loadConfig({
      file: '/nonexistent/config.json',
      env: { EC2_CONNECT_PRESET: 'low-end', EC2_CONNECT_LOW_POWER_MODE: 'off' },
    });
    expect(loaded.config.resources.low_power_mode).toBe('off');
    expect(loaded.sources['resources.low_power_mode']).toBe('env');
    expect(loaded.config.resources.max_memory_mb).toBe(512);
  });
});
