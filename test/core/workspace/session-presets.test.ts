/**
 * The session preset store (session-presets.ts over json-list-file.ts): persistence in a 0600
 * file, a damaged file set aside, changes by another process picked up, replacing a preset of the
 * same match, and resolution by instance, tag and profile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionPresetInput } from '../../../preload/api.js';
import {
  SESSION_PRESETS_FILE,
  SessionPresets,
  UnknownPresetError,
} from '../../../main/core/workspace/session-presets.js';

const WEB1 = 'i-0b5bb7865829a72f8';
const WEB2 = 'i-0a03534fd537d6397';

const dirs: string[] = [];
const open: SessionPresets[] = [];
function tmpFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presets-'));
  dirs.push(dir);
  return path.join(dir, SESSION_PRESETS_FILE);
}
function store(file: string | null, now?: () => number): SessionPresets {
  const s = new SessionPresets({ file, ...(now ? { now } : {}) });
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.dispose();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const forInstance = (instanceId: string, extra: Partial<SessionPresetInput> = {}): SessionPresetInput => ({
  match: { instanceId },
  profile: 'sandbox',
  document: 'shell',
  ...extra,
});
const forTag = (key: string, value: string, extra: Partial<SessionPresetInput> = {}): SessionPresetInput => ({
  match: { tag: { key, value } },
  profile: 'sandbox',
  document: 'shell',
  ...extra,
});

describe('SessionPresets', () => {
  it('persists in a 0600 file and reads it back in another store', async () => {
    const file = tmpFile();
    let t = 1000;
    const a = store(file, () => t);
    const saved = await a.save(forInstance(WEB1, { runAs: 'alice', loginShell: true, name: 'alice' }));
    expect(saved).toMatchObject({ runAs: 'alice', loginShell: true, createdAt: 1000, updatedAt: 1000 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; presets: unknown[] };
    expect(onDisk).toEqual({ version: 1, presets: [saved] });

    const b = store(file);
    expect(b.list()).toEqual([saved]);
    expect(b.problem).toBeNull();

    // The same match and profile again: replaced in place, id and creation kept.
    t = 2000;
    const again = await a.save(forInstance(WEB1, { document: 'command', command: 'top' }));
    expect(again).toMatchObject({
      id: saved.id,
      document: 'command',
      command: 'top',
      createdAt: 1000,
      updatedAt: 2000,
    });
    expect(again.runAs).toBeUndefined();
    // The other store sees the change on disk.
    expect(b.list()).toEqual([again]);
    // A change by id; an unknown id is an error that says so.
    const renamed = await b.save({ ...forInstance(WEB1), id: saved.id, name: 'plain' });
    expect(renamed).toMatchObject({ id: saved.id, name: 'plain', document: 'shell' });
    await expect(
      b.save({ ...forInstance(WEB2), id: '00000000-0000-4000-8000-000000000009' }),
    ).rejects.toThrow(UnknownPresetError);

    expect(await a.remove(saved.id)).toBe(true);
    expect(await a.remove(saved.id)).toBe(false);
    expect(b.list()).toEqual([]);
  });

  it('fires onDidChange for its own changes and for the file changed by another process', async () => {
    const file = tmpFile();
    const a = store(file);
    const b = store(file);
    const seen: number[] = [];
    b.onDidChange((list) => seen.push(list.length));
    await b.save(forTag('Team', 'web'));
    await a.save(forTag('Team', 'data'));
    b.list(); // reads the file again: it changed
    expect(seen).toEqual([1, 2]);
  });

  it('sets a damaged file aside, reports it and starts afresh', async () => {
    const file = tmpFile();
    fs.writeFileSync(file, '{"version":1,"presets":[{"id":"nope"}]}');
    const s = store(file);
    expect(s.list()).toEqual([]);
    expect(s.problem).toContain(`The session presets in ${file} could not be read (not the expected form`);
    const aside = fs
      .readdirSync(path.dirname(file))
      .filter((n) => n.startsWith(`${SESSION_PRESETS_FILE}.damaged-`));
    expect(aside).toHaveLength(1);
    expect(s.problem).toContain(aside[0]);
    await s.save(forInstance(WEB1));
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).presets).toHaveLength(1);

    fs.writeFileSync(file, 'not json');
    const t = store(file);
    expect(t.problem).toMatch(/not valid JSON/);
    expect(t.list()).toEqual([]);
  });

  it('refuses invalid presets with the reason, writing nothing', async () => {
    const file = tmpFile();
    const s = store(file);
    await expect(s.save(forInstance(WEB1, { runAs: 'bob;reboot' }))).rejects.toThrow(/shell metacharacter/);
    await expect(s.save(forInstance(WEB1, { document: 'command' }))).rejects.toThrow(/needs the command/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('resolves the instance preset first, then the first matching tag preset, on the right profile', async () => {
    const s = store(null);
    const tagAll = await s.save({ ...forTag('Team', 'web', { runAs: 'webadmin' }), profile: null });
    const tagOther = await s.save(forTag('Role', 'web', { runAs: 'second' }));
    const tagProfile = await s.save(forTag('Env', 'prod', { runAs: 'produser' }));
    const instProd = await s.save({ ...forInstance(WEB1, { runAs: 'produser2' }), profile: 'prod' });
    const inst = await s.save(forInstance(WEB1, { runAs: 'alice' }));

    const tags = { Team: 'web', Role: 'web', Env: 'prod' };
    // The instance's own preset wins, on its profile only.
    expect(s.resolve({ profile: 'sandbox', instanceId: WEB1, tags })?.id).toBe(inst.id);
    expect(s.resolve({ profile: 'prod', instanceId: WEB1, tags })?.id).toBe(instProd.id);
    // Tag presets: this profile's before every profile's, then the file's order.
    expect(s.resolve({ profile: 'sandbox', instanceId: WEB2, tags })?.id).toBe(tagOther.id);
    expect(s.resolve({ profile: 'sandbox', instanceId: WEB2, tags: { Team: 'web', Env: 'prod' } })?.id).toBe(
      tagProfile.id,
    );
    expect(s.resolve({ profile: 'staging', instanceId: WEB2, tags })?.id).toBe(tagAll.id);
    // No tags known, or none matching: no preset.
    expect(s.resolve({ profile: 'sandbox', instanceId: WEB2 })).toBeUndefined();
    expect(s.resolve({ profile: 'sandbox', instanceId: WEB2, tags: { Team: 'data' } })).toBeUndefined();
    expect(s.hasTagPresets('staging')).toBe(true);
    expect(s.list('staging').map((p) => p.id)).toEqual([tagAll.id]);
  });

  it('finds a preset by id or name among a profile’s, naming the ones there are otherwise', async () => {
    const s = store(null);
    const a = await s.save(forInstance(WEB1, { name: 'as-alice', runAs: 'alice' }));
    await s.save({ ...forInstance(WEB2, { name: 'dup' }) });
    await s.save({ ...forTag('Team', 'web', { name: 'dup' }) });
    expect(s.find('as-alice', 'sandbox').id).toBe(a.id);
    expect(s.find(a.id).id).toBe(a.id);
    expect(() => s.find('as-alice', 'prod')).toThrow(
      /No session preset is named "as-alice" \(there are none\)/,
    );
    expect(() => s.find('nope', 'sandbox')).toThrow(/presets: "as-alice"/);
    expect(() => s.find('dup', 'sandbox')).toThrow(/2 session presets are named "dup"/);
  });
});
