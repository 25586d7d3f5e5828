/**
 * `ec2-connect connect --instance-id i-...`: an interactive shell in this terminal through
 * our own Session Manager protocol (no session-manager-plugin). Raw mode, resize, Ctrl-C
 * passes through, and the exit code says how the session ended.
 *
 * What the session runs: the options given (--document, --command, --parameter, --run-as,
 * --login-shell, --shell-profile), else the session preset named with --preset, else the
 * instance's preset or its tags' (session-presets.json, shared with the app; --no-preset skips
 * them), else the shell. Run-as, login shell and shell profile are typed into the shell once its
 * prompt appears (main/core/sessions/startup-input.ts).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { configFile } from '../../core/config/load.js';
import { planLaunch, presetChoice, type LaunchPlan } from '../../core/sessions/session-launch.js';
import { startupGate, type StartupGate } from '../../core/sessions/startup-gate.js';
import { buildStartupInput, StartupInputError } from '../../core/sessions/startup-input.js';
import {
  describePreset,
  SESSION_PRESETS_FILE,
  SessionPresets,
} from '../../core/workspace/session-presets.js';
import type { ControlPlane } from '../../core/ssm/control-plane.js';
import { SsmSession, type SessionClosed, type SessionOpenOptions } from '../../core/ssm/session.js';
import { openCliHistory, recordCliSession } from '../history.js';
import { DisposableStore, toDisposable, type Disposable } from '../../core/util/lifecycle.js';
import { flowControl, reconnectPolicy } from '../../core/config/apply.js';
import type { Config } from '../../core/config/schema.js';
import { addAwsOptions, cliConfig, loggerFor, profileFor, type AwsOptions } from '../options.js';
import { pipeOutput } from '../output-flow.js';

interface ConnectOptions extends AwsOptions {
  instanceId: string;
  document?: string;
  command?: string;
  nonInteractive?: boolean;
  reason?: string;
  parameter?: string[];
  runAs?: string;
  loginShell?: boolean;
  shellProfile?: string[];
  /** A preset's name or id; false with --no-preset. */
  preset?: string | false;
}

/** The session presets file of this user (beside the configuration file), shared with the app. */
export function presetsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.dirname(configFile(env)), SESSION_PRESETS_FILE);
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Exit status when the connection failed (as ssh uses 255). */
export const EXIT_CONNECTION_FAILED = 255;

export function registerConnectCommand(program: Command): void {
  addAwsOptions(
    program
      .command('connect')
      .description('open an interactive shell on an instance')
      .requiredOption('-i, --instance-id <id|name>', 'instance id (i-...) or its Name tag')
      .option('-d, --document <name>', 'session document (default: the standard shell)')
      .option('-c, --command <command>', 'run this command (AWS-StartInteractiveCommand) instead of a shell')
      .option(
        '-n, --non-interactive',
        'with --command: run it without a terminal (AWS-StartNonInteractiveCommand), stdout and stderr apart, exit with its status',
      )
      .option('--parameter <key=value...>', 'document parameter, repeatable')
      .option(
        '--run-as <user>',
        'become this OS user once the shell is up (sudo -u; with --login-shell, sudo -iu)',
      )
      .option('--login-shell', "a login shell (bash -l, or the --run-as user's login shell)")
      .option('--shell-profile <command>', 'a command typed into the shell at start, repeatable', collect)
      .option('--preset <name|id>', 'use this session preset (`ec2-connect presets list`)')
      .option('--no-preset', "ignore the instance's and its tags' session presets")
      .option('--reason <text>', 'reason recorded with the session'),
  ).action(async (opts: ConnectOptions) => {
    process.exitCode = await runConnect(opts);
  });
}

