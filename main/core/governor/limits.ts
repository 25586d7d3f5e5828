/**
 * The governor's effective limits: the configuration's `resources` section (main/core/config,
 * which applies EC2_CONNECT_* variables over the file and reports values it ignores, naming the
 * variable, the value and what is allowed), with where each value came from. The environment
 * parsers of the duration and low-power keys are in config/parse-env.ts.
 */
import type { LowPowerMode, ResourceSettings } from '../../../preload/api.js';
import { resourceSettings } from '../config/apply.js';
import { IN_MEMORY, loadConfig, type LoadedConfig } from '../config/load.js';

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
export function limitsFromConfig(
  config: Pick<LoadedConfig, 'sources' | 'problems' | 'config'>,
): EffectiveLimits {
  const src = (key: string): LimitSource => limitSource(config.sources[`resources.${key}`]);
  return {
    ...resourceSettings(config.config),
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

/**
 * The limits for resource settings given directly (tests, benchmarks, embedders without a
 * configuration file), with the environment applied by the configuration loader exactly as for
 * the app.
 */
export function limitsFromSettings(settings: ResourceSettings, env: NodeJS.ProcessEnv = {}): EffectiveLimits {
  const data = {
    resources: {
      max_memory_mb: settings.maxMemoryMb,
      max_cpu_percent: settings.maxCpuPercent,
      low_power_mode: settings.lowPower,
      monitoring_interval: settings.monitoringIntervalMs,
      prometheus_port: settings.prometheusPort,
    },
  };
  return limitsFromConfig(
    loadConfig({ file: IN_MEMORY, env, content: { exists: true, data, problem: null } }),
  );
}
