// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkConfigValue,
  diffValues,
  formatConfigValue,
  keyOfError,
  parseConfigInput,
  pinnedBy,
  rangeText,
  useConfigStore,
} from '../../../renderer/stores/config.js';
import { CONFIG_KEYS, configBackend, configState } from '../helpers/config-fixtures.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const key = (name: string) => CONFIG_KEYS.find((k) => k.key === name)!;

describe('checking values against their key', () => {
  it('says the range with the unit', () => {
    expect(rangeText(key('session.max_total_sessions'))).toBe('between 1 and 1,000 sessions');
    expect(rangeText({ min: 250 })).toBe('at least 250');
    expect(rangeText({ max: 10, unit: 'ms' })).toBe('at most 10 ms');
    expect(rangeText({})).toBeNull();
  });

  it('checks integers, numbers, enums, booleans and nullable strings', () => {
    const total = key('session.max_total_sessions');
    expect(checkConfigValue(total, 50)).toBeNull();
    expect(checkConfigValue(total, 0)).toBe('Must be between 1 and 1,000 sessions.');
    expect(checkConfigValue(total, 1001)).toMatch(/1,000/);
    expect(checkConfigValue(total, 2.5)).toBe('Enter a whole number.');
    expect(checkConfigValue(total, null)).toBe('A value is needed.');
    expect(checkConfigValue(key('database.retention_days'), 2.5)).toBeNull();
    expect(checkConfigValue(key('logging.level'), 'debug')).toBeNull();
    expect(checkConfigValue(key('logging.level'), 'loud')).toMatch(/one of silent, error, warn/);
    expect(checkConfigValue(key('aws.sso_open_browser'), 'yes')).toBe('Must be on or off.');
    expect(checkConfigValue(key('aws.region'), null)).toBeNull();
  });

  it('parses what was typed: numbers, empty = default for nullable keys, never NaN', () => {
    expect(parseConfigInput(key('session.max_total_sessions'), ' 12 ')).toEqual({ ok: true, value: 12 });
    expect(parseConfigInput(key('session.max_total_sessions'), '')).toEqual({
      ok: false,
      message: 'Enter a number.',
    });
    expect(parseConfigInput(key('session.max_total_sessions'), 'abc')).toEqual({
      ok: false,
      message: 'Enter a number.',
    });
    expect(parseConfigInput(key('aws.region'), '')).toEqual({ ok: true, value: null });
    expect(parseConfigInput(key('aws.region'), 'eu-west-1')).toEqual({ ok: true, value: 'eu-west-1' });
    expect(parseConfigInput(key('aws.profile'), '')).toEqual({ ok: false, message: 'A value is needed.' });
    expect(parseConfigInput(key('aws.sso_open_browser'), false)).toEqual({ ok: true, value: false });
  });

  it('formats values, finds the key a refusal is about, knows pinned sources', () => {
    expect(formatConfigValue(null)).toBe('default');
    expect(formatConfigValue(true)).toBe('on');
    expect(formatConfigValue(5000, 'ms')).toBe('5000 ms');
    expect(keyOfError('anything', ['a.b'])).toBe('a.b');
    expect(keyOfError('x.y = 3 is out of range', ['a.b', 'x.y'])).toBe('x.y');
    expect(keyOfError('disk full', ['a.b', 'x.y'])).toBeNull();
    expect(pinnedBy('env')).toBe('env');
    expect(pinnedBy('flag')).toBe('flag');
    expect(pinnedBy('file')).toBeNull();
  });

  it('diffs the effective values of two states in key order', () => {
    const before = configState();
    const after = configState({ values: { 'logging.level': 'info', 'aws.region': 'eu-west-1' } });
    expect(diffValues(before, after)).toEqual([
      { key: 'aws.region', before: null, after: 'eu-west-1' },
      { key: 'logging.level', before: 'warn', after: 'info' },
    ]);
  });
});

