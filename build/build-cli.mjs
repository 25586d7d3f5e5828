#!/usr/bin/env node
/**
 * Bundle the CLI (main/cli/bin.ts) for package.json's "bin", out/cli/ec2-connect.cjs: that file
 * is a small launcher that imports the ES-module bundle in out/cli/esm/, split into chunks at
 * every dynamic import(). A command loads only what it uses: `--version` and `--help` never
 * parse the AWS SDK, the sandbox or the web server (about 4 MB of the 6.5 MB), which is most of
 * a Node CLI's start-up time and memory (bench/cli.ts measures it).
 *
 * Dependencies are bundled (pino is used without transports, so it needs no worker files) except:
 * - native modules (node-pty, better-sqlite3): loaded from node_modules at run time;
 * - electron / electron-vite: only located or spawned by `ec2-connect app`, never imported;
 * - ws's optional native speed-ups (bufferutil, utf-8-validate).
 * Every output file is ASCII-only (ascii-only.mjs). Usage: node build/build-cli.mjs (part of
 * `npm run build`).
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { asciiOnly } from './ascii-only.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'out', 'cli');
const esmDir = path.join(outDir, 'esm');
const launcher = path.join(outDir, 'ec2-connect.cjs');

await rm(esmDir, { recursive: true, force: true });
await mkdir(esmDir, { recursive: true });
let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: { 'ec2-connect': 'main/cli/bin.ts' },
    outdir: esmDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Bundled CommonJS dependencies call require() and read __dirname / __filename: give every
    // chunk its own, from its URL.
    banner: {
      js: [
        "import { createRequire as __ec2cCreateRequire } from 'node:module';",
        "import { fileURLToPath as __ec2cFileURLToPath } from 'node:url';",
        "import { dirname as __ec2cDirname } from 'node:path';",
        'const require = __ec2cCreateRequire(import.meta.url);',
        'const __filename = __ec2cFileURLToPath(import.meta.url);',
        'const __dirname = __ec2cDirname(__filename);',
      ].join('\n'),
    },
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

// ASCII only, so that V8 keeps each source as a one-byte string (see ascii-only.mjs).
for (const file of Object.keys(result.metafile.outputs)) {
  const full = path.resolve(root, file);
  const code = await readFile(full, 'utf8');
  const ascii = asciiOnly(code);
  if (ascii !== code) await writeFile(full, ascii);
}

// The "bin": CommonJS so that it runs whatever package.json's "type" says, importing the bundle.
await writeFile(
  launcher,
  [
    '#!/usr/bin/env node',
    '// The ec2-connect command: the bundle is ES modules in ./esm (build/build-cli.mjs).',
    "import('./esm/ec2-connect.mjs').catch((err) => {",
    '  process.stderr.write(`ec2-connect: ${err instanceof Error ? err.message : String(err)}\\n`);',
    '  process.exit(1);',
    '});',
    '',
  ].join('\n'),
);
await chmod(launcher, 0o755);

const outputs = Object.values(result.metafile.outputs);
const bytes = outputs.reduce((n, o) => n + o.bytes, 0);
const entry = result.metafile.outputs[path.relative(root, path.join(esmDir, 'ec2-connect.mjs'))]?.bytes ?? 0;
console.log(
  `out/cli/ec2-connect.cjs -> out/cli/esm: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} kB (entry ${(entry / 1024).toFixed(0)} kB)`,
);
