/**
 * `ec2-connect connect --instance-id i-...`: an interactive shell in this terminal through
 * our own Session Manager protocol (no session-manager-plugin). Raw mode, resize, Ctrl-C
 * passes through, and the exit code says how the session ended.
 */
import type { Command } from 'commander';
import type { ControlPlane } from '../../core/ssm/control-plane.js';
import { SsmSession, type SessionClosed } from '../../core/ssm/session.js';
import { DisposableStore, toDisposable } from '../../core/util/lifecycle.js';
import { addAwsOptions, loggerFor, profileFor, type AwsOptions } from '../options.js';

interface ConnectOptions extends AwsOptions {
  instanceId: string;
  document?: string;
  command?: string;
  nonInteractive?: boolean;
  reason?: string;
  parameter?: string[];
}

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

export async function runConnect(opts: ConnectOptions): Promise<number> {
  if (opts.nonInteractive && !opts.command) {
    process.stderr.write('ec2-connect: --non-interactive needs --command <command>\n');
    return 2;
  }
  const logger = loggerFor(opts);
  const resolved = await profileFor(opts, logger);
  const store = new DisposableStore();
  try {
    const target = await resolveInstance(resolved.controlPlane, opts.instanceId);
    const stdout = process.stdout;
    const parameters = parseParameters(opts.parameter, opts.command);
    const session = await SsmSession.open({
      controlPlane: resolved.controlPlane,
      target,
      ...(opts.command
        ? {
            documentName:
              opts.document ??
              (opts.nonInteractive ? 'AWS-StartNonInteractiveCommand' : 'AWS-StartInteractiveCommand'),
          }
        : {}),
      ...(opts.document ? { documentName: opts.document } : {}),
      ...(parameters ? { parameters } : {}),
      ...(opts.reason ? { reason: opts.reason } : {}),
      logger,
      cols: stdout.isTTY ? stdout.columns : 80,
      rows: stdout.isTTY ? stdout.rows : 24,
    });
    store.add(session);
    if (!opts.nonInteractive)
      process.stderr.write(`\nStarting session with SessionId: ${session.sessionId}\n\n`);
    const closed = await attachTerminal(session, store, Boolean(opts.nonInteractive));
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
    return EXIT_CONNECTION_FAILED;
  } finally {
    store.dispose();
    await resolved.dispose();
  }
}

/** Wire this process's terminal to the session until it closes. */
function attachTerminal(
  session: SsmSession,
  store: DisposableStore,
  nonInteractive: boolean,
): Promise<SessionClosed> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  return new Promise<SessionClosed>((resolve) => {
    if (stdin.isTTY && !nonInteractive) {
      stdin.setRawMode(true);
      store.add(toDisposable(() => stdin.setRawMode(false)));
    }
    const onData = (d: Buffer): void => {
      if (session.state !== 'closed') session.write(d);
    };
    // Piped input: when it ends, send EOF (Ctrl-D) so the remote shell exits as `ssh host < script` does.
    const onEnd = (): void => {
      if (!stdin.isTTY && !nonInteractive && session.state !== 'closed') session.write(Buffer.from([0x04]));
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
        if (session.state !== 'closed') session.write(Buffer.from([byte]));
      };
      process.on(sig, h);
      store.add(toDisposable(() => process.off(sig, h)));
    }

    store.add(session.onOutput((b) => stdout.write(b)));
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
