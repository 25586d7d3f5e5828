/**
 * Session presets (main/core/workspace/session-presets.ts): the list from `presets.list`, kept
 * current by `presets.changed`; save and delete; the preset an instance of the active profile
 * gets (`presetFor`, the same rule the main side opens sessions with: preload/api.ts
 * resolvePreset); and the "Connect with…" dialog's state (`dialog`: connect to an instance, or
 * edit a preset), which the Instances view and Settings open.
 *
 * Also the words the UI uses for a preset or a session that is not the plain shell: `describeChoice`
 * ("as alice, login shell") and `sessionTitle` (a tab: "alice@web-1", "web-1: top").
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import {
  BridgeError,
  resolvePreset,
  type InstanceList,
  type SessionLaunch,
  type SessionPreset,
  type SessionPresetInput,
} from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { useAppStore } from './app.js';

type InstanceSummary = InstanceList['instances'][number];

/** What the dialog is for: a connection to an instance, or changing a saved preset. */
export type PresetDialog =
  | { mode: 'connect'; instance: InstanceSummary }
  | { mode: 'edit'; preset: SessionPreset; instance?: InstanceSummary };

/** The fields of a preset that say what runs. */
type Choice = Pick<
  SessionPreset,
  'document' | 'command' | 'parameters' | 'runAs' | 'loginShell' | 'shellProfile'
>;

/** "shell, as alice, login shell, profile" — what a preset (or a choice) runs, in a few words. */
export function describeChoice(c: Choice): string {
  const parts: string[] = [];
  if (c.document === 'command') parts.push(`command: ${c.command ?? ''}`);
  else if (c.document === 'shell') parts.push('shell');
  else parts.push(`document ${c.document}`);
  if (c.runAs) parts.push(`as ${c.runAs}`);
  if (c.loginShell) parts.push('login shell');
  if (c.shellProfile?.trim()) parts.push('shell profile');
  return parts.join(', ');
}

/** Where a preset applies: "web-1" / "i-0123…", or "tag Team=web"; and on which profile. */
export function describeMatch(p: SessionPreset, nameOf?: (instanceId: string) => string | undefined): string {
  const match =
    'instanceId' in p.match
      ? (nameOf?.(p.match.instanceId) ?? p.match.instanceId)
      : `tag ${p.match.tag.key}=${p.match.tag.value}`;
  return `${match} · ${p.profile ?? 'all profiles'}`;
}

/** A tab's title for a session: the instance's name, with the user, command or document when not the shell. */
export function sessionTitle(instanceName: string, launch: SessionLaunch | undefined): string {
  if (!launch) return instanceName;
  let title = launch.runAs ? `${launch.runAs}@${instanceName}` : instanceName;
  if (launch.command) title += `: ${launch.command}`;
  else if (launch.document) title += ` (${launch.document})`;
  else if (launch.loginShell && !launch.runAs) title += ' (login)';
  return title;
}

/** The back end's message as it is (it is written for people). */
function errorText(err: unknown): string {
  return BridgeError.from(err).detail;
}

export const usePresetsStore = defineStore('presets', () => {
  const app = useAppStore();
  const presets = ref<SessionPreset[]>([]);
  const problem = ref<string | null>(null);
  const loadError = ref<string | null>(null);
  const loadedOnce = ref(false);
  const dialog = ref<PresetDialog | null>(null);
  let started = false;
  const unsubscribers: Array<() => void> = [];

  async function load(): Promise<void> {
    try {
      const list = await getBridge().invoke('presets.list');
      presets.value = list.presets;
      problem.value = list.problem;
      loadError.value = null;
    } catch (err) {
      loadError.value = errorText(err);
    } finally {
      loadedOnce.value = true;
    }
  }

  /** Subscribe to presets.changed and load (once). */
  function init(): Promise<void> {
    if (started) return Promise.resolve();
    started = true;
    unsubscribers.push(
      getBridge().on('presets.changed', ({ presets: list }) => {
        presets.value = list;
      }),
    );
    return load();
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    started = false;
  }

  /** Save a preset; resolves with it, rejects with the back end's words. */
  async function save(input: SessionPresetInput): Promise<SessionPreset> {
    try {
      const saved = await getBridge().invoke('presets.save', input);
      // presets.changed follows; the list is right at once either way.
      const rest = presets.value.filter((p) => p.id !== saved.id);
      const at = presets.value.findIndex((p) => p.id === saved.id);
      presets.value =
        at === -1 ? [...rest, saved] : presets.value.map((p) => (p.id === saved.id ? saved : p));
      return saved;
    } catch (err) {
      throw new Error(errorText(err), { cause: err });
    }
  }

  async function remove(id: string): Promise<void> {
    try {
      await getBridge().invoke('presets.delete', { id });
      presets.value = presets.value.filter((p) => p.id !== id);
    } catch (err) {
      throw new Error(errorText(err), { cause: err });
    }
  }

  /** The preset Connect uses for an instance of the active profile, if any. */
  function presetFor(instance: Pick<InstanceSummary, 'instanceId' | 'tags'>): SessionPreset | undefined {
    const profile = app.info?.profile;
    if (!profile) return undefined;
    return resolvePreset(presets.value, { profile, instanceId: instance.instanceId, tags: instance.tags });
  }

  /** Presets of the active profile (and of all profiles) first, then the others. */
  const sorted = computed(() => {
    const profile = app.info?.profile;
    const mine = presets.value.filter((p) => p.profile === null || p.profile === profile);
    return [...mine, ...presets.value.filter((p) => !mine.includes(p))];
  });

  function openConnect(instance: InstanceSummary): void {
    void init();
    dialog.value = { mode: 'connect', instance };
  }

  function openEdit(preset: SessionPreset, instance?: InstanceSummary): void {
    dialog.value = { mode: 'edit', preset, ...(instance ? { instance } : {}) };
  }

  function closeDialog(): void {
    dialog.value = null;
  }

  return {
    presets,
    sorted,
    problem,
    loadError,
    loadedOnce,
    dialog,
    init,
    load,
    dispose,
    save,
    remove,
    presetFor,
    openConnect,
    openEdit,
    closeDialog,
  };
});
