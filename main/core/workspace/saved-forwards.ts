/**
 * Saved port forwards: the forwards the user keeps for one-click re-opening, each on its own
 * profile and region, in `<appData>/forwards.json` (beside the configuration file):
 *
 *   { "version": 1, "forwards": [SavedForward, ...] }
 *
 * Written atomically (a 0600 temp file renamed over it, as the configuration is), checked with
 * zod when read. A file that is not valid JSON or not of that form is never silently dropped or
 * overwritten: it is renamed aside to `forwards.json.damaged-<time>` and `problem` says so (the
 * list starts empty). Another EC2 Connect process (desktop and web mode at once) may write the
 * same file: it is read again when it changed on disk, before each change and each listing.
 *
 * Without a file (`file: null`, a workspace whose configuration is in memory) the list lives in
 * memory only.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SavedForwardSchema, type SavedForward } from '../../../preload/api.js';
import { writeFileAtomic } from '../config/store.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { Emitter, type Disposable, type Event } from '../util/lifecycle.js';

export const SAVED_FORWARDS_FILE = 'forwards.json';

const SavedFileSchema = z.object({
  version: z.literal(1),
  forwards: z.array(SavedForwardSchema),
});

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

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`)
    .join('; ');
}

export class SavedForwards implements Disposable {
  readonly file: string | null;
  private items: SavedForward[] = [];
  private _problem: string | null = null;
  /** size and mtime of the file as last read or written (null: no file). */
  private seen: string | null = null;
  /** A damaged file that could not be set aside: nothing is written over it. */
  private blocked: string | null = null;
  private writing: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly changed = new Emitter<SavedForward[]>();
  /** The saved forwards changed (here, or in the file). */
  readonly onDidChange: Event<SavedForward[]> = this.changed.event;

  constructor(options: SavedForwardsOptions) {
    this.file = options.file;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.reload(false);
  }

  /** Why the saved forwards could not be read (a damaged file, set aside), if they could not. */
  get problem(): string | null {
    return this._problem;
  }

  /** The saved forwards, most recently used (else created) first. */
  list(): SavedForward[] {
    this.reload(true);
    return this.sorted();
  }

  get(id: string): SavedForward | undefined {
    this.reload(true);
    const hit = this.items.find((s) => s.id === id);
    return hit && { ...hit };
  }

  /** Save a forward; the same forward (profile, region, instance, ports, host) saved again is updated. */
  add(input: SavedForwardInput, used = false): Promise<SavedForward> {
    return this.change((items) => {
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
    return this.change((items) => {
      const left = items.filter((s) => s.id !== id);
      return { items: left, result: left.length !== items.length };
    });
  }

  /** Record that a saved forward was opened now. */
  touch(id: string): Promise<SavedForward> {
    return this.change((items) => {
      const hit = items.find((s) => s.id === id);
      if (!hit) throw new UnknownSavedForwardError(id);
      const updated = { ...hit, lastUsedAt: this.now() };
      return { items: items.map((s) => (s === hit ? updated : s)), result: updated };
    });
  }

  /** Resolves when every change so far is on disk. */
  flush(): Promise<void> {
    return this.writing.then(
      () => undefined,
      () => undefined,
    );
  }

  dispose(): void {
    this.changed.dispose();
  }

  // -------------------------------------------------------------------------------------------

  private sorted(): SavedForward[] {
    const used = (s: SavedForward): number => s.lastUsedAt ?? s.createdAt;
    return [...this.items].sort((a, b) => used(b) - used(a)).map((s) => ({ ...s }));
  }

  /** One change at a time: the file as it is now, the change, then the file written. */
  private change<T>(fn: (items: SavedForward[]) => { items: SavedForward[]; result: T }): Promise<T> {
    const run = async (): Promise<T> => {
      this.reload(true);
      if (this.blocked) throw new Error(this.blocked);
      const { items, result } = fn(this.items);
      if (this.file) {
        const text = `${JSON.stringify({ version: 1, forwards: items }, null, 2)}\n`;
        try {
          await writeFileAtomic(this.file, text);
        } catch (err) {
          throw new Error(`Cannot write the saved port forwards to ${this.file}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        this.seen = this.stamp();
      }
      this.items = items;
      this.changed.fire(this.sorted());
      return result;
    };
    const next = this.writing.then(run, run);
    this.writing = next.catch(() => undefined);
    return next;
  }

  private stamp(): string | null {
    if (!this.file) return null;
    try {
      const st = fs.statSync(this.file);
      return `${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      return null;
    }
  }

  /** Read the file (when `ifChanged`, only when it changed since last seen). */
  private reload(ifChanged: boolean): void {
    if (!this.file) return;
    const stamp = this.stamp();
    if (ifChanged && stamp === this.seen) return;
    const before = JSON.stringify(this.items);
    this.seen = stamp;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        // Unreadable (permissions): keep what we have, and write nothing over it.
        this._problem = `The saved port forwards in ${this.file} cannot be read (${(err as Error).message}); fix its permissions.`;
        this.blocked = this._problem;
        this.log.warn({ err, file: this.file }, 'the saved port forwards cannot be read');
        return;
      }
      this.items = [];
      this.blocked = null;
      if (before !== '[]') this.changed.fire([]);
      return;
    }
    this.blocked = null;
    let why: string | undefined;
    let parsed: z.infer<typeof SavedFileSchema> | undefined;
    try {
      const result = SavedFileSchema.safeParse(JSON.parse(text));
      if (result.success) parsed = result.data;
      else why = `not the expected form: ${describeIssues(result.error)}`;
    } catch (err) {
      why = `not valid JSON: ${(err as Error).message}`;
    }
    if (parsed) {
      this.items = parsed.forwards;
    } else {
      this.setAside(why ?? 'damaged');
      this.items = [];
    }
    if (ifChanged && JSON.stringify(this.items) !== before) this.changed.fire(this.sorted());
  }

  private setAside(why: string): void {
    const file = this.file!;
    const aside = `${file}.damaged-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(file, aside);
      this.seen = null;
      this._problem = `The saved port forwards in ${file} could not be read (${why}). The file was set aside as ${aside}; re-create them, or fix that file and move it back.`;
      this.log.warn({ file, aside, why }, 'the saved port forwards file is damaged; set aside');
    } catch (err) {
      this._problem = `The saved port forwards in ${file} could not be read (${why}), and the file could not be set aside (${(err as Error).message}); nothing is saved until it is fixed or removed.`;
      this.blocked = this._problem;
      this.log.warn({ err, file, why }, 'the saved port forwards file is damaged and could not be set aside');
    }
  }
}
