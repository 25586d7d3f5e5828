import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../preload/api.js';
import { SettingsStore } from '../../../main/core/workspace/settings-store.js';

describe('SettingsStore', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-settings-'));
    file = path.join(dir, 'nested', 'settings.json');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('starts from the defaults and saves changes in a 0600 file', async () => {
    const store = new SettingsStore(file);
    expect(await store.load()).toEqual(DEFAULT_SETTINGS);
    const next = await store.update({ fontSize: 16, notifications: { reconnects: false } });
    expect(next.fontSize).toBe(16);
    expect(next.notifications).toEqual({ ...DEFAULT_SETTINGS.notifications, reconnects: false });
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = new SettingsStore(file);
    expect(await again.load()).toEqual(next);
  });

  it('rejects invalid changes and keeps the old settings', async () => {
    const store = new SettingsStore(file);
    await store.load();
    await expect(store.update({ fontSize: 99 })).rejects.toThrow(/fontSize/);
    await expect(store.update({ bogus: 1 } as never)).rejects.toThrow();
    expect(store.get().fontSize).toBe(DEFAULT_SETTINGS.fontSize);
  });

  it('fills keys an older file lacks with their defaults', async () => {
    await writeFile(path.join(dir, 'settings.json'), JSON.stringify({ theme: 'dark' }));
    const store = new SettingsStore(path.join(dir, 'settings.json'));
    expect(await store.load()).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark' });
  });

  it.each([
    ['not JSON', '{ theme: dark'],
    ['invalid values', JSON.stringify({ theme: 'purple', fontSize: 'big' })],
  ])('moves a file with %s aside (never deletes it) and uses the defaults', async (_what, text) => {
    const target = path.join(dir, 'settings.json');
    await writeFile(target, text);
    const store = new SettingsStore(target);
    expect(await store.load()).toEqual(DEFAULT_SETTINGS);
    const files = await readdir(dir);
    const aside = files.find((f) => f.startsWith('settings.json.invalid-'));
    expect(aside).toBeDefined();
    expect(await readFile(path.join(dir, aside!), 'utf8')).toBe(text);
  });
});
