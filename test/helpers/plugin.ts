/**
 * The official AWS session-manager-plugin for the interop tests (test/interop): where it is, and
 * how a test starts it on a session the sandbox started, the way the AWS CLI does (the
 * StartSession response, the region, "StartSession", no profile, the request, the endpoint),
 * with the sandbox's credentials in its environment. What it prints is collected in an Output
 * that a test waits on.
 *
 * The plugin is looked for in SESSION_MANAGER_PLUGIN, ../shared/tools (built from source) and
 * its install paths; without it the tests that need it are skipped (describe.skipIf(!plugin)),
 * and a warning says where it was looked for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import type { Fixture } from './sandbox.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const candidates = [
  process.env.SESSION_MANAGER_PLUGIN,
  resolve(repo, '../shared/tools/session-manager-plugin/session-manager-plugin'),
  '/usr/local/bin/session-manager-plugin',
  '/usr/local/sessionmanagerplugin/bin/session-manager-plugin',
].filter((p): p is string => Boolean(p));

/** The plugin's path, or undefined when it is not on this machine. */
export const plugin = candidates.find((p) => existsSync(p));
if (!plugin)
  console.warn(
    `session-manager-plugin not found (looked in ${candidates.join(', ')}); the interop tests that need it are skipped`,
  );

/** What the control plane's StartSession answered. */
export interface StartedSession {
  sessionId: string;
  tokenValue: string;
  streamUrl: string;
}

/** What a process printed so far, and a wait for a pattern in it. */
export class Output {
  text = '';

  readonly append = (data: string | Buffer): void => {
    this.text += data.toString();
  };

  /** Until `re` matches the text from `from` on; a timeout shows the last of it. */
  async waitFor(re: RegExp, timeoutMs = 30_000, from = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.text.slice(from))) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${re}; output: ${JSON.stringify(this.text.slice(-600))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function pluginPath(): string {
  if (!plugin)
    throw new Error(
      `session-manager-plugin not found (looked in ${candidates.join(', ')}): set SESSION_MANAGER_PLUGIN to its path`,
    );
  return plugin;
}

function pluginArgs(fx: Fixture, started: StartedSession, request: Record<string, unknown>): string[] {
  return [
    JSON.stringify({
      SessionId: started.sessionId,
      TokenValue: started.tokenValue,
      StreamUrl: started.streamUrl,
    }),
    fx.sandbox.region,
    'StartSession',
    '',
    JSON.stringify(request),
    fx.sandbox.endpoint,
  ];
}

function pluginEnv(fx: Fixture, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: fx.sandbox.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: fx.sandbox.credentials.secretAccessKey,
    AWS_REGION: fx.sandbox.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

export interface PluginLaunch {
  started: StartedSession;
  /** The StartSession request as the CLI passes it on (Target, DocumentName, Parameters). */
  request: Record<string, unknown>;
  /** More environment (a proxy, a CA bundle). */
  env?: Record<string, string>;
}

/**
 * The plugin in a 100x30 terminal (a shell session): what it shows, its exit code once it exits,
 * and `exitShell()`: "exit" typed at the prompt, then the plugin's goodbye and its exit code.
 */
export function pluginInTerminal(
  fx: Fixture,
  launch: PluginLaunch,
): { proc: pty.IPty; screen: Output; exited: Promise<number>; exitShell(): Promise<number> } {
  const proc = pty.spawn(pluginPath(), pluginArgs(fx, launch.started, launch.request), {
    name: 'xterm-256color',
    cols: 100,
    rows: 30,
    env: pluginEnv(fx, launch.env ?? {}),
  });
  const screen = new Output();
  proc.onData(screen.append);
  const exited = new Promise<number>((r) => proc.onExit((e) => r(e.exitCode)));
  const exitShell = async (): Promise<number> => {
    proc.write('exit\r');
    await screen.waitFor(/Exiting session with sessionId/);
    return exited;
  };
  return { proc, screen, exited, exitShell };
}

/** The plugin on pipes (a port session): stdout and stderr together in `output`. */
export function pluginOnPipes(fx: Fixture, launch: PluginLaunch): { proc: ChildProcess; output: Output } {
  const proc = spawn(pluginPath(), pluginArgs(fx, launch.started, launch.request), {
    env: pluginEnv(fx, launch.env ?? {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = new Output();
  proc.stdout!.on('data', output.append);
  proc.stderr!.on('data', output.append);
  return { proc, output };
}
