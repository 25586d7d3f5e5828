/**
 * `ec2-connect presets list|save|delete`: the session presets `connect` (and the app's Connect)
 * use, in session-presets.json beside the configuration file (main/core/workspace/session-presets.ts).
 *
 *   ec2-connect presets list [--profile p] [--json]
 *   ec2-connect presets save --instance web-1 --run-as alice --login-shell [--name alice]
 *   ec2-connect presets save --tag Team=web --shell-profile 'cd /srv' [--all-profiles]
 *   ec2-connect presets save --instance i-0123... --command 'htop'
 *   ec2-connect presets delete <name|id>
 *
 * A preset applies to one profile (--profile, else the configured one, `sandbox` by default) or
 * to all (--all-profiles). Saving for the same instance or tag on the same profile replaces it.
 */
import type { Command } from 'commander';
import type { SessionPreset, SessionPresetInput } from '../../../preload/api.js';
import { describePreset, SessionPresets } from '../../core/workspace/session-presets.js';
import { addAwsOptions, cliConfig, loggerFor, profileFor, type AwsOptions } from '../options.js';
import { renderTable } from '../table.js';
import { presetsFile, resolveInstance } from './connect.js';

interface ListOptions {
  profile?: string;
  json?: boolean;
}

interface SaveOptions extends AwsOptions {
  instance?: string;
  tag?: string;
  allProfiles?: boolean;
  name?: string;
  document?: string;
  command?: string;
  parameter?: string[];
  runAs?: string;
  loginShell?: boolean;
  shellProfile?: string[];
}