/** Resolve a Name tag to an instance id (exactly one match), or pass an id through. */
export async function resolveInstance(cp: ControlPlane, idOrName: string): Promise<string> {
  if (/^(i|mi)-[0-9a-f]{8,17}$/.test(idOrName)) return idOrName;
  const all = await cp.listInstances();
  const matches = all.filter((i) => i.name === idOrName);
  if (matches.length === 1) return matches[0]!.instanceId;
  if (matches.length === 0) {
    const names = all
      .map((i) => i.name || i.instanceId)
      .slice(0, 20)
      .join(', ');
    throw new Error(
      `no instance is named "${idOrName}". Known: ${names}. Run \`ec2-connect list\` to see them all.`,
    );
  }
  throw new Error(
    `${matches.length} instances are named "${idOrName}" (${matches.map((m) => m.instanceId).join(', ')}); pass an instance id instead.`,
  );
}

function parseParameters(
  list: string[] | undefined,
  command: string | undefined,
): Record<string, string[]> | undefined {
  const params: Record<string, string[]> = {};
  for (const p of list ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--parameter must be key=value, got "${p}"`);
    (params[p.slice(0, eq)] ??= []).push(p.slice(eq + 1));
  }
  if (command) params.command = [command];
  return Object.keys(params).length ? params : undefined;
}

/** The shell setup given on the command line, typed into the shell once it is up. */
function explicitStartupInput(opts: ConnectOptions): string | undefined {
  return buildStartupInput({
    runAs: opts.runAs,
    loginShell: opts.loginShell,
    shellProfile: opts.shellProfile?.join('\n'),
  });
}

/** Why these options cannot go together, or null. */
function optionConflict(opts: ConnectOptions): string | null {
  const setup = opts.runAs !== undefined || opts.loginShell || (opts.shellProfile?.length ?? 0) > 0;
  const explicit = setup || opts.document || opts.command || (opts.parameter?.length ?? 0) > 0;
  if (opts.nonInteractive && !opts.command) return '--non-interactive needs --command <command>';
  if (typeof opts.preset === 'string' && explicit)
    return '--preset cannot be combined with --document, --command, --parameter, --run-as, --login-shell or --shell-profile (they are the choice a preset makes)';
  if (opts.command && setup)
    return '--run-as, --login-shell and --shell-profile apply to shell sessions; with --command, put sudo -u <user> in the command itself';
  return null;
}

export async function runConnect(opts: ConnectOptions): Promise<number> {
  const conflict = optionConflict(opts);
  if (conflict) {
    process.stderr.write(`ec2-connect: ${conflict}\n`);
    return 2;
  }
  let explicitInput: string | undefined;
  try {
    explicitInput = explicitStartupInput(opts);
  } catch (err) {
    if (!(err instanceof StartupInputError)) throw err;
    process.stderr.write(`ec2-connect: ${err.message}\n`);
    return 2;
  }
  const config = cliConfig(opts).config;
  const logger = loggerFor(opts);
  const resolved = await profileFor(opts, logger);
  const store = new DisposableStore();
  const history = openCliHistory(logger, config);
  try {
    const target = await resolveInstance(resolved.controlPlane, opts.instanceId);
    const stdout = process.stdout;
    const explicit = opts.document || opts.command || opts.parameter?.length || explicitInput !== undefined;
    const plan: LaunchPlan = explicit
      ? {}
      : await presetPlan(opts, resolved.profile, target, () => resolved.controlPlane.listInstances());
    const parameters = parseParameters(opts.parameter, opts.command) ?? plan.parameters;
    const documentName =
      opts.document ??
      (opts.command
        ? opts.nonInteractive
          ? 'AWS-StartNonInteractiveCommand'
          : 'AWS-StartInteractiveCommand'
        : plan.documentName);
    const startupInput = explicitInput ?? plan.startupInput;
    const session = await SsmSession.open({
      controlPlane: resolved.controlPlane,
      target,
      ...(documentName ? { documentName } : {}),
      ...(parameters ? { parameters } : {}),
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...sessionOptions(config),
      logger,
      cols: stdout.isTTY ? stdout.columns : 80,
      rows: stdout.isTTY ? stdout.rows : 24,
    });
    store.add(session);
    if (history) {
      store.add(
        recordCliSession(history, session, {
          instanceId: target,
          instanceName: opts.instanceId === target ? target : opts.instanceId,
          profile: resolved.profile,
          region: resolved.region,
          openMs: session.timings.startSessionMs + session.timings.connectMs + session.timings.handshakeMs,
        }),
      );
    }
    if (!opts.nonInteractive)
      process.stderr.write(`\nStarting session with SessionId: ${session.sessionId}\n\n`);
    const gate = store.add(startupGate(session, startupInput));
    const closed = await attachTerminal(session, gate, store, Boolean(opts.nonInteractive), config);
    if (!opts.nonInteractive)
      process.stderr.write(
        `\n\nExiting session with sessionId: ${session.sessionId}${closed.how === 'ended' && !closed.reason.startsWith('Exiting') ? ` (${closed.reason})` : ''}.\n\n`,
      );
    if (closed.how === 'failed') {
      process.stderr.write(`ec2-connect: ${closed.reason}\n`);
      return EXIT_CONNECTION_FAILED;
    }
    return closed.exitCode ?? 0;
  } catch (err) {
    process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : EXIT_CONNECTION_FAILED;
  } finally {
    store.dispose();
    history?.close();
    await resolved.dispose();
  }
}

/** A problem with the options (exit status 2), found once the instance is known. */
class UsageError extends Error {}

/**
 * The session preset for this connection: the one named with --preset, else the instance's or
 * its tags' (the instance list is read only when a tag preset could apply); none with --no-preset.
 */
async function presetPlan(
  opts: ConnectOptions,
  profile: string,
  target: string,
  listInstances: () => Promise<Array<{ instanceId: string; tags: Record<string, string>; platform: string }>>,
): Promise<LaunchPlan> {
  if (opts.preset === false) return {};
  let listed:
    Promise<Array<{ instanceId: string; tags: Record<string, string>; platform: string }>> | undefined;
  const instance = async () => (await (listed ??= listInstances())).find((i) => i.instanceId === target);
  const presets = new SessionPresets({ file: presetsFile() });
  try {
    let preset;
    if (typeof opts.preset === 'string') {
      try {
        preset = presets.find(opts.preset, profile);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    } else {
      const tags = presets.hasTagPresets(profile) ? (await instance())?.tags : undefined;
      preset = presets.resolve({ profile, instanceId: target, ...(tags ? { tags } : {}) });
    }
    if (presets.problem) process.stderr.write(`ec2-connect: warning: ${presets.problem}\n`);
    if (!preset) return {};
    // Run-as and login shell are left out on a Windows instance (see planLaunch).
    const found = preset.runAs !== undefined || preset.loginShell ? await instance() : undefined;
    const plan = planLaunch(
      presetChoice(preset),
      preset,
      found ? { instanceId: target, windows: /windows/i.test(found.platform) } : undefined,
    );
    const what = [
      plan.launch?.document ?? 'shell',
      preset.runAs ? `as ${preset.runAs}` : '',
      preset.loginShell ? 'login shell' : '',
      preset.shellProfile ? 'shell profile' : '',
    ]
      .filter(Boolean)
      .join(', ');
    process.stderr.write(
      `ec2-connect: using session preset ${describePreset(preset)}: ${what}${typeof opts.preset === 'string' ? '' : ' (--no-preset to skip it)'}\n`,
    );
    return plan;
  } finally {
    presets.dispose();
  }
}

/**
 * What the configuration says about one session: reconnection (session.reconnect_*,
 * aggressive_reconnection), the health check and the data channel's connect timeout.
 */
export function sessionOptions(config: Config): Pick<SessionOpenOptions, 'reconnect' | 'dataChannel'> {
  return {
    reconnect: reconnectPolicy(config),
    dataChannel: {
      healthCheckIntervalMs: config.session.health_check_interval,
      connectTimeoutMs: config.connection.connection_timeout,
    },
  };
}

/** Wire this process's terminal to the session until it closes (input through the startup gate). */
function attachTerminal(
  session: SsmSession,
  gate: StartupGate,
  store: DisposableStore,
  nonInteractive: boolean,
  config: Config,
): Promise<SessionClosed> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  return new Promise<SessionClosed>((resolve) => {
    if (stdin.isTTY && !nonInteractive) store.add(enterRawMode(stdin));
    const onData = (d: Buffer): void => {
      if (session.state !== 'closed') gate.write(d);
    };
    // Piped input: when it ends, the remote shell gets end-of-file (Ctrl-D), as with `ssh host < script`.
    const onEnd = (): void => {
      if (!stdin.isTTY && !nonInteractive) store.add(sendEofWhenQuiet(session));
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
    store.add(
      toDisposable(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      }),
    );

    const onResize = (): void => {
      if (stdout.isTTY) session.resize(stdout.columns, stdout.rows);
    };
    stdout.on('resize', onResize);
    store.add(toDisposable(() => stdout.off('resize', onResize)));

    // Signals that reach us (not in raw mode, or sent by kill) go to the remote side as the plugin does.
    const signalBytes: Array<[NodeJS.Signals, number]> = [
      ['SIGINT', 0x03],
      ['SIGQUIT', 0x1c],
      ['SIGTSTP', 0x1a],
    ];
    for (const [sig, byte] of signalBytes) {
      const h = (): void => {
        if (session.state !== 'closed') gate.write(Buffer.from([byte]));
      };
      process.on(sig, h);
      store.add(toDisposable(() => process.off(sig, h)));
    }

    // A slow reader (a pipe) holds the session back instead of filling this process's memory.
    store.add(pipeOutput(session, stdout, flowControl(config)));
    store.add(session.onStderr((b) => process.stderr.write(b)));
    store.add(
      session.onStateChange((s) => {
        if (s === 'reconnecting')
          process.stderr.write('\r\n[ec2-connect: connection lost, reconnecting...]\r\n');
        else if (s === 'open') process.stderr.write('\r\n[ec2-connect: reconnected]\r\n');
      }),
    );
    store.add(session.onClosed((c) => resolve(c)));
  });
}

/**
 * Raw mode as ssh sets it: Node's raw mode keeps output post-processing (LF becomes CRLF),
 * which would turn a remote program's bare LF into CRLF here; turn it off too with stty,
 * and restore the exact previous settings afterwards.
 */
function enterRawMode(stdin: NodeJS.ReadStream): Disposable {
  let saved: string | undefined;
  if (process.platform !== 'win32') {
    try {
      saved = execFileSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      saved = undefined; // no stty: Node's raw mode alone still works
    }
  }
  stdin.setRawMode(true);
  if (saved) {
    try {
      execFileSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
    } catch {
      // keep Node's raw mode
    }
  }
  return toDisposable(() => {
    stdin.setRawMode(false);
    if (saved) {
      try {
        execFileSync('stty', [saved], { stdio: ['inherit', 'ignore', 'ignore'] });
      } catch {
        // the terminal is gone
      }
    }
  });
}

/**
 * Send Ctrl-D once the remote side has been quiet for a moment, and again (a few times) if the
 * session is still open after more quiet: an EOF typed before the shell's line editor is ready
 * can be discarded by it, and the session would then never end.
 */
export function sendEofWhenQuiet(
  session: SsmSession,
  quietMs = 300,
  retryMs = 2_000,
  maxTries = 5,
): Disposable {
  let tries = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (session.state === 'closed') return;
      session.write(Buffer.from([0x04]));
      if (++tries < maxTries) arm(retryMs);
    }, ms);
  };
  const sub = session.onOutput(() => arm(tries === 0 ? quietMs : retryMs));
  arm(quietMs);
  return toDisposable(() => {
    if (timer) clearTimeout(timer);
    sub.dispose();
  });
}
