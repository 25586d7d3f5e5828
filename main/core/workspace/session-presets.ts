/**
 * Session presets: what a session to an instance runs (a document, a run-as user, a login shell,
 * a shell profile), saved for one instance or for every instance with a tag, on one AWS profile
 * or on all, in `<appData>/session-presets.json` beside the configuration file:
 *
 *   { "version": 1, "presets": [SessionPreset, ...] }
 *
 * The desktop app, web mode and `ec2-connect connect` / `ec2-connect presets` share the file
 * (json-list-file.ts: atomic 0600 writes, a damaged file set aside, changes by another process
 * picked up).
 *
 * Resolution for an instance on a profile (`resolve`): the instance's preset, else the first
 * preset of one of its tags; in each group a preset of that profile before one for every profile,
 * then the order of the file. An explicit choice at open time wins over both (session-launch.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  resolvePreset,
  SessionPresetInputSchema,
  SessionPresetSchema,
  type PresetMatch,
  type SessionPreset,
  type SessionPresetInput,
} from '../../../preload/api.js';
import type { Logger } from '../log/logger.js';
import type { Disposable, Event } from '../util/lifecycle.js';
import { JsonListFile } from './json-list-file.js';

export const SESSION_PRESETS_FILE = 'session-presets.json';

export interface SessionPresetsOptions {
  /** The file (null: in memory only). */
  file: string | null;
  logger?: Logger;
  /** The clock (tests). */
  now?: () => number;
}

/** An instance to find a preset for. */
export interface PresetTarget {
  profile: string;
  instanceId: string;
  /** Its tags (without them only instance presets can match). */
  tags?: Readonly<Record<string, string>>;
}

export class UnknownPresetError extends Error {
  override readonly name = 'UnknownPresetError';
  constructor(ref: string, known: readonly SessionPreset[]) {
    const names = known.map(describePreset).slice(0, 10).join('; ');
    super(
      `No session preset is ${/^[0-9a-f-]{36}$/.test(ref) ? `the id ${ref}` : `named "${ref}"`}` +
        (known.length ? ` (presets: ${names}).` : ' (there are none).') +
        ' `ec2-connect presets list` shows them; save one with `ec2-connect presets save`.',
    );
  }
}

/** A preset that cannot be saved (the message says which field and why). */
export class InvalidPresetError extends Error {
  override readonly name = 'InvalidPresetError';
}

const sameMatch = (a: PresetMatch, b: PresetMatch): boolean =>
  'instanceId' in a
    ? 'instanceId' in b && a.instanceId === b.instanceId
    : 'tag' in b && a.tag.key === b.tag.key && a.tag.value === b.tag.value;

/** "web-1 preset", "i-0123… (sandbox)", "tag Team=web (all profiles)": for lists and messages. */
export function describePreset(p: SessionPreset): string {
  const match = 'instanceId' in p.match ? p.match.instanceId : `tag ${p.match.tag.key}=${p.match.tag.value}`;
  const where = p.profile === null ? 'all profiles' : p.profile;
  return p.name ? `"${p.name}" (${match}, ${where})` : `${match} (${where})`;
}

export class SessionPresets implements Disposable {
  readonly file: string | null;
  private readonly store: JsonListFile<SessionPreset>;
  private readonly now: () => number;
  /** The presets changed (here, or in the file). */
  readonly onDidChange: Event<SessionPreset[]>;

  constructor(options: SessionPresetsOptions) {
    this.file = options.file;
    this.now = options.now ?? Date.now;
    this.store = new JsonListFile({
      file: options.file,
      key: 'presets',
      item: SessionPresetSchema,
      what: 'session presets',
      ...(options.logger ? { logger: options.logger } : {}),
      now: this.now,
    });
    this.onDidChange = this.store.onDidChange;
  }

  /** Why the presets could not be read (a damaged file, set aside), if they could not. */
  get problem(): string | null {
    return this.store.problem;
  }

  /** Every preset (or those that apply to `profile`), in the order of the file. */
  list(profile?: string): SessionPreset[] {
    const all = this.store.items();
    return profile === undefined ? all : all.filter((p) => p.profile === null || p.profile === profile);
  }

  get(id: string): SessionPreset | undefined {
    return this.store.items().find((p) => p.id === id);
  }

  /**
   * A preset by id or by name among those applying to `profile`; throws UnknownPresetError naming
   * the presets there are, or when a name is ambiguous.
   */
  find(ref: string, profile?: string): SessionPreset {
    const candidates = this.list(profile);
    const byId = candidates.find((p) => p.id === ref);
    if (byId) return byId;
    const named = candidates.filter((p) => p.name === ref);
    if (named.length === 1) return named[0]!;
    if (named.length > 1) {
      throw new Error(
        `${named.length} session presets are named "${ref}" (${named.map(describePreset).join('; ')}); use its id instead.`,
      );
    }
    throw new UnknownPresetError(ref, candidates);
  }

  /** The preset for an instance: its own, else the first of one of its tags (see the top). */
  resolve(target: PresetTarget): SessionPreset | undefined {
    return resolvePreset(this.store.items(), target);
  }

  /** Whether any tag preset applies to `profile` (then a caller needs the instance's tags to resolve). */
  hasTagPresets(profile: string): boolean {
    return this.list(profile).some((p) => 'tag' in p.match);
  }

  /**
   * Save a preset. With an id, that preset is changed (an unknown id is an error); without, the
   * preset with the same match and profile is replaced (its id kept), else a new one is added.
   */
  async save(input: SessionPresetInput): Promise<SessionPreset> {
    const parsed = SessionPresetInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? `${issue.path.join('.')}: ` : '';
      throw new InvalidPresetError(issue.code === 'custom' ? issue.message : `${field}${issue.message}`);
    }
    const checked = parsed.data;
    return this.store.change((items) => {
      const at = this.now();
      const { id, ...fields } = checked;
      const existing = id
        ? items.find((p) => p.id === id)
        : items.find((p) => p.profile === fields.profile && sameMatch(p.match, fields.match));
      if (id && !existing) throw new UnknownPresetError(id, items);
      const preset = SessionPresetSchema.parse({
        ...fields,
        id: existing?.id ?? randomUUID(),
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
      });
      if (!existing) return { items: [...items, preset], result: preset };
      return { items: items.map((p) => (p === existing ? preset : p)), result: preset };
    });
  }

  /** Forget a preset (one already gone is not an error); true when one was removed. */
  remove(id: string): Promise<boolean> {
    return this.store.change((items) => {
      const left = items.filter((p) => p.id !== id);
      return { items: left, result: left.length !== items.length };
    });
  }

  /** Resolves when every change so far is on disk. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  dispose(): void {
    this.store.dispose();
  }
}
