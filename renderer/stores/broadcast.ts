/**
 * Broadcast input: which open sessions receive what is typed into any of them, and whether
 * broadcasting is on (the group's logic is renderer/terminal/broadcast.ts).
 *
 * `start()` (the terminal workbench calls it) wires the group to the sessions store's panes:
 * - the open sessions shown in panes are the candidates; a member that closes, or whose pane
 *   closes, leaves the group at once, and broadcasting stops when none is left;
 * - while broadcasting, each member's pane controller gets an input router: what the user types
 *   or pastes there is handed to every member's own input queue (PaneController.sendInput), so
 *   each session gets it in order and a slow or reconnecting one holds back only itself.
 *   Non-members keep writing to their own session. Resizes and the like stay per pane.
 * - 'app.command' toggle-broadcast (the menu) turns it on and off like Ctrl+Shift+B.
 *
 * Before `start()` the store is plain state (the status bar reads the count from it).
 */
import { defineStore } from 'pinia';
import { computed, effectScope, onScopeDispose, ref, shallowRef, watch, type EffectScope } from 'vue';
import { getBridge } from '../bridge/index.js';
import {
  EMPTY_BROADCAST,
  fanOut,
  groupChoices,
  isMember,
  setEnabled,
  setMembership,
  retainLive,
  toggleMember,
  withMembers,
  type BroadcastCandidate,
  type BroadcastState,
} from '../terminal/broadcast.js';
import { paneIds } from '../terminal/layout.js';
import type { InputKind, InputRouter, PaneController } from '../terminal/pane-controller.js';
import { useInstancesStore } from './instances.js';
import { useSessionsStore, type TabState } from './sessions.js';

/** How many of a tab's open sessions are in the group. */
export type TabMembership = 'all' | 'some' | 'none';

