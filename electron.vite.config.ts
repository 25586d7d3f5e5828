/**
 * electron-vite build of the three Electron targets:
 * - main: main/app/index.ts -> out/main/index.js (ESM, since package.json has "type": "module";
 *   dependencies and native modules stay external and load from node_modules);
 * - preload: preload/index.ts -> out/preload/index.cjs (CommonJS, everything bundled: a sandboxed
 *   preload cannot be an ES module and cannot require node_modules);
 * - renderer: renderer/index.html -> out/renderer (Vue).
 * `npx electron-vite build` needs no Electron binary; `electron-vite dev` does.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import type { Plugin } from 'vite';
import { asciiOnly } from './build/ascii-only.mjs';

const root = import.meta.dirname;
const at = (...parts: string[]): string => resolve(root, ...parts);

/** Native modules (never bundled; electron-builder rebuilds them for Electron). */
const NATIVE = ['node-pty', 'better-sqlite3', 'bufferutil'];

/**
 * `electron-vite dev` only: Vite injects <style> tags and uses an HMR WebSocket, which the
 * production CSP forbids. The built index.html keeps the strict policy.
 */
function devCspPlugin(): Plugin {
  return {
    name: 'ec2-connect:dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("connect-src 'self'", "connect-src 'self' ws://localhost:* http://localhost:*");
    },
  };
}

/**
 * Main and preload bundles ASCII-only, as the CLI's (build/ascii-only.mjs): one non-ASCII
 * character in a comment makes V8 hold the whole source as a two-byte string.
 */
function asciiOnlyPlugin(): Plugin {
  return {
    name: 'ec2-connect:ascii-only',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) if (file.type === 'chunk') file.code = asciiOnly(file.code);
    },
  };
}

export default defineConfig({
  main: {
    plugins: [asciiOnlyPlugin()],
    build: {
      outDir: at('out/main'),
      externalizeDeps: { include: NATIVE },
      lib: { entry: at('main/app/index.ts') },
      rolldownOptions: { external: NATIVE },
    },
  },
  preload: {
    plugins: [asciiOnlyPlugin()],
    build: {
      outDir: at('out/preload'),
      externalizeDeps: false,
      lib: { entry: at('preload/index.ts'), formats: ['cjs'] },
      rolldownOptions: { output: { entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: at('renderer'),
    plugins: [vue(), devCspPlugin()],
    build: {
      outDir: at('out/renderer'),
      emptyOutDir: true,
      rolldownOptions: { input: at('renderer/index.html') },
    },
  },
});
