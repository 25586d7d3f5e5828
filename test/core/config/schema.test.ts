/** The configuration schema: every key described, defaults in line with the modules they drive. */
import { describe, expect, it } from 'vitest';
import { ConfigKeySchema, DEFAULT_RESOURCE_SETTINGS, DEFAULT_SETTINGS } from '../../../preload/api.js';
import {
  CONFIG_KEYS,
  ConfigSchema,
  DEFAULT_CONFIG,
  FLAT_KEYS,
  HISTORY_DEFAULTS,
  SECTION_NAMES,
  checkValue,
  describeAllowed,
  flattenConfig,
  keyMeta,
  parseBooleanWord,
  parseDuration,
  suggestKey,
  unflattenConfig,
} from '../../../main/core/config/schema.js';
import { STORE_DEFAULTS } from '../../../main/core/store/sqlite-store.js';

/** The sections and keys the issue and the design fix (more may exist). */
const REQUIRED: Record<string, string[]> = {
  aws: ['profile', 'region', 'endpoint', 'credential_refresh_minutes', 'sso_open_browser'],
  session: [
    'max_sessions_per_instance',
    'max_total_sessions',
    'inactive_timeout',
    'health_check_interval',
    'reconnect_max_attempts',
    'reconnect_initial_delay_ms',
    'reconnect_max_delay_ms',
    'aggressive_reconnection',
  ],
  performance: [
    'ui_update_interval_ms',
    'output_batch_kib',
    'replay_buffer_kib',
    'flow_control_high_water_kib',
    'metrics_interval_ms',
  ],
  resources: ['max_memory_mb', 'max_cpu_percent', 'low_power_mode', 'monitoring_interval', 'prometheus_port'],
  ui: [
    'theme',
    'font_family',
    'font_size',
    'line_height',
    'scrollback',
    'cursor_blink',
    'renderer',
    'paste_warning_lines',
    'copy_on_select',
    'notifications_enabled',
    'notify_disconnects',
    'notify_reconnects',
    'notify_limits',
    'notify_ended_elsewhere',
    'notification_min_interval_seconds',
  ],
  logging: ['level', 'format', 'file', 'directory', 'max_file_mb', 'max_files'],
  database: [
    'enabled',
    'file',
    'batch_processing',
    'flush_interval',
    'max_queue',
    'cleanup_interval_hours',
    'retention_days',
    'max_metrics_per_session',
    'vacuum_on_startup',
  ],
  connection: ['connection_timeout', 'request_timeout', 'max_attempts', 'latency_threshold_ms', 'proxy'],
};

