/**
 * `ec2-connect forward --instance-id ID --remote-port P [--local-port L] [--host H]`: a local
 * port that reaches a port on the instance, or a host the instance can reach, until Ctrl-C or
 * until the session ends. Each connection is reported on stderr (opened, closed, refused);
 * the first line on stdout is the local address, for scripts.
 *
 * While it runs, the forward is served on a status socket (kind `forward`, the port routes of
 * main/core/monitor/status-server.ts), so `ec2-connect forward list` shows it beside the app's
 * forwards and `ec2-connect forward close <id>` stops it (forward-status.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { reconnectPolicy } from '../../core/config/apply.js';
import { startStatusServer, statusDir, type StatusServer } from '../../core/monitor/status-server.js';
import type { PortForward } from '../../core/ssm/port/port-forward.js';
import type { ForwardRecord } from '../../core/workspace/ports.js';
import { formatBytes } from '../../core/util/format-bytes.js';
import type { Config } from '../../core/config/schema.js';
import type { Logger } from '../../core/log/logger.js';
import type { ResolvedProfile } from '../../sandbox/embedded-profile.js';
import { addAwsOptions, cliConfig, withProfile, type AwsOptions } from '../options.js';
import { EXIT_CONNECTION_FAILED, resolveInstance } from './connect.js';
import { registerForwardStatusCommands } from './forward-status.js';

export interface ForwardOptions extends AwsOptions {
  instanceId: string;
  remotePort: number;
  /** Serve the forward on a status socket for `forward list` / `forward close` (default true). */
  status?: boolean;
  localPort?: number;
  host?: string;
  localHost?: string;
  document?: string;
  reason?: string;
  quiet?: boolean;
}

export function parsePort(what: string, allowZero: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 65535 || (!allowZero && n === 0)) {
      throw new InvalidArgumentError(
        `${what} must be a port number from ${allowZero ? 0 : 1} to 65535, got "${value}".`,
      );
    }
    return n;
  };
}

const INSTANCE_FLAGS = '-i, --instance-id <id|name>';
const REMOTE_PORT_FLAGS = '--remote-port <port>';

export function registerForwardCommand(program: Command): void {
  const forward = program
    .command('forward')
    .description(
      'forward a local port to a port on an instance, or to a host the instance reaches; `forward list` and `forward close` manage running forwards',
    );
  // Not requiredOption: commander checks a parent's required options for its subcommands too
  // (`forward list` has neither); the action checks them instead, with commander's message.
  addAwsOptions(
    forward
      .option(INSTANCE_FLAGS, 'instance id (i-...) or its Name tag (required)')
      .option(
        `${REMOTE_PORT_FLAGS}`,
        'the port on the instance, or on --host (required)',
        parsePort('--remote-port', false),
      )
      .option(
        '--local-port <port>',
        'the local port (default 0: any free port)',
        parsePort('--local-port', true),
      )
      .option(
        '--host <host>',
        'a host reached from the instance (AWS-StartPortForwardingSessionToRemoteHost)',
      )
      .option('--local-host <address>', 'the local address to listen on (default 127.0.0.1)')
      .option('-d, --document <name>', 'a custom port-forwarding document')
      .option('--reason <text>', 'reason recorded with the session')
      .option('-q, --quiet', 'do not report each connection')
      .option('--no-status', 'do not serve the forward for `ec2-connect forward list` / `forward close`'),
  ).action(async (opts: ForwardOptions, cmd: Command) => {
    if (opts.instanceId === undefined) cmd.error(`error: required option '${INSTANCE_FLAGS}' not specified`);
    if (opts.remotePort === undefined)
      cmd.error(`error: required option '${REMOTE_PORT_FLAGS}' not specified`);
    process.exitCode = await runForward(opts);
  });
  registerForwardStatusCommands(forward);
}

export function runForward(opts: ForwardOptions): Promise<number> {
  const config = cliConfig(opts).config;
  return withProfile(
    opts,
    (resolved, logger) => forwardWith(opts, config, resolved, logger),
    EXIT_CONNECTION_FAILED,
  );
}

