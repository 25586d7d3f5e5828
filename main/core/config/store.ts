/**
 * The configuration file, owned: `ConfigStore` reads it (loadConfig), changes keys of it (every
 * value checked first; nothing is written unless all are valid), writes it atomically (a temp
 * file renamed over it, mode 0600, through a symbolic link to its target), keeps what it does
 * not know untouched, and says when it changed, whether here or on disk (an editor, another
 * window, `ec2-connect config preset --apply`).
 *
 * Also the one-time migration of the old UI settings file (settings.json) into the ui and
 * resources sections.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConfigProblem, ConfigState } from '../../../preload/api.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { SETTINGS_FILE } from '../util/app-paths.js';
import { Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import {
  configFile,
  loadConfig,
  readConfigFile,
  IN_MEMORY,
  toConfigState,
  type LoadOptions,
  type LoadedConfig,
} from './load.js';
import { isPresetName, unknownPresetMessage } from './presets.js';
import {
  DEFAULT_CONFIG,
  SECTION_NAMES,
  checkValue,
  displayValue,
  flattenConfig,
  isConfigKey,
  suggestKey,
  FLAT_KEYS,
  type Config,
  type ConfigValue,
} from './schema.js';

/** An update refused: nothing was written. `problems` has one entry per bad key. */
export class ConfigUpdateError extends Error {
  constructor(
    message: string,
    readonly problems: ConfigProblem[],
  ) {
    super(message);
    this.name = 'ConfigUpdateError';
  }
}

/** Check values for `update` without writing; one problem per bad key (empty: all valid). */
export function checkUpdate(values: Readonly<Record<string, ConfigValue | null>>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (!isConfigKey(key)) {
      const near = suggestKey(key, FLAT_KEYS);
      problems.push({
        key,
        source: 'file',
        value: displayValue(value),
        message: `${key} is not a configuration key${near ? ` (did you mean ${near}?)` : ''}.`,
      });
      continue;
    }
    if (value === null) continue; // removes the key
    const checked = checkValue(key, value);
    if (!checked.ok)
      problems.push({
        key,
        source: 'file',
        value: displayValue(value),
        message: `${key} = ${displayValue(value)} ${checked.reason}; allowed: ${checked.allowed}.`,
      });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function targetOf(file: string): string {
  try {
    return fs.realpathSync(file); // a symbolic link (dotfiles) stays a link: write its target
  } catch {
    return file;
  }
}

function tempName(target: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

/** Write `text` to `file` atomically: a 0600 temp file beside it, flushed, renamed over it. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const target = targetOf(file);
  await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = tempName(target);
  try {
    const handle = await fs.promises.open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.chmod(0o600); // whatever the umask
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** The same, synchronously (the migration at start-up). */
export function writeFileAtomicSync(file: string, text: string): void {
  const target = targetOf(file);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = tempName(target);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.writeFileSync(fd, text, 'utf8');
      fs.fchmodSync(fd, 0o600);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export function formatConfigText(data: Record<string, unknown>): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** Apply `section.key` -> value (null: remove) to the file's object, keeping everything else. */
function applyValues(
  data: Record<string, unknown>,
  values: Readonly<Record<string, ConfigValue | null>>,
  file: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(data);
  for (const [key, value] of Object.entries(values)) {
    const dot = key.indexOf('.');
    const section = key.slice(0, dot);
    const name = key.slice(dot + 1);
    const body = out[section];
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body)))
      throw new Error(
        `The section "${section}" in ${file} is ${displayValue(body)}, not an object of keys; fix it first (nothing was written).`,
      );
    if (value === null) {
      if (body) {
        delete (body as Record<string, unknown>)[name];
        if (Object.keys(body).length === 0) delete out[section];
      }
      continue;
    }
    (out[section] ??= {}) as Record<string, unknown>;
    (out[section] as Record<string, unknown>)[name] = value;
  }
  // Sections in documentation order after "$schema" and "preset"; unknown ones keep their place at the end.
  const ordered: Record<string, unknown> = {};
  for (const k of ['$schema', 'preset', ...SECTION_NAMES]) if (k in out) ordered[k] = out[k];
  for (const [k, v] of Object.entries(out)) if (!(k in ordered)) ordered[k] = v;
  return ordered;
}

// ---------------------------------------------------------------------------------------------
// Migration of settings.json
// ---------------------------------------------------------------------------------------------

