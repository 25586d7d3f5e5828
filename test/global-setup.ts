/**
 * Before any test file: make sure the renderer bundle the browser tests load (out/renderer)
 * is built from the current sources. A fresh build only happens when a source is newer than
 * the bundle (CI builds first, so there it is a quick check).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { buildNeeded, findProjectRoot, runBuild } from '../main/cli/commands/app.js';

export default async function setup(): Promise<() => Promise<void>> {
  const teardown = async (): Promise<void> => {
    const home = process.env.EC2_CONNECT_TEST_HOME;
    if (home && path.basename(home).startsWith('ec2c-test-home-'))
      await rm(home, { recursive: true, force: true });
  };
  const root = findProjectRoot();
  const reason = buildNeeded(
    root,
    ['out/renderer/index.html'],
    ['renderer', 'preload', 'electron.vite.config.ts'],
  );
  if (!reason) return teardown;
  process.stderr.write(`[global-setup] building the renderer (${reason}) ...\n`);
  await runBuild(root);
  return teardown;
}
