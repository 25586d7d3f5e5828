/**
 * A small persisted list in one JSON file beside the configuration (the saved port forwards,
 * the session presets):
 *
 *   { "version": 1, "<key>": [item, ...] }
 *
 * Written atomically (a 0600 temp file renamed over it, as the configuration is), checked with
 * zod when read. A file that is not valid JSON or not of that form is never silently dropped or
 * overwritten: it is renamed aside to `<file>.damaged-<time>` and `problem` says so (the list
 * starts empty). Another EC2 Connect process (desktop and web mode at once, or the CLI) may write
 * the same file: it is read again when it changed on disk, before each change and each listing.
 *
 * Without a file (`file: null`, a workspace whose configuration is in memory) the list lives in
 * memory only.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../config/store.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { Emitter, type Disposable, type Event } from '../util/lifecycle.js';

export interface JsonListFileOptions<T> {
  /** The file (null: in memory only). */
  file: string | null;
  /** The list's key in the file, e.g. "forwards". */
  key: string;
  /** One item of the list. */
  item: z.ZodType<T>;
  /** What the list holds, in messages: "saved port forwards". */
  what: string;
  logger?: Logger;
  /** The clock (tests). */
  now?: () => number;
}

/** What a change returns: the new list, and the change's own result. */
export interface ListChange<T, R> {
  items: T[];
  result: R;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`)
    .join('; ');
}

export class JsonListFile<T> implements Disposable {
  readonly file: string | null;
  private readonly schema: z.ZodType<{ version: 1; items: T[] }>;
  private current: T[] = [];
  private _problem: string | null = null;
  /** size, mtime and inode of the file as last read or written (null: no file). */
  private seen: string | null = null;
  /** A damaged file that could not be set aside: nothing is written over it. */
  private blocked: string | null = null;
  private writing: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly changed = new Emitter<T[]>();
  /** The list changed (here, or in the file). */
  readonly onDidChange: Event<T[]> = this.changed.event;

  constructor(private readonly options: JsonListFileOptions<T>) {
    this.file = options.file;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.schema = z
      .object({ version: z.literal(1), [options.key]: z.array(options.item) })
      .transform((f) => ({ version: 1 as const, items: f[options.key] as T[] }));
    this.reload(false);
  }

  /** Why the list could not be read (a damaged file, set aside), if it could not. */
  get problem(): string | null {
    return this._problem;
  }

  /** The items, in file order (the file read again first if it changed on disk). */
  items(): T[] {
    this.reload(true);
    return [...this.current];
  }

  /** One change at a time: the file as it is now, the change, then the file written. */
  change<R>(fn: (items: readonly T[]) => ListChange<T, R>): Promise<R> {
    const run = async (): Promise<R> => {
      this.reload(true);
      if (this.blocked) throw new Error(this.blocked);
      const { items, result } = fn(this.current);
      if (this.file) {
        const text = `${JSON.stringify({ version: 1, [this.options.key]: items }, null, 2)}\n`;
        try {
          await writeFileAtomic(this.file, text);
        } catch (err) {
          throw new Error(
            `Cannot write the ${this.options.what} to ${this.file}: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
        this.seen = this.stamp();
      }
      this.current = items;
      this.changed.fire([...items]);
      return result;
    };
    const next = this.writing.then(run, run);
    this.writing = next.catch(() => undefined);
    return next;
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
    const what = this.options.what;
    const before = JSON.stringify(this.current);
    this.seen = stamp;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        // Unreadable (permissions): keep what we have, and write nothing over it.
        this._problem = `The ${what} in ${this.file} cannot be read (${(err as Error).message}); fix its permissions.`;
        this.blocked = this._problem;
        this.log.warn({ err, file: this.file }, `the ${what} cannot be read`);
        return;
      }
      this.current = [];
      this.blocked = null;
      if (before !== '[]') this.changed.fire([]);
      return;
    }
    this.blocked = null;
    let why: string | undefined;
    let parsed: T[] | undefined;
    try {
      const result = this.schema.safeParse(JSON.parse(text));
      if (result.success) parsed = result.data.items;
      else why = `not the expected form: ${describeIssues(result.error)}`;
    } catch (err) {
      why = `not valid JSON: ${(err as Error).message}`;
    }
    if (parsed) {
      this.current = parsed;
    } else {
      this.setAside(why ?? 'damaged');
      this.current = [];
    }
    if (ifChanged && JSON.stringify(this.current) !== before) this.changed.fire([...this.current]);
  }

  private setAside(why: string): void {
    const file = this.file!;
    const what = this.options.what;
    const aside = `${file}.damaged-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(file, aside);
      this.seen = null;
      this._problem = `The ${what} in ${file} could not be read (${why}). The file was set aside as ${aside}; re-create them, or fix that file and move it back.`;
      this.log.warn({ file, aside, why }, `the ${what} file is damaged; set aside`);
    } catch (err) {
      this._problem = `The ${what} in ${file} could not be read (${why}), and the file could not be set aside (${(err as Error).message}); nothing is saved until it is fixed or removed.`;
      this.blocked = this._problem;
      this.log.warn({ err, file, why }, `the ${what} file is damaged and could not be set aside`);
    }
  }
}
