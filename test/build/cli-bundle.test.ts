/**
 * The built CLI (`npm run build` makes it; .ci/run builds before it tests): the "bin" launcher
 * runs the split ES-module bundle, and every output file is ASCII-only. Skipped on a tree that
 * was not built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';
import { repoRoot, runCliProcess } from '../helpers/cli.js';

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

/**
 * The SDK clients the bundle loads on first use (EC2, STS, KMS: separate chunks, each a
 * CommonJS module behind esbuild's ESM wrapper) work from the bundle, not only from source.
 */
describe.skipIf(!existsSync(launcher) || !existsSync(esm))('the built CLI bundle against a sandbox', () => {
  let sandbox: SandboxHandle;
  const WEB1 = 'i-0b5bb7865829a72f8';
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    sandbox.fleet.update(WEB1, { kmsKeyId: 'alias/sandbox-session' });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  const cli = (...args: string[]) =>
    runCliProcess([...args, '--endpoint', sandbox.endpoint], { EC2_CONNECT_NO_HISTORY: '1' }, [
      process.execPath,
      launcher,
    ]);

  it('lists instances (EC2), diagnoses (STS, EC2 by name) and opens a KMS-encrypted session', async () => {
    const list = await cli('list');
    expect(list.stderr).toBe('');
    expect(list.stdout).toMatch(/^web-1\s+i-0b5bb7865829a72f8\s+running/m);
    const diag = await cli('diagnose', 'preventive', '--instance-id', 'web-1');
    expect(diag.stdout).toMatch(/✓ Credentials valid\s+arn:aws:iam::/);
    expect(diag.stdout).toMatch(/✓ Instance registered and online/);
    const run = await cli(
      'connect',
      '--instance-id',
      WEB1,
      '--command',
      'echo sealed-$((6*7))',
      '--non-interactive',
    );
    expect(run.stdout).toBe('sealed-42\n');
    expect(run.code).toBe(0);
  }, 60_000);
});
