/**
 * The built CLI (`npm run build` makes it; .ci/run builds before it tests): the "bin" launcher
 * runs the split ES-module bundle, and every output file is ASCII-only. Skipped on a tree that
 * was not built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const launcher = join(repoRoot, 'out/cli/ec2-connect.cjs');
const esm = join(repoRoot, 'out/cli/esm');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

describe.skipIf(!existsSync(launcher) || !existsSync(esm))('the built CLI bundle', () => {
  it('is what package.json "bin" names, and runs commands from the split bundle', () => {
    expect(pkg.bin['ec2-connect']).toBe('out/cli/ec2-connect.cjs');
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [launcher, ...args], {
        encoding: 'utf8',
        env: { ...process.env, EC2_CONNECT_CONFIG: join(repoRoot, 'out/cli/no-such-config.json') },
      });
    expect(run('--version').trim()).toBe(pkg.version);
    expect(run('connect', '--help')).toContain('--persist');
  });

  it('is split into chunks, all ASCII', () => {
    const files = readdirSync(esm).filter((f) => f.endsWith('.mjs'));
    expect(files).toContain('ec2-connect.mjs');
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      expect(/[\u0080-\uffff]/.test(readFileSync(join(esm, f), 'utf8')), f).toBe(false);
    }
  });
});
