/**
 * The UI settings (theme, terminal font, notifications), validated by the contract's schema and
 * kept in a small JSON file (mode 0600) in the app's data folder. A missing file means the
 * defaults; a corrupt or invalid one is moved aside with a timestamp (never deleted) and the
 * defaults are used, with a warning saying where the old file went.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_SETTINGS,
  SettingsPatchSchema,
  SettingsSchema,
  type Settings,
  type SettingsPatch,
} from '../../../preload/api.js';
import { silentLogger, type Logger } from '../log/logger.js';

export class SettingsStore {
  private current: Settings = structuredClone(DEFAULT_SETTINGS);
  private writing: Promise<void> = Promise.resolve();

  constructor(
    /** The JSON file; undefined keeps settings in memory only (tests, a read-only home). */
    private readonly file: string | undefined,
    private readonly log: Logger = silentLogger,
  ) {}

  get(): Settings {
    return structuredClone(this.current);
  }

  /** Read the file (once, at start). Never throws: problems are logged and the defaults kept. */
  async load(): Promise<Settings> {
    if (!this.file) return this.get();
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn({ err, file: this.file }, 'cannot read the settings file; using the defaults');
      return this.get();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      await this.quarantine('it is not valid JSON');
      return this.get();
    }
    // Missing keys (an older version's file) take their defaults; wrong values are an error.
    const merged = mergeSettings(DEFAULT_SETTINGS, (parsed ?? {}) as SettingsPatch);
    const checked = SettingsSchema.safeParse(merged);
    if (!checked.success) {
      const why = checked.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ');
      await this.quarantine(`it has invalid values (${why})`);
      return this.get();
    }
    this.current = checked.data;
    return this.get();
  }

  /** Apply a validated patch, save, and return all settings. */
  async update(patch: SettingsPatch): Promise<Settings> {
    const checkedPatch = SettingsPatchSchema.parse(patch);
    const next = SettingsSchema.parse(mergeSettings(this.current, checkedPatch));
    this.current = next;
    await this.save();
    return this.get();
  }

  private save(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const text = `${JSON.stringify(this.current, null, 2)}\n`;
    // Writes are serialised, each to a temp file renamed over the old one (never half a file).
    this.writing = this.writing.then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text, { mode: 0o600 });
      await fs.rename(tmp, file);
    });
    return this.writing.catch((err: unknown) => {
      this.log.warn({ err, file }, 'cannot save the settings; they apply until EC2 Connect quits');
    });
  }

  private async quarantine(why: string): Promise<void> {
    const file = this.file!;
    const aside = `${file}.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await fs.rename(file, aside);
      this.log.warn(
        { file, movedTo: aside },
        `the settings file was not used because ${why}; it was moved aside and the defaults apply`,
      );
    } catch (err) {
      this.log.warn({ err, file }, `the settings file was not used because ${why}; the defaults apply`);
    }
  }
}

export function mergeSettings(base: Settings, patch: SettingsPatch): Settings {
  return {
    ...base,
    ...patch,
    notifications: { ...base.notifications, ...patch.notifications },
    resources: { ...base.resources, ...patch.resources },
  } as Settings;
}
