/**
 * Reading the configuration: defaults, then the preset, the file, EC2_CONNECT_* variables and
 * command-line flags, each key checked on its own. Nothing here throws and nothing writes: a bad
 * value is a problem (naming the key, the value and what is allowed) and the key keeps the value
 * of the next lower source; a file that is not JSON is one problem and is left as it is.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigProblem, ConfigSource, ConfigState } from '../../../preload/api.js';
import { appDataDir } from '../util/app-paths.js';
import { PRESETS, PRESET_NAMES, isPresetName, unknownPresetMessage, type PresetName } from './presets.js';
import {
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  FLAT_KEYS,
  SECTION_NAMES,
  checkValue,
  describeAllowed,
  displayValue,
  flattenConfig,
  isConfigKey,
  keyMeta,
  sectionKeys,
  suggestKey,
  unflattenConfig,
  type Config,
  type ConfigValue,
} from './schema.js';

export const CONFIG_FILE_NAME = 'config.json';
export const PRESET_ENV = 'EC2_CONNECT_PRESET';
export const CONFIG_ENV = 'EC2_CONNECT_CONFIG';
/** The `file` of a configuration kept in memory (tests, embedders): nothing is read or written. */
export const IN_MEMORY = '(in memory)';

/** The configuration file: EC2_CONNECT_CONFIG, else config.json in the app-data folder. */
export function configFile(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env[CONFIG_ENV]) return path.resolve(env[CONFIG_ENV]);
  return path.join(appDataDir(env, platform), CONFIG_FILE_NAME);
}

export interface LoadOptions {
  /** The configuration file (default: configFile(env)). */
  file?: string;
  /** Environment (default: process.env); `{}` ignores EC2_CONNECT_* variables. */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags, `section.key` -> value; undefined entries are ignored. */
  flags?: Readonly<Record<string, ConfigValue | undefined>>;
  /** A preset given on the command line (wins over EC2_CONNECT_PRESET and the file). */
  preset?: string;
  /** The file's content, when it is not read from disk (an in-memory configuration). */
  content?: FileContent;
}

/** What the file holds, as read. */
export interface FileContent {
  exists: boolean;
  /** The parsed JSON object; null when missing, unreadable or not a JSON object. */
  data: Record<string, unknown> | null;
  /** The problem with the file as a whole (not JSON, unreadable), if any. */
  problem: ConfigProblem | null;
}

export interface LoadedConfig {
  /** The effective configuration. */
  config: Config;
  /** `section.key` -> effective value. */
  values: Record<string, ConfigValue>;
  /** `section.key` -> where the effective value came from. */
  sources: Record<string, ConfigSource>;
  problems: ConfigProblem[];
  preset: PresetName | null;
  /** Where the preset was chosen (null: none). */
  presetSource: ConfigSource | null;
  file: string;
  content: FileContent;
}

const SOURCE_ORDER: readonly ConfigSource[] = ['default', 'preset', 'file', 'env', 'flag'];

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

