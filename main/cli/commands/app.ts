/**
 * `ec2-connect app` (what `npm start` runs) and `ec2-connect web` (`npm run web`).
 *
 * `app` launches the Electron desktop app on out/main, building first when the build is missing
 * or older than the sources. When the Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD,
 * or no internet at install time) it says what is missing and how to get it, then offers web mode.
 *
 * `web` serves the same UI to a browser: the active profile (the embedded sandbox by default),
 * the contract handlers, and main/core/web/server.ts on 127.0.0.1 with a one-time token.
 *
 * Plain Node: never imports electron (it only locates the binary and spawns it).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startStatusServer, statusDir } from '../../core/monitor/status-server.js';
import { configFile } from '../../core/config/load.js';
import type { Workspace } from '../../core/workspace/workspace.js';
import { openConfiguredHistory, openProcessLog } from '../../core/config/runtime.js';
import { ConfigStore } from '../../core/config/store.js';
import { addAwsOptions, configFlags, type AwsOptions } from '../options.js';
import { openInBrowser } from '../../core/credentials/tty-prompter.js';

interface WebOptions extends AwsOptions {
  port?: string;
  open?: boolean;
}

export function registerAppCommands(program: Command): void {
  addAwsOptions(
    program
      .command('app')
      .description('open the desktop app (falls back to web mode when the Electron binary is missing)')
      .argument('[electronArgs...]', 'extra arguments for Electron, after --'),
  ).action(async (electronArgs: string[], opts: AwsOptions) => {
    process.exitCode = await runApp(opts, electronArgs);
  });

  addAwsOptions(
    program
      .command('web')
      .description('serve the UI to a browser on 127.0.0.1 (a token in the printed URL is required)')
      .option('--port <number>', 'port to listen on (default: a free one)')
      .option('--open', 'open the URL in the default browser'),
  ).action(async (opts: WebOptions) => {
    process.exitCode = await runWeb(opts);
  });
}

// ---------------------------------------------------------------------------------------------
// Project layout and builds
// ---------------------------------------------------------------------------------------------

/** The directory holding this project's package.json (works from main/cli/ sources and from out/cli/). */
export function findProjectRoot(start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ec2-connect') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

const APP_OUTPUTS = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const APP_SOURCES = ['main', 'preload', 'renderer', 'electron.vite.config.ts', 'package.json'];
const WEB_OUTPUTS = ['out/renderer/index.html'];
const WEB_SOURCES = ['renderer', 'preload', 'electron.vite.config.ts'];

function newestMtime(entry: string): number {
  let stat;
  try {
    stat = statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(entry)) {
    if (child === 'node_modules' || child.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, child)));
  }
  return newest;
}

/** Why a build is needed (an output missing, or a source newer than the outputs), or undefined. */
export function buildNeeded(root: string, outputs: string[], sources: string[]): string | undefined {
  let oldestOutput = Infinity;
  for (const out of outputs) {
    const file = path.join(root, out);
    if (!existsSync(file)) return `${out} is missing`;
    oldestOutput = Math.min(oldestOutput, statSync(file).mtimeMs);
  }
  for (const src of sources) {
    if (newestMtime(path.join(root, src)) > oldestOutput) return `${src} changed since the last build`;
  }
  return undefined;
}

/** Run `electron-vite build` in `root`; its output goes to stderr so stdout stays clean. */
export async function runBuild(root: string): Promise<void> {
  let bin: string;
  try {
    const pkgPath = createRequire(path.join(root, 'package.json')).resolve('electron-vite/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin?: Record<string, string> };
    bin = path.join(path.dirname(pkgPath), pkg.bin?.['electron-vite'] ?? 'bin/electron-vite.js');
  } catch {
    throw new Error(
      'electron-vite is not installed here; run `npm ci` (with dev dependencies), then `npm run build`',
    );
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0)
    throw new Error(`electron-vite build failed (exit ${code}); run \`npm run build\` to see why`);
}

async function ensureBuilt(root: string, outputs: string[], sources: string[]): Promise<void> {
  const reason = buildNeeded(root, outputs, sources);
  if (!reason) return;
  process.stderr.write(`Building (${reason}): electron-vite build ...\n`);
  await runBuild(root);
}

// ---------------------------------------------------------------------------------------------
// app
// ---------------------------------------------------------------------------------------------

export type ElectronLookup = { ok: true; path: string } | { ok: false; reason: string };

/**
 * The Electron binary's path, as the electron package reports it when loaded from plain Node
 * (it exports the path, and throws when the binary is absent). Nothing of Electron's API is used.
 */
export function locateElectron(root: string): ElectronLookup {
  try {
    const binary: unknown = createRequire(path.join(root, 'package.json'))('electron');
    if (typeof binary !== 'string')
      return { ok: false, reason: 'the electron package did not return a path' };
    if (!existsSync(binary)) return { ok: false, reason: `${binary} does not exist` };
    return { ok: true, path: binary };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}

const MISSING_ELECTRON = (reason: string): string => `\
The Electron binary is missing: the electron package is installed without it, because
ELECTRON_SKIP_BINARY_DOWNLOAD was set or its download failed (loading the package said: ${reason}).
To get it, on a machine with internet access, in this directory:

    unset ELECTRON_SKIP_BINARY_DOWNLOAD
    node node_modules/electron/install.js

Meanwhile the same UI runs in your browser: web mode (\`npm run web\`).
`;

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(question)).trim();
    return answer === '' || /^y(es)?$/i.test(answer);
  } finally {
    rl.close();
  }
}

