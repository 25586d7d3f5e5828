/**
 * `ec2-connect config show|validate|preset|path|set|unset`: the configuration file of
 * docs/config.md. `show` prints the file's own content and problems, `show --effective` every
 * key's effective value and where it came from (default, preset, file, environment, flag);
 * `validate FILE` checks a file (exit 1 with every problem); `preset NAME` shows what a preset
 * sets and `--apply` writes it into the file; `path` prints where the file is.
 *
 * Exit status: 0 done, 1 a file or value that is not valid (or cannot be written), 2 a usage
 * error (an unknown preset or key, a bad option).
 */
import { Command } from 'commander';
import type { ConfigProblem, ConfigSource } from '../../../preload/api.js';
import { configFile, loadConfig, type LoadedConfig } from '../../core/config/load.js';
import { PRESETS, PRESET_NAMES, isPresetName, unknownPresetMessage } from '../../core/config/presets.js';
import {
  DEFAULT_CONFIG,
  FLAT_KEYS,
  SECTION_NAMES,
  flattenConfig,
  isConfigKey,
  keyMeta,
  suggestKey,
  type ConfigValue,
} from '../../core/config/schema.js';
import { ConfigStore, ConfigUpdateError } from '../../core/config/store.js';
import { addAwsOptions, configFlags, type AwsOptions } from '../options.js';
import { renderTable } from '../table.js';

interface FileOption {
  config?: string;
}

interface ShowOptions extends FileOption, AwsOptions {
  effective?: boolean;
  json?: boolean;
  preset?: string;
}

interface PresetOptions extends FileOption {
  apply?: boolean;
  json?: boolean;
}

const CONFIG_OPTION = [
  '--config <file>',
  'the configuration file (default: EC2_CONNECT_CONFIG, else config.json in the EC2 Connect data folder)',
] as const;

export function registerConfigCommands(program: Command): void {
  const config = program
    .command('config')
    .description('the configuration file: show, validate, presets (docs/config.md)');
  addAwsOptions(
    config
      .command('show')
      .description("the file's content and problems; --effective: every key's value and where it came from")
      .option(
        '--effective',
        'every key with its effective value and source (default, preset, file, env, flag)',
      )
      .option('--json', 'print JSON')
      .option('--preset <name>', 'as if this preset were chosen (tops EC2_CONNECT_PRESET and the file)')
      .option(...CONFIG_OPTION),
  ).action((opts: ShowOptions) => {
    process.exitCode = runConfigShow(opts);
  });
  config
    .command('validate')
    .description('check a configuration file: exit 0 when valid, 1 with every problem listed')
    .argument('<file>', 'the file to check')
    .option('--json', 'print JSON')
    .action((file: string, opts: { json?: boolean }) => {
      process.exitCode = runConfigValidate(file, opts);
    });
  config
    .command('preset')
    .description('list the presets, show what one sets, or base the configuration on it (--apply)')
    .argument('[name]', `one of ${PRESET_NAMES.join(', ')} (with --apply, "none" removes the preset)`)
    .option('--apply', 'write "preset": NAME into the configuration file')
    .option('--json', 'print JSON')
    .option(...CONFIG_OPTION)
    .action(async (name: string | undefined, opts: PresetOptions) => {
      process.exitCode = await runConfigPreset(name, opts);
    });
  config
    .command('path')
    .description('print where the configuration file is (it may not exist yet)')
    .option(...CONFIG_OPTION)
    .action((opts: FileOption) => {
      process.stdout.write(`${fileFor(opts)}\n`);
    });
  config
    .command('set')
    .description(
      'set one key in the configuration file (checked first; nothing is written if it is not valid)',
    )
    .argument('<key>', 'section.key, e.g. resources.max_memory_mb')
    .argument('<value>', 'the value; "null" (keys that allow it) removes the key, as unset does')
    .option(...CONFIG_OPTION)
    .action(async (key: string, value: string, opts: FileOption) => {
      process.exitCode = await runConfigSet(key, value, opts);
    });
  config
    .command('unset')
    .description('remove one key from the configuration file (back to the preset or the default)')
    .argument('<key>', 'section.key')
    .option(...CONFIG_OPTION)
    .action(async (key: string, opts: FileOption) => {
      process.exitCode = await runConfigSet(key, undefined, opts);
    });
}

