import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchVersions, packageVersion, pluginVersion } from '../../bench/lib/versions.js';

describe('bench versions', () => {
  it('reads the installed version, else the declared range, else nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'bench-versions-'));
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({ dependencies: { 'node-pty': '^1.1.0' }, devDependencies: { electron: '^41.0.0' } }),
    );
    mkdirSync(join(root, 'node_modules/electron'), { recursive: true });
    writeFileSync(join(root, 'node_modules/electron/package.json'), JSON.stringify({ version: '41.2.3' }));
    expect(packageVersion('electron', root)).toBe('41.2.3');
    expect(packageVersion('node-pty', root)).toBe('^1.1.0');
    expect(packageVersion('absent', root)).toBeUndefined();
  });

  it('asks the plugin for its version, and gives none when it is absent or fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-plugin-'));
    const plugin = join(dir, 'session-manager-plugin');
    writeFileSync(plugin, '#!/bin/sh\n[ "$1" = --version ] && echo 9.8.7.6\n');
    chmodSync(plugin, 0o755);
    expect(pluginVersion(plugin)).toBe('9.8.7.6');
    const broken = join(dir, 'broken');
    writeFileSync(broken, '#!/bin/sh\nexit 3\n');
    chmodSync(broken, 0o755);
    expect(pluginVersion(broken)).toBeUndefined();
    expect(pluginVersion(join(dir, 'absent'))).toBeUndefined();
  });

  it("records the app, Node and this checkout's packages", () => {
    const v = benchVersions('1.2.3');
    expect(v).toMatchObject({ app: '1.2.3', node: process.version });
    for (const k of ['electron', 'xterm', 'betterSqlite3', 'nodePty'] as const)
      expect(v[k]).toMatch(/\d+\.\d+/);
  });
});