/** Old settings.json path (preload/api.ts Settings, dotted) -> configuration key. */
export const SETTINGS_KEY_MAP: ReadonlyArray<readonly [string, string]> = [
  ['theme', 'ui.theme'],
  ['fontFamily', 'ui.font_family'],
  ['fontSize', 'ui.font_size'],
  ['lineHeight', 'ui.line_height'],
  ['scrollback', 'ui.scrollback'],
  ['cursorBlink', 'ui.cursor_blink'],
  ['renderer', 'ui.renderer'],
  ['pasteWarningLines', 'ui.paste_warning_lines'],
  ['copyOnSelect', 'ui.copy_on_select'],
  ['notifications.enabled', 'ui.notifications_enabled'],
  ['notifications.disconnects', 'ui.notify_disconnects'],
  ['notifications.reconnects', 'ui.notify_reconnects'],
  ['notifications.limits', 'ui.notify_limits'],
  ['notifications.endedElsewhere', 'ui.notify_ended_elsewhere'],
  ['notifications.minIntervalSeconds', 'ui.notification_min_interval_seconds'],
  ['resources.maxMemoryMb', 'resources.max_memory_mb'],
  ['resources.maxCpuPercent', 'resources.max_cpu_percent'],
  ['resources.lowPower', 'resources.low_power_mode'],
  ['resources.monitoringIntervalMs', 'resources.monitoring_interval'],
  ['resources.prometheusPort', 'resources.prometheus_port'],
];

export interface SettingsMigration {
  /** The old file, and where it was moved. */
  from: string;
  movedTo: string;
  to: string;
  /** Keys written to the configuration (values that differ from the defaults). */
  carried: string[];
  /** Settings that were not valid and were left out, in words. */
  skipped: string[];
}

export const MIGRATED_SUFFIX = '.migrated';

/**
 * When `configFile` does not exist and `settingsFile` (the UI settings of earlier versions)
 * does, carry its values that differ from the defaults into the ui and resources sections of a
 * new configuration file and rename it to settings.json.migrated. Never throws; null when there
 * was nothing to do (or the old file is not JSON: it is then left alone).
 */