function profileEnv(opts: AwsOptions): Record<string, string> {
  return {
    ...(opts.profile ? { EC2_CONNECT_PROFILE: opts.profile } : {}),
    ...(opts.region ? { EC2_CONNECT_REGION: opts.region } : {}),
    ...(opts.endpoint ? { EC2_CONNECT_ENDPOINT: opts.endpoint } : {}),
    ...(opts.logLevel ? { EC2_CONNECT_LOG_LEVEL: opts.logLevel } : {}),
  };
}

export async function runApp(opts: AwsOptions, electronArgs: string[] = []): Promise<number> {
  const root = findProjectRoot();
  const electron = locateElectron(root);
  if (!electron.ok) {
    process.stderr.write(MISSING_ELECTRON(electron.reason));
    if (process.stdin.isTTY && process.stderr.isTTY) {
      if (!(await askYesNo('Start web mode instead? [Y/n] '))) return 1;
    } else {
      process.stderr.write('Not a terminal: starting web mode.\n');
    }
    return runWeb(opts);
  }

  await ensureBuilt(root, APP_OUTPUTS, APP_SOURCES);
  if (process.platform === 'linux' && process.getuid?.() === 0 && !electronArgs.includes('--no-sandbox')) {
    process.stderr.write(
      'Note: Chromium refuses to run as root unless its OS sandbox is disabled; run as a regular user\n' +
        '(or, at your own risk: `ec2-connect app -- --no-sandbox`).\n',
    );
  }

  const env: NodeJS.ProcessEnv = { ...process.env, ...profileEnv(opts) };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(electron.path, [root, ...electronArgs], { cwd: root, env, stdio: 'inherit' });
  // Ctrl-C reaches Electron directly (same process group); the app disposes and exits, and so do we.
  const ignore = (): void => undefined;
  const forwardTerm = (): void => void child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forwardTerm);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', forwardTerm);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15;
}

// ---------------------------------------------------------------------------------------------
// web
// ---------------------------------------------------------------------------------------------

function waitForShutdown(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second Ctrl-C while closing exits at once.
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runWeb(opts: WebOptions): Promise<number> {
  const port = opts.port === undefined ? 0 : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, got ${opts.port}`);
  const root = findProjectRoot();
  const staticDir = path.join(root, 'out', 'renderer');
  try {
    await ensureBuilt(root, WEB_OUTPUTS, WEB_SOURCES);
  } catch (err) {
    // The server still starts and its page says how to build.
    process.stderr.write(`Could not build the renderer: ${(err as Error).message}\n`);
  }

  // The configuration with the flags on top; the log (files in logging.directory, levels live)
  // and the history store (database.*) as it says, as in the desktop app.
  const config = new ConfigStore({ file: configFile(), flags: configFlags(opts) });
  const log = openProcessLog(config, { name: 'web' });
  const logger = log.logger;
  for (const p of config.current.problems) process.stderr.write(`ec2-connect: warning: ${p.message}\n`);
  const history = openConfiguredHistory(config.config, logger);
  const closeConfig = async (): Promise<void> => {
    config.dispose();
    log.dispose();
    await log.close();
  };
  // Loaded here, not at start-up: the workspace brings the AWS SDK, the web server its own stack.
  const { Workspace } = await import('../../core/workspace/workspace.js');
  const { startWebServer } = await import('../../core/web/server.js');
  let workspace: Workspace;
  try {
    workspace = await Workspace.start({
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      config,
      ...(history ? { history } : {}),
      historySource: 'web',
      openUrl: (url) => openInBrowser(url),
      logger,
    });
  } catch (err) {
    history?.close();
    await closeConfig();
    throw err;
  }
  let server;
  try {
    server = await startWebServer({
      host: '127.0.0.1',
      port,
      handlers: workspace.handlers,
      staticDir,
      logger,
    });
  } catch (err) {
    await workspace.close();
    await closeConfig();
    throw err;
  }
  const web = server;
  const forward = workspace.onEvent((e) => web.emit(e.name, e.payload));
  // For `ec2-connect resources`: the live state on a local socket (0600); web mode works without it.
  const status = await startStatusServer({
    dir: statusDir(),
    kind: 'web',
    handlers: workspace.handlers,
    logger,
  }).catch((err: unknown) => {
    logger.warn(
      { err },
      'the status socket could not be started; `ec2-connect resources` will not see this process',
    );
    return undefined;
  });

  const info = await workspace.handlers['app.info'](undefined);
  process.stderr.write(
    `EC2 Connect web mode: profile ${info.profile}, region ${info.region}` +
      `${info.endpoint ? `, endpoint ${info.endpoint}` : ''}\n` +
      'Open this URL (it carries a one-time token; do not share it):\n',
  );
  process.stdout.write(`${server.url}\n`);
  process.stderr.write('Press Ctrl-C to stop.\n');
  if (opts.open) openInBrowser(server.url);

  const signal = await waitForShutdown();
  process.stderr.write(`\n${signal}: closing sessions and shutting down ...\n`);
  forward.dispose();
  await status?.dispose();
  await server.close();
  await workspace.close();
  await closeConfig();
  return 0;
}