interface DeleteOptions {
  profile?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerPresetsCommands(program: Command): void {
  const presets = program
    .command('presets')
    .description('session presets: the document, run-as user and shell profile per instance or tag');
  presets
    .command('list')
    .description('list the session presets')
    .option('-p, --profile <name>', 'only those that apply to this profile')
    .option('--json', 'as JSON')
    .action((opts: ListOptions) => {
      process.exitCode = runList(opts);
    });
  addAwsOptions(
    presets
      .command('save')
      .description('save a session preset for an instance or a tag (replacing the one there was)')
      .option('-i, --instance <id|name>', 'for this instance (an id, or a Name tag looked up on the profile)')
      .option('-t, --tag <key=value>', 'for every instance with this tag')
      .option('--all-profiles', 'for every profile (default: the --profile one, else the configured one)')
      .option('--name <name>', 'a name for `connect --preset` and lists')
      .option('-d, --document <name>', 'a custom session document (default: the standard shell)')
      .option('-c, --command <command>', 'run this command (AWS-StartInteractiveCommand) instead of a shell')
      .option('--parameter <key=value>', 'a parameter of the custom document, repeatable', collect)
      .option('--run-as <user>', 'become this OS user once the shell is up')
      .option('--login-shell', "a login shell (bash -l, or the --run-as user's)")
      .option('--shell-profile <command>', 'a command typed into the shell at start, repeatable', collect),
  ).action(async (opts: SaveOptions) => {
    process.exitCode = await runSave(opts);
  });
  presets
    .command('delete <name|id>')
    .description('forget a session preset')
    .option('-p, --profile <name>', 'look the name up among the presets of this profile')
    .action(async (ref: string, opts: DeleteOptions) => {
      process.exitCode = await runDelete(ref, opts);
    });
}

function open(): SessionPresets {
  return new SessionPresets({ file: presetsFile() });
}

/**
 * A change to the presets file: `change` says what it did in a line (stdout, exit 0); what went
 * wrong is said on stderr (exit 2). The store is closed either way.
 */
async function changePresets(change: (store: SessionPresets) => Promise<string>): Promise<number> {
  const store = open();
  try {
    process.stdout.write(`${await change(store)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 2;
  } finally {
    store.dispose();
  }
}

function warnProblem(store: SessionPresets): void {
  if (store.problem) process.stderr.write(`ec2-connect: warning: ${store.problem}\n`);
}

/** What a preset runs, in a few words: "shell as alice, login shell, profile: cd /srv". */
export function describeChoice(p: SessionPreset): string {
  const parts: string[] = [];
  if (p.document === 'command') parts.push(`command: ${p.command}`);
  else if (p.document === 'shell') parts.push('shell');
  else
    parts.push(
      `${p.document}${
        p.parameters
          ? ` (${Object.entries(p.parameters)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ')})`
          : ''
      }`,
    );
  if (p.runAs) parts.push(`as ${p.runAs}`);
  if (p.loginShell) parts.push('login shell');
  if (p.shellProfile) parts.push(`profile: ${p.shellProfile.replace(/\r?\n/g, '; ')}`);
  return parts.join(', ');
}

/** The presets as a table (pure, for tests). */
export function renderPresetTable(list: readonly SessionPreset[]): string {
  return renderTable(
    ['ID', 'NAME', 'PROFILE', 'FOR', 'RUNS'],
    list.map((p) => [
      p.id.slice(0, 8),
      p.name ?? '-',
      p.profile ?? '(all)',
      'instanceId' in p.match ? p.match.instanceId : `tag ${p.match.tag.key}=${p.match.tag.value}`,
      describeChoice(p),
    ]),
  );
}

function runList(opts: ListOptions): number {
  const store = open();
  try {
    const list = store.list(opts.profile);
    warnProblem(store);
    if (opts.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0)
      process.stdout.write(
        'No session presets. Save one with `ec2-connect presets save --instance <id|name> --run-as <user>`.\n',
      );
    else process.stdout.write(`${renderPresetTable(list)}\n`);
    return 0;
  } finally {
    store.dispose();
  }
}

function parseTag(text: string): { key: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`--tag must be key=value (e.g. Team=web), got "${text}"`);
  return { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

function parseParameters(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--parameter must be key=value, got "${p}"`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

async function runSave(opts: SaveOptions): Promise<number> {
  if (Boolean(opts.instance) === Boolean(opts.tag)) {
    process.stderr.write('ec2-connect: give either --instance <id|name> or --tag <key=value>\n');
    return 2;
  }
  const profile = opts.allProfiles ? null : (opts.profile ?? cliConfig(opts).config.aws.profile);
  let input: SessionPresetInput;
  try {
    const parameters = parseParameters(opts.parameter);
    input = {
      match: opts.tag ? { tag: parseTag(opts.tag) } : { instanceId: await instanceIdOf(opts) },
      profile,
      document: opts.document ?? (opts.command !== undefined ? 'command' : 'shell'),
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.command !== undefined ? { command: opts.command } : {}),
      ...(parameters ? { parameters } : {}),
      ...(opts.runAs !== undefined ? { runAs: opts.runAs } : {}),
      ...(opts.loginShell ? { loginShell: true } : {}),
      ...(opts.shellProfile?.length ? { shellProfile: opts.shellProfile.join('\n') } : {}),
    };
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return 2;
  }
  return changePresets(async (store) => {
    const saved = await store.save(input);
    return `Saved session preset ${describePreset(saved)}: ${describeChoice(saved)} (id ${saved.id}).`;
  });
}

/** The instance id of --instance: as given, or its Name tag looked up on the profile. */
async function instanceIdOf(opts: SaveOptions): Promise<string> {
  const given = opts.instance!;
  if (/^(i|mi)-[0-9a-f]{8,17}$/.test(given)) return given;
  const logger = loggerFor(opts);
  const resolved = await profileFor(opts, logger);
  try {
    return await resolveInstance(resolved.controlPlane, given);
  } finally {
    await resolved.dispose();
  }
}

async function runDelete(ref: string, opts: DeleteOptions): Promise<number> {
  return changePresets(async (store) => {
    const preset = store.find(ref, opts.profile);
    await store.remove(preset.id);
    return `Deleted session preset ${describePreset(preset)}.`;
  });
}
