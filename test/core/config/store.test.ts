/** ConfigStore: checked, atomic writes (0600), keeping what it does not know, watching the file; the settings.json migration. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigStore,
  ConfigUpdateError,
  checkUpdate,
  migrateSettingsFile,
  writeFileAtomic,
} from '../../../main/core/config/store.js';
import type { LoadedConfig } from '../../../main/core/config/load.js';
import { nextEvent } from '../../../main/core/util/lifecycle.js';

let dir: string;
let file: string;
const stores: ConfigStore[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-config-store-'));
  file = path.join(dir, 'config.json');
});
afterEach(() => {
  for (const s of stores.splice(0)) s.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(options: ConstructorParameters<typeof ConfigStore>[0] = {}): ConfigStore {
  const store = new ConfigStore({ file, env: {}, watch: false, ...options });
  stores.push(store);
  return store;
}

const read = (): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('ConfigStore.update', () => {
  it('writes the file atomically with mode 0600 (folder 0700), and answers the new configuration', async () => {
    const nested = path.join(dir, 'a', 'b');
    file = path.join(nested, 'config.json');
    const store = open();
    const changes: LoadedConfig[] = [];
    store.onDidChange((c) => changes.push(c));
    const old = process.umask(0o022);
    try {
      const loaded = await store.update({ 'resources.max_memory_mb': 2048, 'ui.theme': 'dark' });
      expect(loaded.config.resources.max_memory_mb).toBe(2048);
      expect(loaded.sources['ui.theme']).toBe('file');
    } finally {
      process.umask(old);
    }
    expect(read()).toEqual({ resources: { max_memory_mb: 2048 }, ui: { theme: 'dark' } });
    expect(mode(file)).toBe(0o600);
    expect(mode(nested)).toBe(0o700);
    expect(fs.readdirSync(nested)).toEqual(['config.json']); // no temp file left
    expect(changes).toHaveLength(1);
    expect(store.config.ui.theme).toBe('dark');
    expect(store.state().values['ui.theme']).toBe('dark');
  });

  it('keeps what it does not know (unknown keys, $schema, preset) and their order; null removes a key', async () => {
    fs.writeFileSync(
      file,
      JSON.stringify({
        $schema: './schema.json',
        preset: 'low-end',
        ui: { theme: 'light', my_note: 'keep me' },
        extras: { anything: [1, 2] },
        resources: { max_memory_mb: 700 },
      }),
    );
    const store = open();
    expect(store.current.problems.map((p) => p.key).sort()).toEqual(['extras', 'ui.my_note']);
    await store.update({ 'ui.theme': 'dark', 'resources.max_memory_mb': null, 'aws.profile': 'prod' });
    expect(read()).toEqual({
      $schema: './schema.json',
      preset: 'low-end',
      aws: { profile: 'prod' },
      ui: { theme: 'dark', my_note: 'keep me' },
      extras: { anything: [1, 2] },
    });
    expect(Object.keys(read())).toEqual(['$schema', 'preset', 'aws', 'ui', 'extras']);
    // back to the preset's value
    expect(store.current.sources['resources.max_memory_mb']).toBe('preset');
    expect(store.config.resources.max_memory_mb).toBe(512);
  });

  it('checks every value first: an Error naming each bad key, value and range, and nothing written', async () => {
    fs.writeFileSync(file, '{"ui": {"theme": "light"}}\n');
    const before = fs.readFileSync(file, 'utf8');
    const store = open();
    let changed = 0;
    store.onDidChange(() => changed++);
    const err = await store
      .update({
        'ui.theme': 'dark',
        'resources.max_memory_mb': -5,
        'ui.cursor_blink': 'yes',
        'session.max_totl_sessions': 3,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigUpdateError);
    const e = err as ConfigUpdateError;
    expect(e.problems.map((p) => p.key).sort()).toEqual(
      ['resources.max_memory_mb', 'session.max_totl_sessions', 'ui.cursor_blink'].sort(),
    );
    expect(e.message).toContain(
      'resources.max_memory_mb = -5 is out of range; allowed: a whole number from 0 to 1048576',
    );
    expect(e.message).toContain('ui.cursor_blink = "yes" is a string, not true or false');
    expect(e.message).toContain(
      'session.max_totl_sessions is not a configuration key (did you mean session.max_total_sessions?)',
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(changed).toBe(0);
    expect(checkUpdate({ 'ui.theme': 'dark', 'aws.region': null })).toEqual([]);
  });

  it('never overwrites a file that is not JSON', async () => {
    const text = '{ "ui": { "theme": "dark" } // my comment\n}\n';
    fs.writeFileSync(file, text);
    const store = open();
    expect(store.current.problems).toHaveLength(1);
    await expect(store.update({ 'ui.theme': 'light' })).rejects.toThrow(
      /not valid JSON.*Nothing was written/,
    );
    await expect(store.setPreset('ci')).rejects.toThrow(/Nothing was written/);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(fs.readdirSync(dir)).toEqual(['config.json']);
  });

  it('serialises concurrent updates: both land', async () => {
    const store = open();
    await Promise.all([store.update({ 'ui.theme': 'dark' }), store.update({ 'ui.font_size': 16 })]);
    expect(read()).toEqual({ ui: { theme: 'dark', font_size: 16 } });
  });

  it('writes through a symbolic link to its target', async () => {
    const target = path.join(dir, 'dotfiles', 'ec2c.json');
    fs.mkdirSync(path.dirname(target));
    fs.writeFileSync(target, '{}');
    fs.symlinkSync(target, file);
    const store = open();
    await store.update({ 'ui.theme': 'dark' });
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(target, 'utf8'))).toEqual({ ui: { theme: 'dark' } });
  });

  it('writeFileAtomic leaves the old file whole when the write fails', async () => {
    fs.writeFileSync(file, '{"old": true}');
    await expect(writeFileAtomic(path.join(file, 'below-a-file.json'), 'x')).rejects.toThrow();
    expect(fs.readFileSync(file, 'utf8')).toBe('{"old": true}');
  });
});

describe('ConfigStore.setPreset', () => {
  it('writes "preset" first, and removes it with null', async () => {
    fs.writeFileSync(file, JSON.stringify({ ui: { theme: 'dark' } }));
    const store = open();
    const loaded = await store.setPreset('ci');
    expect(loaded.preset).toBe('ci');
    expect(Object.keys(read())).toEqual(['preset', 'ui']);
    expect(store.config.database.enabled).toBe(false);
    await store.setPreset(null);
    expect(read()).toEqual({ ui: { theme: 'dark' } });
    expect(store.current.preset).toBeNull();
  });

  it('refuses an unknown preset, listing the presets', async () => {
    const store = open();
    await expect(store.setPreset('turbo')).rejects.toThrow(
      'There is no preset named "turbo"; the presets are production, development, ci, low-end, high-performance, container.',
    );
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('ConfigStore watching the file', () => {
  it('picks up an edit on disk, and an editor that saves by renaming', async () => {
    fs.writeFileSync(file, '{}');
    const store = open({ watch: true, debounceMs: 20 });
    let next = nextEvent(store.onDidChange, 5000, 'config change');
    fs.writeFileSync(file, JSON.stringify({ ui: { theme: 'dark' } }));
    expect((await next).config.ui.theme).toBe('dark');
    expect(store.config.ui.theme).toBe('dark');

    next = nextEvent(store.onDidChange, 5000, 'config change');
    const tmp = path.join(dir, '.config.json.swp');
    fs.writeFileSync(tmp, JSON.stringify({ ui: { theme: 'light' } }));
    fs.renameSync(tmp, file);
    expect((await next).config.ui.theme).toBe('light');

    // and once more after the rename (the watch survives it)
    next = nextEvent(store.onDidChange, 5000, 'config change');
    fs.writeFileSync(file, JSON.stringify({ ui: { theme: 'dark' }, resources: { max_memory_mb: 'x' } }));
    const third = await next;
    expect(third.config.ui.theme).toBe('dark');
    expect(third.problems.map((p) => p.key)).toEqual(['resources.max_memory_mb']);

    next = nextEvent(store.onDidChange, 5000, 'config change');
    fs.rmSync(file);
    expect((await next).config.ui.theme).toBe('system');
  });

  it('does not report its own writes twice', async () => {
    const store = open({ watch: true, debounceMs: 20 });
    let count = 0;
    store.onDidChange(() => count++);
    await store.update({ 'ui.theme': 'dark' });
    await new Promise((r) => setTimeout(r, 300));
    expect(count).toBe(1);
  });

  it('polls when the folder cannot be watched (it does not exist yet)', async () => {
    file = path.join(dir, 'later', 'config.json');
    const store = open({ watch: true, debounceMs: 20 });
    const next = nextEvent(store.onDidChange, 8000, 'config change');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, JSON.stringify({ ui: { theme: 'dark' } }));
    expect((await next).config.ui.theme).toBe('dark');
  });

  it('stops after dispose', async () => {
    const store = open({ watch: true, debounceMs: 10 });
    let count = 0;
    store.onDidChange(() => count++);
    store.dispose();
    fs.writeFileSync(file, JSON.stringify({ ui: { theme: 'dark' } }));
    await new Promise((r) => setTimeout(r, 200));
    expect(count).toBe(0);
    await expect(store.update({ 'ui.theme': 'light' })).rejects.toThrow(/closed/);
  });
});

describe('migration from settings.json', () => {
  const settings = {
    theme: 'dark',
    fontFamily: "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, monospace", // the default
    fontSize: 16,
    lineHeight: 1.1,
    scrollback: 5000,
    cursorBlink: false,
    renderer: 'auto',
    pasteWarningLines: 50,
    copyOnSelect: true,
    notifications: {
      enabled: true,
      disconnects: false,
      reconnects: true,
      limits: true,
      endedElsewhere: true,
      minIntervalSeconds: 60,
    },
    resources: {
      monitoringIntervalMs: 10_000,
      maxMemoryMb: 1024,
      maxCpuPercent: 80,
      lowPower: 'on',
      prometheusPort: 0,
    },
  };

  it('carries the values that differ from the defaults into ui and resources, once', () => {
    const settingsFile = path.join(dir, 'settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify(settings));
    const store = open(); // settings.json beside config.json by default
    expect(store.migration).toMatchObject({
      from: settingsFile,
      movedTo: `${settingsFile}.migrated`,
      to: file,
    });
    expect(read()).toEqual({
      resources: { max_memory_mb: 1024, low_power_mode: 'on', monitoring_interval: 10_000 },
      ui: {
        theme: 'dark',
        font_size: 16,
        scrollback: 5000,
        cursor_blink: false,
        copy_on_select: true,
        notify_disconnects: false,
        notification_min_interval_seconds: 60,
      },
    });
    expect(mode(file)).toBe(0o600);
    expect(fs.existsSync(settingsFile)).toBe(false);
    expect(JSON.parse(fs.readFileSync(`${settingsFile}.migrated`, 'utf8'))).toEqual(settings);
    expect(store.config.ui.theme).toBe('dark');
    expect(store.current.sources['resources.low_power_mode']).toBe('file');
    // Once: a settings.json appearing again is not carried over an existing config.json.
    fs.writeFileSync(settingsFile, JSON.stringify({ theme: 'light' }));
    expect(migrateSettingsFile(settingsFile, file)).toBeNull();
    expect(fs.existsSync(settingsFile)).toBe(true);
  });

  it('leaves out invalid values, and leaves a settings.json that is not JSON alone', () => {
    const settingsFile = path.join(dir, 'settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ theme: 'neon', fontSize: 20 }));
    const result = migrateSettingsFile(settingsFile, file);
    expect(result?.carried).toEqual(['ui.font_size']);
    expect(result?.skipped).toEqual(['theme = "neon" is not one of the allowed values']);
    fs.rmSync(file);
    fs.writeFileSync(settingsFile, '{ broken');
    expect(migrateSettingsFile(settingsFile, file)).toBeNull();
    expect(fs.readFileSync(settingsFile, 'utf8')).toBe('{ broken');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('does nothing without a settings.json, or when asked not to', () => {
    expect(open().migration).toBeNull();
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
    expect(open({ settingsFile: null }).migration).toBeNull();
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('ConfigStore in memory', () => {
  it('validates, applies and fires changes without touching any file', async () => {
    const store = new ConfigStore({ inMemory: true, env: {} });
    try {
      expect(store.file).toBe('(in memory)');
      const seen: number[] = [];
      store.onDidChange((c) => seen.push(c.config.resources.max_memory_mb));
      await store.update({ 'resources.max_memory_mb': 900 });
      expect(store.config.resources.max_memory_mb).toBe(900);
      expect(store.current.sources['resources.max_memory_mb']).toBe('file');
      await expect(store.update({ 'resources.max_memory_mb': -1 })).rejects.toThrow(/max_memory_mb/);
      await store.setPreset('low-end');
      expect(store.current.preset).toBe('low-end');
      await store.update({ 'resources.max_memory_mb': null });
      expect(store.current.sources['resources.max_memory_mb']).toBe('preset');
      expect(seen.length).toBe(3);
    } finally {
      store.dispose();
    }
  });
});
