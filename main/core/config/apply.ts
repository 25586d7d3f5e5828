/**
 * The configuration turned into the options of the modules it drives (session manager, history
 * store, governor, log), so each consumer does not redo the mapping.
 */
import path from 'node:path';
import type { ResourceSettings } from '../../../preload/api.js';
import type { NetworkOptions } from '../net/network.js';
import type { ReconnectPolicy } from '../ssm/session.js';
import { historyOptionsFromConfig } from '../store/config.js';
import { DATABASE_FILE } from '../store/paths.js';
import { appDataDir } from '../util/app-paths.js';
import { RECONNECT_POLICIES } from '../sessions/reconnect-policies.js';
import type { Config } from './schema.js';

/** The reconnection policy: aggressive_reconnection, else the reconnect_* keys (jittered). */
export function reconnectPolicy(config: Config): ReconnectPolicy {
  const s = config.session;
  if (s.aggressive_reconnection) return { ...RECONNECT_POLICIES.aggressive };
  return {
    maxAttempts: s.reconnect_max_attempts,
    baseDelayMs: s.reconnect_initial_delay_ms,
    maxDelayMs: Math.max(s.reconnect_max_delay_ms, s.reconnect_initial_delay_ms),
    jitter: 0.5,
  };
}

/** SessionManager limits. */
export function sessionLimits(config: Config): { maxSessionsPerInstance: number; maxTotalSessions: number } {
  return {
    maxSessionsPerInstance: config.session.max_sessions_per_instance,
    maxTotalSessions: config.session.max_total_sessions,
  };
}

/** SessionManager flow control: pause at the high-water mark, resume at a quarter of it. */
export function flowControl(config: Config): { highWaterBytes: number; lowWaterBytes: number } {
  const high = config.performance.flow_control_high_water_kib * 1024;
  return { highWaterBytes: high, lowWaterBytes: Math.floor(high / 4) };
}

/** The governor's settings (preload/api.ts ResourceSettings); the environment is already applied. */
export function resourceSettings(config: Pick<Config, 'resources'>): ResourceSettings {
  const r = config.resources;
  return {
    maxMemoryMb: r.max_memory_mb,
    maxCpuPercent: r.max_cpu_percent,
    lowPower: r.low_power_mode,
    monitoringIntervalMs: r.monitoring_interval,
    prometheusPort: r.prometheus_port,
  };
}

/** Where the log files go: logging.directory, else <app data>/logs. */
export function logDirectory(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.logging.directory ?? path.join(appDataDir(env), 'logs');
}

/** The history database: database.file (EC2_CONNECT_DB sets it), else <app data>/sessions.db. */
export function databaseFile(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.database.file ?? path.join(appDataDir(env), DATABASE_FILE);
}

/**
 * The history store's options (openHistoryStore), or null when history is off. The section is
 * already valid, so historyOptionsFromConfig reports nothing here.
 */
export function historyOptions(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): (ReturnType<typeof historyOptionsFromConfig>['options'] & { file: string }) | null {
  if (!config.database.enabled) return null;
  return { ...historyOptionsFromConfig(config.database).options, file: databaseFile(config, env) };
}

/**
 * The proxy and CA bundle for `new Network(...)`, `resolveProfile({ network })`,
 * `new ControlPlane({ network })` and `new CredentialResolver({ network })`: the connection
 * section, with `env` for what a null key falls back to (HTTPS_PROXY / HTTP_PROXY, NO_PROXY,
 * AWS_CA_BUNDLE). The keys apply at start (live: false): build the Network once.
 */
export function networkOptions(config: Config, env: NodeJS.ProcessEnv = process.env): NetworkOptions {
  const c = config.connection;
  return {
    proxy: c.proxy,
    noProxy: c.no_proxy,
    caBundle: c.ca_bundle,
    env,
    connectTimeoutMs: c.connection_timeout,
  };
}