export function migrateSettingsFile(
  settingsFile: string,
  configFile: string,
  logger: Logger = silentLogger,
): SettingsMigration | null {
  if (fs.existsSync(configFile)) return null;
  let text: string;
  try {
    text = fs.readFileSync(settingsFile, 'utf8');
  } catch {
    return null;
  }
  let old: unknown;
  try {
    old = JSON.parse(text);
  } catch {
    logger.warn(
      { file: settingsFile },
      'the old settings file is not valid JSON; it was not carried into the configuration',
    );
    return null;
  }
  if (old === null || typeof old !== 'object' || Array.isArray(old)) return null;
  const defaults = flattenConfig(DEFAULT_CONFIG);
  const values: Record<string, ConfigValue> = {};
  const skipped: string[] = [];
  for (const [from, key] of SETTINGS_KEY_MAP) {
    let v: unknown = old;
    for (const part of from.split('.'))
      v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    if (v === undefined) continue;
    const checked = checkValue(key, v);
    if (!checked.ok) {
      skipped.push(`${from} = ${displayValue(v)} ${checked.reason}`);
      continue;
    }
    if (checked.value !== defaults[key]) values[key] = checked.value;
  }
  const movedTo = settingsFile + MIGRATED_SUFFIX;
  try {
    writeFileAtomicSync(configFile, formatConfigText(applyValues({}, values, configFile)));
    fs.renameSync(settingsFile, movedTo);
  } catch (err) {
    logger.warn(
      { err, settingsFile, configFile },
      'cannot carry the old settings into the configuration file',
    );
    return null;
  }
  const result = { from: settingsFile, movedTo, to: configFile, carried: Object.keys(values), skipped };
  logger.info(result, 'the settings were carried into the configuration file');
  return result;
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

export interface ConfigStoreOptions extends LoadOptions {
  logger?: Logger;
  /** Follow edits of the file on disk (default true). */
  watch?: boolean;
  /** Quiet time before an edit on disk is read (default 150 ms: editors write in steps). */
  debounceMs?: number;
  /**
   * The old settings file to carry over when the configuration file does not exist (default:
   * settings.json beside the configuration file); null: no migration.
   */
  settingsFile?: string | null;
  /** Keep the configuration in memory (starting from `content`, if given): no file is read, written, watched or migrated (tests, embedders). */
  inMemory?: boolean;
}

export class ConfigStore implements Disposable {
  readonly file: string;
  /** What the migration of settings.json did at construction (null: nothing). */
  readonly migration: SettingsMigration | null;
  private loaded: LoadedConfig;
  private readonly changed = new Emitter<LoadedConfig>();
  /** The configuration changed: an update here, or the file changed on disk. */
  readonly onDidChange: Event<LoadedConfig> = this.changed.event;
  private readonly log: Logger;
  private writing: Promise<unknown> = Promise.resolve();
  /** The file's text as last read or written (null: no file). */
  private lastText: string | null;
  private watcher: fs.FSWatcher | undefined;
  private polling = false;
  private debounce: NodeJS.Timeout | undefined;
  private disposed = false;
  /** The "file" of an in-memory configuration. */
  private memory: Record<string, unknown> | undefined;

  constructor(private readonly options: ConfigStoreOptions = {}) {
    this.log = options.logger ?? silentLogger;
    if (options.inMemory) {
      this.file = IN_MEMORY;
      this.migration = null;
      this.lastText = null;
      this.memory = structuredClone(options.content?.data ?? {});
      this.loaded = this.load();
      return;
    }
    this.file = options.file ? path.resolve(options.file) : configFile(options.env ?? process.env);
    const settingsFile =
      options.settingsFile === undefined
        ? path.join(path.dirname(this.file), SETTINGS_FILE)
        : options.settingsFile;
    this.migration = settingsFile ? migrateSettingsFile(settingsFile, this.file, this.log) : null;
    this.lastText = readText(this.file);
    this.loaded = this.load();
    if (options.watch ?? true) this.startWatching();
  }

  /** The effective configuration with sources and problems. */
  get current(): LoadedConfig {
    return this.loaded;
  }

  get config(): Config {
    return this.loaded.config;
  }

  state(): ConfigState {
    return toConfigState(this.loaded);
  }

  /**
   * Change keys of the file (`section.key` -> value; null removes the key, back to the preset or
   * default). Every value is checked first: if any is invalid this rejects with a
   * ConfigUpdateError naming each bad key, its value and what is allowed, and nothing is written.
   */
  update(values: Readonly<Record<string, ConfigValue | null>>): Promise<LoadedConfig> {
    const problems = checkUpdate(values);
    if (problems.length > 0)
      return Promise.reject(
        new ConfigUpdateError(
          `The configuration was not changed: ${problems.map((p) => p.message).join(' ')}`,
          problems,
        ),
      );
    if (Object.keys(values).length === 0) return Promise.resolve(this.loaded);
    return this.write((data) => applyValues(data, values, this.file));
  }

  /** Base the configuration on a preset (null: none); the file and environment still override it. */
  setPreset(name: string | null): Promise<LoadedConfig> {
    if (name !== null && !isPresetName(name))
      return Promise.reject(
        new ConfigUpdateError(unknownPresetMessage(name), [
          { key: 'preset', source: 'file', value: displayValue(name), message: unknownPresetMessage(name) },
        ]),
      );
    return this.write((data) => {
      const { preset: _old, ...rest } = data;
      if (name === null) return rest;
      const { $schema, ...sections } = rest;
      return { ...($schema === undefined ? {} : { $schema }), preset: name, ...sections };
    });
  }

  /** Read the file again now (as a change on disk does); fires onDidChange when it changed. */
  reload(): LoadedConfig {
    if (this.memory) return this.loaded;
    const text = readText(this.file);
    if (text !== this.lastText) {
      this.lastText = text;
      this.loaded = this.load();
      this.changed.fire(this.loaded);
    }
    return this.loaded;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    if (this.polling) fs.unwatchFile(this.file, this.onPoll);
    this.changed.dispose();
  }

  private load(): LoadedConfig {
    if (this.memory) {
      const data = this.memory;
      return loadConfig({
        ...this.options,
        file: this.file,
        content: { exists: Object.keys(data).length > 0, data, problem: null },
      });
    }
    return loadConfig({ ...this.options, file: this.file });
  }

  private write(change: (data: Record<string, unknown>) => Record<string, unknown>): Promise<LoadedConfig> {
    const run = async (): Promise<LoadedConfig> => {
      if (this.disposed) throw new Error('the configuration store is closed');
      if (this.memory) {
        this.memory = change(this.memory);
        this.loaded = this.load();
        this.changed.fire(this.loaded);
        return this.loaded;
      }
      const content = readConfigFile(this.file); // the file as it is now, edits by hand included
      if (content.exists && !content.data)
        throw new ConfigUpdateError(
          `${content.problem?.message ?? `${this.file} cannot be read.`} Nothing was written.`,
          content.problem ? [content.problem] : [],
        );
      const text = formatConfigText(change(content.data ?? {}));
      const previous = this.lastText;
      this.lastText = text; // the watcher then sees our own write as no change
      try {
        await writeFileAtomic(this.file, text);
      } catch (err) {
        this.lastText = previous;
        throw new Error(`Cannot write the configuration file ${this.file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.loaded = this.load();
      this.changed.fire(this.loaded);
      return this.loaded;
    };
    const next = this.writing.then(run, run);
    this.writing = next.catch(() => undefined);
    return next;
  }

  private startWatching(): void {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    try {
      // The folder, not the file: editors that save by writing a new file and renaming it over
      // the old one would leave a watch on the file looking at a deleted inode.
      this.watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (!name || name.toString() === base) this.schedule();
      });
      this.watcher.on('error', (err) => {
        this.log.debug({ err, dir }, 'the configuration folder cannot be watched any more; polling the file');
        this.watcher?.close();
        this.watcher = undefined;
        this.startPolling();
      });
    } catch (err) {
      this.log.debug({ err, dir }, 'cannot watch the configuration folder; polling the file');
      this.startPolling();
    }
  }

  private readonly onPoll = (): void => this.schedule();

  private startPolling(): void {
    if (this.polling || this.disposed) return;
    this.polling = true;
    fs.watchFile(this.file, { persistent: false, interval: 1000 }, this.onPoll);
    this.schedule(); // a change made before the first poll's baseline would go unseen
  }

  private schedule(): void {
    if (this.disposed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (!this.disposed) this.reload();
    }, this.options.debounceMs ?? 150);
    this.debounce.unref();
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
