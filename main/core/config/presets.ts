/**
 * Presets: named bases for the configuration. A preset sets some keys; the file, the
 * environment and command-line flags still override each of them (docs/config.md). Chosen by
 * the file's top-level `"preset"` key or EC2_CONNECT_PRESET (the variable wins).
 */
import type { PartialConfig } from './schema.js';

export const PRESET_NAMES = [
  'production',
  'development',
  'ci',
  'low-end',
  'high-performance',
  'container',
] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  name: PresetName;
  /** One line. */
  description: string;
  values: PartialConfig;
}

export const PRESETS: Record<PresetName, Preset> = {
  production: {
    name: 'production',
    description:
      'Everyday desktop use, stated explicitly: warnings on stderr, info in rotated JSON log files, history kept 90 days.',
    values: {
      logging: {
        level: 'warn',
        format: 'json',
        file: true,
        file_level: 'info',
        max_file_mb: 10,
        max_files: 5,
      },
      session: { aggressive_reconnection: false },
      resources: { low_power_mode: 'auto' },
      database: { enabled: true, retention_days: 90, vacuum_on_startup: false },
    },
  },
  development: {
    name: 'development',
    description:
      'Working on EC2 Connect: debug logs in readable form, a week of history, generous memory limit for dev tools.',
    values: {
      logging: {
        level: 'debug',
        format: 'pretty',
        file: true,
        file_level: 'debug',
        max_file_mb: 50,
        max_files: 3,
      },
      resources: { max_memory_mb: 4096 },
      database: { retention_days: 7 },
      ui: { notification_min_interval_seconds: 5 },
    },
  },
  ci: {
    name: 'ci',
    description:
      'Unattended runs: JSON logs on stderr only, no history, no notifications, no browser, low-power mode off.',
    values: {
      aws: { sso_open_browser: false },
      logging: { level: 'info', format: 'json', file: false },
      database: { enabled: false },
      resources: { low_power_mode: 'off' },
      ui: {
        notifications_enabled: false,
        notify_disconnects: false,
        notify_reconnects: false,
        notify_limits: false,
        notify_ended_elsewhere: false,
        cursor_blink: false,
      },
      connection: { max_attempts: 2 },
    },
  },
  'low-end': {
    name: 'low-end',
    description:
      'Old or small machines: low-power mode on, 512 MiB limit, sampling every 15 s, short scrollback, slower batches.',
    values: {
      resources: { low_power_mode: 'on', max_memory_mb: 512, monitoring_interval: 15_000 },
      performance: {
        ui_update_interval_ms: 50,
        metrics_interval_ms: 3000,
        replay_buffer_kib: 128,
        output_batch_kib: 32,
        flow_control_high_water_kib: 512,
      },
      ui: { scrollback: 2000, cursor_blink: false, renderer: 'canvas' },
      session: { max_total_sessions: 10, max_sessions_per_instance: 3 },
      logging: { file_level: 'warn', max_files: 2 },
      database: { max_metrics_per_session: 21_600 },
    },
  },
  'high-performance': {
    name: 'high-performance',
    description:
      'Big workstations and many sessions: large buffers and scrollback, WebGL, fast dead-link detection, no low power.',
    values: {
      resources: { low_power_mode: 'off', max_memory_mb: 8192, max_cpu_percent: 95 },
      performance: {
        ui_update_interval_ms: 8,
        output_batch_kib: 256,
        replay_buffer_kib: 2048,
        flow_control_high_water_kib: 4096,
        metrics_interval_ms: 1000,
      },
      ui: { scrollback: 50_000, renderer: 'webgl' },
      session: { max_total_sessions: 200, max_sessions_per_instance: 20, health_check_interval: 250 },
    },
  },
  container: {
    name: 'container',
    description:
      'Inside a container: JSON logs on stderr for the runtime, no log files, history in /tmp, no battery, no browser.',
    values: {
      aws: { sso_open_browser: false },
      logging: { level: 'info', format: 'json', file: false },
      // The home folder may be read-only or missing; /tmp is writable in nearly every image.
      // History still turns itself off (and says so) when the file cannot be written.
      database: { enabled: true, file: '/tmp/ec2-connect/sessions.db', retention_days: 7 },
      resources: { low_power_mode: 'off' },
      ui: { notifications_enabled: false },
    },
  },
};

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** `unknown preset "x"; the presets are production, development, ...`. */
export function unknownPresetMessage(name: string): string {
  return `There is no preset named ${JSON.stringify(name)}; the presets are ${PRESET_NAMES.join(', ')}.`;
}
