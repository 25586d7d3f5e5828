/**
 * The built Electron main and preload bundles (`npm run build`; .ci/run builds before it tests)
 * are ASCII-only like the CLI's (electron.vite.config.ts applies build/ascii-only.mjs), so V8
 * holds their sources as one-byte strings. Skipped on a tree that was not built.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const files = ['out/main/index.js', 'out/preload/index.cjs'].map((f) => join(repoRoot, f));

describe.skipIf(!files.every((f) => existsSync(f)))('the built app bundles', () => {
  it('are ASCII-only', () => {
    for (const f of files) expect(/[\u0080-\uffff]/.test(readFileSync(f, 'utf8')), f).toBe(false);
  });
});
