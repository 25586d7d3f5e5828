/**
 * Recorded sessions (the local history store on the main side): the History view's list with
 * its filters and paging, one session's detail (events and downsampled metrics), and re-opening
 * a recorded session's instance.
 *
 * - Filters map to `history.list` parameters: the instance text is debounced (DEBOUNCE_MS),
 *   the selects and dates apply at once. Newest first; "Load more" asks for the sessions started
 *   before the last row's start.
 * - `history.changed` refreshes the list (and the open detail when it is that session), coalesced
 *   to at most one refresh per REFRESH_MS, and only while a view is attached (`attach()`); a
 *   detached store refreshes when shown again. Open sessions shown are re-read every LIVE_POLL_MS.
 * - Answers to superseded requests (the filter changed meanwhile) are dropped.
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, reactive, ref, shallowRef, watch } from 'vue';
import type {
  HistoryFilter,
  HistorySession,
  ResponseOf,
  SessionInfo,
  SessionOutcome,
} from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';
import { useSessionsStore } from './sessions.js';

export const PAGE_SIZE = 50;
/** Largest page the contract allows (a refresh re-reads every row shown, up to this). */
export const MAX_LIMIT = 1000;
export const DEBOUNCE_MS = 150;
export const REFRESH_MS = 500;
export const DETAIL_POINTS = 300;
/**
 * While a view shows sessions that are still open, re-read them this often: their traffic and
 * metrics grow without a history.changed (that comes when a session opens, closes or changes).
 */
export const LIVE_POLL_MS = 5000;

export type HistoryStatus = ResponseOf<'history.list'>['status'];
export type HistoryDetail = ResponseOf<'history.get'>;

export interface HistoryFilters {
  /** Instance id or name (substring). */
  instance: string;
  /** '' = every profile. */
  profile: string;
  /** '' = every outcome. */
  outcome: SessionOutcome | '';
  /** `<input type="date">` values (YYYY-MM-DD, local days), '' = open-ended. */
  from: string;
  to: string;
}

export function emptyFilters(): HistoryFilters {
  return { instance: '', profile: '', outcome: '', from: '', to: '' };
}

/**
 * A date input's local day as an ISO time: its start (`from`), or the start of the next day
 * (`to`, so the whole day is included). Undefined for an empty or malformed value.
 */
export function dayToIso(day: string, edge: 'start' | 'end'): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (edge === 'end' ? 1 : 0));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The range is backwards (to before from). */
export function rangeInvalid(filters: HistoryFilters): boolean {
  return !!filters.from && !!filters.to && filters.to < filters.from;
}

/** history.list parameters for the filters (empty ones left out). */
export function filterRequest(
  filters: HistoryFilters,
  page: { limit?: number; before?: string } = {},
): HistoryFilter {
  const request: HistoryFilter = {};
  const instance = filters.instance.trim();
  if (instance) request.instance = instance.slice(0, 200);
  if (filters.profile) request.profile = filters.profile;
  if (filters.outcome) request.outcome = filters.outcome;
  const from = dayToIso(filters.from, 'start');
  const to = dayToIso(filters.to, 'end');
  if (from) request.from = from;
  if (to) request.to = to;
  request.limit = page.limit ?? PAGE_SIZE;
  if (page.before) request.before = page.before;
  return request;
}

export function filtersActive(filters: HistoryFilters): boolean {
  return !!(filters.instance.trim() || filters.profile || filters.outcome || filters.from || filters.to);
}

/** uPlot data of a detail's metrics: x in epoch seconds. */
export function detailChartData(
  detail: HistoryDetail | null,
  kind: 'latency' | 'throughput',
): [number[], ...(number | null)[][]] {
  const points = detail?.metrics.points ?? [];
  const x = points.map((p) => p.t / 1000);
  return kind === 'latency'
    ? [x, points.map((p) => p.latencyP50), points.map((p) => p.latencyP99)]
    : [x, points.map((p) => p.inBytesPerSec), points.map((p) => p.outBytesPerSec)];
}

