/** `ec2-connect config show|validate|preset|path|set|unset` through the real CLI, in a temporary EC2_CONNECT_HOME. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  parseCliValue,
  runConfigPreset,
  runConfigSet,
  runConfigShow,
  sourceLabel,
  suggestFlatKey,
} from '../../main/cli/commands/config.js';
import { configFlags } from '../../main/cli/options.js';
import { loadConfig } from '../../main/core/config/load.js';
import { runCliProcess, type CliResult } from '../helpers/cli.js';

let home: string;

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliProcess(args, { EC2_CONNECT_HOME: home, ...env });
}

const configPath = (): string => path.join(home, 'config.json');
const writeConfig = (data: unknown): void =>
  fs.writeFileSync(configPath(), typeof data === 'string' ? data : JSON.stringify(data, null, 2));

beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-cli-config-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

// Each run of the CLI starts tsx and loads every command: seconds each on a busy machine.
describe('ec2-connect config', { timeout: 120_000 }, () => {
  it('path: config.json in EC2_CONNECT_HOME, or EC2_CONNECT_CONFIG, or --config', async () => {
    const [plain, env, flag] = await Promise.all([
      cli(['config', 'path']),
      cli(['config', 'path'], { EC2_CONNECT_CONFIG: '/etc/ec2c.json' }),
      cli(['config', 'path', '--config', '/x/y.json']),
    ]);
    expect(plain).toMatchObject({ code: 0, stdout: `${configPath()}\n` });
    expect(env.stdout).toBe('/etc/ec2c.json\n');
    expect(flag.stdout).toBe('/x/y.json\n');
  });

  it('show: a missing file, then the file’s own content and problems (text and JSON)', async () => {
    fs.rmSync(configPath(), { force: true });
    const missing = await cli(['config', 'show']);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain('It does not exist yet');
    expect(fs.existsSync(configPath())).toBe(false);

    writeConfig({ preset: 'low-end', ui: { theme: 'dark', font_size: 99 } });
    const text = await cli(['config', 'show'], { EC2_CONNECT_MAX_MEMORY_MB: 'lots' });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Configuration file: ${configPath()}`);
    expect(text.stdout).toContain('Preset: low-end (from the file)');
    expect(text.stdout).toContain('"theme": "dark"');
    expect(text.stdout).toContain('Problems (1):');
    expect(text.stdout).toContain('ui.font_size = 99');
    expect(text.stdout).not.toContain('EC2_CONNECT_MAX_MEMORY_MB'); // the file only

    const json = await cli(['config', 'show', '--json']);
    const doc = JSON.parse(json.stdout) as {
      exists: boolean;
      content: unknown;
      problems: Array<{ key: string }>;
    };
    expect(doc.exists).toBe(true);
    expect(doc.content).toEqual({ preset: 'low-end', ui: { theme: 'dark', font_size: 99 } });
    expect(doc.problems.map((p) => p.key)).toEqual(['ui.font_size']);
  });

  it('show --effective: every key with its value and source, flags on top', async () => {
    writeConfig({ preset: 'low-end', resources: { max_memory_mb: 700 }, aws: { region: 'eu-west-1' } });
    const env = { EC2_CONNECT_MAX_TOTAL_SESSIONS: '12', EC2_CONNECT_LOG_LEVEL: 'info' };
    const [r, text, preset] = await Promise.all([
      cli(['config', 'show', '--effective', '--json', '--region', 'ap-south-1', '--log-level', 'debug'], env),
      cli(['config', 'show', '--effective'], env),
      cli(['config', 'show', '--effective', '--json', '--preset', 'ci'], env),
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      preset: string;
      values: Record<string, unknown>;
      sources: Record<string, string>;
      problems: unknown[];
    };
    expect(doc.preset).toBe('low-end');
    expect(doc.problems).toEqual([]);
    expect(Object.keys(doc.values).length).toBeGreaterThan(55);
    expect([doc.values['aws.profile'], doc.sources['aws.profile']]).toEqual(['sandbox', 'default']);
    expect([doc.values['resources.low_power_mode'], doc.sources['resources.low_power_mode']]).toEqual([
      'on',
      'preset',
    ]);
    expect([doc.values['resources.max_memory_mb'], doc.sources['resources.max_memory_mb']]).toEqual([
      700,
      'file',
    ]);
    expect([doc.values['session.max_total_sessions'], doc.sources['session.max_total_sessions']]).toEqual([
      12,
      'env',
    ]);
    expect([doc.values['aws.region'], doc.sources['aws.region']]).toEqual(['ap-south-1', 'flag']);
    expect([doc.values['logging.level'], doc.sources['logging.level']]).toEqual(['debug', 'flag']);

    expect(text.stdout).toMatch(/^KEY +VALUE +SOURCE$/m);
    expect(text.stdout).toMatch(/^resources\.max_memory_mb +700 +file$/m);
    expect(text.stdout).toMatch(/^resources\.low_power_mode +on +preset low-end$/m);
    expect(text.stdout).toMatch(/^session\.max_total_sessions +12 +env EC2_CONNECT_MAX_TOTAL_SESSIONS$/m);

    expect((JSON.parse(preset.stdout) as { preset: string }).preset).toBe('ci');
  });

  it('validate: exit 0 for a valid file, 1 with every problem naming key, value and range', async () => {
    const good = path.join(home, 'good.json');
    fs.writeFileSync(
      good,
      JSON.stringify({ preset: 'ci', session: { max_total_sessions: 20 }, ui: { theme: 'light' } }),
    );
    const ok = await cli(['config', 'validate', good]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toBe(`${good} is valid (2 entries, preset ci).\n`);

    const bad = path.join(home, 'bad.json');
    fs.writeFileSync(
      bad,
      JSON.stringify({
        preset: 'turbo',
        session: { max_total_sessions: 0, max_sessions_per_instance: 'five' },
        resources: { low_power_mode: 'maybe' },
        ui: { colour: 'red' },
      }),
    );
    const r = await cli(['config', 'validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${bad} has 5 problems:`);
    expect(r.stdout).toContain('session.max_total_sessions = 0');
    expect(r.stdout).toContain('a whole number from 1 to 1000');
    expect(r.stdout).toMatch(/session\.max_sessions_per_instance = "five" in .* is a string, not a number/);
    expect(r.stdout).toContain('resources.low_power_mode = "maybe"');
    expect(r.stdout).toContain('one of "auto", "on", "off"');
    expect(r.stdout).toContain('ui.colour');
    expect(r.stdout).toContain('There is no preset named "turbo"');

    const json = await cli(['config', 'validate', bad, '--json']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { valid: boolean; problems: unknown[] }).problems).toHaveLength(5);

    const broken = path.join(home, 'broken.json');
    fs.writeFileSync(broken, '{"ui": ');
    const b = await cli(['config', 'validate', broken]);
    expect(b.code).toBe(1);
    expect(b.stdout).toContain('is not valid JSON');
    expect(fs.readFileSync(broken, 'utf8')).toBe('{"ui": ');

    const none = await cli(['config', 'validate', path.join(home, 'nope.json')]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('does not exist');
  });

  it('preset: the list, what one sets, an unknown one (exit 2), and --apply', async () => {
    const [list, show, json, unknown] = await Promise.all([
      cli(['config', 'preset']),
      cli(['config', 'preset', 'low-end']),
      cli(['config', 'preset', 'ci', '--json']),
      cli(['config', 'preset', 'turbo']),
    ]);
    expect(list.code).toBe(0);
    for (const name of ['production', 'development', 'ci', 'low-end', 'high-performance', 'container'])
      expect(list.stdout).toMatch(new RegExp(`^${name} `, 'm'));

    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^resources\.max_memory_mb +512 +1536$/m);
    expect(show.stdout).toContain('--apply');

    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'ci', values: { 'database.enabled': false } });

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'There is no preset named "turbo"; the presets are production, development, ci, low-end, high-performance, container.',
    );

    writeConfig({ ui: { theme: 'dark' }, mine: true });
    const apply = await cli(['config', 'preset', 'ci', '--apply']);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain(`Wrote "preset": "ci" to ${configPath()}`);
    expect(JSON.parse(fs.readFileSync(configPath(), 'utf8'))).toEqual({
      preset: 'ci',
      ui: { theme: 'dark' },
      mine: true,
    });
    expect(fs.statSync(configPath()).mode & 0o777).toBe(0o600);
    expect(loadConfig({ file: configPath(), env: {} }).sources['database.enabled']).toBe('preset');

    expect((await cli(['config', 'preset', 'none', '--apply'])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(configPath(), 'utf8'))).toEqual({ ui: { theme: 'dark' }, mine: true });
  });

  it('preset --apply and set refuse to touch a file that is not JSON', async () => {
    writeConfig('{ not json');
    const r = await cli(['config', 'preset', 'ci', '--apply']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not valid JSON');
    expect((await capture(() => runConfigSet('ui.theme', 'dark', { config: configPath() }))).code).toBe(1);
    expect(fs.readFileSync(configPath(), 'utf8')).toBe('{ not json');
  });

  it('set: checked first; an invalid value (exit 1) or unknown key (exit 2) writes nothing', async () => {
    fs.rmSync(configPath(), { force: true });
    expect(await cli(['config', 'set', 'resources.monitoring_interval', '10s'])).toMatchObject({ code: 0 });
    const before = fs.readFileSync(configPath(), 'utf8');
    expect(JSON.parse(before)).toEqual({ resources: { monitoring_interval: 10_000 } });
    const [bad, unknown] = await Promise.all([
      cli(['config', 'set', 'session.max_total_sessions', '5000']),
      cli(['config', 'set', 'resources.max_memory', '1']),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'session.max_total_sessions = 5000 is out of range; allowed: a whole number from 1 to 1000',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Did you mean resources.max_memory_mb?');
    expect(fs.readFileSync(configPath(), 'utf8')).toBe(before);
  });

  it('a usage error exits 2', async () => {
    const [a, b] = await Promise.all([
      cli(['config', 'validate']),
      cli(['config', 'show', '--log-level', 'loud']),
    ]);
    expect(a.code).toBe(2);
    expect(b.code).toBe(2);
  });
});

/** Run a command body in this process, capturing what it prints. */
async function capture(
  body: () => number | Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await body(), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('config set and unset (in process)', () => {
  let dir: string;
  let config: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-config-set-'));
    config = path.join(dir, 'config.json');
  });
  afterEach(() => {
    delete process.env.EC2_CONNECT_MAX_MEMORY_MB;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const file = (): unknown => JSON.parse(fs.readFileSync(config, 'utf8'));

  it('sets typed values (units, durations, words) and removes keys', async () => {
    for (const [key, value] of [
      ['resources.max_memory_mb', '2048'],
      ['resources.monitoring_interval', '10s'],
      ['ui.cursor_blink', 'off'],
      ['aws.region', 'eu-north-1'],
      ['session.inactive_timeout', '30m'],
    ] as const) {
      const r = await capture(() => runConfigSet(key, value, { config }));
      expect(r, `${key}=${value}`).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain(`Set ${key} = `);
    }
    expect(file()).toEqual({
      aws: { region: 'eu-north-1' },
      session: { inactive_timeout: 1800 },
      resources: { max_memory_mb: 2048, monitoring_interval: 10_000 },
      ui: { cursor_blink: false },
    });
    expect(await capture(() => runConfigSet('aws.region', 'null', { config }))).toMatchObject({ code: 0 });
    expect(await capture(() => runConfigSet('resources.max_memory_mb', undefined, { config }))).toMatchObject(
      {
        code: 0,
        stdout: `Removed resources.max_memory_mb from ${config}.\n`,
      },
    );
    expect(file()).toEqual({
      session: { inactive_timeout: 1800 },
      resources: { monitoring_interval: 10_000 },
      ui: { cursor_blink: false },
    });
  });

  it('refuses invalid values and unknown keys, writing nothing; says when a variable wins', async () => {
    fs.writeFileSync(config, '{"ui": {"theme": "light"}}');
    const bad = await capture(() => runConfigSet('ui.font_size', '99', { config }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'ec2-connect: ui.font_size = 99 is out of range; allowed: a whole number from 8 to 32 (px).\n',
    );
    const word = await capture(() => runConfigSet('ui.copy_on_select', 'perhaps', { config }));
    expect(word.code).toBe(1);
    expect(word.stderr).toContain('is a string, not true or false');
    const unknown = await capture(() => runConfigSet('ui.colour', 'red', { config }));
    expect(unknown.code).toBe(2);
    expect(fs.readFileSync(config, 'utf8')).toBe('{"ui": {"theme": "light"}}');
    process.env.EC2_CONNECT_MAX_MEMORY_MB = '100';
    const pinned = await capture(() => runConfigSet('resources.max_memory_mb', '3000', { config }));
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain('EC2_CONNECT_MAX_MEMORY_MB is set and overrides the file');
  });

  it('preset --apply without a name is a usage error; show of a broken file names the problem', async () => {
    expect((await capture(() => runConfigPreset(undefined, { apply: true, config }))).code).toBe(2);
    fs.writeFileSync(config, '{ "ui": ');
    const r = await capture(() => runConfigShow({ config }));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is not valid JSON');
    expect(fs.readFileSync(config, 'utf8')).toBe('{ "ui": ');
  });
});

describe('config command helpers', () => {
  it('map the shared flags to configuration keys (the top of the precedence)', () => {
    expect(configFlags({ profile: 'p', region: 'r', endpoint: 'e', logLevel: 'debug' })).toEqual({
      'aws.profile': 'p',
      'aws.region': 'r',
      'aws.endpoint': 'e',
      'logging.level': 'debug',
    });
    expect(configFlags({})).toEqual({
      'aws.profile': undefined,
      'aws.region': undefined,
      'aws.endpoint': undefined,
      'logging.level': undefined,
    });
  });

  it('parse typed values, label sources, suggest keys', () => {
    expect(parseCliValue('resources.max_memory_mb', '512')).toBe(512);
    expect(parseCliValue('resources.monitoring_interval', '5000')).toBe(5000); // the file's unit, ms
    expect(parseCliValue('resources.monitoring_interval', '5s')).toBe(5000);
    expect(parseCliValue('session.inactive_timeout', '10m')).toBe(600);
    expect(parseCliValue('ui.copy_on_select', 'true')).toBe(true);
    expect(parseCliValue('aws.region', 'null')).toBeNull();
    expect(parseCliValue('aws.profile', 'null')).toBe('null');
    expect(parseCliValue('logging.format', '0')).toBe('pretty');
    expect(sourceLabel('env', 'resources.max_memory_mb', null)).toBe('env EC2_CONNECT_MAX_MEMORY_MB');
    expect(sourceLabel('preset', 'ui.theme', 'ci')).toBe('preset ci');
    expect(suggestFlatKey('scrollback')).toBe('ui.scrollback');
    expect(suggestFlatKey('ui.scrolback')).toBe('ui.scrollback');
  });
});
