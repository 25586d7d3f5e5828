/**
 * Saved port forwards: the forwards the user keeps for one-click re-opening, each on its own
 * profile and region, in `<appData>/forwards.json` (beside the configuration file):
 *
 *   { "version": 1, "forwards": [SavedForward, ...] }
 *
 * The file's robustness (atomic 0600 writes, a damaged file set aside and reported, changes by
 * another process picked up) is json-list-file.ts's. Without a file (`file: null`, a workspace
 * whose configuration is in memory) the list lives in memory only.
 */
import { randomUUID } from 'node:crypto';
import { SavedForwardSchema, type SavedForward } from '../../../preload/api.js';
import type { Logger } from '../log/logger.js';
import { Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import { JsonListFile } from './json-list-file.js';

export const SAVED_FORWARDS_FILE = 'forwards.json';

/** What identifies a saved forward: saving the same one again updates it instead of adding a copy. */
export type SavedForwardInput = Omit<SavedForward, 'id' | 'createdAt' | 'lastUsedAt'>;

export interface SavedForwardsOptions {
  /** The file (null: in memory only). */
  file: string | null;
  logger?: Logger;
  /** The clock (tests). */
  now?: () => number;
}

export class UnknownSavedForwardError extends Error {
  override readonly name = 'UnknownSavedForwardError';
  constructor(id: string) {
    super(
      `No saved port forward has the id ${id}; it may have been removed (ports.list shows the saved ones).`,
    );
  }
}

const sameForward = (a: SavedForwardInput, b: SavedForwardInput): boolean =>
  a.profile === b.profile &&
  a.region === b.region &&
  a.instanceId === b.instanceId &&
  a.remotePort === b.remotePort &&
  a.host === b.host &&
  a.localPort === b.localPort;

export class SavedForwards implements Disposable {
  readonly file: string | null;
  private readonly store: JsonListFile<SavedForward>;
  private readonly now: () => number;
  private readonly changed = new Emitter<SavedForward[]>();
  private readonly sub: Disposable;
  /** The saved forwards changed (here, or in the file). */
  readonly onDidChange: Event<SavedForward[]> = this.changed.event;

  constructor(options: SavedForwardsOptions) {
    this.file = options.file;
    this.now = options.now ?? Date.now;
    this.store = new JsonListFile({
      file: options.file,
      key: 'forwards',
      item: SavedForwardSchema,
      what: 'saved port forwards',
      ...(options.logger ? { logger: options.logger } : {}),
      now: this.now,
    });
    this.sub = this.store.onDidChange((items) => this.changed.fire(sorted(items)));
  }

  /** Why the saved forwards could not be read (a damaged file, set aside), if they could not. */
  get problem(): string | null {
    return this.store.problem;
  }

  /** The saved forwards, most recently used (else created) first. */
  list(): SavedForward[] {
    return sorted(this.store.items());
  }

  get(id: string): SavedForward | undefined {
    const hit = this.store.items().find((s) => s.id === id);
    return hit && { ...hit };
  }

  /** Save a forward; the same forward (profile, region, instance, ports, host) saved again is updated. */
  add(input: SavedForwardInput, used = false): Promise<SavedForward> {
    return this.store.change((items) => {
      const at = this.now();
      const existing = items.find((s) => sameForward(s, input));
      if (existing) {
        const updated: SavedForward = {
          ...existing,
          label: input.label || existing.label,
          instanceName: input.instanceName,
          ...(used ? { lastUsedAt: at } : {}),
        };
        return { items: items.map((s) => (s === existing ? updated : s)), result: updated };
      }
      const entry = SavedForwardSchema.parse({
        ...input,
        id: randomUUID(),
        createdAt: at,
        lastUsedAt: used ? at : null,
      });
      return { items: [...items, entry], result: entry };
    });
  }

  /** Forget a saved forward (one already gone is not an error). */
  remove(id: string): Promise<boolean> {
    return this.store.change((items) => {
      const left = items.filter((s) => s.id !== id);
      return { items: left, result: left.length !== items.length };
    });
  }

  /** Record that a saved forward was opened now. */
  touch(id: string): Promise<SavedForward> {
    return this.store.change((items) => {
      const hit = items.find((s) => s.id === id);
      if (!hit) throw new UnknownSavedForwardError(id);
      const updated = { ...hit, lastUsedAt: this.now() };
      return { items: items.map((s) => (s === hit ? updated : s)), result: updated };
    });
  }

  /** Resolves when every change so far is on disk. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  dispose(): void {
    this.sub.dispose();
    this.store.dispose();
    this.changed.dispose();
  }
}

/** Most recently used (else created) first, as copies. */
function sorted(items: readonly SavedForward[]): SavedForward[] {
  const used = (s: SavedForward): number => s.lastUsedAt ?? s.createdAt;
  return [...items].sort((a, b) => used(b) - used(a)).map((s) => ({ ...s }));
}