function fileFor(opts: FileOption): string {
  return opts.config ? configFile({ EC2_CONNECT_CONFIG: opts.config }) : configFile(process.env);
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.message}`).join('\n');
}

function formatValue(value: ConfigValue | undefined): string {
  return value === undefined
    ? ''
    : value === null
      ? 'null'
      : typeof value === 'string'
        ? value
        : String(value);
}

/** `default`, `preset low-end`, `file`, `env EC2_CONNECT_MAX_MEMORY_MB`, `flag`. */
export function sourceLabel(source: ConfigSource | undefined, key: string, preset: string | null): string {
  if (source === 'env') return `env ${keyMeta(key)?.env ?? ''}`.trim();
  if (source === 'preset') return `preset ${preset ?? ''}`.trim();
  return source ?? '';
}

function presetLine(loaded: LoadedConfig): string {
  if (!loaded.preset) return 'Preset: none';
  const from =
    loaded.presetSource === 'env'
      ? 'EC2_CONNECT_PRESET'
      : loaded.presetSource === 'flag'
        ? '--preset'
        : 'the file';
  return `Preset: ${loaded.preset} (from ${from})`;
}

export function runConfigShow(opts: ShowOptions): number {
  const file = fileFor(opts);
  if (!opts.effective) {
    // The file alone: its content and its own problems (no environment, no flags).
    const loaded = loadConfig({ file, env: {} });
    if (opts.json) {
      printJson({
        file,
        exists: loaded.content.exists,
        preset: loaded.preset,
        content: loaded.content.data,
        problems: loaded.problems,
      });
      return 0;
    }
    const out: string[] = [`Configuration file: ${file}`];
    if (!loaded.content.exists) {
      out.push(
        'It does not exist yet: every key has its default (or its EC2_CONNECT_* variable).',
        'Create it with `ec2-connect config set KEY VALUE` or `ec2-connect config preset NAME --apply`, or by hand.',
      );
    } else {
      out.push(presetLine(loaded));
      if (loaded.content.data) out.push('', JSON.stringify(loaded.content.data, null, 2));
    }
    if (loaded.problems.length)
      out.push('', `Problems (${loaded.problems.length}):`, formatProblems(loaded.problems));
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  }
  const loaded = loadConfig({
    file,
    flags: configFlags(opts),
    ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
  });
  if (opts.json) {
    printJson({
      file,
      exists: loaded.content.exists,
      preset: loaded.preset,
      presetSource: loaded.presetSource,
      values: loaded.values,
      sources: loaded.sources,
      problems: loaded.problems,
    });
    return 0;
  }
  const rows = FLAT_KEYS.map((key) => [
    key,
    formatValue(loaded.values[key]),
    sourceLabel(loaded.sources[key], key, loaded.preset),
  ]);
  const out = [
    `Configuration file: ${file}${loaded.content.exists ? '' : ' (does not exist)'}`,
    presetLine(loaded),
    '',
    renderTable(['KEY', 'VALUE', 'SOURCE'], rows),
  ];
  if (loaded.problems.length)
    out.push('', `Problems (${loaded.problems.length}):`, formatProblems(loaded.problems));
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

export function runConfigValidate(file: string, opts: { json?: boolean }): number {
  const loaded = loadConfig({ file, env: {} });
  const problems: ConfigProblem[] = loaded.content.exists
    ? loaded.problems
    : [{ key: '', source: 'file', value: '', message: `${loaded.file} does not exist.` }];
  const keysSet = Object.entries(loaded.content.data ?? {}).reduce(
    (n, [section, body]) =>
      n +
      ((SECTION_NAMES as readonly string[]).includes(section) && body && typeof body === 'object'
        ? Object.keys(body).length
        : 0),
    0,
  );
  if (opts.json) {
    printJson({ file: loaded.file, valid: problems.length === 0, preset: loaded.preset, problems });
  } else if (problems.length === 0) {
    const preset = loaded.preset ? `, preset ${loaded.preset}` : '';
    process.stdout.write(
      `${loaded.file} is valid (${keysSet} ${keysSet === 1 ? 'entry' : 'entries'}${preset}).\n`,
    );
  } else {
    process.stdout.write(
      `${loaded.file} has ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}:\n${formatProblems(problems)}\n`,
    );
  }
  return problems.length === 0 ? 0 : 1;
}

export async function runConfigPreset(name: string | undefined, opts: PresetOptions): Promise<number> {
  if (name === undefined) {
    if (opts.apply) {
      process.stderr.write(
        `ec2-connect: --apply needs a preset name (${PRESET_NAMES.join(', ')}, or none).\n`,
      );
      return 2;
    }
    if (opts.json) printJson(PRESET_NAMES.map((n) => ({ name: n, description: PRESETS[n].description })));
    else
      process.stdout.write(
        renderTable(
          ['PRESET', 'DESCRIPTION'],
          PRESET_NAMES.map((n) => [n, PRESETS[n].description]),
        ) + '\n',
      );
    return 0;
  }
  const none = opts.apply && name === 'none';
  if (!none && !isPresetName(name)) {
    process.stderr.write(`ec2-connect: ${unknownPresetMessage(name)}\n`);
    return 2;
  }
  if (opts.apply) {
    const store = new ConfigStore({ file: fileFor(opts), watch: false });
    try {
      await store.setPreset(none ? null : name);
    } catch (err) {
      process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
      return 1;
    } finally {
      store.dispose();
    }
    if (none) process.stdout.write(`Removed the preset from ${store.file}.\n`);
    else
      process.stdout.write(
        `Wrote "preset": "${name}" to ${store.file}. Keys set in the file and EC2_CONNECT_* variables still override it.\n`,
      );
    const envPreset = process.env.EC2_CONNECT_PRESET;
    if (envPreset && envPreset !== name)
      process.stdout.write(`Note: EC2_CONNECT_PRESET=${envPreset} is set and wins over the file.\n`);
    return 0;
  }
  const preset = PRESETS[name as keyof typeof PRESETS];
  const values = flattenConfig(preset.values);
  const defaults = flattenConfig(DEFAULT_CONFIG);
  if (opts.json) {
    printJson({ name: preset.name, description: preset.description, values });
    return 0;
  }
  process.stdout.write(
    `${preset.name}: ${preset.description}\n\n` +
      renderTable(
        ['KEY', 'VALUE', 'DEFAULT'],
        Object.entries(values).map(([k, v]) => [k, formatValue(v), formatValue(defaults[k])]),
      ) +
      `\n\nApply it with \`ec2-connect config preset ${preset.name} --apply\` (or EC2_CONNECT_PRESET=${preset.name}).\n`,
  );
  return 0;
}

