/**
 * The configuration (issue 8): config.get once, then `config.changed` (a change here, in another
 * window, or the file edited by hand). Every key is described by ConfigState.keys (type, range,
 * enum values, unit, env variable, live, default), and the Settings view is generated from them.
 *
 * `update(values)` checks each value against its key first (type, min/max, enum): an invalid
 * value is never sent, its message goes to `fieldErrors[key]`. The main side checks again; its
 * refusal (naming the key, the value and the allowed range) lands in the same place, next to the
 * field. `setPreset(name)` bases the configuration on a preset and remembers what it changed.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { ConfigKey, ConfigSource, ConfigState } from '../../preload/api.js';
import { BridgeError, getBridge } from '../bridge/index.js';

export type ConfigValue = string | number | boolean | null;

export type ParseResult = { ok: true; value: ConfigValue } | { ok: false; message: string };

function formatBound(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(n);
}

/** "between 1 and 500 sessions", "at least 250 ms", "at most 100 %". */
export function rangeText(key: Pick<ConfigKey, 'min' | 'max' | 'unit'>): string | null {
  const unit = key.unit ? ` ${key.unit}` : '';
  if (key.min !== undefined && key.max !== undefined)
    return `between ${formatBound(key.min)} and ${formatBound(key.max)}${unit}`;
  if (key.min !== undefined) return `at least ${formatBound(key.min)}${unit}`;
  if (key.max !== undefined) return `at most ${formatBound(key.max)}${unit}`;
  return null;
}

/** Why a value is not allowed for a key, or null when it is (null itself: only for nullable keys). */
export function checkConfigValue(key: ConfigKey, value: ConfigValue): string | null {
  if (value === null) return key.nullable ? null : 'A value is needed.';
  switch (key.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : 'Must be on or off.';
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number.';
      if (key.type === 'integer' && !Number.isInteger(value)) return 'Enter a whole number.';
      const outside =
        (key.min !== undefined && value < key.min) || (key.max !== undefined && value > key.max);
      return outside ? `Must be ${rangeText(key)}.` : null;
    }
    case 'enum':
      if (typeof value !== 'string' || !(key.values ?? []).includes(value))
        return `Must be one of ${(key.values ?? []).join(', ')}.`;
      return null;
    case 'string':
      if (typeof value !== 'string') return 'Must be text.';
      if (key.min !== undefined && value.length < key.min) return `At least ${key.min} characters.`;
      if (key.max !== undefined && value.length > key.max) return `At most ${key.max} characters.`;
      return null;
  }
}

/** What the user typed (text, or a switch's state) as a value for the key, checked. */
export function parseConfigInput(key: ConfigKey, raw: string | boolean): ParseResult {
  let value: ConfigValue;
  if (key.type === 'boolean') value = Boolean(raw);
  else {
    const text = String(raw);
    if (text.trim() === '') {
      if (key.nullable) return { ok: true, value: null };
      return {
        ok: false,
        message: key.type === 'integer' || key.type === 'number' ? 'Enter a number.' : 'A value is needed.',
      };
    }
    if (key.type === 'integer' || key.type === 'number') {
      value = Number(text.trim());
      if (Number.isNaN(value)) return { ok: false, message: 'Enter a number.' };
    } else value = text;
  }
  const message = checkConfigValue(key, value);
  return message ? { ok: false, message } : { ok: true, value };
}

/** A value as the UI shows it: `null` is "default", booleans on/off. */
export function formatConfigValue(value: ConfigValue | undefined, unit?: string): string {
  if (value === null || value === undefined) return 'default';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return unit ? `${value} ${unit}` : String(value);
  return value === '' ? '""' : value;
}

export interface PresetChange {
  from: string | null;
  to: string | null;
  /** Effective values that the preset switch changed. */
  changes: Array<{ key: string; before: ConfigValue | undefined; after: ConfigValue | undefined }>;
}

/** The effective values that differ between two states. */
export function diffValues(before: ConfigState, after: ConfigState): PresetChange['changes'] {
  const keys = new Set([...Object.keys(before.values), ...Object.keys(after.values)]);
  const order = new Map(after.keys.map((k, i) => [k.key, i]));
  return [...keys]
    .filter((k) => before.values[k] !== after.values[k])
    .sort((a, b) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9) || a.localeCompare(b))
    .map((key) => ({ key, before: before.values[key], after: after.values[key] }));
}

/** The key a refusal is about: the only key sent, else the first key sent that the message names. */
export function keyOfError(message: string, sent: readonly string[]): string | null {
  if (sent.length === 1) return sent[0]!;
  return sent.find((k) => message.includes(k)) ?? null;
}

/** A refusal's text for the field: the main side's message (issues joined), without the code prefix. */
export function refusalText(err: unknown): string {
  const e = BridgeError.from(err);
  if (e.issues && e.issues.length > 0) return e.issues.map((i) => i.message).join('; ');
  return e.detail;
}

