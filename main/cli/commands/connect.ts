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
import path from 'node:path';
import type { Command } from 'commander';
import { configFile } from '../../core/config/load.js';
import { planLaunch, presetChoice, type LaunchPlan } from '../../core/sessions/session-launch.js';
import {
  effectivePersistence,
  isLostConnection,
  newPersistentName,
  startupInputFor,
  type Persistence,
} from '../../core/sessions/persistent.js';
import { startupGate } from '../../core/sessions/startup-gate.js';
import { buildStartupInput, StartupInputError } from '../../core/sessions/startup-input.js';
import {
  describePreset,
  SESSION_PRESETS_FILE,
  SessionPresets,
} from '../../core/workspace/session-presets.js';
import type { ControlPlane } from '../../core/ssm/control-plane.js';
import type { SsmSession, SessionClosed, SessionOpenOptions } from '../../core/ssm/session.js';
import { openCliHistory, recordCliSession } from '../history.js';
import { DisposableStore, toDisposable, type Disposable } from '../../core/util/lifecycle.js';
import { flowControl, reconnectPolicy } from '../../core/config/apply.js';
import type { Config } from '../../core/config/schema.js';
import type { Logger } from '../../core/log/logger.js';
import {
  addAwsOptions,
  addSessionFlags,
  cliConfig,
  loggerFor,
  profileFor,
  type AwsOptions,
  type SessionFlags,
} from '../options.js';
import { LocalTerminal } from '../local-terminal.js';
import { pipeOutput } from '../output-flow.js';
import {
  describePersistence,
  reattachWithTries,
  rejoinHint,
  type ReattachTriesOptions,
} from '../reattach.js';

