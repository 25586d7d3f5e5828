/** Parsers for environment values of the configuration's `resources` keys (EC2_CONNECT_LOW_POWER_MODE, EC2_CONNECT_MONITORING_INTERVAL). */
import type { LowPowerMode } from '../../../preload/api.js';

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