/** A value typed on the command line, for `key`: numbers in the key's unit, or 5s, true, null, ... */
export function parseCliValue(key: string, raw: string): ConfigValue {
  const meta = keyMeta(key);
  if (!meta) return raw;
  if (raw === 'null' && meta.nullable) return null;
  if ((meta.type === 'integer' || meta.type === 'number') && /^\s*-?\d+(\.\d+)?\s*$/.test(raw))
    return Number(raw);
  const parsed = meta.parseEnv?.(raw);
  return parsed === undefined ? raw : parsed;
}

/** The key nearest to a mistyped `section.key` (or a bare key name). */
export function suggestFlatKey(key: string): string | undefined {
  const near = suggestKey(key, FLAT_KEYS);
  if (near) return near;
  const bare = key.split('.').pop() ?? key;
  const names = FLAT_KEYS.map((k) => k.slice(k.indexOf('.') + 1));
  const name = suggestKey(bare, names);
  return name ? FLAT_KEYS[names.indexOf(name)] : undefined;
}

export async function runConfigSet(key: string, raw: string | undefined, opts: FileOption): Promise<number> {
  if (!isConfigKey(key)) {
    const near = suggestFlatKey(key);
    const hint = near ? ` Did you mean ${near}?` : '';
    process.stderr.write(
      `ec2-connect: ${key} is not a configuration key.${hint} See \`ec2-connect config show --effective\`.\n`,
    );
    return 2;
  }
  const value = raw === undefined ? null : parseCliValue(key, raw);
  const store = new ConfigStore({ file: fileFor(opts), watch: false });
  try {
    const loaded = await store.update({ [key]: value });
    // null, like unset, removes the key: back to the preset's value or the default.
    if (value === null) process.stdout.write(`Removed ${key} from ${store.file}.\n`);
    else process.stdout.write(`Set ${key} = ${JSON.stringify(value)} in ${store.file}.\n`);
    const source = loaded.sources[key];
    if (source === 'env')
      process.stdout.write(`Note: ${keyMeta(key)?.env} is set and overrides the file for this key.\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigUpdateError && err.problems.length)
      process.stderr.write(`ec2-connect: ${err.problems.map((p) => p.message).join('\n')}\n`);
    else process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 1;
  } finally {
    store.dispose();
  }
}