/** Read-only keys: set by an environment variable or a command-line flag (the file cannot change them). */
export function pinnedBy(source: ConfigSource | undefined): 'env' | 'flag' | null {
  return source === 'env' || source === 'flag' ? source : null;
}

export type UpdateResult = { ok: true } | { ok: false; message: string; key: string | null };

export const useConfigStore = defineStore('config', () => {
  const state = shallowRef<ConfigState | null>(null);
  const loaded = ref(false);
  const loadError = ref<string | null>(null);
  /** A refusal that names no field (shown at the top). */
  const error = ref<string | null>(null);
  /** Per key: the local check's or the main side's message. */
  const fieldErrors = ref<Record<string, string>>({});
  /** Keys being saved. */
  const saving = ref<Record<string, boolean>>({});
  const presetBusy = ref(false);
  /** What the last preset switch changed (cleared by the next one or dismissed). */
  const presetChange = shallowRef<PresetChange | null>(null);

  const keys = computed<readonly ConfigKey[]>(() => state.value?.keys ?? []);
  const byKey = computed(() => new Map(keys.value.map((k) => [k.key, k])));
  /** Sections in the order their keys come. */
  const sections = computed(() => [...new Set(keys.value.map((k) => k.section))]);
  const problems = computed(() => state.value?.problems ?? []);
  const busy = computed(() => presetBusy.value || Object.values(saving.value).some(Boolean));

  let started = false;
  const unsubscribers: Array<() => void> = [];

  function apply(next: ConfigState): void {
    state.value = next;
    loaded.value = true;
    loadError.value = null;
  }

  function value(key: string): ConfigValue | undefined {
    return state.value?.values[key];
  }

  function source(key: string): ConfigSource | undefined {
    return state.value?.sources[key];
  }

  function describe(key: string): ConfigKey | undefined {
    return byKey.value.get(key);
  }

  async function load(): Promise<void> {
    try {
      apply(await getBridge().invoke('config.get'));
    } catch (err) {
      loadError.value = refusalText(err);
    } finally {
      loaded.value = true;
    }
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    unsubscribers.push(getBridge().on('config.changed', apply));
    await load();
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  function setFieldError(key: string, message: string | null): void {
    const next = { ...fieldErrors.value };
    if (message === null) delete next[key];
    else next[key] = message;
    fieldErrors.value = next;
  }

  function setSaving(sent: readonly string[], on: boolean): void {
    const next = { ...saving.value };
    for (const k of sent) {
      if (on) next[k] = true;
      else delete next[k];
    }
    saving.value = next;
  }

  /**
   * Change keys of the configuration file (null: back to the preset or default). Values are
   * checked against their key first; nothing is sent when one is invalid.
   */
  async function update(values: Record<string, ConfigValue>): Promise<UpdateResult> {
    const sent = Object.keys(values);
    if (sent.length === 0) return { ok: true };
    if (state.value) {
      for (const k of sent) {
        const described = byKey.value.get(k);
        const v = values[k]!;
        const message = !described
          ? `${k} is not a configuration key.`
          : v === null
            ? null // removing the key from the file is always allowed
            : checkConfigValue(described, v);
        if (message) {
          setFieldError(k, message);
          return { ok: false, message, key: k };
        }
      }
    }
    setSaving(sent, true);
    try {
      apply(await getBridge().invoke('config.update', { values }));
      for (const k of sent) setFieldError(k, null);
      error.value = null;
      return { ok: true };
    } catch (err) {
      const message = refusalText(err);
      const key = keyOfError(message, sent);
      if (key) setFieldError(key, message);
      else error.value = message;
      return { ok: false, message, key };
    } finally {
      setSaving(sent, false);
    }
  }

  /** Back to the preset's or the default value (the key is removed from the file). */
  function reset(key: string): Promise<UpdateResult> {
    return update({ [key]: null });
  }

  /** Base the configuration on a preset (null: none); remembers what changed. */
  async function setPreset(name: string | null): Promise<UpdateResult> {
    const before = state.value;
    presetBusy.value = true;
    try {
      const after = await getBridge().invoke('config.preset', { name });
      apply(after);
      presetChange.value = before
        ? { from: before.preset, to: after.preset, changes: diffValues(before, after) }
        : null;
      error.value = null;
      return { ok: true };
    } catch (err) {
      const message = refusalText(err);
      error.value = message;
      return { ok: false, message, key: null };
    } finally {
      presetBusy.value = false;
    }
  }

  function clearFieldError(key: string): void {
    setFieldError(key, null);
  }

  return {
    state,
    loaded,
    loadError,
    error,
    fieldErrors,
    saving,
    presetBusy,
    presetChange,
    keys,
    byKey,
    sections,
    problems,
    busy,
    init,
    dispose,
    load,
    apply,
    value,
    source,
    describe,
    update,
    reset,
    setPreset,
    setFieldError,
    clearFieldError,
  };
});
