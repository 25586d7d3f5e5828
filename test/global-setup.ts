/**
 * Before any test file: make sure the renderer bundle the browser tests load (out/renderer)
 * is built from the current sources. A fresh build only happens when a source is newer than
 * the bundle (CI builds first, so there it is a quick check).
 */
import { buildNeeded, findProjectRoot, runBuild } from '../main/cli/commands/app.js';

export default async function setup(): Promise<void> {
  const root = findProjectRoot();
  const reason = buildNeeded(
    root,
    ['out/renderer/index.html'],
    ['renderer', 'preload', 'electron.vite.config.ts'],
  );
  if (!reason) return;
  process.stderr.write(`[global-setup] building the renderer (${reason}) ...\n`);
  await runBuild(root);
}