describe('useConfigStore', () => {
  let bridge: FakeBridge;
  let backend: ReturnType<typeof configBackend>;

  beforeEach(() => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
    backend = configBackend();
    bridge
      .handle('config.get', () => structuredClone(backend.state))
      .handle('config.update', (r) => backend.update(r))
      .handle('config.preset', (r) => backend.preset(r));
  });

  it('loads the configuration and follows config.changed', async () => {
    const store = useConfigStore();
    await store.init();
    expect(store.loaded).toBe(true);
    expect(store.value('session.max_total_sessions')).toBe(50);
    expect(store.source('session.max_total_sessions')).toBe('default');
    expect(store.sections).toEqual([
      'aws',
      'session',
      'performance',
      'resources',
      'ui',
      'logging',
      'database',
      'connection',
    ]);
    bridge.emit('config.changed', configState({ values: { 'session.max_total_sessions': 7 } }));
    expect(store.value('session.max_total_sessions')).toBe(7);
    expect(store.source('session.max_total_sessions')).toBe('file');
    await store.init(); // once
    expect(bridge.listenerCount('config.changed')).toBe(1);
  });

  it('says why the configuration could not be loaded', async () => {
    bridge.fail('config.get', 'the file is unreadable', 'EACCES');
    const store = useConfigStore();
    await store.init();
    expect(store.loadError).toBe('the file is unreadable');
    expect(store.state).toBeNull();
  });

  it('sends valid values and never invalid ones', async () => {
    const store = useConfigStore();
    await store.init();
    expect(await store.update({ 'session.max_total_sessions': 20 })).toEqual({ ok: true });
    expect(store.value('session.max_total_sessions')).toBe(20);
    const refused = await store.update({ 'session.max_total_sessions': 5000 });
    expect(refused).toEqual({
      ok: false,
      key: 'session.max_total_sessions',
      message: 'Must be between 1 and 1,000 sessions.',
    });
    expect(store.fieldErrors['session.max_total_sessions']).toBe('Must be between 1 and 1,000 sessions.');
    expect(await store.update({ 'no.such_key': 1 })).toMatchObject({ ok: false, key: 'no.such_key' });
    expect(bridge.callsTo('config.update')).toEqual([{ values: { 'session.max_total_sessions': 20 } }]);
    // A valid save clears the field's error.
    await store.update({ 'session.max_total_sessions': 30 });
    expect(store.fieldErrors['session.max_total_sessions']).toBeUndefined();
  });

  it("puts the main side's refusal next to the field it names", async () => {
    const store = useConfigStore();
    await store.init();
    bridge.fail(
      'config.update',
      'aws.region = "mars-1" is not valid; allowed: a region name such as us-east-1.',
      'ConfigUpdateError',
    );
    const result = await store.update({ 'aws.region': 'mars-1' });
    expect(result).toMatchObject({ ok: false, key: 'aws.region' });
    expect(store.fieldErrors['aws.region']).toBe(
      'aws.region = "mars-1" is not valid; allowed: a region name such as us-east-1.',
    );
    expect(store.saving['aws.region']).toBeUndefined();
    bridge.fail('config.update', 'Cannot write the configuration file: disk full');
    await store.update({ 'aws.region': 'eu-west-1', 'logging.level': 'info' });
    expect(store.error).toBe('Cannot write the configuration file: disk full');
  });

  it('resets a key with null and marks it saving meanwhile', async () => {
    const store = useConfigStore();
    await store.init();
    await store.update({ 'logging.level': 'debug' });
    expect(store.source('logging.level')).toBe('file');
    const pending = store.reset('logging.level');
    expect(store.saving['logging.level']).toBe(true);
    expect(store.busy).toBe(true);
    await pending;
    expect(bridge.callsTo('config.update').at(-1)).toEqual({ values: { 'logging.level': null } });
    expect(store.source('logging.level')).toBe('default');
    expect(store.busy).toBe(false);
  });

  it('applies a preset and remembers what it changed', async () => {
    const store = useConfigStore();
    await store.init();
    await store.update({ 'logging.level': 'debug' }); // the file wins over the preset
    await store.setPreset('ci');
    expect(bridge.callsTo('config.preset')).toEqual([{ name: 'ci' }]);
    expect(store.state?.preset).toBe('ci');
    expect(store.presetChange).toEqual({
      from: null,
      to: 'ci',
      changes: [{ key: 'resources.low_power_mode', before: 'auto', after: 'off' }],
    });
    await store.setPreset(null);
    expect(store.presetChange?.to).toBeNull();
    bridge.fail('config.preset', 'Unknown preset "turbo"');
    expect(await store.setPreset('turbo')).toMatchObject({ ok: false });
    expect(store.error).toBe('Unknown preset "turbo"');
    await flush();
  });
});
