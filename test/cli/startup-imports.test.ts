/**
 * `ec2-connect --version`, `--help` and every command's start-up do not load the AWS SDK, the
 * sandbox or the web server: those are imported when a command runs (most of the CLI's start-up
 * time and memory was evaluating them; see bench/cli.ts). Checked on the bundle's import graph
 * (esbuild's metafile, as build/build-cli.mjs bundles it): no chain of static imports from
 * main/cli/bin.ts reaches them; dynamic import() is what keeps them lazy.
 */
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const LAZY = [
  /^node_modules\/@aws-sdk\/client-/,
  /^main\/sandbox\/server\.ts$/,
  /^main\/core\/web\/server\.ts$/,
];

/** The first chain of static imports from `from` to a file matching `target`, or undefined. */
function staticChain(meta: Metafile, from: string, target: RegExp): string[] | undefined {
  const seen = new Set<string>();
  const walk = (file: string): string[] | undefined => {
    if (target.test(file)) return [file];
    if (seen.has(file)) return undefined;
    seen.add(file);
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.kind !== 'import-statement' && imp.kind !== 'require-call') continue;
      const rest = walk(imp.path);
      if (rest) return [file, ...rest];
    }
    return undefined;
  };
  return walk(from);
}

describe('CLI start-up imports', () => {
  it('reach the AWS SDK, the sandbox and the web server only through dynamic import()', async () => {
    const result = await build({
      absWorkingDir: repoRoot,
      entryPoints: ['main/cli/bin.ts'],
      bundle: true,
      write: false,
      outfile: 'out/cli/ec2-connect.cjs',
      platform: 'node',
      format: 'cjs',
      external: ['node-pty', 'better-sqlite3', 'electron', 'electron-vite', 'bufferutil', 'utf-8-validate'],
      metafile: true,
      logLevel: 'silent',
    });
    // The graph is real: the modules are in the bundle, behind dynamic imports.
    const inputs = Object.keys(result.metafile.inputs);
    for (const re of LAZY)
      expect(
        inputs.some((f) => re.test(f)),
        String(re),
      ).toBe(true);
    for (const re of LAZY)
      expect(staticChain(result.metafile, 'main/cli/bin.ts', re), String(re)).toBeUndefined();
  });
});
