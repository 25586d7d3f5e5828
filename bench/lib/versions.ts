/**
 * The versions a benchmark run measured, for bench/results/latest.json: the app, Node, and the
 * packages whose code is on the measured paths (Electron, xterm.js, better-sqlite3, node-pty)
 * as installed in node_modules, plus the official session-manager-plugin's when it is installed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPlugin } from './launch.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchVersions {
  app: string;
  node: string;
  electron?: string;
  xterm?: string;
  betterSqlite3?: string;
  nodePty?: string;
  /** Absent when the plugin is not on this machine. */
  sessionManagerPlugin?: string;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * A package's version: the installed one (node_modules/<name>/package.json under `root`), else
 * the range package.json declares for it, else undefined.
 */
export function packageVersion(name: string, root = repo): string | undefined {
  const installed = readJson(join(root, 'node_modules', name, 'package.json'))?.version;
  if (typeof installed === 'string') return installed;
  const manifest = readJson(join(root, 'package.json'));
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
    const range = (manifest?.[field] as Record<string, unknown> | undefined)?.[name];
    if (typeof range === 'string') return range;
  }
  return undefined;
}

/** `session-manager-plugin --version` (e.g. "1.2.0.0"), or undefined when absent or failing. */
export function pluginVersion(plugin = findPlugin()): string | undefined {
  if (!plugin) return undefined;
  try {
    return (
      execFileSync(plugin, ['--version'], { timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Every version above; fields left out when not found. */
export function benchVersions(appVersion: string): BenchVersions {
  const found: Record<string, string | undefined> = {
    electron: packageVersion('electron'),
    xterm: packageVersion('@xterm/xterm'),
    betterSqlite3: packageVersion('better-sqlite3'),
    nodePty: packageVersion('node-pty'),
    sessionManagerPlugin: pluginVersion(),
  };
  const out: BenchVersions = { app: appVersion, node: process.version };
  for (const [k, v] of Object.entries(found)) if (v !== undefined) Object.assign(out, { [k]: v });
  return out;
}
