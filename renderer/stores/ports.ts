/**
 * Port forwards (issue 9): the forwards of this app (open, and recently closed or failed) and the
 * saved ones, from `ports.list`, kept current by `ports.updated` (one forward's full info) and
 * `ports.savedChanged`. Actions: open (optionally saving), close, save, unsave, openSaved; each
 * keeps its own error (the back end's message as it is: "Local port 5432 on 127.0.0.1 is already
 * in use ...") and its own busy flag, per forward or saved forward where it acts on one.
 *
 * A forward that breaks (open or reconnecting, then failed) raises a toast naming it and the
 * reason. Ended forwards stay listed with their reason until dismissed (remembered for the tab).
 * The Start form's draft lives here, so `openFor(instanceId)` (an instance row's "Forward a
 * port…") can show the view with that instance chosen.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import {
  BridgeError,
  type PortForwardInfo,
  type PortForwardSpec,
  type SavedForward,
} from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import {
  emptyDraft,
  forwardTitle,
  isLiveForward,
  sameTarget,
  sortForwards,
  sortSaved,
  type PortDraft,
} from '../components/ports/ports-format.js';
import { useAppStore } from './app.js';
import { useNoticesStore } from './notices.js';

const DISMISSED_KEY = 'ec2connect.ports.dismissed';
const MAX_DISMISSED = 200;

/** The back end's message as it is (no error class prefix): it is written for people. */
export function errorText(err: unknown): string {
  return BridgeError.from(err).detail;
}

function sessionStore(): Storage | undefined {
  try {
    return globalThis.sessionStorage ?? undefined;
  } catch {
    return undefined;
  }
}

