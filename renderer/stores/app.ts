/**
 * The app's context: version and active profile/region (app.info), the profiles the switcher
 * offers (profiles.list), switching profile (profiles.select), which side view is showing and
 * the bridge transport. Follows `app.profileChanged` from the main side (another window, the tray).
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo, ProfileList } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';

export const SIDE_PANEL_MIN = 220;
export const SIDE_PANEL_MAX = 720;
export const SIDE_PANEL_DEFAULT = 340;
const WIDTH_KEY = 'ec2connect.sidePanelWidth';

export function clampPanelWidth(width: number): number {
  if (!Number.isFinite(width)) return SIDE_PANEL_DEFAULT;
  return Math.round(Math.min(SIDE_PANEL_MAX, Math.max(SIDE_PANEL_MIN, width)));
}

function storedWidth(): number {
  try {
    const raw = globalThis.localStorage?.getItem(WIDTH_KEY);
    return raw ? clampPanelWidth(Number(raw)) : SIDE_PANEL_DEFAULT;
  } catch {
    return SIDE_PANEL_DEFAULT;
  }
}

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const infoError = ref<string | null>(null);
  const profiles = ref<ProfileList | null>(null);
  const profilesError = ref<string | null>(null);
  const profilesLoading = ref(false);
  /** The last failed profiles.select (expired credentials, unknown profile, ...). */
  const selectError = ref<string | null>(null);
  const switching = ref(false);
  const transport = ref<'ipc' | 'websocket' | null>(null);

  const activeView = ref<string>('instances');
  const sidePanelVisible = ref(true);
  const sidePanelWidth = ref(storedWidth());
  /** Bumped to ask the instances view to focus its filter (Ctrl+K, '/', app.command focus-filter). */
  const filterFocusRequest = ref(0);

  /** `profile region` of the active context, or null before app.info answered. */
  const activeKey = computed(() => (info.value ? contextKey(info.value.profile, info.value.region) : null));

  let started = false;
  let selectSeq = 0;
  /** app.profileChanged events seen: the main side's word on the active profile wins over an answer. */
  let profileEvents = 0;
  const unsubscribers: Array<() => void> = [];

  function applyInfo(next: AppInfo): void {
    info.value = next;
    infoError.value = null;
    if (profiles.value)
      profiles.value = { ...profiles.value, active: { profile: next.profile, region: next.region } };
  }

  async function loadInfo(): Promise<void> {
    try {
      applyInfo(await getBridge().invoke('app.info'));
    } catch (err) {
      infoError.value = describeError(err);
    }
  }

  async function loadProfiles(): Promise<void> {
    profilesLoading.value = true;
    try {
      const list = await getBridge().invoke('profiles.list');
      profiles.value = list;
      profilesError.value = null;
    } catch (err) {
      profilesError.value = describeError(err);
    } finally {
      profilesLoading.value = false;
    }
  }

  /** Subscribe to the main side's events and load the context (once). */
  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const bridge = getBridge();
    transport.value = bridge.transport;
    unsubscribers.push(
      bridge.on('app.profileChanged', (next) => {
        profileEvents++; // an answer to a select already sent must not override this
        selectError.value = null;
        applyInfo(next);
      }),
    );
    await Promise.all([loadInfo(), loadProfiles()]);
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  /** Make a profile/region active. Resolves true on success; on failure `selectError` says why. */
  async function selectProfile(profile: string, region?: string): Promise<boolean> {
    const seq = ++selectSeq;
    const eventsBefore = profileEvents;
    switching.value = true;
    selectError.value = null;
    try {
      const next = await getBridge().invoke('profiles.select', region ? { profile, region } : { profile });
      // The main side announces the switch (app.profileChanged) before it answers; either way the
      // latest word wins, and `switching` ends with the latest select.
      if (seq === selectSeq && profileEvents === eventsBefore) applyInfo(next);
      return true;
    } catch (err) {
      if (seq === selectSeq) selectError.value = describeError(err);
      return false;
    } finally {
      if (seq === selectSeq) switching.value = false;
    }
  }

  function showView(id: string): void {
    activeView.value = id;
    sidePanelVisible.value = true;
  }

  /** Activity bar click: the active view's icon hides the panel, any other shows its view. */
  function toggleView(id: string): void {
    if (activeView.value === id && sidePanelVisible.value) sidePanelVisible.value = false;
    else showView(id);
  }

  function setSidePanelWidth(width: number): void {
    sidePanelWidth.value = clampPanelWidth(width);
    try {
      globalThis.localStorage?.setItem(WIDTH_KEY, String(sidePanelWidth.value));
    } catch {
      // storage unavailable: the width just is not remembered
    }
  }

  function requestFilterFocus(): void {
    showView('instances');
    filterFocusRequest.value++;
  }

  return {
    info,
    infoError,
    profiles,
    profilesError,
    profilesLoading,
    selectError,
    switching,
    transport,
    activeView,
    sidePanelVisible,
    sidePanelWidth,
    filterFocusRequest,
    activeKey,
    init,
    dispose,
    loadInfo,
    loadProfiles,
    selectProfile,
    showView,
    toggleView,
    setSidePanelWidth,
    requestFilterFocus,
  };
});

export function contextKey(profile: string, region: string): string {
  return `${profile} ${region}`;
}
