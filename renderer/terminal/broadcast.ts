/**
 * Broadcast input (pure): a group of sessions that all receive what is typed or pasted into any
 * one of them, like iTerm2's "broadcast input" or tmux's synchronize-panes.
 *
 * - Members are session ids, in the order they were added. Only sessions that are open (shown
 *   in a pane and not closed) can be members; `retainLive` drops the others, and broadcasting
 *   stops by itself when the last member is gone.
 * - `inputTargets`: input typed into a member while broadcasting goes to every member (the pane
 *   it was typed into first); anything else goes to its own pane only.
 * - `fanOut` hands the input to each target separately (each pane has its own input queue, so a
 *   slow or reconnecting member holds only its own input); a target that throws does not keep
 *   the others from getting theirs.
 *
 * The Pinia store renderer/stores/broadcast.ts holds the state and wires it to the panes.
 */

export interface BroadcastState {
  /** Broadcasting is on. */
  readonly enabled: boolean;
  /** Session ids of the group, in the order they joined. */
  readonly members: readonly string[];
}

export const EMPTY_BROADCAST: BroadcastState = { enabled: false, members: [] };

/** An open session the user can add to the group, as the workbench shows it. */
export interface BroadcastCandidate {
  sessionId: string;
  paneId: string;
  tabId: string;
  instanceId: string;
  instanceName: string;
  /** The instance's tags when known (the instance list), else empty. */
  tags: Readonly<Record<string, string>>;
}

/** A quick selection: the sessions that share an instance or a tag. */
export interface BroadcastGroupChoice {
  id: string;
  label: string;
  sessionIds: string[];
}

function unique(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}

export function isMember(state: BroadcastState, sessionId: string): boolean {
  return state.members.includes(sessionId);
}

/** The group with `sessionIds` in it (or out of it, `on` false). */
export function setMembership(
  state: BroadcastState,
  sessionIds: readonly string[],
  on: boolean,
): BroadcastState {
  const members = on
    ? unique([...state.members, ...sessionIds])
    : state.members.filter((id) => !sessionIds.includes(id));
  return withMembers(state, members);
}

export function toggleMember(state: BroadcastState, sessionId: string): BroadcastState {
  return setMembership(state, [sessionId], !isMember(state, sessionId));
}

/** Exactly these members (in this order, duplicates dropped). */
export function withMembers(state: BroadcastState, members: readonly string[]): BroadcastState {
  const next = unique(members);
  return { enabled: state.enabled && next.length > 0, members: next };
}

/** Turn broadcasting on (only with members) or off; the group itself is kept. */
export function setEnabled(state: BroadcastState, enabled: boolean): BroadcastState {
  return { enabled: enabled && state.members.length > 0, members: state.members };
}

/**
 * The group without members that are no longer open (`live`: the open sessions); broadcasting
 * stops when no member is left. Returns `state` itself when nothing changed.
 */
export function retainLive(state: BroadcastState, live: ReadonlySet<string>): BroadcastState {
  const members = state.members.filter((id) => live.has(id));
  if (members.length === state.members.length) return state;
  return withMembers(state, members);
}

/**
 * Where input typed into the pane of session `from` goes: every member (`from` first) when
 * broadcasting and `from` is a member; otherwise `from` alone.
 */
export function inputTargets(state: BroadcastState, from: string): string[] {
  if (!state.enabled || !isMember(state, from)) return [from];
  return [from, ...state.members.filter((id) => id !== from)];
}

/**
 * Hand `data` typed into `from` to each of its targets through `deliver`. Each delivery is on
 * its own: one that throws is reported through `onError` and the others still get the input.
 * Returns the sessions it was handed to.
 */
export function fanOut(
  state: BroadcastState,
  from: string,
  data: string,
  deliver: (sessionId: string, data: string) => void,
  onError?: (sessionId: string, err: unknown) => void,
): string[] {
  const delivered: string[] = [];
  for (const sessionId of inputTargets(state, from)) {
    try {
      deliver(sessionId, data);
      delivered.push(sessionId);
    } catch (err) {
      onError?.(sessionId, err);
    }
  }
  return delivered;
}

/**
 * Quick selections among the open sessions: every instance with two or more sessions, and every
 * tag (Name aside) that two or more sessions' instances share, most sessions first.
 */
export function groupChoices(candidates: readonly BroadcastCandidate[], max = 6): BroadcastGroupChoice[] {
  const byKey = new Map<string, BroadcastGroupChoice>();
  const add = (id: string, label: string, sessionId: string): void => {
    const group = byKey.get(id);
    if (group) group.sessionIds.push(sessionId);
    else byKey.set(id, { id, label, sessionIds: [sessionId] });
  };
  for (const c of candidates) {
    add(`instance:${c.instanceId}`, c.instanceName, c.sessionId);
    for (const [key, value] of Object.entries(c.tags)) {
      if (key !== 'Name') add(`tag:${key}=${value}`, `${key}=${value}`, c.sessionId);
    }
  }
  const seen = new Set<string>();
  return [...byKey.values()]
    .filter((g) => g.sessionIds.length >= 2 && g.sessionIds.length < candidates.length)
    .sort((a, b) => b.sessionIds.length - a.sessionIds.length || a.label.localeCompare(b.label))
    .filter((g) => {
      // The same sessions under two names (Role=web and Team=web, say): offer the first only.
      const key = [...g.sessionIds].sort().join(' ');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, max);
}

/** The shortcut that turns broadcasting on and off, as shown to the user. */
export function broadcastShortcutLabel(mac: boolean): string {
  return mac ? '⌘⇧B' : 'Ctrl+Shift+B';
}

/** "Broadcasting to 3 sessions — Ctrl+Shift+B to stop" */
export function broadcastBanner(count: number, mac: boolean): string {
  return `Broadcasting to ${count} session${count === 1 ? '' : 's'} — ${broadcastShortcutLabel(mac)} to stop`;
}

/** A "broadcast" mark (24x24 stroke paths for components/Icon.vue): a dot with waves either side. */
export const broadcastIcon: readonly string[] = [
  'M12 12h.01',
  'M8.46 8.46a5 5 0 0 0 0 7.08',
  'M15.54 8.46a5 5 0 0 1 0 7.08',
  'M5.64 5.64a9 9 0 0 0 0 12.72',
  'M18.36 5.64a9 9 0 0 1 0 12.72',
];