function loadDismissed(): Set<string> {
  try {
    const raw = sessionStore()?.getItem(DISMISSED_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    return new Set(Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

type OpenRequest = PortForwardSpec & { save?: boolean };

export const usePortsStore = defineStore('ports', () => {
  const app = useAppStore();
  const notices = useNoticesStore();

  /** By forward id. */
  const byId = ref(new Map<string, PortForwardInfo>());
  const saved = ref<SavedForward[]>([]);
  const savedProblem = ref<string | null>(null);
  const loading = ref(false);
  const loadedOnce = ref(false);
  const dismissed = ref(loadDismissed());

  /** Errors, per action (and per forward or saved forward it acted on). */
  const errors = reactive({
    list: null as string | null,
    /** The Start form's (ports.open, or ports.save from the form). */
    open: null as string | null,
    close: {} as Record<string, string>,
    save: {} as Record<string, string>,
    unsave: {} as Record<string, string>,
    openSaved: {} as Record<string, string>,
  });
  /** What is in flight. */
  const busy = reactive({
    open: false,
    close: new Set<string>(),
    save: new Set<string>(),
    unsave: new Set<string>(),
    openSaved: new Set<string>(),
  });

  const draft = ref<PortDraft>(emptyDraft());
  /** Bumped by openFor: the view focuses the form (and sets `openHandled` to it once it did). */
  const openRequest = ref(0);
  const openHandled = ref(0);
  /** Bumped when a forward started from here is up: the view scrolls it into view. */
  const lastOpened = ref<string | null>(null);

  const forwards = computed(() => sortForwards([...byId.value.values()]));
  /** What the view lists: every live forward, and ended ones not dismissed. */
  const shown = computed(() => forwards.value.filter((f) => isLiveForward(f) || !dismissed.value.has(f.id)));
  const live = computed(() => forwards.value.filter(isLiveForward));
  const ended = computed(() => shown.value.filter((f) => !isLiveForward(f)));
  const savedSorted = computed(() => sortSaved(saved.value));

  let started = false;
  const unsubscribers: Array<() => void> = [];
  /** Events seen per forward (a list answer older than an event does not undo it). */
  let eventSeq = 0;
  const lastEvent = new Map<string, number>();

  function setForward(info: PortForwardInfo): void {
    const next = new Map(byId.value);
    next.set(info.id, info);
    byId.value = next;
  }

  /**
   * Forwards that appeared while an open was in flight here. The back end lists one that could
   * not start as failed; when that open was refused, its reason is already the action's error
   * (under the form, or on the saved row), so the row is dismissed rather than shown twice.
   */
  const appeared = new Set<Set<string>>();
  /** Forwards of a refused open still starting: dismissed when they fail. */
  const quiet = new Set<string>();

  function onUpdated(info: PortForwardInfo): void {
    const previous = byId.value.get(info.id);
    lastEvent.set(info.id, ++eventSeq);
    if (!previous) for (const ids of appeared) ids.add(info.id);
    setForward(info);
    if (quiet.has(info.id) && !isLiveForward(info)) {
      quiet.delete(info.id);
      if (info.state === 'failed') dismiss(info.id);
    }
    if (
      info.state === 'failed' &&
      previous &&
      (previous.state === 'open' || previous.state === 'reconnecting')
    )
      notices.push({
        kind: 'error',
        title: 'Port forward broke',
        message: `${forwardTitle(info)}${info.localAddress ? ` (${info.localAddress})` : ''}: ${
          info.reason ?? 'it stopped'
        }`,
      });
  }

  /** Load the forwards and the saved ones. */
  async function load(): Promise<void> {
    const since = eventSeq;
    loading.value = true;
    try {
      const list = await getBridge().invoke('ports.list');
      const next = new Map<string, PortForwardInfo>();
      for (const f of list.forwards) next.set(f.id, f);
      // Events that came while the list was on its way are newer than it.
      for (const [id, seq] of lastEvent) {
        if (seq <= since) continue;
        const current = byId.value.get(id);
        if (current) next.set(id, current);
      }
      byId.value = next;
      saved.value = list.saved;
      savedProblem.value = list.savedProblem;
      errors.list = null;
    } catch (err) {
      errors.list = errorText(err);
    } finally {
      loading.value = false;
      loadedOnce.value = true;
    }
  }

  /** Subscribe to the main side's events and load (once). */
  function init(): Promise<void> {
    if (started) return Promise.resolve();
    started = true;
    const bridge = getBridge();
    unsubscribers.push(
      bridge.on('ports.updated', onUpdated),
      bridge.on('ports.savedChanged', ({ saved: list }) => {
        saved.value = list;
      }),
    );
    return load();
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  /** An answer's info, unless an event about that forward already said more. */
  function fromAnswer(info: PortForwardInfo): void {
    if (!lastEvent.has(info.id)) setForward(info);
    lastOpened.value = info.id;
  }

  /** Run an opening request; on a refusal, quiet the forward it left behind (see `appeared`). */
  async function opening(request: () => Promise<PortForwardInfo>): Promise<PortForwardInfo> {
    const ids = new Set<string>();
    appeared.add(ids);
    try {
      const info = await request();
      fromAnswer(info);
      return info;
    } catch (err) {
      const text = errorText(err);
      for (const id of ids) {
        const f = byId.value.get(id);
        if (!f) continue;
        if (f.state === 'starting') quiet.add(id);
        else if (f.state === 'failed' && f.reason === text) dismiss(id);
      }
      throw err;
    } finally {
      appeared.delete(ids);
    }
  }

  /** Start a forward on the active profile and region (and save it). Null on failure (errors.open). */
  async function open(request: OpenRequest): Promise<PortForwardInfo | null> {
    if (busy.open) return null;
    busy.open = true;
    errors.open = null;
    try {
      return await opening(() => getBridge().invoke('ports.open', request));
    } catch (err) {
      errors.open = errorText(err);
      return null;
    } finally {
      busy.open = false;
    }
  }

  function without(set: Set<string>, id: string): void {
    set.delete(id);
  }

  /** Stop a forward. */
  async function close(id: string): Promise<boolean> {
    if (busy.close.has(id)) return false;
    busy.close.add(id);
    delete errors.close[id];
    try {
      await getBridge().invoke('ports.close', { id });
      return true;
    } catch (err) {
      errors.close[id] = errorText(err);
      return false;
    } finally {
      without(busy.close, id);
    }
  }

  /**
   * Save a forward without opening it (active profile and region). `key` names what the error and
   * busy flag belong to: a forward's id, or 'form'.
   */
  async function save(spec: PortForwardSpec, key = 'form'): Promise<SavedForward | null> {
    if (busy.save.has(key)) return null;
    busy.save.add(key);
    delete errors.save[key];
    if (key === 'form') errors.open = null;
    try {
      const entry = await getBridge().invoke('ports.save', spec);
      if (!saved.value.some((s) => s.id === entry.id)) saved.value = [...saved.value, entry];
      return entry;
    } catch (err) {
      const text = errorText(err);
      errors.save[key] = text;
      if (key === 'form') errors.open = text;
      return null;
    } finally {
      without(busy.save, key);
    }
  }

  /** Forget a saved forward. */
  async function unsave(id: string): Promise<boolean> {
    if (busy.unsave.has(id)) return false;
    busy.unsave.add(id);
    delete errors.unsave[id];
    try {
      await getBridge().invoke('ports.unsave', { id });
      saved.value = saved.value.filter((s) => s.id !== id);
      return true;
    } catch (err) {
      errors.unsave[id] = errorText(err);
      return false;
    } finally {
      without(busy.unsave, id);
    }
  }

  /** Open a saved forward (on its own profile and region). */
  async function openSaved(id: string): Promise<PortForwardInfo | null> {
    if (busy.openSaved.has(id)) return null;
    busy.openSaved.add(id);
    delete errors.openSaved[id];
    try {
      return await opening(() => getBridge().invoke('ports.openSaved', { id }));
    } catch (err) {
      errors.openSaved[id] = errorText(err);
      return null;
    } finally {
      without(busy.openSaved, id);
    }
  }

  /** The live forward opened from a saved one, if any. */
  function activeFor(savedId: string): PortForwardInfo | undefined {
    return live.value.find((f) => f.savedId === savedId);
  }

  /** The saved forward this forward was opened from, or one describing the same target. */
  function savedFor(f: PortForwardInfo): SavedForward | undefined {
    return saved.value.find((s) => s.id === f.savedId) ?? saved.value.find((s) => sameTarget(f, s));
  }

  function persistDismissed(): void {
    try {
      sessionStore()?.setItem(DISMISSED_KEY, JSON.stringify([...dismissed.value].slice(-MAX_DISMISSED)));
    } catch {
      // not remembered
    }
  }

  /** Hide ended forwards (they stay hidden in this tab). */
  function dismiss(...ids: string[]): void {
    const next = new Set(dismissed.value);
    for (const id of ids) {
      const f = byId.value.get(id);
      if (f && isLiveForward(f)) continue;
      next.add(id);
      delete errors.close[id];
      delete errors.save[id];
    }
    dismissed.value = next;
    persistDismissed();
  }

  function dismissEnded(): void {
    dismiss(...ended.value.map((f) => f.id));
  }

  function resetDraft(): void {
    draft.value = emptyDraft(draft.value.instanceId);
  }

  /** Show the view with an instance chosen in the Start form. */
  function openFor(instanceId: string): void {
    if (draft.value.instanceId !== instanceId) draft.value = { ...draft.value, instanceId };
    errors.open = null;
    app.showView('ports');
    openRequest.value++;
  }

  return {
    byId,
    saved,
    savedProblem,
    loading,
    loadedOnce,
    dismissed,
    errors,
    busy,
    draft,
    openRequest,
    openHandled,
    lastOpened,
    forwards,
    shown,
    live,
    ended,
    savedSorted,
    init,
    dispose,
    load,
    open,
    close,
    save,
    unsave,
    openSaved,
    activeFor,
    savedFor,
    dismiss,
    dismissEnded,
    resetDraft,
    openFor,
  };
});
