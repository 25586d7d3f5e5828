/**
 * `ec2-connect sandbox`: run the local AWS emulation standalone and print how to reach
 * it (endpoint, credentials, admin token), for the AWS CLI, the official plugin or
 * another `ec2-connect --endpoint ...`.
 */
import type { Command } from 'commander';
import { createLogger } from '../../core/log/logger.js';

interface SandboxCommandOptions {
  port: string;
  host: string;
  allowNonLoopback?: boolean;
  fleet?: string;
  region: string;
  json?: boolean;
  logLevel?: string;
  faults?: string;
  seed?: string;
}

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description('run the local AWS sandbox (SSM, EC2, STS and data channels backed by real shells)')
    .option('--port <port>', 'TCP port (0 = any free port)', '0')
    .option(
      '--host <address>',
      'address to listen on (loopback only unless --allow-non-loopback)',
      '127.0.0.1',
    )
    .option(
      '--allow-non-loopback',
      'allow a non-loopback address: anyone who can reach it gets a shell on this machine',
    )
    .option('--fleet <file>', 'JSON file describing the fake instances')
    .option('--region <region>', 'region the sandbox reports', 'us-east-1')
    .option('--json', 'print the connection details as JSON')
    .option(
      '--faults <json>',
      'faults from the start, e.g. \'{"dataChannel":{"dropRate":0.05}}\' (see docs/sandbox.md)',
    )
    .option('--seed <n>', 'seed for the fault injector, to replay a run')
    .option('--log-level <level>', 'log level on stderr', 'info')
    .action(async (opts: SandboxCommandOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--port must be a number from 0 to 65535, got "${opts.port}"`);
      }
      let faults: unknown;
      if (opts.faults) {
        try {
          faults = JSON.parse(opts.faults);
        } catch (err) {
          throw new Error(`--faults is not valid JSON: ${(err as Error).message}`, { cause: err });
        }
      }
      const logger = createLogger({ level: (opts.logLevel as 'info') ?? 'info' });
      // Loaded here, not at start-up: the sandbox brings the AWS SDK (KMS) and its servers.
      const { startSandbox } = await import('../../sandbox/server.js');
      const { canStartSession } = await import('../../sandbox/fleet.js');
      const sb = await startSandbox({
        port,
        host: opts.host,
        region: opts.region,
        ...(opts.allowNonLoopback ? { allowNonLoopback: true } : {}),
        ...(opts.fleet ? { fleet: opts.fleet } : {}),
        ...(faults !== undefined ? { faults } : {}),
        ...(opts.seed ? { faultSeed: Number(opts.seed) } : {}),
        logger,
      });
      const info = {
        endpoint: sb.endpoint,
        region: sb.region,
        accessKeyId: sb.credentials.accessKeyId,
        secretAccessKey: sb.credentials.secretAccessKey,
        adminToken: sb.adminToken,
        instances: sb.fleet
          .list()
          .map((i) => ({ instanceId: i.instanceId, name: i.name, state: i.state, pingStatus: i.pingStatus })),
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(info) + '\n');
      } else {
        const lines = [
          `EC2 Connect sandbox listening on ${sb.endpoint} (region ${sb.region})`,
          '',
          'Use it from a shell:',
          `  export AWS_ACCESS_KEY_ID=${sb.credentials.accessKeyId}`,
          `  export AWS_SECRET_ACCESS_KEY=${sb.credentials.secretAccessKey}`,
          `  export AWS_REGION=${sb.region}`,
          `  ec2-connect connect --endpoint ${sb.endpoint} --instance-id ${sb.fleet.list().find(canStartSession)?.instanceId ?? 'i-...'}`,
          `  aws ssm start-session --endpoint-url ${sb.endpoint} --target <instance-id>`,
          '',
          `Fault injection: POST ${sb.endpoint}/__sandbox/faults with header x-sandbox-admin-token: ${sb.adminToken}`,
          '',
          'Instances:',
          ...info.instances.map(
            (i) => `  ${i.instanceId}  ${i.name.padEnd(16)} ${i.state.padEnd(9)} ${i.pingStatus}`,
          ),
          '',
          'Press Ctrl-C to stop.',
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sb.close();
    });
}
