/**
 * The governor's effective configuration: the settings (Settings > Resources, settings.json)
 * overridden by EC2_CONNECT_* environment variables, with where each value came from. An
 * environment value that does not parse is ignored with a problem that names the variable, the
 * value and what is allowed; the app keeps running on the setting.
 */
import type { LowPowerMode, ResourceSettings } from '../../../preload/api.js';

export type LimitSource = 'default' | 'settings' | 'env';

export interface EffectiveLimits {
  monitoringIntervalMs: number;
  maxMemoryMb: number;
  maxCpuPercent: number;
  lowPower: LowPowerMode;
  prometheusPort: number;
  sources: {
    maxMemoryMb: LimitSource;
    maxCpuPercent: LimitSource;
    lowPower: LimitSource;
    monitoringIntervalMs: LimitSource;
    prometheusPort: LimitSource;
  };
  /** Environment values that were ignored, each in words. */
  problems: string[];
}

export const ENV = {
  maxMemoryMb: 'EC2_CONNECT_MAX_MEMORY_MB',
  maxCpuPercent: 'EC2_CONNECT_MAX_CPU_PERCENT',
  lowPower: 'EC2_CONNECT_LOW_POWER_MODE',
  monitoringIntervalMs: 'EC2_CONNECT_MONITORING_INTERVAL',
  prometheusPort: 'EC2_CONNECT_PROMETHEUS_PORT',
} as const;

/** `on`/`1`/`true`/`yes`, `off`/`0`/`false`/`no`, or `auto`. */
export function parseLowPower(value: string): LowPowerMode | undefined {
  const v = value.trim().toLowerCase();
  if (['on', '1', 'true', 'yes'].includes(v)) return 'on';
  if (['off', '0', 'false', 'no'].includes(v)) return 'off';
  if (v === 'auto') return 'auto';
  return undefined;
}

/** `5s`, `500ms`, `1m`, or a bare number of seconds; undefined when it does not parse. */
export function parseInterval(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

function parseNumber(value: string, min: number, max: number, integer: boolean): number | undefined {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) return undefined;
  return n;
}

export function effectiveLimits(
  settings: ResourceSettings,
  defaults: ResourceSettings,
  env: NodeJS.ProcessEnv = process.env,
): EffectiveLimits {
  const problems: string[] = [];
  const src = (key: keyof ResourceSettings): LimitSource =>
    settings[key] === defaults[key] ? 'default' : 'settings';
  const out: EffectiveLimits = {
    ...settings,
    sources: {
      maxMemoryMb: src('maxMemoryMb'),
      maxCpuPercent: src('maxCpuPercent'),
      lowPower: src('lowPower'),
      monitoringIntervalMs: src('monitoringIntervalMs'),
      prometheusPort: src('prometheusPort'),
    },
    problems,
  };
  const take = <K extends keyof ResourceSettings>(
    key: K,
    parse: (v: string) => ResourceSettings[K] | undefined,
    allowed: string,
  ): void => {
    const name = ENV[key];
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const value = parse(raw);
    if (value === undefined) {
      problems.push(
        `${name}=${JSON.stringify(raw)} is not valid (${allowed}); using ${String(settings[key])} instead.`,
      );
      return;
    }
    (out as ResourceSettings)[key] = value;
    out.sources[key] = 'env';
  };
  take('maxMemoryMb', (v) => parseNumber(v, 0, 1_048_576, true), 'a whole number of MiB, 0 for no limit');
  take(
    'maxCpuPercent',
    (v) => parseNumber(v, 0, 100, false),
    'a percentage of the whole machine, 0 to 100, 0 for no limit',
  );
  take('lowPower', parseLowPower, 'on, off or auto');
  take(
    'monitoringIntervalMs',
    (v) => {
      const ms = parseInterval(v);
      return ms !== undefined && ms >= 250 && ms <= 600_000 ? ms : undefined;
    },
    'a duration from 250ms to 10m, such as 5s or 500ms; a bare number is seconds',
  );
  take('prometheusPort', (v) => parseNumber(v, 0, 65_535, true), 'a TCP port, 1 to 65535, or 0 for off');
  return out;
}

/** Where a configuration source puts a limit for the governor's state (the command line pins like the environment). */
function limitSource(source: string | undefined): LimitSource {
  if (source === 'env' || source === 'flag') return 'env';
  if (source === 'preset' || source === 'file') return 'settings';
  return 'default';
}

/**
 * The limits from the configuration (main/core/config), which has already applied the
 * environment and reported its problems: the values of the `resources` section, their sources,
 * and the problems found with those keys.
 */
export function limitsFromConfig(config: {
  values: Readonly<Record<string, unknown>>;
  sources: Readonly<Record<string, string>>;
  problems: readonly { key: string; message: string }[];
  config: {
    resources: {
      max_memory_mb: number;
      max_cpu_percent: number;
      low_power_mode: LowPowerMode;
      monitoring_interval: number;
      prometheus_port: number;
    };
  };
}): EffectiveLimits {
  const r = config.config.resources;
  const src = (key: string): LimitSource => limitSource(config.sources[`resources.${key}`]);
  return {
    maxMemoryMb: r.max_memory_mb,
    maxCpuPercent: r.max_cpu_percent,
    lowPower: r.low_power_mode,
    monitoringIntervalMs: r.monitoring_interval,
    prometheusPort: r.prometheus_port,
    sources: {
      maxMemoryMb: src('max_memory_mb'),
      maxCpuPercent: src('max_cpu_percent'),
      lowPower: src('low_power_mode'),
      monitoringIntervalMs: src('monitoring_interval'),
      prometheusPort: src('prometheus_port'),
    },
    problems: config.problems.filter((p) => p.key.startsWith('resources.')).map((p) => p.message),
  };
}
