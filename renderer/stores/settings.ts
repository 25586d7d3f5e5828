/**
 * UI settings (settings.get / settings.update, following settings.changed from other windows),
 * and the resolved colour theme: `system` follows the OS (prefers-color-scheme, live).
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import {
  DEFAULT_SETTINGS,
  SettingsPatchSchema,
  toIssues,
  type BridgeIssue,
  type Settings,
  type SettingsPatch,
} from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';

export type ResolvedTheme = 'light' | 'dark';

/** Check a patch against the contract's schema: the issues by field path (`fontSize`, `notifications.minIntervalSeconds`). */
export function validatePatch(
  patch: unknown,
): { ok: true; patch: SettingsPatch } | { ok: false; issues: BridgeIssue[] } {
  const parsed = SettingsPatchSchema.safeParse(patch);
  return parsed.success ? { ok: true, patch: parsed.data } : { ok: false, issues: toIssues(parsed.error) };
}

export function resolveTheme(theme: Settings['theme'], systemDark: boolean): ResolvedTheme {
  if (theme === 'system') return systemDark ? 'dark' : 'light';
  return theme;
}

const DARK_QUERY = '(prefers-color-scheme: dark)';

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings>(structuredClone(DEFAULT_SETTINGS));
  const loaded = ref(false);
  const loadError = ref<string | null>(null);
  const saveError = ref<string | null>(null);
  const saving = ref(false);
  const systemDark = ref(false);

  const theme = computed<ResolvedTheme>(() => resolveTheme(settings.value.theme, systemDark.value));

  let started = false;
  const unsubscribers: Array<() => void> = [];

  /** Follow the OS colour scheme (live). */
  function watchSystemTheme(): void {
    const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(DARK_QUERY) : null;
    if (!mq) return;
    systemDark.value = mq.matches;
    const onChange = (e: { matches: boolean }): void => {
      systemDark.value = e.matches;
    };
    mq.addEventListener('change', onChange);
    unsubscribers.push(() => mq.removeEventListener('change', onChange));
  }

  async function load(): Promise<void> {
    try {
      settings.value = await getBridge().invoke('settings.get');
      loadError.value = null;
    } catch (err) {
      loadError.value = describeError(err);
    } finally {
      loaded.value = true;
    }
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    watchSystemTheme();
    unsubscribers.push(
      getBridge().on('settings.changed', (next) => {
        settings.value = next;
      }),
    );
    await load();
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  /**
   * Validate and send a change. Invalid patches are not sent: the issues come back for the form.
   * The settings are updated optimistically and rolled back if the main side refuses.
   */
  async function update(
    patch: unknown,
  ): Promise<{ ok: true } | { ok: false; issues: BridgeIssue[]; error?: string }> {
    const checked = validatePatch(patch);
    if (!checked.ok) return checked;
    const before = settings.value;
    const p = checked.patch;
    settings.value = {
      ...before,
      ...p,
      notifications: { ...before.notifications, ...(p.notifications ?? {}) },
      resources: { ...before.resources, ...(p.resources ?? {}) },
    } as Settings;
    saving.value = true;
    try {
      settings.value = await getBridge().invoke('settings.update', p);
      saveError.value = null;
      return { ok: true };
    } catch (err) {
      settings.value = before;
      saveError.value = describeError(err);
      return { ok: false, issues: [], error: saveError.value };
    } finally {
      saving.value = false;
    }
  }

  return { settings, loaded, loadError, saveError, saving, systemDark, theme, init, dispose, load, update };
});
