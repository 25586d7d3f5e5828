/**
 * The instances of the active profile/region (instances.list) and the list's filter.
 *
 * Filtering stays instant for thousands of instances: each instance is indexed once per list
 * (a lowercase search string and lowercase tags), and a filter is parsed once per keystroke.
 * Responses for a profile/region that is no longer active (a switch while loading) are dropped.
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, shallowRef, watch } from 'vue';
import type { InstanceList } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';
import { contextKey, useAppStore } from './app.js';

export type InstanceSummary = InstanceList['instances'][number];
export type StateFilter = 'running' | 'stopped' | 'all';

/** Why no session can be opened to this instance, or null when one can. */
export function connectBlocker(instance: InstanceSummary): string | null {
  if (instance.unavailableReason) return instance.unavailableReason;
  if (instance.state !== 'running') return instance.state;
  if (instance.pingStatus === 'Online') return null;
  if (instance.pingStatus === 'NotRegistered') return 'not managed by SSM';
  return `SSM agent ${instance.pingStatus}`;
}

/** "db-replica (i-0cff…)", or the id alone for an instance without a name (the forms' selects). */
export function instanceLabel(instance: InstanceSummary): string {
  return instance.name ? `${instance.name} (${instance.instanceId})` : instance.instanceId;
}

export interface IndexedInstance {
  readonly instance: InstanceSummary;
  readonly id: string;
  /** Lowercase name, id, platform, type, private IP and tag values, separated by NUL. */
  readonly search: string;
  /** Lowercase tag key -> lowercase value. */
  readonly tags: ReadonlyMap<string, string>;
  readonly blocker: string | null;
}

export function indexInstance(instance: InstanceSummary): IndexedInstance {
  const tags = new Map<string, string>();
  for (const [k, v] of Object.entries(instance.tags)) tags.set(k.toLowerCase(), v.toLowerCase());
  const parts = [
    instance.name,
    instance.instanceId,
    instance.platform,
    instance.platformName ?? '',
    instance.instanceType ?? '',
    instance.privateIpAddress ?? '',
    ...Object.values(instance.tags),
  ];
  return {
    instance,
    id: instance.instanceId,
    search: parts.join('\0').toLowerCase(),
    tags,
    blocker: connectBlocker(instance),
  };
}

export interface TagTerm {
  key: string;
  /** null: the tag only has to exist. */
  value: string | null;
  /** Set when the value has `*` wildcards (then the whole value must match). */
  pattern: RegExp | null;
}

export interface ParsedFilter {
  /** Plain words: each must occur in the search string. */
  words: string[];
  tags: TagTerm[];
}