async function forwardWith(
  opts: ForwardOptions,
  config: Config,
  resolved: ResolvedProfile,
  logger: Logger,
): Promise<number> {
  let forward: PortForward | undefined;
  let status: StatusServer | undefined;
  try {
    // Loaded here, not at start-up: they bring the AWS SDK.
    const { PortForward } = await import('../../core/ssm/port/port-forward.js');
    const { endedState, forwardState, ForwardRecord } = await import('../../core/workspace/ports.js');
    const target = await resolveInstance(resolved.controlPlane, opts.instanceId);
    forward = await PortForward.open({
      controlPlane: resolved.controlPlane,
      target,
      remotePort: opts.remotePort,
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.localHost ? { localHost: opts.localHost } : {}),
      ...(opts.document ? { documentName: opts.document } : {}),
      ...(opts.reason ? { reason: opts.reason } : {}),
      reconnect: reconnectPolicy(config),
      dataChannel: {
        healthCheckIntervalMs: config.session.health_check_interval,
        connectTimeoutMs: config.connection.connection_timeout,
      },
      logger,
    });
    const fw = forward;
    const record = new ForwardRecord({
      instanceId: target,
      instanceName: opts.instanceId,
      profile: resolved.profile,
      region: resolved.region,
      remotePort: opts.remotePort,
      host: opts.host ?? null,
      label: null,
      localPort: opts.localPort ?? 0,
      savedId: null,
    });
    record.attach(fw);
    fw.onStateChange((s) => {
      if (record.live && s !== 'closed') record.state = forwardState(s);
    });
    fw.onClosed((closed) => record.end(endedState(closed), closed.reason));
    if (opts.status !== false) status = await serveStatus(record, fw, logger);
    const to = opts.host
      ? `${opts.host}:${opts.remotePort} through ${target}`
      : `port ${opts.remotePort} on ${target}`;
    process.stdout.write(`${fw.localAddress}\n`);
    process.stderr.write(
      `Forwarding ${fw.localAddress} -> ${to} (session ${fw.sessionId}, ${fw.mode}). Press Ctrl-C to stop.\n`,
    );
    if (!opts.quiet) {
      fw.onConnection((e) => {
        const c = e.connection;
        if (e.kind === 'opened') process.stderr.write(`[#${c.id}] connection from ${c.client}\n`);
        else
          process.stderr.write(
            `[#${c.id}] ${e.kind === 'failed' ? 'failed' : 'closed'} after ${formatBytes(c.bytesOut)} out, ${formatBytes(c.bytesIn)} in${e.reason === 'closed' ? '' : `: ${e.reason}`}\n`,
          );
      });
    }
    fw.onStateChange((s) => {
      if (s === 'reconnecting')
        process.stderr.write('[ec2-connect: connection lost, reconnecting; open connections wait]\n');
      else if (s === 'open') process.stderr.write('[ec2-connect: reconnected]\n');
    });
    const outcome = await new Promise<{ signal?: NodeJS.Signals; closed?: { reason: string; how: string } }>(
      (resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => resolve({ signal });
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        fw.onClosed((closed) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve({ closed });
        });
      },
    );
    if (outcome.signal) {
      await fw.close(`stopped (${outcome.signal})`);
      const s = fw.stats;
      process.stderr.write(
        `Stopped: ${s.totalConnections} connection(s), ${formatBytes(s.bytesOut)} out, ${formatBytes(s.bytesIn)} in.\n`,
      );
      return 0;
    }
    process.stderr.write(`ec2-connect: the forward ended: ${outcome.closed!.reason}\n`);
    return outcome.closed!.how === 'failed' ? EXIT_CONNECTION_FAILED : 0;
  } finally {
    // First: a `forward close` request in flight gets its answer before the socket goes.
    await status?.dispose();
    forward?.dispose();
  }
}

/** Serve this forward on the status socket (kind `forward`); the forward works without it. */
async function serveStatus(
  record: ForwardRecord,
  fw: PortForward,
  logger: Logger,
): Promise<StatusServer | undefined> {
  return startStatusServer({
    dir: statusDir(),
    kind: 'forward',
    handlers: {
      'ports.list': async () => ({ forwards: [record.info()], saved: [], savedProblem: null }),
      'ports.close': async ({ id }) => {
        if (id === record.id) await fw.close('closed by `ec2-connect forward close`');
        return null;
      },
    },
    logger,
  }).catch((err: unknown) => {
    logger.warn(
      { err },
      'the status socket could not be started; `ec2-connect forward list` will not show this forward',
    );
    return undefined;
  });
}