interface ConnectOptions extends AwsOptions, SessionFlags {
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
    addSessionFlags(
      program
        .command('connect')
        .description('open an interactive shell on an instance')
        .requiredOption('-i, --instance-id <id|name>', 'instance id (i-...) or its Name tag')
        .option('-d, --document <name>', 'session document (default: the standard shell)')
        .option(
          '-c, --command <command>',
          'run this command (AWS-StartInteractiveCommand) instead of a shell',
        )
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
    ),
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
  if (opts.command && (opts.persist === 'tmux' || opts.persist === 'screen'))
    return `--persist ${opts.persist} applies to shell sessions: a command session runs its command, not a shell to start ${opts.persist} in`;
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
    // Listed at most once, and only when a tag preset or persistence needs it.
    let listed: ReturnType<ControlPlane['listInstances']> | undefined;
    const listInstances = (): ReturnType<ControlPlane['listInstances']> =>
      (listed ??= resolved.controlPlane.listInstances());
    const plan: LaunchPlan = explicit ? {} : await presetPlan(opts, resolved.profile, target, listInstances);
    const parameters = parseParameters(opts.parameter, opts.command) ?? plan.parameters;
    const documentName =
      opts.document ??
      (opts.command
        ? opts.nonInteractive
          ? 'AWS-StartNonInteractiveCommand'
          : 'AWS-StartInteractiveCommand'
        : plan.documentName);
    const startupInput = explicitInput ?? plan.startupInput;
    const where = opts.instanceId;
    const persistence = await persistenceFor(opts, config, logger, {
      where,
      documentName,
      platform: async () => (await listInstances()).find((i) => i.instanceId === target)?.platform,
    });
    // Loaded here, not at start-up (it brings the AWS SDK): `ec2-connect --version` stays fast.
    const { SsmSession } = await import('../../core/ssm/session.js');
    // Each session (the first, and each re-attach) opens with the same choice at the terminal's size of then.
    const openSession = (): Promise<SsmSession> =>
      SsmSession.open({
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
    const track = (session: SsmSession): void => {
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
    };
    let session = await openSession();
    track(session);
    if (!opts.nonInteractive) {
      const { encrypted, kmsKeyId } = session.handshake ?? {};
      if (encrypted && kmsKeyId)
        process.stderr.write(`ec2-connect: session encrypted with KMS key ${kmsKeyId}\n`);
      process.stderr.write(`\nStarting session with SessionId: ${session.sessionId}\n\n`);
    }
    // Raw mode from here to the end, across re-attaches.
    const terminal = store.add(
      new LocalTerminal(process.stdin, stdout, process.stderr, !opts.nonInteractive),
    );
    for (;;) {
      const { closed, lost } = await runSession(
        session,
        startupInputFor(startupInput, persistence),
        terminal,
        config,
      );
      // Whatever had the screen (tmux, an editor) is gone with the session: the normal screen
      // again, where the lines below (and a re-attach's status lines) stay readable.
      terminal.restoreScreen();
      if (lost && persistence && config.session.auto_reattach) {
        const next = await reattach(terminal, {
          open: openSession,
          discard: (s) => s.terminate('re-attach stopped by the user'),
          where,
          persistence,
        });
        if (next) {
          session = next;
          track(session);
          continue;
        }
        return EXIT_CONNECTION_FAILED;
      }
      if (!opts.nonInteractive) {
        // Raw mode has no output post-processing: each line end returns to the left edge itself.
        const nl = terminal.raw ? '\r\n' : '\n';
        process.stderr.write(
          `${nl}${nl}Exiting session with sessionId: ${session.sessionId}${closed.how === 'ended' && !closed.reason.startsWith('Exiting') ? ` (${closed.reason})` : ''}.${nl}${nl}`,
        );
      }
      if (lost) {
        const couldPersist =
          config.session.persistence === 'off' &&
          effectivePersistence('tmux', { documentName }).mode !== 'off';
        terminal.line(`ec2-connect: ${lostMessage(where, closed.reason, persistence, couldPersist)}`);
        return EXIT_CONNECTION_FAILED;
      }
      if (closed.how === 'failed') {
        process.stderr.write(`ec2-connect: ${closed.reason}\n`);
        return EXIT_CONNECTION_FAILED;
      }
      return closed.exitCode ?? 0;
    }
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

/**
 * Give the terminal to `session` until it closes: input through the startup gate (`startupInput`
 * typed once the shell prompts), output with flow control, resize, the reconnect messages.
 * `lost`: it closed because its connection was lost for good (isLostConnection).
 */
function runSession(
  session: SsmSession,
  startupInput: string | undefined,
  terminal: LocalTerminal,
  config: Config,
): Promise<{ closed: SessionClosed; lost: boolean }> {
  const subs = new DisposableStore();
  const gate = subs.add(startupGate(session, startupInput));
  let reconnecting = false;
  return new Promise((resolve) => {
    subs.add(
      terminal.hold({
        input: (d) => {
          if (session.state !== 'closed') gate.write(d);
        },
        // Piped input ended: the remote shell gets end-of-file (Ctrl-D), as with `ssh host < script`.
        end: () => subs.add(sendEofWhenQuiet(session)),
        resize: (cols, rows) => session.resize(cols, rows),
      }),
    );
    // A slow reader (a pipe) holds the session back instead of filling this process's memory.
    subs.add(pipeOutput(session, process.stdout, flowControl(config)));
    subs.add(session.onOutput((b) => terminal.sawOutput(b)));
    subs.add(session.onStderr((b) => process.stderr.write(b)));
    subs.add(
      session.onStateChange((s) => {
        if (s === 'reconnecting') {
          reconnecting = true;
          process.stderr.write('\r\n[ec2-connect: connection lost, reconnecting...]\r\n');
        } else if (s === 'open') {
          reconnecting = false;
          process.stderr.write('\r\n[ec2-connect: reconnected]\r\n');
        }
      }),
    );
    subs.add(
      session.onClosed((closed) => {
        const lost = isLostConnection(reconnecting, closed);
        subs.dispose();
        resolve({ closed, lost });
      }),
    );
  });
}

/**
 * Re-attach a lost session to its tmux/screen session (reattachWithTries), with status lines on
 * the terminal. Input typed meanwhile is dropped, not held: there is no shell to take it, and keys
 * typed blind would land in whatever tmux shows after the re-attach (which redraws its screen
 * first, so the user sees where they are before typing again); Ctrl-C stops the tries.
 * Resolves with the new session, or undefined when it gave up or was stopped (said on stderr).
 */
async function reattach(
  terminal: LocalTerminal,
  o: Pick<ReattachTriesOptions<SsmSession>, 'open' | 'discard' | 'where' | 'persistence'>,
): Promise<SsmSession | undefined> {
  const stop = new AbortController();
  const held = terminal.hold({
    input: (d) => {
      if (d.includes(0x03) && !stop.signal.aborted) {
        terminal.line('ec2-connect: stopping the re-attach…');
        stop.abort();
      }
    },
  });
  try {
    const outcome = await reattachWithTries({
      ...o,
      status: (line) => terminal.line(line),
      signal: stop.signal,
    });
    if (outcome.ok) {
      terminal.line(
        `ec2-connect: re-attached to ${describePersistence(o.persistence)} on ${o.where} (session ${outcome.value.sessionId}).`,
      );
      return outcome.value;
    }
    const hint = rejoinHint(o.where, o.persistence);
    terminal.line(
      outcome.stopped
        ? `ec2-connect: re-attach stopped; ${hint}.`
        : `ec2-connect: could not re-attach to ${o.where} after ${outcome.attempts} attempts (${outcome.lastError ?? 'unknown error'}); ${hint}.`,
    );
    return undefined;
  } finally {
    held.dispose();
  }
}

/**
 * What `connect` says when a session was lost for good and is not re-attached; `suggest`: a
 * shell that persistence could have kept (it was off).
 */
function lostMessage(
  where: string,
  reason: string,
  persistence: Persistence | null,
  suggest: boolean,
): string {
  const lost = `connection to ${where} lost for longer than the service keeps sessions (${reason})`;
  if (persistence)
    return `${lost}; ${rejoinHint(where, persistence)}, or let ec2-connect re-attach by itself (--auto-reattach, session.auto_reattach).`;
  return suggest
    ? `${lost}; nothing was kept running there (--persist tmux or screen keeps the shell running across such drops).`
    : `${lost}.`;
}

/**
 * The tmux or screen session this connection's shell runs in (--persist, else
 * session.persistence), or null: persistence off, a command session, or a Windows instance
 * (said on stderr).
 */
async function persistenceFor(
  opts: ConnectOptions,
  config: Config,
  logger: Logger,
  on: { where: string; documentName: string | undefined; platform: () => Promise<string | undefined> },
): Promise<Persistence | null> {
  const mode = config.session.persistence;
  if (mode === 'off') return null;
  const asked = opts.persist === mode;
  if (effectivePersistence(mode, { documentName: on.documentName }).plainBecause === 'command') {
    if (asked)
      process.stderr.write(
        `ec2-connect: the session runs a command, not a shell: no ${mode} (--persist is for shells)\n`,
      );
    return null;
  }
  let platform: string | undefined;
  try {
    platform = await on.platform();
  } catch (err) {
    logger.warn({ err }, `the instance list is unavailable: ${mode} is tried whatever the platform`);
  }
  const effective = effectivePersistence(mode, { documentName: on.documentName, platform });
  if (effective.mode === 'off') {
    process.stderr.write(
      `ec2-connect: ${on.where} is a Windows instance, which has no ${mode}: a plain shell, not kept running across a lost connection\n`,
    );
    return null;
  }
  return { tool: effective.mode, name: newPersistentName() };
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
