/**
 * Sessions and the terminal workbench's tabs.
 *
 * - `sessions`: every session the main side reports (sessions.list at start, then
 *   session.updated), keyed by id; closed ones are kept only while a pane still shows them.
 * - Tabs hold up to four panes (split right/down); each pane is a terminal bound to one session
 *   (renderer/terminal/pane-controller.ts). `openSession` opens a tab at once, in a connecting
 *   state, and binds it when sessions.open answers (or shows the error with Retry/Close).
 * - A reloaded page re-attaches: a tab per session still open, filled from sessions.replay, then
 *   only the output after the replay (see renderer/terminal/output-sink.ts).
 * - One subscription per event for the whole store: 'session.output' is routed to its pane by
 *   a Map lookup (the per-event work stays tiny whatever the number of sessions).
 */
import { defineStore } from 'pinia';
import { computed, nextTick, onScopeDispose, reactive, ref, shallowRef, watch } from 'vue';
import type {
  AppCommand,
  EventPayload,
  InstanceList,
  RequestInput,
  SessionInfo,
  SessionStateName,
} from '../../preload/api.js';
import { sessionTitle } from './presets.js';
import { getBridge } from '../bridge/index.js';
import { describeError, isMacPlatform } from '../components/format.js';
import {
  canSplit,
  clampRatio,
  cycleIndex,
  findSplit,
  leaf,
  mapPanes,
  moveItem,
  neighbourAfterClose,
  paneIds,
  parseSavedWorkbench,
  removePane,
  splitPane as splitLayout,
  type LayoutNode,
  type SavedWorkbench,
  type SplitDirection,
} from '../terminal/layout.js';
import { terminalPolicy } from '../terminal/governor.js';
import { PaneController, type FindDirection, type Size } from '../terminal/pane-controller.js';
import { readTerminalTheme, watchTheme } from '../terminal/theme.js';
import {
  ScreenMemory,
  captureNow,
  captureScreen,
  reattachLabel,
  restoreText,
  screenText,
} from '../terminal/screen-restore.js';
import type { RendererInUse } from '../terminal/xterm-kit.js';
import { useInstancesStore } from './instances.js';
import { useSettingsStore } from './settings.js';
import { useAppStore } from './app.js';
import { useNoticesStore } from './notices.js';
import { useResourcesStore } from './resources.js';

export type InstanceSummary = InstanceList['instances'][number];
export type InstanceRef = Pick<InstanceSummary, 'instanceId' | 'name'>;

/** What a pane (and its tab's indicator) shows. */
export type PaneStatus = SessionStateName | 'error';

export interface PaneState {
  id: string;
  tabId: string;
  instanceId: string;
  instanceName: string;
  /** The session shown: null while the first open is in flight, or when it failed. */
  sessionId: string | null;
  phase: 'opening' | 'attached' | 'failed';
  error: string | null;
  /** Bumped by every open of this pane (answers to older ones are dropped). */
  openSeq: number;
  /** The renderer drawing its terminal (webgl, canvas, dom). */
  renderer: RendererInUse;
  /** Economy rendering (low-power mode): no WebGL, no cursor blink. */
  economy: boolean;
  /** What "Connect with…" chose for this pane (kept for Retry and Reconnect); else the preset or the shell. */
  choice?: SessionChoiceRequest;
}

/** The choice of sessions.open besides the instance and size: a document and shell setup, or a preset. */
export type SessionChoiceRequest = Omit<RequestInput<'sessions.open'>, 'instanceId' | 'cols' | 'rows'>;

export interface TabState {
  id: string;
  /** Set by renaming; otherwise the title is the instance's name. */
  customTitle: string | null;
  layout: LayoutNode;
  focusedPaneId: string;
}

export interface SearchState {
  open: boolean;
  query: string;
  caseSensitive: boolean;
  regex: boolean;
  /** -1: none selected (or more matches than highlighted). */
  resultIndex: number;
  resultCount: number;
  invalid: boolean;
  /** Bumped to ask the search bar to focus its input. */
  focusRequest: number;
}

export interface PasteRequest {
  paneId: string;
  lines: number;
  chars: number;
  preview: string;
  resolve(ok: boolean): void;
}

type OutputEvent = EventPayload<'session.output'>;

/** Output held for sessions whose sessions.open has not answered yet (bounded). */
const EARLY_OUTPUT_LIMIT = 4 * 1024 * 1024;
const DEFAULT_SIZE: Size = { cols: 80, rows: 24 };
/** Tabs and splits kept across a reload of the page (sessionStorage: this window only). */
export const LAYOUT_KEY = 'ec2connect.workbench.v1';