describe('configuration schema', () => {
  it('has the sections and keys of the design, in order', () => {
    expect(SECTION_NAMES).toEqual(Object.keys(REQUIRED));
    for (const [section, keys] of Object.entries(REQUIRED))
      for (const key of keys) expect(FLAT_KEYS, `${section}.${key}`).toContain(`${section}.${key}`);
    expect(FLAT_KEYS).not.toContain('logging.json');
  });

  it('describes every key as preload/api.ts ConfigKey, with a valid default', () => {
    expect(CONFIG_KEYS.map((k) => k.key)).toEqual(FLAT_KEYS);
    for (const k of CONFIG_KEYS) {
      expect(() => ConfigKeySchema.parse(k), k.key).not.toThrow();
      expect(k.key.startsWith(`${k.section}.`)).toBe(true);
      expect(k.description.length, k.key).toBeGreaterThan(10);
      expect(checkValue(k.key, k.default), k.key).toEqual({ ok: true, value: k.default });
      if (k.type === 'integer' || k.type === 'number') {
        expect(typeof k.min, k.key).toBe('number');
        expect(typeof k.max, k.key).toBe('number');
      }
      if (k.type === 'enum') expect(k.values?.length, k.key).toBeGreaterThan(1);
      if (k.env) expect(k.env).toMatch(/^(EC2_CONNECT_[A-Z_]+)$/);
    }
    expect(ConfigSchema.parse(DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
    expect(unflattenConfig(flattenConfig(DEFAULT_CONFIG))).toEqual(DEFAULT_CONFIG);
  });

  it('has the defaults and ranges of the design', () => {
    const k = (key: string) => CONFIG_KEYS.find((c) => c.key === key)!;
    expect(k('aws.profile').default).toBe('sandbox');
    expect(k('aws.region')).toMatchObject({ default: null, nullable: true, env: 'EC2_CONNECT_REGION' });
    expect(k('aws.credential_refresh_minutes')).toMatchObject({ default: 5, min: 1, max: 60 });
    expect(k('session.max_sessions_per_instance')).toMatchObject({ default: 10, min: 1, max: 100 });
    expect(k('session.max_total_sessions')).toMatchObject({ default: 100, min: 1, max: 1000 });
    expect(k('session.inactive_timeout')).toMatchObject({ default: 0, min: 0, max: 86_400, unit: 'seconds' });
    // The data channel's own default (DataChannel healthCheckIntervalMs ?? 500).
    expect(k('session.health_check_interval')).toMatchObject({ default: 500, min: 250, max: 60_000 });
    expect(k('performance.ui_update_interval_ms')).toMatchObject({ default: 16, min: 4, max: 1000 });
    expect(k('resources.low_power_mode')).toMatchObject({ type: 'enum', values: ['auto', 'on', 'off'] });
    expect(k('logging.level')).toMatchObject({
      default: 'warn',
      values: ['silent', 'error', 'warn', 'info', 'debug', 'trace'],
    });
    expect(k('logging.format')).toMatchObject({ default: 'json', env: 'EC2_CONNECT_JSON_LOGGING' });
    expect(k('logging.max_file_mb')).toMatchObject({ default: 10, min: 1, max: 1024 });
    expect(k('logging.max_files')).toMatchObject({ default: 5, min: 1, max: 100 });
    expect(k('connection.connection_timeout')).toMatchObject({ default: 5000, min: 100, max: 120_000 });
    expect(k('connection.request_timeout')).toMatchObject({ default: 15_000, min: 1000, max: 600_000 });
    expect(k('connection.max_attempts')).toMatchObject({ default: 3, min: 1, max: 10 });
    expect(k('connection.latency_threshold_ms')).toMatchObject({ default: 300, min: 1, max: 60_000 });
  });

  it('keeps its copies of other modules’ defaults in line with them', () => {
    expect(HISTORY_DEFAULTS).toEqual(STORE_DEFAULTS);
    expect(DEFAULT_CONFIG.session).toMatchObject({
      reconnect_max_attempts: 3,
      reconnect_initial_delay_ms: 2000,
      reconnect_max_delay_ms: 16_000,
    });
    expect(DEFAULT_CONFIG.database).toMatchObject({
      batch_processing: STORE_DEFAULTS.batchSize,
      flush_interval: STORE_DEFAULTS.flushIntervalMs,
      max_queue: STORE_DEFAULTS.maxQueue,
      cleanup_interval_hours: STORE_DEFAULTS.cleanupIntervalHours,
      retention_days: STORE_DEFAULTS.retentionDays,
      max_metrics_per_session: STORE_DEFAULTS.maxMetricsPerSession,
      vacuum_on_startup: STORE_DEFAULTS.vacuumOnStartup,
    });
    expect(DEFAULT_CONFIG.resources).toEqual({
      max_memory_mb: DEFAULT_RESOURCE_SETTINGS.maxMemoryMb,
      max_cpu_percent: DEFAULT_RESOURCE_SETTINGS.maxCpuPercent,
      low_power_mode: DEFAULT_RESOURCE_SETTINGS.lowPower,
      monitoring_interval: DEFAULT_RESOURCE_SETTINGS.monitoringIntervalMs,
      prometheus_port: DEFAULT_RESOURCE_SETTINGS.prometheusPort,
    });
    const n = DEFAULT_SETTINGS.notifications;
    expect(DEFAULT_CONFIG.ui).toEqual({
      theme: DEFAULT_SETTINGS.theme,
      font_family: DEFAULT_SETTINGS.fontFamily,
      font_size: DEFAULT_SETTINGS.fontSize,
      line_height: DEFAULT_SETTINGS.lineHeight,
      scrollback: DEFAULT_SETTINGS.scrollback,
      cursor_blink: DEFAULT_SETTINGS.cursorBlink,
      renderer: DEFAULT_SETTINGS.renderer,
      paste_warning_lines: DEFAULT_SETTINGS.pasteWarningLines,
      copy_on_select: DEFAULT_SETTINGS.copyOnSelect,
      notifications_enabled: n.enabled,
      notify_disconnects: n.disconnects,
      notify_reconnects: n.reconnects,
      notify_limits: n.limits,
      notify_ended_elsewhere: n.endedElsewhere,
      notification_min_interval_seconds: n.minIntervalSeconds,
    });
  });

  it('has the ui ranges of the Settings schema', () => {
    // A value the Settings schema refuses is refused here too, and the other way round.
    const cases: Array<[string, unknown, boolean]> = [
      ['ui.font_size', 7, false],
      ['ui.font_size', 32, true],
      ['ui.line_height', 2.5, false],
      ['ui.scrollback', 99, false],
      ['ui.scrollback', 200_000, true],
      ['ui.paste_warning_lines', 0, true],
      ['ui.notification_min_interval_seconds', 3601, false],
      ['ui.renderer', 'dom', true],
      ['ui.theme', 'solarized', false],
      ['ui.font_family', '', false],
    ];
    for (const [key, value, ok] of cases) expect(checkValue(key, value).ok, `${key}=${value}`).toBe(ok);
  });

  it('names what is wrong and what is allowed, for each type', () => {
    expect(checkValue('resources.max_memory_mb', 2_000_000)).toEqual({
      ok: false,
      reason: 'is out of range',
      allowed: 'a whole number from 0 to 1048576 (MiB; 0 = no limit)',
    });
    expect(checkValue('resources.max_memory_mb', 1.5)).toMatchObject({ reason: 'is not a whole number' });
    expect(checkValue('resources.max_memory_mb', '512')).toMatchObject({
      reason: 'is a string, not a number',
    });
    expect(checkValue('resources.max_cpu_percent', 50.5)).toEqual({ ok: true, value: 50.5 });
    expect(checkValue('aws.sso_open_browser', 'yes')).toEqual({
      ok: false,
      reason: 'is a string, not true or false',
      allowed: 'true or false',
    });
    expect(checkValue('ui.theme', 'blue')).toEqual({
      ok: false,
      reason: 'is not one of the allowed values',
      allowed: 'one of "system", "light", "dark"',
    });
    expect(checkValue('ui.theme', 3)).toMatchObject({ reason: 'is a number, not a string' });
    expect(checkValue('aws.profile', null)).toMatchObject({ reason: 'cannot be null' });
    expect(checkValue('aws.region', null)).toEqual({ ok: true, value: null });
    expect(checkValue('aws.region', 'mars-1')).toMatchObject({ ok: false, reason: 'is not valid' });
    expect(checkValue('aws.region', 'us-gov-west-1')).toMatchObject({ ok: true });
    expect(checkValue('aws.endpoint', 'ftp://x')).toMatchObject({ ok: false });
    expect(checkValue('aws.endpoint', 'http://127.0.0.1:4566')).toMatchObject({ ok: true });
    expect(checkValue('connection.proxy', { host: 'x' })).toMatchObject({
      reason: 'is an object, not a string',
    });
    expect(checkValue('nope.key', 1)).toMatchObject({ ok: false, reason: 'is not a configuration key' });
    expect(describeAllowed('aws.region')).toContain('or null for');
    expect(describeAllowed('resources.monitoring_interval', true)).toContain('a bare number is seconds');
  });

  it('parses environment words and durations', () => {
    expect(['1', 'true', 'YES', 'on'].map(parseBooleanWord)).toEqual([true, true, true, true]);
    expect(['0', 'false', 'No', 'off'].map(parseBooleanWord)).toEqual([false, false, false, false]);
    expect(parseBooleanWord('maybe')).toBeUndefined();
    expect(parseDuration('500ms', 'ms')).toBe(500);
    expect(parseDuration('2s', 'ms')).toBe(2000);
    expect(parseDuration('1m', 'ms')).toBe(60_000);
    expect(parseDuration('750', 'ms')).toBe(750);
    expect(parseDuration('30m', 's')).toBe(1800);
    expect(parseDuration('1h', 's')).toBe(3600);
    expect(parseDuration('90', 's')).toBe(90);
    expect(parseDuration('soon', 's')).toBeUndefined();
    expect(keyMeta('resources.monitoring_interval')!.parseEnv!('2')).toBe(2000); // bare = seconds
  });

  it('suggests the key meant', () => {
    expect(suggestKey('max_memory', ['max_memory_mb', 'max_cpu_percent'])).toBe('max_memory_mb');
    expect(suggestKey('scrolback', ['scrollback', 'theme'])).toBe('scrollback');
    expect(suggestKey('zzz', ['scrollback', 'theme'])).toBeUndefined();
  });
});
