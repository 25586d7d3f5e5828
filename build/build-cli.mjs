#!/usr/bin/env node
/**
 * Bundle the CLI (main/cli/bin.ts) into one CommonJS file, out/cli/ec2-connect.cjs, which
 * package.json's "bin" points at. Dependencies are bundled (pino is used without transports,
 * so it needs no worker files) except:
 * - native modules (node-pty, better-sqlite3): loaded from node_modules at run time;
 * - electron / electron-vite: only located or spawned by `ec2-connect app`, never imported;
 * - ws's optional native speed-ups (bufferutil, utf-8-validate).
 * Usage: node build/build-cli.mjs (part of `npm run build`).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { asciiOnly } from './ascii-only.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'out', 'cli', 'ec2-connect.cjs');

await mkdir(path.dirname(outfile), { recursive: true });
let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: ['main/cli/bin.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The sources are ES modules; in CommonJS output `import.meta.url` must come from __filename.
    banner: {
      js: '#!/usr/bin/env node\nconst __importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
    },
    define: { 'import.meta.url': '__importMetaUrl' },
    external: ['node-pty', 'better-sqlite3', 'electron', 'electron-vite', 'bufferutil', 'utf-8-validate'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
} catch {
  // esbuild has already printed the errors.
  process.exitCode = 1;
  process.exit();
}
// ASCII only, so that V8 keeps the source as a one-byte string (see ascii-only.mjs).
const code = await readFile(outfile, 'utf8');
const ascii = asciiOnly(code);
if (ascii !== code) await writeFile(outfile, ascii);
await chmod(outfile, 0o755);

const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`out/cli/ec2-connect.cjs  ${(bytes / 1024).toFixed(0)} kB`);