declare global {
  interface Window {
    /** End-to-end tests only: read a terminal's text. */
    __ec2connectTest?: { bufferText(sessionId: string, lastLines?: number): string };
  }
}

export const useSessionsStore = defineStore('sessions', () => {
  const bridge = getBridge();
  const settingsStore = useSettingsStore();
  const instancesStore = useInstancesStore();
  const appStore = useAppStore();
  const noticesStore = useNoticesStore();
  const resourcesStore = useResourcesStore();

  const sessions = reactive<Record<string, SessionInfo>>({});
  const list = computed(() => Object.values(sessions));
  const liveCount = computed(() => list.value.filter((s) => s.state !== 'closed').length);

  const tabs = ref<TabState[]>([]);
  const panes = reactive<Record<string, PaneState>>({});
  const activeTabId = ref<string | null>(null);
  const activeTab = computed(() => tabs.value.find((t) => t.id === activeTabId.value) ?? null);
  const focusedPaneId = computed(() => activeTab.value?.focusedPaneId ?? null);
  const canSplitActive = computed(() => {
    const tab = activeTab.value;
    return !!tab && canSplit(tab.layout) && !!panes[tab.focusedPaneId];
  });
  const loaded = ref(false);
  const loadError = ref<string | null>(null);
  /** The last problem worth telling (input not delivered, a failed cancel, ...); also a toast. */
  const lastError = ref<string | null>(null);
  function report(message: string, sessionId: string | null = null): void {
    lastError.value = message;
    noticesStore.push({ kind: 'error', message, sessionId });
  }

  const search = reactive<SearchState>({
    open: false,
    query: '',
    caseSensitive: false,
    regex: false,
    resultIndex: -1,
    resultCount: 0,
    invalid: false,
    focusRequest: 0,
  });
  const pasteRequest = shallowRef<PasteRequest | null>(null);

  // Not reactive: terminals, and the routing of output events.
  const controllers = new Map<string, PaneController>();
  const bySession = new Map<string, PaneController>();
  const early = new Map<string, OutputEvent[]>();
  /** session.updated for sessions whose sessions.open has not answered yet. */
  const earlyInfo = new Map<string, SessionInfo>();
  let earlyBytes = 0;
  let pendingOpens = 0;
  let lastSize: Size | null = null;
  let nextId = 1;
  let themeCache = readTerminalTheme();
  let started = false;
  let disposed = false;
  const unsubscribers: Array<() => void> = [];

  const newId = (prefix: string): string => `${prefix}-${nextId++}`;

  // ------------------------------------------------------------------------------------------
  // Panes and tabs
  // ------------------------------------------------------------------------------------------

  function paneHost(paneId: string) {
    return {
      bridge,
      settings: () => settingsStore.settings,
      theme: () => themeCache,
      isMac: () => isMacPlatform(appStore.info?.platform),
      confirmPaste: (text: string, lines: number) => confirmPaste(paneId, text, lines),
      onFocus: () => {
        const pane = panes[paneId];
        const tab = pane && tabs.value.find((t) => t.id === pane.tabId);
        if (tab && tab.focusedPaneId !== paneId) tab.focusedPaneId = paneId;
      },
      onRendererChange: (renderer: RendererInUse) => {
        const pane = panes[paneId];
        if (pane) pane.renderer = renderer;
      },
      onSize: (size: Size) => {
        lastSize = size;
      },
      onSearchResults: (r: { resultIndex: number; resultCount: number }) => {
        if (focusedPaneId.value !== paneId) return;
        search.resultIndex = r.resultIndex;
        search.resultCount = r.resultCount;
      },
      onInputError: (message: string) => report(message, panes[paneId]?.sessionId ?? null),
      openLink: (uri: string) => {
        window.open(uri, '_blank', 'noopener,noreferrer');
      },
    };
  }

  function createPane(tabId: string, instance: InstanceRef): PaneState {
    const id = newId('pane');
    panes[id] = {
      id,
      tabId,
      instanceId: instance.instanceId,
      instanceName: instance.name || instance.instanceId,
      sessionId: null,
      phase: 'opening',
      error: null,
      openSeq: 0,
      renderer: 'none',
      economy: false,
    };
    controllers.set(id, new PaneController(id, paneHost(id)));
    return panes[id]!;
  }

  function createTab(instance: InstanceRef, activate = true): { tab: TabState; pane: PaneState } {
    const tabId = newId('tab');
    const pane = createPane(tabId, instance);
    tabs.value.push({ id: tabId, customTitle: null, layout: leaf(pane.id), focusedPaneId: pane.id });
    const tab = tabs.value[tabs.value.length - 1]!;
    if (activate || activeTabId.value === null) activateTab(tabId);
    return { tab, pane };
  }

  function tabOf(paneId: string): TabState | undefined {
    const pane = panes[paneId];
    return pane ? tabs.value.find((t) => t.id === pane.tabId) : undefined;
  }

  function paneController(paneId: string): PaneController | undefined {
    return controllers.get(paneId);
  }

  function paneStatus(paneId: string): PaneStatus {
    const pane = panes[paneId];
    if (!pane) return 'closed';
    if (pane.phase === 'failed') return 'error';
    if (pane.phase === 'opening') return 'connecting';
    return (pane.sessionId && sessions[pane.sessionId]?.state) || 'closed';
  }

  function tabTitle(tab: TabState): string {
    if (tab.customTitle) return tab.customTitle;
    const pane = panes[paneIds(tab.layout)[0] ?? ''];
    if (!pane) return 'Terminal';
    // With the user, command or document when the session is not the plain shell.
    return sessionTitle(pane.instanceName, pane.sessionId ? sessions[pane.sessionId]?.launch : undefined);
  }

  function tabStatus(tab: TabState): PaneStatus {
    return paneStatus(tab.focusedPaneId);
  }

  function tabSessionId(tab: TabState): string | null {
    return panes[tab.focusedPaneId]?.sessionId ?? null;
  }

  function focusController(): PaneController | undefined {
    const id = focusedPaneId.value;
    return id ? controllers.get(id) : undefined;
  }

  function activateTab(tabId: string): void {
    const tab = tabs.value.find((t) => t.id === tabId);
    if (!tab) return;
    const changed = activeTabId.value !== tabId;
    activeTabId.value = tabId;
    if (changed && search.open) {
      search.resultIndex = -1;
      search.resultCount = 0;
    }
    void nextTick(() => {
      const ctrl = controllers.get(tab.focusedPaneId);
      if (!ctrl || activeTabId.value !== tabId) return;
      ctrl.shown();
      ctrl.focus();
    });
  }

  function focusPane(paneId: string): void {
    const tab = tabOf(paneId);
    if (!tab) return;
    tab.focusedPaneId = paneId;
    activateTab(tab.id);
  }

  /**
   * Show a session: its tab and pane, or, for a live session no tab shows (opened elsewhere), a
   * new tab attached to it (filled from its replay). False for unknown or closed sessions.
   */
  function focusSession(sessionId: string): boolean {
    const pane = Object.values(panes).find((p) => p.sessionId === sessionId);
    if (pane) {
      focusPane(pane.id);
      return true;
    }
    const info = sessions[sessionId];
    if (!info || info.state === 'closed') return false;
    void attachExisting(info);
    const tab = tabs.value[tabs.value.length - 1];
    if (tab) activateTab(tab.id);
    return true;
  }

  function cycleTab(step: number): void {
    if (tabs.value.length === 0) return;
    const i = tabs.value.findIndex((t) => t.id === activeTabId.value);
    const next = tabs.value[cycleIndex(Math.max(0, i), i === -1 ? 0 : step, tabs.value.length)];
    if (next) activateTab(next.id);
  }

  function nextTab(): void {
    cycleTab(1);
  }

  function previousTab(): void {
    cycleTab(-1);
  }

  function moveTab(from: number, to: number): void {
    tabs.value = moveItem(tabs.value, from, to);
  }

  /** Move the active tab one place left (-1) or right (+1). */
  function moveActiveTab(step: number): void {
    const i = tabs.value.findIndex((t) => t.id === activeTabId.value);
    if (i === -1) return;
    moveTab(i, i + step);
  }

  function renameTab(tabId: string, title: string): void {
    const tab = tabs.value.find((t) => t.id === tabId);
    if (!tab) return;
    const trimmed = title.trim().slice(0, 200);
    tab.customTitle = trimmed ? trimmed : null;
  }

  function setSplitRatio(tabId: string, splitId: string, ratio: number): void {
    const tab = tabs.value.find((t) => t.id === tabId);
    const split = tab && findSplit(tab.layout, splitId);
    if (split) split.ratio = clampRatio(ratio);
  }

  // ------------------------------------------------------------------------------------------
  // Sessions
  // ------------------------------------------------------------------------------------------

  function rememberSession(info: SessionInfo): void {
    sessions[info.id] = info;
  }

  /** Forget a closed session no pane shows. */
  function forgetIfUnused(sessionId: string): void {
    const s = sessions[sessionId];
    if (s && s.state === 'closed' && !bySession.has(sessionId)) delete sessions[sessionId];
  }

  function sizeFor(ctrl: PaneController): Size {
    if (ctrl.isMeasured) return ctrl.size();
    return lastSize ?? DEFAULT_SIZE;
  }

  /** Open a session in `paneId` (a new tab, a split, Retry, Reconnect). */
  async function openInPane(paneId: string): Promise<void> {
    const pane = panes[paneId];
    if (!pane) return;
    const seq = ++pane.openSeq;
    pane.phase = 'opening';
    pane.error = null;
    pane.sessionId = null;
    // Let the pane mount and fit, so the session starts with the terminal's real size.
    await nextTick();
    const ctrl = controllers.get(paneId);
    if (!ctrl || panes[paneId]?.openSeq !== seq) return;
    const size = sizeFor(ctrl);
    pendingOpens++;
    try {
      const info = await bridge.invoke('sessions.open', {
        instanceId: pane.instanceId,
        cols: size.cols,
        rows: size.rows,
        ...pane.choice,
      });
      const current = panes[paneId];
      if (!current || current.openSeq !== seq || ctrl.isDisposed) {
        // The pane closed (or was retried) meanwhile: this session has no place to go.
        bridge.invoke('sessions.close', { sessionId: info.id }).catch(() => undefined);
        return;
      }
      // A session.updated may already have brought a newer state (e.g. closed at once).
      const newer = earlyInfo.get(info.id);
      if (newer) rememberSession(newer);
      else if (!sessions[info.id]) rememberSession(info);
      current.sessionId = info.id;
      current.phase = 'attached';
      bySession.set(info.id, ctrl);
      ctrl.bind(info.id, { openedWith: size });
      const held = early.get(info.id);
      if (held) {
        early.delete(info.id);
        for (const e of held) ctrl.output(e);
      }
      if (sessions[info.id]?.state === 'closed') ctrl.sessionEnded();
    } catch (err) {
      const current = panes[paneId];
      if (current && current.openSeq === seq) {
        current.phase = 'failed';
        current.error = describeError(err);
      }
    } finally {
      pendingOpens--;
      if (pendingOpens === 0) {
        early.clear();
        earlyInfo.clear();
        earlyBytes = 0;
      }
    }
  }

  /**
   * Open a tab with a new session to `instance` (resolves once it is open or has failed); with a
   * `choice`, that document and shell setup instead of the instance's preset.
   */
  async function openSession(instance: InstanceRef, choice?: SessionChoiceRequest): Promise<void> {
    const { pane } = createTab(instance);
    if (choice) pane.choice = choice;
    await openInPane(pane.id);
  }

  /**
   * Show a session that was open before this page loaded in `pane`: output is held from now on,
   * the replay is written, then only the output after it.
   */
  async function attachPane(pane: PaneState, info: SessionInfo): Promise<void> {
    pane.sessionId = info.id;
    pane.phase = 'attached';
    const ctrl = controllers.get(pane.id)!;
    bySession.set(info.id, ctrl);
    ctrl.bind(info.id, { replay: true });
    try {
      const replay = await bridge.invoke('sessions.replay', { sessionId: info.id });
      ctrl.replayed(replay);
    } catch {
      ctrl.replayFailed();
    }
    if (sessions[info.id]?.state === 'closed') ctrl.sessionEnded();
  }

  /** A tab of its own for a session that was open before this page loaded. */
  function attachExisting(info: SessionInfo): Promise<void> {
    if (bySession.has(info.id)) return Promise.resolve();
    const { pane } = createTab(
      { instanceId: info.instanceId, name: info.instanceName },
      activeTabId.value === null,
    );
    return attachPane(pane, info);
  }

  /**
   * Re-attach to the sessions still open: the tabs, names and splits of before the reload
   * (sessionStorage) where their sessions are still there (or, lost for good, can be re-attached),
   * then a tab for each other one.
   */
  function restore(live: SessionInfo[], lost: SessionInfo[] = []): Promise<void>[] {
    const byId = new Map(live.map((info) => [info.id, info]));
    // A lost session whose screen this window kept comes back as it was, with its notice; one
    // re-attached meanwhile (automatically) comes back as its successor, below the old screen.
    const lostById = new Map(lost.filter((info) => screens.has(info.id)).map((info) => [info.id, info]));
    const successors = new Map(
      live.flatMap((info) => (info.reattachedFrom ? [[info.reattachedFrom, info]] : [])),
    );
    const shown = new Set<string>();
    const saved = readSaved();
    const attaching: Promise<void>[] = [];
    let active: string | null = null;
    for (const t of saved?.tabs ?? []) {
      const tabId = newId('tab');
      /** Saved session id -> its pane, and how it starts. */
      const created = new Map<string, { pane: PaneState; start: () => Promise<void> }>();
      const layout = mapPanes(t.layout, (savedId) => {
        const info = byId.get(savedId) ?? lostById.get(savedId) ?? successors.get(savedId);
        if (!info || bySession.has(info.id) || shown.has(info.id)) return undefined;
        shown.add(info.id);
        const pane = createPane(tabId, { instanceId: info.instanceId, name: info.instanceName });
        const start = lostById.has(savedId)
          ? () => showLost(pane, info)
          : info.id !== savedId
            ? () => attachSuccessor(pane, savedId, info)
            : () => attachPane(pane, info);
        created.set(savedId, { pane, start });
        return pane.id;
      });
      if (!layout) continue;
      const focused = (t.focused && created.get(t.focused)?.pane.id) || paneIds(layout)[0]!;
      tabs.value.push({ id: tabId, customTitle: t.title, layout, focusedPaneId: focused });
      for (const { start } of created.values()) attaching.push(start());
      if (saved?.active && created.has(saved.active)) active = tabId;
    }
    for (const info of live) if (!bySession.has(info.id)) attaching.push(attachExisting(info));
    const first = tabs.value[0];
    if (active) activateTab(active);
    else if (activeTabId.value === null && first) activateTab(first.id);
    return attaching;
  }

  function readSaved(): SavedWorkbench | null {
    try {
      return parseSavedWorkbench(globalThis.sessionStorage?.getItem(LAYOUT_KEY));
    } catch {
      return null;
    }
  }

  let saveTimer: ReturnType<typeof setTimeout> | undefined;

  /** Keep the tabs (names, splits, order, the active one) for a reload of this page. */
  function scheduleSave(): void {
    if (!loaded.value || disposed) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      const toSave: SavedWorkbench = {
        tabs: tabs.value.flatMap((tab) => {
          const layout = mapPanes(tab.layout, (paneId) => panes[paneId]?.sessionId ?? undefined);
          return layout ? [{ title: tab.customTitle, layout, focused: tabSessionId(tab) }] : [];
        }),
        active: activeTab.value ? tabSessionId(activeTab.value) : null,
      };
      try {
        globalThis.sessionStorage?.setItem(LAYOUT_KEY, JSON.stringify(toSave));
      } catch {
        // storage unavailable: a reload gets a tab per session
      }
    }, 100);
  }

  function releasePane(paneId: string): { sessionId: string | null } {
    const pane = panes[paneId];
    const ctrl = controllers.get(paneId);
    const sessionId = pane?.sessionId ?? null;
    if (sessionId && bySession.get(sessionId) === ctrl) bySession.delete(sessionId);
    ctrl?.dispose();
    controllers.delete(paneId);
    if (pane) pane.openSeq++;
    delete panes[paneId];
    if (pasteRequest.value?.paneId === paneId) resolvePaste(false);
    return { sessionId };
  }

  function endSession(sessionId: string | null): void {
    if (!sessionId) return;
    const s = sessions[sessionId];
    if (s && s.state === 'closed') {
      // The tab of a lost session closes: no re-attach any more (automatic or not).
      if (s.reattachable) bridge.invoke('sessions.close', { sessionId }).catch(() => undefined);
      screens.delete(sessionId);
      forgetIfUnused(sessionId);
      return;
    }
    bridge.invoke('sessions.close', { sessionId }).catch((err: unknown) => {
      report(`Could not close the session: ${describeError(err)}`, sessionId);
    });
  }

  /** Close one pane (and its session); the tab goes with its last pane. */
  function closePane(paneId: string): void {
    const tab = tabOf(paneId);
    const { sessionId } = releasePane(paneId);
    endSession(sessionId);
    if (!tab) return;
    const layout = removePane(tab.layout, paneId);
    if (!layout) {
      removeTab(tab.id);
      return;
    }
    const nextFocus =
      tab.focusedPaneId === paneId ? neighbourAfterClose(tab.layout, paneId) : tab.focusedPaneId;
    tab.layout = layout;
    if (nextFocus) tab.focusedPaneId = nextFocus;
    if (activeTabId.value === tab.id) activateTab(tab.id);
  }

  function removeTab(tabId: string): void {
    const i = tabs.value.findIndex((t) => t.id === tabId);
    if (i === -1) return;
    tabs.value.splice(i, 1);
    if (activeTabId.value === tabId) {
      const next = tabs.value[Math.min(i, tabs.value.length - 1)];
      activeTabId.value = null;
      if (next) activateTab(next.id);
      else closeSearch();
    }
  }

  /** Close a tab: every pane's session is closed. */
  function closeTab(tabId: string): void {
    const tab = tabs.value.find((t) => t.id === tabId);
    if (!tab) return;
    for (const paneId of paneIds(tab.layout)) endSession(releasePane(paneId).sessionId);
    removeTab(tabId);
  }

  function closeActiveTab(): void {
    if (activeTabId.value) closeTab(activeTabId.value);
  }

  /** Split the focused pane of the active tab: a new session to the same instance. */
  function splitPane(direction: SplitDirection, paneId?: string): boolean {
    const tab = paneId ? tabOf(paneId) : activeTab.value;
    if (!tab) return false;
    const source = panes[paneId ?? tab.focusedPaneId];
    if (!source || !canSplit(tab.layout)) return false;
    const pane = createPane(tab.id, { instanceId: source.instanceId, name: source.instanceName });
    const layout = splitLayout(tab.layout, source.id, direction, pane.id, newId('split'));
    if (!layout) {
      releasePane(pane.id);
      return false;
    }
    tab.layout = layout;
    focusPane(pane.id);
    void openInPane(pane.id);
    return true;
  }

  /** Open again after a failed open. */
  function retryPane(paneId: string): Promise<void> {
    return openInPane(paneId);
  }

  /** A new session in the same pane after the old one ended; its scrollback stays above a separator. */
  function reconnectPane(paneId: string): Promise<void> {
    const pane = panes[paneId];
    const ctrl = controllers.get(paneId);
    if (!pane || !ctrl) return Promise.resolve();
    const old = pane.sessionId;
    if (old) {
      const reason = sessions[old]?.closed?.reason;
      ctrl.separate(reason ? `session ended: ${reason}` : 'session ended');
      if (bySession.get(old) === ctrl) bySession.delete(old);
      forgetIfUnused(old);
    }
    return openInPane(paneId);
  }

  /**
   * End a session (TerminateSession); its pane stays and shows that it ended. Rejects when the
   * main side refuses (the caller tells the user).
   */
  async function closeSession(sessionId: string): Promise<void> {
    await bridge.invoke('sessions.close', { sessionId });
  }

  async function cancelReconnect(sessionId: string): Promise<void> {
    try {
      await bridge.invoke('sessions.cancelReconnect', { sessionId });
    } catch (err) {
      report(`Could not cancel reconnecting: ${describeError(err)}`, sessionId);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Search, paste, clipboard
  // ------------------------------------------------------------------------------------------

  function openSearch(): void {
    if (!activeTab.value) return;
    search.open = true;
    search.focusRequest++;
  }

  function closeSearch(): void {
    search.open = false;
    search.resultIndex = -1;
    search.resultCount = 0;
    search.invalid = false;
    for (const ctrl of controllers.values()) ctrl.clearSearch();
    focusController()?.focus();
  }

  function find(direction: FindDirection = 'next', incremental = false): boolean {
    const ctrl = focusController();
    if (!ctrl) return false;
    const found = ctrl.find(
      search.query,
      { caseSensitive: search.caseSensitive, regex: search.regex, incremental },
      direction,
    );
    search.invalid = found === 'invalid';
    if (found === 'invalid' || !search.query) {
      search.resultIndex = -1;
      search.resultCount = 0;
    }
    return found === true;
  }

  function confirmPaste(paneId: string, text: string, lines: number): Promise<boolean> {
    pasteRequest.value?.resolve(false);
    return new Promise<boolean>((resolve) => {
      const request: PasteRequest = {
        paneId,
        lines,
        chars: text.length,
        preview: text
          .split(/\r?\n|\r/, 6)
          .slice(0, 5)
          .join('\n')
          .slice(0, 600),
        resolve: (ok) => {
          if (pasteRequest.value === request) pasteRequest.value = null;
          resolve(ok);
        },
      };
      pasteRequest.value = request;
    });
  }

  function resolvePaste(ok: boolean): void {
    const request = pasteRequest.value;
    if (!request) return;
    request.resolve(ok);
    if (!ok) controllers.get(request.paneId)?.focus();
  }

  function copySelection(): boolean {
    return focusController()?.copySelection() ?? false;
  }

  function clearTerminal(): void {
    focusController()?.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Events and commands
  // ------------------------------------------------------------------------------------------

  function onOutput(e: OutputEvent): void {
    const ctrl = bySession.get(e.sessionId);
    if (ctrl) {
      ctrl.output(e);
      return;
    }
    // Output can come before the answer to sessions.open: hold it for a moment.
    if (pendingOpens > 0 && earlyBytes + e.bytes <= EARLY_OUTPUT_LIMIT) {
      const held = early.get(e.sessionId);
      if (held) held.push(e);
      else early.set(e.sessionId, [e]);
      earlyBytes += e.bytes;
    }
  }

  function onUpdated(info: SessionInfo): void {
    const ctrl = bySession.get(info.id);
    if (!ctrl && pendingOpens > 0) earlyInfo.set(info.id, info);
    if (info.state === 'closed' && !ctrl) {
      delete sessions[info.id];
      return;
    }
    rememberSession(info);
    if (info.state === 'closed') ctrl?.sessionEnded();
    if (info.state === 'closed' && info.reattachable && ctrl) keepScreen(info.id, ctrl);
  }

  // ------------------------------------------------------------------------------------------
  // Persistent sessions: the screen of a lost session, and its re-attach
  // ------------------------------------------------------------------------------------------

  /** Screens of lost sessions (renderer/terminal/screen-restore.ts), kept for their re-attach. */
  const screens = new ScreenMemory();

  /** A session was lost for good: keep its pane's screen (once what it received is drawn). */
  function keepScreen(sessionId: string, ctrl: PaneController): void {
    if (screens.has(sessionId)) return;
    void captureScreen(ctrl.kit).then((snapshot) => {
      if (!ctrl.isDisposed && sessions[sessionId]?.reattachable) screens.set(sessionId, snapshot);
    });
  }

  /** A reloaded window shows a lost session's pane as it was (its kept screen), with its notice. */
  function showLost(pane: PaneState, info: SessionInfo): Promise<void> {
    const ctrl = controllers.get(pane.id)!;
    pane.sessionId = info.id;
    pane.phase = 'attached';
    rememberSession(info);
    bySession.set(info.id, ctrl);
    const snapshot = screens.get(info.id);
    if (snapshot) ctrl.restore(screenText(snapshot));
    ctrl.sessionEnded();
    return Promise.resolve();
  }

  /** A reloaded window shows the session that re-attached `previousId` meanwhile, below its old screen. */
  function attachSuccessor(pane: PaneState, previousId: string, info: SessionInfo): Promise<void> {
    const ctrl = controllers.get(pane.id)!;
    const snapshot = screens.get(previousId);
    screens.delete(previousId);
    if (snapshot)
      ctrl.restore(restoreText(snapshot, reattachLabel(info, new Date(info.openedAt)), ctrl.size().cols));
    return attachPane(pane, info);
  }

  /** A new session in place of the lost one of `paneId`; rejects with why it could not be opened. */
  async function reattachPane(paneId: string): Promise<void> {
    const ctrl = controllers.get(paneId);
    const old = panes[paneId]?.sessionId;
    if (!ctrl || !old) return;
    const size = sizeFor(ctrl);
    const info = await bridge.invoke('sessions.reattach', {
      sessionId: old,
      cols: size.cols,
      rows: size.rows,
    });
    adoptReattached(old, info);
  }

  /**
   * Lost session `previousId` was replaced by `info` (by Re-attach here, or automatically): its
   * pane redraws the old screen, a separator, then shows the new session (from its replay, so
   * no output is missed whichever came first, this or its output).
   */
  function adoptReattached(previousId: string, info: SessionInfo): void {
    const pane = Object.values(panes).find((p) => p.sessionId === previousId);
    const ctrl = pane && controllers.get(pane.id);
    if (!pane || !ctrl || ctrl.isDisposed) return;
    const snapshot = screens.get(previousId) ?? captureNow(ctrl.kit);
    screens.delete(previousId);
    if (bySession.get(previousId) === ctrl) bySession.delete(previousId);
    delete sessions[previousId];
    if (!sessions[info.id]) rememberSession(info);
    ctrl.restore(restoreText(snapshot, reattachLabel(info, new Date()), ctrl.size().cols));
    void attachPane(pane, info);
  }

  function newSessionFor(instanceId: string | undefined): void {
    if (instanceId) {
      const known = instancesStore.byId(instanceId)?.instance;
      void openSession({ instanceId, name: known?.name || instanceId });
      return;
    }
    const pane = focusedPaneId.value ? panes[focusedPaneId.value] : undefined;
    if (pane) void openSession({ instanceId: pane.instanceId, name: pane.instanceName });
  }

  /** The workbench's app.command events (the others are the views'). */
  function runCommand(command: AppCommand, instanceId?: string): boolean {
    switch (command) {
      case 'new-session':
        newSessionFor(instanceId);
        return true;
      case 'close-tab':
        closeActiveTab();
        return true;
      case 'next-tab':
        nextTab();
        return true;
      case 'previous-tab':
        previousTab();
        return true;
      case 'split-right':
        splitPane('right');
        return true;
      case 'split-down':
        splitPane('down');
        return true;
      case 'find':
        openSearch();
        return true;
      case 'clear-terminal':
        clearTerminal();
        return true;
      default:
        return false;
    }
  }

  function applyTheme(): void {
    themeCache = readTerminalTheme();
    for (const ctrl of controllers.values()) ctrl.applyTheme(themeCache.theme);
  }

  /** Subscribe and re-attach to open sessions (once; the store does it when created). */
  async function init(): Promise<void> {
    if (started) return;
    started = true;
    unsubscribers.push(
      bridge.on('session.output', onOutput),
      bridge.on('session.updated', onUpdated),
      bridge.on('session.reattached', (e) => {
        // The newest word on the new session (events come in order; an answer may come late).
        rememberSession(e.session);
        adoptReattached(e.previousId, e.session);
      }),
      bridge.on('app.command', (c) => void runCommand(c.command, c.instanceId)),
      watchTheme(applyTheme),
    );
    void settingsStore.init();
    try {
      const [open, lost] = await Promise.all([
        bridge.invoke('sessions.list'),
        // Lost sessions (re-attachable) come back too; without them, only the open ones.
        bridge.invoke('sessions.lost').catch((): SessionInfo[] => []),
      ]);
      if (disposed) return;
      for (const info of open) if (!sessions[info.id] && info.state !== 'closed') rememberSession(info);
      loadError.value = null;
      await Promise.all(
        restore(
          open.filter((info) => info.state !== 'closed' && sessions[info.id]?.state !== 'closed'),
          lost.filter((info) => !sessions[info.id]),
        ),
      );
    } catch (err) {
      loadError.value = describeError(err);
    } finally {
      loaded.value = true;
      scheduleSave();
    }
  }

  /** Release every terminal and subscription (the sessions themselves keep running). */
  function dispose(): void {
    if (disposed) return;
    disposed = true;
    clearTimeout(saveTimer);
    for (const off of unsubscribers.splice(0)) off();
    pasteRequest.value?.resolve(false);
    for (const ctrl of controllers.values()) ctrl.dispose();
    controllers.clear();
    bySession.clear();
    early.clear();
    earlyInfo.clear();
    tabs.value = [];
    for (const id of Object.keys(panes)) delete panes[id];
    activeTabId.value = null;
    if (typeof window !== 'undefined' && window.__ec2connectTest === testHook) delete window.__ec2connectTest;
  }

  watch([tabs, activeTabId, () => Object.values(panes).map((p) => p.sessionId)], scheduleSave, {
    deep: true,
  });
  watch(
    () => settingsStore.settings,
    (s) => {
      for (const ctrl of controllers.values()) ctrl.applySettings(s);
    },
    { deep: true },
  );
  watch(
    () => settingsStore.theme,
    () => void nextTick(applyTheme),
  );

  /**
   * The resource governor's terminal policy: economy rendering everywhere, and the scrollback
   * of terminals in background tabs trimmed; undone as tabs come to the front or the governor
   * lifts it.
   */
  function governTerminals(): void {
    const ui = resourcesStore.terminalPolicy;
    for (const [paneId, ctrl] of controllers) {
      const pane = panes[paneId];
      const policy = terminalPolicy(ui, !!pane && pane.tabId === activeTabId.value);
      ctrl.setGovernor(policy);
      if (pane) pane.economy = policy.economy;
    }
  }
  watch(
    [() => resourcesStore.terminalPolicy, activeTabId, () => Object.keys(panes).join(' ')],
    governTerminals,
  );

  const testHook = {
    bufferText(sessionId: string, lastLines?: number): string {
      const ctrl =
        bySession.get(sessionId) ??
        controllers.get(Object.values(panes).find((p) => p.sessionId === sessionId)?.id ?? '');
      return ctrl ? ctrl.bufferText(lastLines) : '';
    },
  };
  if (typeof window !== 'undefined') window.__ec2connectTest = testHook;

  onScopeDispose(dispose);
  void init();

  return {
    sessions,
    list,
    liveCount,
    tabs,
    panes,
    activeTabId,
    activeTab,
    focusedPaneId,
    canSplitActive,
    loaded,
    loadError,
    lastError,
    search,
    pasteRequest,
    init,
    dispose,
    openSession,
    focusSession,
    closeSession,
    cancelReconnect,
    paneController,
    paneStatus,
    tabTitle,
    tabStatus,
    tabSessionId,
    activateTab,
    focusPane,
    nextTab,
    previousTab,
    moveTab,
    moveActiveTab,
    renameTab,
    setSplitRatio,
    closePane,
    closeTab,
    closeActiveTab,
    splitPane,
    retryPane,
    reconnectPane,
    reattachPane,
    openSearch,
    closeSearch,
    find,
    resolvePaste,
    copySelection,
    clearTerminal,
    runCommand,
  };
});
