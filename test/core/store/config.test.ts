/** Where the file is, and the configuration keys of the store. */
import path from 'node:path';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { historyOptionsFromConfig } from '../../../main/core/store/config.js';
import { defaultDatabaseFile } from '../../../main/core/store/paths.js';

describe('history file and settings', () => {
  it('is EC2_CONNECT_DB, else sessions.db in the app-data folder', () => {
    expect(defaultDatabaseFile({ EC2_CONNECT_DB: '/x/h.db', EC2_CONNECT_HOME: '/y' }, 'linux')).toBe(
      '/x/h.db',
    );
    expect(defaultDatabaseFile({ EC2_CONNECT_DB: 'rel.db' }, 'linux')).toBe(path.resolve('rel.db'));
    expect(defaultDatabaseFile({ EC2_CONNECT_HOME: '/y' }, 'linux')).toBe('/y/sessions.db');
    expect(defaultDatabaseFile({ XDG_CONFIG_HOME: '/cfg' }, 'linux')).toBe('/cfg/ec2-connect/sessions.db');
    expect(defaultDatabaseFile({}, 'linux')).toBe(
      path.join(os.homedir(), '.config', 'ec2-connect', 'sessions.db'),
    );
    expect(defaultDatabaseFile({}, 'darwin')).toBe(
      path.join(os.homedir(), 'Library', 'Application Support', 'ec2-connect', 'sessions.db'),
    );
  });

  it('maps the configuration keys to options, ignoring and reporting invalid values', () => {
    expect(
      historyOptionsFromConfig({
        batch_processing: 500,
        flush_interval: 250,
        max_queue: 5000,
        cleanup_interval_hours: 0,
        retention_days: 30,
        max_metrics_per_session: 3600,
        vacuum_on_startup: true,
      }),
    ).toEqual({
      options: {
        batchSize: 500,
        flushIntervalMs: 250,
        maxQueue: 5000,
        cleanupIntervalHours: 0,
        retentionDays: 30,
        maxMetricsPerSession: 3600,
        vacuumOnStartup: true,
      },
      warnings: [],
    });
    const bad = historyOptionsFromConfig({
      batch_processing: 0,
      flush_interval: '1s',
      vacuum_on_startup: 'yes',
    });
    expect(bad.options).toEqual({});
    expect(bad.warnings).toEqual([
      'batch_processing must be a number from 1 to 1000000; got 0 (ignored)',
      'flush_interval must be a number from 10 to 3600000; got "1s" (ignored)',
      'vacuum_on_startup must be true or false; got "yes" (ignored)',
    ]);
    expect(historyOptionsFromConfig()).toEqual({ options: {}, warnings: [] });
  });
});
