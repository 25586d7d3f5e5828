/** Loading the configuration: precedence, environment variables, problems, a broken file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStateSchema } from '../../../preload/api.js';
import { configFile, loadConfig, toConfigState } from '../../../main/core/config/load.js';
import { PRESETS } from '../../../main/core/config/presets.js';
import { DEFAULT_CONFIG } from '../../../main/core/config/schema.js';
import {
  databaseFile,
  flowControl,
  historyOptions,
  logDirectory,
  reconnectPolicy,
  resourceSettings,
  sessionLimits,
} from '../../../main/core/config/apply.js';
import { historyOptionsFromConfig } from '../../../main/core/store/config.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-config-'));
  file = path.join(dir, 'config.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (data: unknown): void =>
  fs.writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data, null, 2));

describe('configFile', () => {
  it('is EC2_CONNECT_CONFIG, else config.json in the app-data folder', () => {
    expect(configFile({ EC2_CONNECT_CONFIG: '/etc/ec2c.json', EC2_CONNECT_HOME: '/h' })).toBe(
      '/etc/ec2c.json',
    );
    expect(configFile({ EC2_CONNECT_CONFIG: 'rel.json' })).toBe(path.resolve('rel.json'));
    expect(configFile({ EC2_CONNECT_HOME: '/h' })).toBe('/h/config.json');
    expect(configFile({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/ec2-connect/config.json');
    expect(configFile({}, 'darwin')).toBe(
      path.join(os.homedir(), 'Library', 'Application Support', 'ec2-connect', 'config.json'),
    );
  });
});

describe('loadConfig precedence: default < preset < file < env < flag', () => {
  // resources.max_memory_mb at every level: low-end sets 512.
  const env = { EC2_CONNECT_MAX_MEMORY_MB: '3000' };
  const flags = { 'resources.max_memory_mb': 4000 };

  it('default', () => {
    const r = loadConfig({ file, env: {} });
    expect(r.config.resources.max_memory_mb).toBe(1536);
    expect(r.sources['resources.max_memory_mb']).toBe('default');
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual(DEFAULT_CONFIG);
    expect(r.content).toEqual({ exists: false, data: null, problem: null });
  });

  it('preset over default', () => {
    write({ preset: 'low-end' });
    const r = loadConfig({ file, env: {} });
    expect(r.preset).toBe('low-end');
    expect(r.presetSource).toBe('file');
    expect(r.config.resources.max_memory_mb).toBe(512);
    expect(r.sources['resources.max_memory_mb']).toBe('preset');
    expect(r.sources['aws.profile']).toBe('default');
  });

  it('file over preset', () => {
    write({ preset: 'low-end', resources: { max_memory_mb: 2048 } });
    const r = loadConfig({ file, env: {} });
    expect(r.config.resources.max_memory_mb).toBe(2048);
    expect(r.sources['resources.max_memory_mb']).toBe('file');
    expect(r.config.resources.low_power_mode).toBe('on'); // still the preset's
  });

  it('environment over file', () => {
    write({ preset: 'low-end', resources: { max_memory_mb: 2048 } });
    const r = loadConfig({ file, env });
    expect(r.config.resources.max_memory_mb).toBe(3000);
    expect(r.sources['resources.max_memory_mb']).toBe('env');
  });

  it('flags over environment', () => {
    write({ preset: 'low-end', resources: { max_memory_mb: 2048 } });
    const r = loadConfig({ file, env, flags });
    expect(r.config.resources.max_memory_mb).toBe(4000);
    expect(r.sources['resources.max_memory_mb']).toBe('flag');
    // undefined flags (an option not given) change nothing
    expect(
      loadConfig({ file, env, flags: { 'resources.max_memory_mb': undefined } }).sources[
        'resources.max_memory_mb'
      ],
    ).toBe('env');
  });

  it('EC2_CONNECT_PRESET over the file’s preset, a --preset flag over both', () => {
    write({ preset: 'low-end' });
    const r = loadConfig({ file, env: { EC2_CONNECT_PRESET: 'ci' } });
    expect(r.preset).toBe('ci');
    expect(r.presetSource).toBe('env');
    expect(r.config.database.enabled).toBe(false);
    expect(r.config.resources.max_memory_mb).toBe(1536); // low-end no longer applies
    const f = loadConfig({ file, env: { EC2_CONNECT_PRESET: 'ci' }, preset: 'container' });
    expect(f.preset).toBe('container');
    expect(f.presetSource).toBe('flag');
  });

  it('an unknown preset is a problem listing the presets; no preset applies', () => {
    write({ preset: 'turbo', ui: { theme: 'dark' } });
    const r = loadConfig({ file, env: {} });
    expect(r.preset).toBeNull();
    expect(r.config.ui.theme).toBe('dark');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ key: 'preset', source: 'file', value: '"turbo"' });
    expect(r.problems[0]!.message).toContain(
      'production, development, ci, low-end, high-performance, container',
    );
    const e = loadConfig({ file, env: { EC2_CONNECT_PRESET: 'fast' } });
    expect(e.problems.map((p) => [p.key, p.source])).toEqual([
      ['preset', 'env'],
      ['preset', 'file'],
    ]);
  });

  it('an invalid value falls back to the next lower source', () => {
    write({ preset: 'low-end', resources: { max_memory_mb: 9_999_999 } });
    const r = loadConfig({ file, env: { EC2_CONNECT_MAX_MEMORY_MB: 'lots' } });
    expect(r.config.resources.max_memory_mb).toBe(512);
    expect(r.sources['resources.max_memory_mb']).toBe('preset');
    expect(r.problems.map((p) => p.source).sort()).toEqual(['env', 'file']);
    const file_ = r.problems.find((p) => p.source === 'file')!;
    expect(file_).toMatchObject({ key: 'resources.max_memory_mb', value: '9999999' });
    expect(file_.message).toBe(
      `resources.max_memory_mb = 9999999 in ${file} is out of range; allowed: a whole number from 0 to 1048576 (MiB; 0 = no limit). Using 512 (preset "low-end") instead.`,
    );
    const env_ = r.problems.find((p) => p.source === 'env')!;
    expect(env_.message).toContain('EC2_CONNECT_MAX_MEMORY_MB="lots" (resources.max_memory_mb) is not valid');
    expect(env_.message).toContain('from 0 to 1048576');
    // a bad flag falls back to the environment
    const f = loadConfig({
      file,
      env: { EC2_CONNECT_MAX_MEMORY_MB: '1000' },
      flags: { 'resources.max_memory_mb': -1 },
    });
    expect(f.config.resources.max_memory_mb).toBe(1000);
    expect(f.problems.find((p) => p.source === 'flag')).toMatchObject({
      key: 'resources.max_memory_mb',
      value: '-1',
    });
  });
});

describe('environment variables', () => {
  const cases: Array<[string, string, string, unknown]> = [
    ['EC2_CONNECT_MAX_MEMORY_MB', '2048', 'resources.max_memory_mb', 2048],
    ['EC2_CONNECT_MAX_CPU_PERCENT', '55.5', 'resources.max_cpu_percent', 55.5],
    ['EC2_CONNECT_LOW_POWER_MODE', 'on', 'resources.low_power_mode', 'on'],
    ['EC2_CONNECT_LOW_POWER_MODE', '1', 'resources.low_power_mode', 'on'],
    ['EC2_CONNECT_LOW_POWER_MODE', 'true', 'resources.low_power_mode', 'on'],
    ['EC2_CONNECT_LOW_POWER_MODE', '0', 'resources.low_power_mode', 'off'],
    ['EC2_CONNECT_LOW_POWER_MODE', 'false', 'resources.low_power_mode', 'off'],
    ['EC2_CONNECT_LOW_POWER_MODE', 'auto', 'resources.low_power_mode', 'auto'],
    ['EC2_CONNECT_MONITORING_INTERVAL', '5s', 'resources.monitoring_interval', 5000],
    ['EC2_CONNECT_MONITORING_INTERVAL', '500ms', 'resources.monitoring_interval', 500],
    ['EC2_CONNECT_MONITORING_INTERVAL', '1m', 'resources.monitoring_interval', 60_000],
    ['EC2_CONNECT_MONITORING_INTERVAL', '10', 'resources.monitoring_interval', 10_000],
    ['EC2_CONNECT_PROMETHEUS_PORT', '9464', 'resources.prometheus_port', 9464],
    ['EC2_CONNECT_MAX_SESSIONS_PER_INSTANCE', '7', 'session.max_sessions_per_instance', 7],
    ['EC2_CONNECT_MAX_TOTAL_SESSIONS', '70', 'session.max_total_sessions', 70],
    ['EC2_CONNECT_INACTIVE_TIMEOUT', '600', 'session.inactive_timeout', 600],
    ['EC2_CONNECT_INACTIVE_TIMEOUT', '30m', 'session.inactive_timeout', 1800],
    ['EC2_CONNECT_HEALTH_CHECK_INTERVAL', '2000', 'session.health_check_interval', 2000],
    ['EC2_CONNECT_HEALTH_CHECK_INTERVAL', '2s', 'session.health_check_interval', 2000],
    ['EC2_CONNECT_UI_UPDATE_INTERVAL_MS', '33', 'performance.ui_update_interval_ms', 33],
    ['EC2_CONNECT_CONNECTION_TIMEOUT', '8000', 'connection.connection_timeout', 8000],
    ['EC2_CONNECT_REQUEST_TIMEOUT', '30s', 'connection.request_timeout', 30_000],
    ['EC2_CONNECT_LATENCY_THRESHOLD_MS', '150', 'connection.latency_threshold_ms', 150],
    ['EC2_CONNECT_AGGRESSIVE_RECONNECTION', '1', 'session.aggressive_reconnection', true],
    ['EC2_CONNECT_AGGRESSIVE_RECONNECTION', 'false', 'session.aggressive_reconnection', false],
    ['EC2_CONNECT_JSON_LOGGING', '1', 'logging.format', 'json'],
    ['EC2_CONNECT_JSON_LOGGING', '0', 'logging.format', 'pretty'],
    ['EC2_CONNECT_FILE_LOGGING', '0', 'logging.file', false],
    ['EC2_CONNECT_FILE_LOGGING', 'yes', 'logging.file', true],
    ['EC2_CONNECT_LOG_LEVEL', 'debug', 'logging.level', 'debug'],
    ['EC2_CONNECT_PROFILE', 'prod-admin', 'aws.profile', 'prod-admin'],
    ['EC2_CONNECT_REGION', 'eu-west-3', 'aws.region', 'eu-west-3'],
    ['EC2_CONNECT_ENDPOINT', 'http://127.0.0.1:4566', 'aws.endpoint', 'http://127.0.0.1:4566'],
    ['EC2_CONNECT_NO_HISTORY', '1', 'database.enabled', false],
    ['EC2_CONNECT_DB', '/var/tmp/h.db', 'database.file', '/var/tmp/h.db'],
    ['EC2_CONNECT_LOG_DIR', '/var/log/ec2c', 'logging.directory', '/var/log/ec2c'],
  ];
  it.each(cases)('%s=%s sets %s', (name, raw, key, expected) => {
    write({}); // the file says nothing
    const r = loadConfig({ file, env: { [name]: raw } });
    expect(r.problems).toEqual([]);
    expect(r.values[key]).toEqual(expected);
    expect(r.sources[key]).toBe('env');
  });

  const bad: Array<[string, string, string]> = [
    ['EC2_CONNECT_MAX_SESSIONS_PER_INSTANCE', '0', 'from 1 to 100'],
    ['EC2_CONNECT_MAX_TOTAL_SESSIONS', 'many', 'from 1 to 1000'],
    ['EC2_CONNECT_INACTIVE_TIMEOUT', '2d', 'from 0 to 86400'],
    ['EC2_CONNECT_HEALTH_CHECK_INTERVAL', '100', 'from 250 to 60000'],
    ['EC2_CONNECT_UI_UPDATE_INTERVAL_MS', '2', 'from 4 to 1000'],
    ['EC2_CONNECT_MONITORING_INTERVAL', '11m', 'from 250 to 600000'],
    ['EC2_CONNECT_LOW_POWER_MODE', 'sometimes', '"auto", "on", "off"'],
    ['EC2_CONNECT_JSON_LOGGING', 'xml', '"json", "pretty"'],
    ['EC2_CONNECT_FILE_LOGGING', 'maybe', 'true or false'],
    ['EC2_CONNECT_AGGRESSIVE_RECONNECTION', '2', 'true or false'],
    ['EC2_CONNECT_LATENCY_THRESHOLD_MS', '0', 'from 1 to 60000'],
    ['EC2_CONNECT_CONNECTION_TIMEOUT', '10m', 'from 100 to 120000'],
    ['EC2_CONNECT_REQUEST_TIMEOUT', '-5', 'from 1000 to 600000'],
    ['EC2_CONNECT_LOG_LEVEL', 'loud', '"silent", "error", "warn", "info", "debug", "trace"'],
    ['EC2_CONNECT_REGION', 'Europe', 'a region name'],
    ['EC2_CONNECT_PROMETHEUS_PORT', '70000', 'from 0 to 65535'],
  ];
  it.each(bad)('%s=%s is a problem naming the variable, the value and the range', (name, raw, allowed) => {
    const r = loadConfig({ file, env: { [name]: raw } });
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0]!;
    expect(p.source).toBe('env');
    expect(p.value).toBe(JSON.stringify(raw));
    expect(p.message).toContain(`${name}=${JSON.stringify(raw)}`);
    expect(p.message).toContain(allowed);
    expect(p.message).toContain('(the default) instead');
    expect(r.sources[p.key]).toBe('default');
  });

  it('ignores empty variables', () => {
    const r = loadConfig({ file, env: { EC2_CONNECT_MAX_MEMORY_MB: '', EC2_CONNECT_PRESET: '' } });
    expect(r.problems).toEqual([]);
    expect(r.sources['resources.max_memory_mb']).toBe('default');
  });
});

describe('problems in the file', () => {
  it('invalid values of each type name the key, the value and what is allowed', () => {
    write({
      aws: { profile: '', region: 'moon-1', endpoint: 'not a url', sso_open_browser: 'yes' },
      session: { max_total_sessions: 5000, inactive_timeout: 1.5 },
      resources: { low_power_mode: 'sometimes', max_cpu_percent: '80' },
      ui: { theme: null },
    });
    const r = loadConfig({ file, env: {} });
    const byKey = Object.fromEntries(r.problems.map((p) => [p.key, p]));
    expect(Object.keys(byKey).sort()).toEqual(
      [
        'aws.profile',
        'aws.region',
        'aws.endpoint',
        'aws.sso_open_browser',
        'session.max_total_sessions',
        'session.inactive_timeout',
        'resources.low_power_mode',
        'resources.max_cpu_percent',
        'ui.theme',
      ].sort(),
    );
    for (const p of r.problems) {
      expect(p.source).toBe('file');
      expect(p.message).toContain(p.key);
      expect(p.message).toContain(p.value);
      expect(p.message).toContain('allowed:');
      expect(p.message).toContain('(the default) instead');
    }
    expect(byKey['session.max_total_sessions']!.message).toContain(
      'is out of range; allowed: a whole number from 1 to 1000',
    );
    expect(byKey['session.inactive_timeout']!.message).toContain('is not a whole number');
    expect(byKey['aws.sso_open_browser']!.message).toContain('is a string, not true or false');
    expect(byKey['resources.max_cpu_percent']!.message).toContain('is a string, not a number');
    expect(byKey['resources.low_power_mode']!.message).toContain('one of "auto", "on", "off"');
    expect(byKey['ui.theme']!.message).toContain('cannot be null');
    expect(byKey['aws.endpoint']!.message).toContain('an http:// or https:// URL');
    // every key still has a value: the defaults
    expect(r.config).toEqual(DEFAULT_CONFIG);
  });

  it('unknown keys and sections are problems, with what was probably meant; the rest applies', () => {
    write({
      resources: { max_memory: 100, max_cpu_percent: 50 },
      resorces: { max_memory_mb: 100 },
      'ui.theme': 'dark',
      ui: { colour: 'red' },
      $schema: './config.schema.json',
    });
    const r = loadConfig({ file, env: {} });
    expect(r.config.resources.max_cpu_percent).toBe(50);
    const messages = Object.fromEntries(r.problems.map((p) => [p.key, p.message]));
    expect(Object.keys(messages).sort()).toEqual(
      ['resorces', 'resources.max_memory', 'ui.colour', 'ui.theme'].sort(),
    );
    expect(messages['resources.max_memory']).toContain('Did you mean "resources.max_memory_mb"?');
    expect(messages['resorces']).toContain('Did you mean "resources"?');
    expect(messages['ui.theme']).toContain('{ "ui": { "theme": "dark" } }');
    expect(messages['ui.colour']).toContain('The keys of "ui" are theme, font_family');
  });

  it('a section that is not an object is a problem', () => {
    write({ ui: 'dark' });
    const r = loadConfig({ file, env: {} });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toContain('The section "ui"');
  });

  it('a file that is not JSON: one problem, the defaults, and the file left as it is', () => {
    const text = '{\n  "ui": { "theme": "dark", }\n}\n';
    write(text);
    const before = fs.statSync(file);
    const r = loadConfig({ file, env: { EC2_CONNECT_MAX_MEMORY_MB: '1000' } });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ key: '', source: 'file' });
    expect(r.problems[0]!.message).toContain('is not valid JSON');
    expect(r.problems[0]!.message).toMatch(/line 2 column \d+/);
    expect(r.config.ui.theme).toBe('system');
    expect(r.config.resources.max_memory_mb).toBe(1000); // the environment still applies
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(fs.statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(fs.readdirSync(dir)).toEqual(['config.json']);
  });

  it('a file holding a list, an empty file, a byte-order mark', () => {
    write('[1, 2]');
    expect(loadConfig({ file, env: {} }).problems[0]!.message).toContain('holds a list');
    write('');
    expect(loadConfig({ file, env: {} }).problems).toEqual([]);
    write('\uFEFF{"ui": {"theme": "light"}}');
    expect(loadConfig({ file, env: {} }).config.ui.theme).toBe('light');
  });

  it('an unreadable file (a folder) is one problem', () => {
    fs.mkdirSync(file);
    const r = loadConfig({ file, env: {} });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toContain('cannot be read');
  });

  it('paths: relative to the file, ~ is the home folder; from the environment, relative to the working folder', () => {
    write({
      logging: { directory: 'logs' },
      database: { file: '~/h.db' },
      connection: { ca_bundle: '/etc/ca.pem' },
    });
    const r = loadConfig({ file, env: {} });
    expect(r.config.logging.directory).toBe(path.join(dir, 'logs'));
    expect(r.config.database.file).toBe(path.join(os.homedir(), 'h.db'));
    expect(r.config.connection.ca_bundle).toBe('/etc/ca.pem');
    const e = loadConfig({ file, env: { EC2_CONNECT_LOG_DIR: 'rel' } });
    expect(e.config.logging.directory).toBe(path.resolve('rel'));
  });

  it('hides a password in a proxy URL in problems', () => {
    write({ connection: { proxy: 'socks5://bob:hunter2@proxy:1080' } });
    const r = loadConfig({ file, env: {} });
    expect(r.problems[0]!.message).not.toContain('hunter2');
    expect(r.problems[0]!.value).toBe('"socks5://bob:****@proxy:1080"');
  });
});

describe('toConfigState and what the configuration drives', () => {
  it('is a preload/api.ts ConfigState', () => {
    write({ preset: 'ci', ui: { theme: 'dark', font_size: 99 } });
    const state = toConfigState(loadConfig({ file, env: { EC2_CONNECT_MAX_TOTAL_SESSIONS: '9' } }));
    expect(() => ConfigStateSchema.parse(state)).not.toThrow();
    expect(state).toMatchObject({ file, preset: 'ci' });
    expect(state.presets).toEqual(Object.keys(PRESETS));
    expect(state.values['ui.theme']).toBe('dark');
    expect(state.sources).toMatchObject({
      'ui.theme': 'file',
      'database.enabled': 'preset',
      'session.max_total_sessions': 'env',
      'aws.profile': 'default',
    });
    expect(state.problems.map((p) => p.key)).toEqual(['ui.font_size']);
    expect(state.keys.length).toBe(Object.keys(state.values).length);
  });

  it('maps to the modules’ options', () => {
    const c = structuredClone(DEFAULT_CONFIG);
    expect(reconnectPolicy(c)).toEqual({
      maxAttempts: 3,
      baseDelayMs: 2000,
      maxDelayMs: 16_000,
      jitter: 0.5,
    });
    c.session.aggressive_reconnection = true;
    expect(reconnectPolicy(c)).toEqual({ maxAttempts: 10, baseDelayMs: 500, maxDelayMs: 500, jitter: 0 });
    c.session.aggressive_reconnection = false;
    c.session.reconnect_initial_delay_ms = 5000;
    c.session.reconnect_max_delay_ms = 1000;
    expect(reconnectPolicy(c).maxDelayMs).toBe(5000);
    expect(sessionLimits(c)).toEqual({ maxSessionsPerInstance: 10, maxTotalSessions: 100 });
    expect(flowControl(c)).toEqual({ highWaterBytes: 1024 * 1024, lowWaterBytes: 256 * 1024 });
    expect(resourceSettings(c)).toEqual({
      maxMemoryMb: 1536,
      maxCpuPercent: 80,
      lowPower: 'auto',
      monitoringIntervalMs: 5000,
      prometheusPort: 0,
    });
    expect(logDirectory(c, { EC2_CONNECT_HOME: '/h' })).toBe('/h/logs');
    expect(databaseFile(c, { EC2_CONNECT_HOME: '/h' })).toBe('/h/sessions.db');
    expect(historyOptions(c, { EC2_CONNECT_HOME: '/h' })).toMatchObject({
      file: '/h/sessions.db',
      batchSize: 1000,
    });
    c.database.enabled = false;
    expect(historyOptions(c)).toBeNull();
  });

  it('the validated database section works with historyOptionsFromConfig', () => {
    write({ database: { retention_days: 30, flush_interval: 250, vacuum_on_startup: true } });
    const { config } = loadConfig({ file, env: {} });
    const { options, warnings } = historyOptionsFromConfig(config.database);
    expect(warnings).toEqual([]);
    expect(options).toMatchObject({
      retentionDays: 30,
      flushIntervalMs: 250,
      vacuumOnStartup: true,
      batchSize: 1000,
    });
  });
});
