/**
 * `ec2-connect ssh-proxy --instance-id ID [--port 22]`: an OpenSSH ProxyCommand over
 * AWS-StartSSHSession. Standard input and output carry the SSH connection, so nothing but
 * errors is ever written to stderr, and nothing at all to stdout. In ~/.ssh/config:
 *
 *   Host i-* mi-*
 *     ProxyCommand ec2-connect ssh-proxy --instance-id %h --port %p
 *
 * scp, rsync and sftp then work through it (`scp file ec2-user@i-0abc:`).
 */
import type { Command } from 'commander';
import { reconnectPolicy } from '../../core/config/apply.js';
import { addAwsOptions, cliConfig, withProfile, type AwsOptions } from '../options.js';
import { EXIT_CONNECTION_FAILED, resolveInstance } from './connect.js';
import { parsePort } from './forward.js';

interface SshProxyOptions extends AwsOptions {
  instanceId: string;
  port: number;
  document?: string;
}

export function registerSshProxyCommand(program: Command): void {
  addAwsOptions(
    program
      .command('ssh-proxy')
      .description('carry an SSH connection on stdin/stdout (OpenSSH ProxyCommand) over AWS-StartSSHSession')
      .requiredOption('-i, --instance-id <id|name>', 'instance id (i-...) or its Name tag (%h in ssh_config)')
      .option(
        '--port <port>',
        'the SSH port on the instance (%p in ssh_config)',
        parsePort('--port', false),
        22,
      )
      .option('-d, --document <name>', 'the session document (default AWS-StartSSHSession)'),
  ).action(async (opts: SshProxyOptions) => {
    process.exitCode = await runSshProxy(opts);
  });
}

export function runSshProxy(opts: SshProxyOptions): Promise<number> {
  const config = cliConfig(opts).config;
  return withProfile(
    opts,
    async (resolved, logger) => {
      const target = await resolveInstance(resolved.controlPlane, opts.instanceId);
      // Loaded here, not at start-up: it brings the AWS SDK.
      const { openPortStream } = await import('../../core/ssm/port/port-stream.js');
      const stream = await openPortStream({
        controlPlane: resolved.controlPlane,
        target,
        port: opts.port,
        ...(opts.document ? { documentName: opts.document } : {}),
        input: process.stdin,
        output: process.stdout,
        reconnect: reconnectPolicy(config),
        logger,
      });
      // ssh sends SIGHUP to its ProxyCommand when it exits: end the session on the service too,
      // rather than leave it waiting out its reconnect window.
      const onSignal = (signal: NodeJS.Signals): void => {
        void stream.session.terminate(`ssh ended the proxy (${signal})`).catch(() => undefined);
      };
      const signals: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT'];
      for (const sig of signals) process.on(sig, onSignal);
      const closed = await stream.done.finally(() => {
        for (const sig of signals) process.off(sig, onSignal);
      });
      if (closed.how === 'failed') {
        process.stderr.write(`ec2-connect: ${closed.reason}\n`);
        return EXIT_CONNECTION_FAILED;
      }
      return 0;
    },
    EXIT_CONNECTION_FAILED,
  );
}