function wildcard(value: string): RegExp {
  const body = value.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${body}$`);
}

/**
 * `web prod` (words, all must match), `Environment=prod` or `tag:Environment=prod` (a tag whose
 * value contains `prod`; `*` makes it a whole-value wildcard match), `tag:Owner` (has the tag).
 * Case-insensitive. `"..."` keeps spaces in a word.
 */
export function parseFilter(text: string): ParsedFilter {
  const words: string[] = [];
  const tags: TagTerm[] = [];
  const tokens = text.toLowerCase().match(/"[^"]*"?|\S+/g) ?? [];
  for (let token of tokens) {
    if (token.startsWith('"')) {
      token = token.replace(/^"|"$/g, '');
      if (token) words.push(token);
      continue;
    }
    let explicitTag = false;
    if (token.startsWith('tag:')) {
      token = token.slice(4);
      explicitTag = true;
    }
    const eq = token.indexOf('=');
    if (eq > 0) {
      const key = token.slice(0, eq);
      const value = token.slice(eq + 1);
      tags.push({
        key,
        value: value === '' ? null : value,
        pattern: value.includes('*') ? wildcard(value) : null,
      });
    } else if (explicitTag) {
      if (token) tags.push({ key: token.replace(/=$/, ''), value: null, pattern: null });
    } else if (token) {
      words.push(token);
    }
  }
  return { words, tags };
}

export interface FilterOptions {
  state: StateFilter;
  connectableOnly: boolean;
}

export function matchesState(entry: IndexedInstance, state: StateFilter): boolean {
  if (state === 'all') return true;
  const s = entry.instance.state;
  if (state === 'running') return s === 'running';
  return s === 'stopped' || s === 'stopping';
}

export function matchesFilter(entry: IndexedInstance, filter: ParsedFilter, options: FilterOptions): boolean {
  if (!matchesState(entry, options.state)) return false;
  if (options.connectableOnly && entry.blocker !== null) return false;
  for (const word of filter.words) if (!entry.search.includes(word)) return false;
  for (const term of filter.tags) {
    const value = entry.tags.get(term.key);
    if (value === undefined) return false;
    if (term.pattern) {
      if (!term.pattern.test(value)) return false;
    } else if (term.value !== null && !value.includes(term.value)) return false;
  }
  return true;
}

export function filterInstances(
  entries: readonly IndexedInstance[],
  text: string,
  options: FilterOptions,
): IndexedInstance[] {
  const filter = parseFilter(text);
  const out: IndexedInstance[] = [];
  for (const entry of entries) if (matchesFilter(entry, filter, options)) out.push(entry);
  return out;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** By name (natural order: web-2 before web-10), unnamed last, then by id. */
export function sortInstances<T extends InstanceSummary>(instances: readonly T[]): T[] {
  return [...instances].sort((a, b) => {
    if (!a.name !== !b.name) return a.name ? -1 : 1;
    return collator.compare(a.name, b.name) || a.instanceId.localeCompare(b.instanceId);
  });
}

export const useInstancesStore = defineStore('instances', () => {
  const app = useAppStore();

  /** Indexed and sorted; replaced whole on every list (shallow: thousands of plain objects). */
  const entries = shallowRef<readonly IndexedInstance[]>([]);
  const listKey = ref<string | null>(null);
  const fetchedAt = ref<string | null>(null);
  /** The list shown is the one saved by an earlier run; a fresh one is on its way. */
  const cached = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const loadedOnce = ref(false);

  const filterText = ref('');
  /** The instance selected in the Instances view (what Diagnostics offers first). */
  const selectedId = ref<string | null>(null);
  const stateFilter = ref<StateFilter>('all');
  const connectableOnly = ref(false);

  const filtered = computed(() =>
    filterInstances(entries.value, filterText.value, {
      state: stateFilter.value,
      connectableOnly: connectableOnly.value,
    }),
  );
  const counts = computed(() => {
    let running = 0;
    let stopped = 0;
    let connectable = 0;
    for (const e of entries.value) {
      if (matchesState(e, 'running')) running++;
      if (matchesState(e, 'stopped')) stopped++;
      if (e.blocker === null) connectable++;
    }
    return { all: entries.value.length, running, stopped, connectable };
  });

  let seq = 0;
  let applied = 0;

  /** List the active profile's instances (`refresh` skips the main side's cache). */
  async function load(options: { refresh?: boolean } = {}): Promise<void> {
    const mine = ++seq;
    loading.value = true;
    try {
      const list = await getBridge().invoke('instances.list', options.refresh ? { refresh: true } : {});
      const key = contextKey(list.profile, list.region);
      // A switch happened while this was loading: the list belongs to another context.
      if (app.activeKey !== null && key !== app.activeKey) return;
      if (mine < applied) return; // an answer to a newer request is already shown
      applied = mine;
      entries.value = sortInstances(list.instances).map(indexInstance);
      listKey.value = key;
      fetchedAt.value = list.fetchedAt;
      cached.value = list.cached === true;
      error.value = null;
    } catch (err) {
      if (mine === seq) error.value = describeError(err);
    } finally {
      if (mine === seq) {
        loading.value = false;
        loadedOnce.value = true;
      }
    }
  }

  function refresh(): Promise<void> {
    return load({ refresh: true });
  }

  // After a list saved by an earlier run (fast start-up), the main side sends the fresh one.
  const offUpdated = getBridge().on('instances.updated', (list) => {
    const key = contextKey(list.profile, list.region);
    if (app.activeKey !== null && key !== app.activeKey) return;
    applied = ++seq;
    entries.value = sortInstances(list.instances).map(indexInstance);
    listKey.value = key;
    fetchedAt.value = list.fetchedAt;
    cached.value = false;
    error.value = null;
  });
  onScopeDispose(offUpdated);

  /** The list shown belongs to another profile/region than the active one. */
  const stale = computed(
    () => listKey.value !== null && app.activeKey !== null && listKey.value !== app.activeKey,
  );

  // A new active profile or region (a switch here, or app.profileChanged from elsewhere): list again.
  watch(
    () => app.activeKey,
    (key, previous) => {
      if (key !== null && previous !== null && previous !== undefined && key !== previous) {
        entries.value = [];
        error.value = null;
        void load();
      }
    },
  );

  function byId(id: string): IndexedInstance | undefined {
    return entries.value.find((e) => e.id === id);
  }

  /** List the instances unless that is done or under way (the views that offer them, when shown). */
  function ensureLoaded(): void {
    if (!loadedOnce.value && !loading.value) void load();
  }

  return {
    entries,
    listKey,
    fetchedAt,
    cached,
    loading,
    error,
    loadedOnce,
    filterText,
    selectedId,
    stateFilter,
    connectableOnly,
    filtered,
    counts,
    stale,
    load,
    refresh,
    byId,
    ensureLoaded,
  };
});

/**
 * Keep a form's instance (Ports, Diagnostics) on a listed one as the list comes and changes: the
 * current one while it is listed, else the one selected in Instances (only one that can take a
 * session unless `anySelected`), else the first that can, else the first.
 */
export function useDefaultInstance(
  current: () => string | null,
  choose: (id: string) => void,
  anySelected = false,
): void {
  const store = useInstancesStore();
  watch(
    () => store.entries,
    (list) => {
      const id = current();
      if (list.length === 0 || (id && list.some((e) => e.id === id))) return;
      const selected = store.selectedId ? store.byId(store.selectedId) : undefined;
      if (selected && (anySelected || selected.blocker === null)) choose(selected.id);
      else choose((list.find((e) => e.blocker === null) ?? list[0]!).id);
    },
    { immediate: true },
  );
}
