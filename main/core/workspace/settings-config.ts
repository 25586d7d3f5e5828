/**
 * The UI settings (preload/api.ts Settings: what settings.get/update and the renderer's terminal
 * code use) are a view of the configuration's `ui` and `resources` sections: one source of truth
 * (config.json), two shapes. This maps between them.
 */
import { DEFAULT_SETTINGS, SettingsSchema, type Settings, type SettingsPatch } from '../../../preload/api.js';
import { SETTINGS_KEY_MAP } from '../config/store.js';

type Value = string | number | boolean | null;

/** Settings path (dotted) <-> configuration key (the map the settings.json migration uses too). */
export const SETTINGS_KEYS = SETTINGS_KEY_MAP;

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    cur[part] ??= {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** The settings as the configuration's effective values say (defaults for anything missing or invalid). */
export function settingsFromConfig(values: Readonly<Record<string, Value>>): Settings {
  const out = structuredClone(DEFAULT_SETTINGS) as unknown as Record<string, unknown>;
  for (const [path, key] of SETTINGS_KEYS) {
    const v = values[key];
    if (v !== undefined && v !== null) setPath(out, path, v);
  }
  const parsed = SettingsSchema.safeParse(out);
  return parsed.success ? parsed.data : DEFAULT_SETTINGS;
}

/** A settings patch as configuration key values. */
export function configValuesFromSettingsPatch(patch: SettingsPatch): Record<string, Value> {
  const values: Record<string, Value> = {};
  for (const [path, key] of SETTINGS_KEYS) {
    const v = getPath(patch, path);
    if (v !== undefined) values[key] = v as Value;
  }
  return values;
}