function jsonErrorText(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const pos = /at position (\d+)/.exec(message);
  if (!pos || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(pos[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}

/** Read and parse the file; never throws. */
export function readConfigFile(file: string): FileContent {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { exists: false, data: null, problem: null };
    return {
      exists: true,
      data: null,
      problem: fileProblem(
        `The configuration file ${file} cannot be read (${code ?? (err as Error).message}); the defaults apply.`,
      ),
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return { exists: true, data: {}, problem: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      exists: true,
      data: null,
      problem: fileProblem(
        `The configuration file ${file} is not valid JSON (${jsonErrorText(err, text)}); ` +
          'the defaults apply and the file was left as it is. Fix it, or run `ec2-connect config validate` on it.',
        text.length > 200 ? `${text.slice(0, 200)}...` : text,
      ),
    };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      exists: true,
      data: null,
      problem: fileProblem(
        `The configuration file ${file} holds ${Array.isArray(parsed) ? 'a list' : displayValue(parsed)}, ` +
          'not a JSON object of sections; the defaults apply and the file was left as it is.',
        displayValue(parsed),
      ),
    };
  }
  return { exists: true, data: parsed as Record<string, unknown>, problem: null };
}

function fileProblem(message: string, value = ''): ConfigProblem {
  return { key: '', source: 'file', value, message };
}

interface FileValues {
  values: Record<string, unknown>;
  preset: unknown;
  problems: ConfigProblem[];
}

/** Top-level keys of the file that are not sections. */
const FILE_META_KEYS = ['preset', '$schema'];

/** The file's values by `section.key`, with a problem for each unknown section or key. */
function fileValues(data: Record<string, unknown>, file: string): FileValues {
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const sections = SECTION_NAMES as readonly string[];
  for (const [name, body] of Object.entries(data)) {
    if (FILE_META_KEYS.includes(name)) continue;
    if (!sections.includes(name)) {
      let hint: string;
      if (isConfigKey(name)) {
        const [s, k] = name.split('.');
        hint = ` Write it inside its section: { "${s}": { "${k}": ${displayValue(body)} } }.`;
      } else {
        const near = suggestKey(name, sections);
        hint = near ? ` Did you mean "${near}"?` : '';
      }
      problems.push({
        key: name,
        source: 'file',
        value: displayValue(body),
        message: `"${name}" in ${file} is not a section of the configuration; it is ignored.${hint} The sections are ${sections.join(', ')}.`,
      });
      continue;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      problems.push({
        key: name,
        source: 'file',
        value: displayValue(body),
        message: `The section "${name}" in ${file} is ${displayValue(body)}, not an object of keys; it is ignored and its keys keep their defaults.`,
      });
      continue;
    }
    const known = sectionKeys(name);
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const flat = `${name}.${key}`;
      if (!known.includes(key)) {
        const near = suggestKey(key, known);
        problems.push({
          key: flat,
          source: 'file',
          value: displayValue(value),
          message:
            `${flat} in ${file} is not a configuration key; it is ignored.` +
            (near ? ` Did you mean "${name}.${near}"?` : ` The keys of "${name}" are ${known.join(', ')}.`),
        });
        continue;
      }
      values[flat] = value;
    }
  }
  return { values, preset: data.preset, problems };
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

function expandPath(value: string, base: string): string {
  const home = value === '~' || value.startsWith('~/') || value.startsWith('~\\');
  if (home) return path.join(os.homedir(), value.slice(1));
  return path.resolve(base, value);
}

function sourceWords(source: ConfigSource, preset: PresetName | null, key: string): string {
  switch (source) {
    case 'default':
      return 'the default';
    case 'preset':
      return `preset "${preset}"`;
    case 'file':
      return 'the file';
    case 'env':
      return keyMeta(key)?.env ?? 'the environment';
    default:
      return 'a command-line flag';
  }
}

/**
 * The effective configuration with the source of every value and every problem. Precedence,
 * lowest first: default < preset < file < environment < flags.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = options.content
    ? (options.file ?? IN_MEMORY)
    : options.file
      ? path.resolve(options.file)
      : configFile(env);
  const content = options.content ?? readConfigFile(file);
  const problems: ConfigProblem[] = [];
  if (content.problem) problems.push(content.problem);
  const fromFile = content.data
    ? fileValues(content.data, file)
    : { values: {}, preset: undefined, problems: [] };
  problems.push(...fromFile.problems);

  // The preset: a flag, else EC2_CONNECT_PRESET, else the file's "preset".
  let preset: PresetName | null = null;
  let presetSource: ConfigSource | null = null;
  const presetCandidates: Array<[ConfigSource, unknown, string]> = [
    ['flag', options.preset, '--preset'],
    ['env', env[PRESET_ENV] || undefined, PRESET_ENV],
    ['file', fromFile.preset, `"preset" in ${file}`],
  ];
  for (const [source, value, where] of presetCandidates) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' && isPresetName(value)) {
      if (preset === null) {
        preset = value;
        presetSource = source;
      }
      continue;
    }
    problems.push({
      key: 'preset',
      source,
      value: displayValue(value),
      message:
        typeof value === 'string'
          ? `${where}: ${unknownPresetMessage(value)} It is ignored.`
          : `${where} is ${displayValue(value)}; it must be the name of a preset (${PRESET_NAMES.join(', ')}) or null. It is ignored.`,
    });
  }

  // The candidates of each layer, `section.key` -> raw value.
  const layers: Record<ConfigSource, Record<string, unknown>> = {
    default: flattenConfig(DEFAULT_CONFIG),
    preset: preset ? flattenConfig(PRESETS[preset].values) : {},
    file: fromFile.values,
    env: {},
    flag: {},
  };
  const envRaw: Record<string, string> = {};
  const envUnparsed = new Set<string>();
  for (const key of FLAT_KEYS) {
    const meta = keyMeta(key)!;
    const raw = meta.env ? env[meta.env] : undefined;
    if (raw === undefined || raw === '') continue;
    envRaw[key] = raw;
    const parsed = meta.parseEnv ? meta.parseEnv(raw) : raw;
    if (parsed === undefined) envUnparsed.add(key);
    layers.env[key] = parsed === undefined ? raw : parsed;
  }
  for (const [key, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    if (!isConfigKey(key)) {
      problems.push({
        key,
        source: 'flag',
        value: displayValue(value),
        message: `${key} (a command-line flag) is not a configuration key; it is ignored.`,
      });
      continue;
    }
    layers.flag[key] = value;
  }

  // Each key: the highest source whose value is valid.
  const values: Record<string, ConfigValue> = {};
  const sources: Record<string, ConfigSource> = {};
  const rejected: Array<{ key: string; source: ConfigSource; reason: string; allowed: string }> = [];
  for (const key of FLAT_KEYS) {
    const meta = keyMeta(key)!;
    for (const source of SOURCE_ORDER) {
      if (!(key in layers[source])) continue;
      let value = layers[source][key];
      const checked = checkValue(key, value);
      const unparsed = source === 'env' && envUnparsed.has(key);
      if (!checked.ok || unparsed) {
        rejected.push({
          key,
          source,
          reason: checked.ok || unparsed ? 'is not valid' : checked.reason,
          allowed: describeAllowed(key, source === 'env'),
        });
        continue;
      }
      value = checked.value;
      if (meta.path && typeof value === 'string')
        value = expandPath(value, source === 'file' ? path.dirname(file) : process.cwd());
      values[key] = value as ConfigValue;
      sources[key] = source;
    }
  }
  for (const r of rejected) {
    const raw = r.source === 'env' ? envRaw[r.key]! : layers[r.source][r.key];
    const using = `Using ${displayValue(values[r.key])} (${sourceWords(sources[r.key]!, preset, r.key)}) instead.`;
    const what =
      r.source === 'env'
        ? `${keyMeta(r.key)!.env}=${displayValue(raw)} (${r.key})`
        : `${r.key} = ${displayValue(raw)} ${r.source === 'file' ? `in ${file}` : r.source === 'preset' ? `in preset "${preset}"` : 'from a command-line flag'}`;
    problems.push({
      key: r.key,
      source: r.source,
      value: displayValue(raw),
      message: `${what} ${r.reason}; allowed: ${r.allowed}. ${using}`,
    });
  }

  return {
    config: unflattenConfig(values) as Config,
    values,
    sources,
    problems,
    preset,
    presetSource,
    file,
    content,
  };
}

/** The state the UI and `config.get` show (preload/api.ts ConfigState). */
export function toConfigState(result: LoadedConfig): ConfigState {
  return {
    file: result.file,
    preset: result.preset,
    presets: [...PRESET_NAMES],
    values: { ...result.values },
    sources: { ...result.sources },
    problems: result.problems.map((p) => ({ ...p })),
    keys: CONFIG_KEYS.map((k) => ({ ...k, ...(k.values ? { values: [...k.values] } : {}) })),
  };
}