export const useBroadcastStore = defineStore('broadcast', () => {
  const state = shallowRef<BroadcastState>(EMPTY_BROADCAST);
  /** The selection mode: a checkbox on every tab and pane. */
  const selecting = ref(false);
  /** The open sessions shown in panes, in tab and reading order (kept up to date by `start`). */
  const candidates = shallowRef<BroadcastCandidate[]>([]);

  const enabled = computed(() => state.value.enabled);
  const members = computed(() => state.value.members);
  /** Sessions receiving broadcast input right now (0 when off). */
  const receivingCount = computed(() => (state.value.enabled ? state.value.members.length : 0));
  const choices = computed(() => groupChoices(candidates.value));

  function isReceiving(sessionId: string | null | undefined): boolean {
    return !!sessionId && state.value.enabled && isMember(state.value, sessionId);
  }

  function isSelected(sessionId: string | null | undefined): boolean {
    return !!sessionId && isMember(state.value, sessionId);
  }

  function tabCandidates(tabId: string): BroadcastCandidate[] {
    return candidates.value.filter((c) => c.tabId === tabId);
  }

  function tabMembership(tabId: string): TabMembership {
    const ids = tabCandidates(tabId).map((c) => c.sessionId);
    const inGroup = ids.filter((id) => isMember(state.value, id)).length;
    if (inGroup === 0) return 'none';
    return inGroup === ids.length ? 'all' : 'some';
  }

  /** A tab shows the broadcast mark: broadcasting, and one of its panes is a member. */
  function tabReceives(tabId: string): boolean {
    return state.value.enabled && tabMembership(tabId) !== 'none';
  }

  function setSessions(sessionIds: readonly string[], on: boolean): void {
    const live = new Set(candidates.value.map((c) => c.sessionId));
    state.value = setMembership(
      state.value,
      sessionIds.filter((id) => live.has(id)),
      on,
    );
  }

  function toggleSession(sessionId: string): void {
    if (!candidates.value.some((c) => c.sessionId === sessionId)) return;
    state.value = toggleMember(state.value, sessionId);
  }

  /** Every open session of a tab in (all were not) or out (all were). */
  function toggleTab(tabId: string): void {
    setSessions(
      tabCandidates(tabId).map((c) => c.sessionId),
      tabMembership(tabId) !== 'all',
    );
  }

  /** Every open session in this window. */
  function selectAll(): void {
    state.value = withMembers(
      state.value,
      candidates.value.map((c) => c.sessionId),
    );
  }

  function selectNone(): void {
    state.value = withMembers(state.value, []);
  }

  /** Exactly the sessions of a quick choice (an instance, a tag). */
  function selectChoice(choiceId: string): void {
    const choice = choices.value.find((c) => c.id === choiceId);
    if (choice) state.value = withMembers(state.value, choice.sessionIds);
  }

  function setSelecting(on: boolean): void {
    selecting.value = on;
  }

  /** Broadcasting on (with the group as it is; false when the group is empty) or off. */
  function setBroadcasting(on: boolean): boolean {
    state.value = setEnabled(state.value, on);
    if (state.value.enabled) selecting.value = false;
    return state.value.enabled === on;
  }

  /**
   * Ctrl+Shift+B: off when on; on when sessions are selected; otherwise the selection mode opens
   * so that the user picks them (nothing is broadcast to sessions nobody chose).
   */
  function toggle(): void {
    if (state.value.enabled) {
      setBroadcasting(false);
      return;
    }
    if (!setBroadcasting(true)) selecting.value = true;
  }

  // ------------------------------------------------------------------------------------------
  // Wiring to the panes
  // ------------------------------------------------------------------------------------------

  let wiring: EffectScope | null = null;

  function start(): void {
    if (wiring) return;
    const sessions = useSessionsStore();
    const instances = useInstancesStore();
    const scope = effectScope(true);
    wiring = scope;
    /** Panes whose controller routes input to the group, and that controller. */
    const routed = new Map<string, PaneController>();

    function paneOf(sessionId: string): string | undefined {
      return candidates.value.find((c) => c.sessionId === sessionId)?.paneId;
    }

    function deliver(sessionId: string, data: string, kind: InputKind): void {
      const paneId = paneOf(sessionId);
      // A member whose pane just closed leaves the group on the same tick: nothing to send to.
      if (paneId) sessions.paneController(paneId)?.sendInput(data, kind);
    }

    function routerFor(paneId: string): InputRouter {
      return (data, kind) => {
        const from = sessions.panes[paneId]?.sessionId;
        if (!from) return;
        fanOut(state.value, from, data, (id, d) => deliver(id, d, kind));
      };
    }

    /** Routers on exactly the members' panes while broadcasting. */
    function route(): void {
      const wanted = new Map<string, PaneController>();
      if (state.value.enabled) {
        for (const c of candidates.value) {
          const ctrl = isMember(state.value, c.sessionId) ? sessions.paneController(c.paneId) : undefined;
          if (ctrl) wanted.set(c.paneId, ctrl);
        }
      }
      for (const [paneId, ctrl] of routed) {
        if (wanted.get(paneId) === ctrl) continue;
        ctrl.setInputRouter(null);
        routed.delete(paneId);
      }
      for (const [paneId, ctrl] of wanted) {
        if (routed.has(paneId)) continue;
        ctrl.setInputRouter(routerFor(paneId));
        routed.set(paneId, ctrl);
      }
    }

    scope.run(() => {
      const live = computed<BroadcastCandidate[]>(() =>
        sessions.tabs.flatMap((tab: TabState) =>
          paneIds(tab.layout).flatMap((paneId) => {
            const pane = sessions.panes[paneId];
            const sessionId = pane?.phase === 'attached' ? pane.sessionId : null;
            const info = sessionId ? sessions.sessions[sessionId] : undefined;
            if (!pane || !sessionId || !info || info.state === 'closed') return [];
            return [
              {
                sessionId,
                paneId,
                tabId: tab.id,
                instanceId: pane.instanceId,
                instanceName: pane.instanceName,
                tags: instances.byId(pane.instanceId)?.instance.tags ?? {},
              },
            ];
          }),
        ),
      );
      // session.updated replaces a session's info for every counter it reports: only a change
      // of who can receive input is a change here.
      const signature = (list: BroadcastCandidate[]): string =>
        JSON.stringify(list.map((c) => [c.sessionId, c.paneId, c.tabId, c.instanceName, c.tags]));
      watch(
        () => {
          const list = live.value;
          return { list, key: signature(list) };
        },
        ({ list, key }, previous) => {
          if (previous && previous.key === key) return;
          candidates.value = list;
          state.value = retainLive(state.value, new Set(list.map((c) => c.sessionId)));
          if (list.length === 0) selecting.value = false;
        },
        { immediate: true, flush: 'sync' },
      );
      watch([state, candidates], route, { immediate: true, flush: 'sync' });
      onScopeDispose(
        getBridge().on('app.command', ({ command }) => {
          if (command === 'toggle-broadcast') toggle();
        }),
      );
      onScopeDispose(() => {
        for (const ctrl of routed.values()) ctrl.setInputRouter(null);
        routed.clear();
      });
    });
  }

  /** Undo `start`: every pane writes to its own session again (the group is kept). */
  function stop(): void {
    wiring?.stop();
    wiring = null;
  }

  onScopeDispose(stop);

  return {
    state,
    selecting,
    candidates,
    enabled,
    members,
    receivingCount,
    choices,
    isReceiving,
    isSelected,
    tabMembership,
    tabReceives,
    setSessions,
    toggleSession,
    toggleTab,
    selectAll,
    selectNone,
    selectChoice,
    setSelecting,
    setBroadcasting,
    toggle,
    start,
    stop,
  };
});