export const useHistoryStore = defineStore('history', () => {
  const bridge = getBridge();

  const filters = reactive<HistoryFilters>(emptyFilters());
  /** Newest first; replaced whole (shallow: plain rows). */
  const rows = shallowRef<readonly HistorySession[]>([]);
  const status = ref<HistoryStatus | null>(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  const loadedOnce = ref(false);
  const error = ref<string | null>(null);
  /** The last page was full: there may be older sessions. */
  const hasMore = ref(false);

  /** The session whose detail is showing (null: the list). */
  const selectedId = ref<string | null>(null);
  const detail = shallowRef<HistoryDetail | null>(null);
  const detailLoading = ref(false);
  const detailError = ref<string | null>(null);
  /** Bumped whenever `detail` is replaced: what the charts watch. */
  const detailVersion = ref(0);

  /** The recorded session being re-opened. */
  const reopening = ref<string | null>(null);
  const reopenError = ref<{ sessionId: string; message: string } | null>(null);

  const invalidRange = computed(() => rangeInvalid(filters));
  const filtered = computed(() => filtersActive(filters));
  const available = computed(() => status.value?.available ?? true);

  let subscribed = false;
  let watchers = 0;
  let listSeq = 0;
  let detailSeq = 0;
  let debounceTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let lastRefreshAt = 0;
  let listDirty = false;
  let detailDirty = false;
  const unsubscribers: Array<() => void> = [];

  // ---- the list -------------------------------------------------------------------------------

  async function fetchList(limit: number, quiet: boolean): Promise<void> {
    clearTimeout(debounceTimer);
    debounceTimer = undefined;
    const seq = ++listSeq;
    if (invalidRange.value) {
      rows.value = [];
      hasMore.value = false;
      loading.value = false;
      error.value = null;
      return;
    }
    if (!quiet) loading.value = true;
    try {
      const answer = await bridge.invoke('history.list', filterRequest(filters, { limit }));
      if (seq !== listSeq) return;
      status.value = answer.status;
      rows.value = answer.sessions;
      hasMore.value = answer.sessions.length >= limit;
      error.value = null;
    } catch (err) {
      if (seq === listSeq) error.value = describeError(err);
    } finally {
      if (seq === listSeq) {
        loading.value = false;
        loadingMore.value = false;
        loadedOnce.value = true;
      }
    }
  }

  /** The first page for the current filters. */
  function load(): Promise<void> {
    return fetchList(PAGE_SIZE, false);
  }

  /** The same rows again (as many as are shown), without a loading state. */
  function refresh(): Promise<void> {
    return fetchList(Math.min(MAX_LIMIT, Math.max(PAGE_SIZE, rows.value.length)), loadedOnce.value);
  }

  /** The next page: sessions started before the last row. */
  async function loadMore(): Promise<void> {
    const last = rows.value[rows.value.length - 1];
    if (!last || loadingMore.value || loading.value || !hasMore.value) return;
    const seq = ++listSeq;
    loadingMore.value = true;
    try {
      const answer = await bridge.invoke(
        'history.list',
        filterRequest(filters, { limit: PAGE_SIZE, before: last.startedAt }),
      );
      if (seq !== listSeq) return;
      status.value = answer.status;
      const seen = new Set(rows.value.map((r) => r.id));
      rows.value = [...rows.value, ...answer.sessions.filter((s) => !seen.has(s.id))];
      hasMore.value = answer.sessions.length >= PAGE_SIZE;
      error.value = null;
    } catch (err) {
      if (seq === listSeq) error.value = describeError(err);
    } finally {
      if (seq === listSeq) loadingMore.value = false;
    }
  }

  function clearFilters(): void {
    Object.assign(filters, emptyFilters());
  }

  // Typing in the instance box: one request once typing pauses. Selects and dates: at once.
  watch(
    () => filters.instance,
    () => {
      clearTimeout(debounceTimer);
      debounceTimer = setTimeout(() => void load(), DEBOUNCE_MS);
    },
  );
  watch(
    () => [filters.profile, filters.outcome, filters.from, filters.to],
    () => void load(),
  );

  // ---- the detail -----------------------------------------------------------------------------

  async function loadDetail(sessionId: string, quiet = false): Promise<void> {
    const seq = ++detailSeq;
    if (!quiet) detailLoading.value = true;
    try {
      const answer = await bridge.invoke('history.get', { sessionId, maxPoints: DETAIL_POINTS });
      if (seq !== detailSeq || selectedId.value !== sessionId) return;
      detail.value = answer;
      detailVersion.value++;
      detailError.value = null;
      // Keep the list row in step with what the detail says.
      const i = rows.value.findIndex((r) => r.id === sessionId);
      if (i !== -1 && rows.value[i] !== answer.session) {
        const next = [...rows.value];
        next[i] = answer.session;
        rows.value = next;
      }
    } catch (err) {
      if (seq === detailSeq && selectedId.value === sessionId) detailError.value = describeError(err);
    } finally {
      if (seq === detailSeq) detailLoading.value = false;
    }
  }

  /** Show one session's detail. */
  function select(sessionId: string): Promise<void> {
    if (selectedId.value !== sessionId) {
      selectedId.value = sessionId;
      detail.value = null;
      detailError.value = null;
      if (reopenError.value?.sessionId !== sessionId) reopenError.value = null;
    }
    return loadDetail(sessionId);
  }

  /** Back to the list. */
  function closeDetail(): void {
    selectedId.value = null;
    detail.value = null;
    detailError.value = null;
    detailLoading.value = false;
    reopenError.value = null;
    detailSeq++;
  }

  /** The row of the open detail (from the list, or the detail itself). */
  const selectedRow = computed<HistorySession | null>(() => {
    if (!selectedId.value) return null;
    if (detail.value?.session.id === selectedId.value) return detail.value.session;
    return rows.value.find((r) => r.id === selectedId.value) ?? null;
  });

  // ---- re-opening -----------------------------------------------------------------------------

  /**
   * A new session to the recorded one's instance (its profile and region), shown in a terminal
   * tab of its own. Resolves with the new session, or null when it failed (`reopenError` says why).
   */
  async function reopen(sessionId: string): Promise<SessionInfo | null> {
    if (reopening.value) return null;
    reopening.value = sessionId;
    reopenError.value = null;
    try {
      const info = await bridge.invoke('history.reopen', { sessionId });
      const sessions = useSessionsStore();
      // The session.updated of the new session may not have arrived yet: the tab needs to know it.
      if (!sessions.sessions[info.id]) sessions.sessions[info.id] = info;
      if (!sessions.focusSession(info.id)) {
        reopenError.value = { sessionId, message: `The new session ${info.id} closed at once.` };
      }
      return info;
    } catch (err) {
      reopenError.value = { sessionId, message: describeError(err) };
      return null;
    } finally {
      reopening.value = null;
    }
  }

  // ---- following changes ----------------------------------------------------------------------

  function runRefresh(): void {
    refreshTimer = undefined;
    lastRefreshAt = Date.now();
    if (listDirty && loadingMore.value) {
      // A refresh now would drop the page on its way; refresh after it.
      refreshTimer = setTimeout(runRefresh, REFRESH_MS);
    } else if (listDirty) {
      listDirty = false;
      void refresh();
    }
    if (detailDirty) {
      detailDirty = false;
      if (selectedId.value) void loadDetail(selectedId.value, true);
    }
  }

  function scheduleRefresh(): void {
    if (refreshTimer !== undefined || watchers === 0) return;
    const wait = Math.max(0, lastRefreshAt + REFRESH_MS - Date.now());
    refreshTimer = setTimeout(runRefresh, wait);
  }

  function onChanged({ sessionId }: { sessionId: string }): void {
    listDirty = true;
    if (sessionId === selectedId.value) detailDirty = true;
    scheduleRefresh();
  }

  /** Open sessions are on screen: re-read them (their counters and metrics grow quietly). */
  function poll(): void {
    if (watchers === 0) return;
    if (rows.value.some((r) => r.outcome === 'open')) listDirty = true;
    if (selectedId.value && selectedRow.value?.outcome === 'open') detailDirty = true;
    if (listDirty || detailDirty) scheduleRefresh();
  }

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    unsubscribers.push(bridge.on('history.changed', onChanged));
  }

  /**
   * A view shows the history: follow changes while it does, and bring the list (and an open
   * detail) up to date now. Returns the detach function.
   */
  function attach(): () => void {
    subscribe();
    watchers++;
    pollTimer ??= setInterval(poll, LIVE_POLL_MS);
    if (!loadedOnce.value && !loading.value) void load();
    else {
      listDirty = false;
      void refresh();
      if (selectedId.value && (detailDirty || !detail.value)) {
        detailDirty = false;
        void loadDetail(selectedId.value, !!detail.value);
      }
    }
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      watchers--;
      if (watchers === 0) {
        clearTimeout(refreshTimer);
        clearInterval(pollTimer);
        refreshTimer = undefined;
        pollTimer = undefined;
      }
    };
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    subscribed = false;
    watchers = 0;
    clearTimeout(refreshTimer);
    clearTimeout(debounceTimer);
    clearInterval(pollTimer);
    refreshTimer = undefined;
    debounceTimer = undefined;
    pollTimer = undefined;
  }

  onScopeDispose(dispose);

  return {
    filters,
    rows,
    status,
    loading,
    loadingMore,
    loadedOnce,
    error,
    hasMore,
    invalidRange,
    filtered,
    available,
    selectedId,
    selectedRow,
    detail,
    detailLoading,
    detailError,
    detailVersion,
    reopening,
    reopenError,
    load,
    refresh,
    loadMore,
    clearFilters,
    select,
    closeDetail,
    loadDetail,
    reopen,
    attach,
    dispose,
  };
});
