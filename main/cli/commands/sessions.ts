/**
 * `ec2-connect sessions`: Session Manager sessions as the service sees them (DescribeSessions),
 * active by default or `--history`; `ec2-connect terminate <session-id...>` ends sessions.
 */
import type { Command } from 'commander';
import type { Session } from '@aws-sdk/client-ssm';
import { renderTable } from '../table.js';
import { addAwsOptions, withProfile, type AwsOptions } from '../options.js';

interface SessionsOptions extends AwsOptions {
  history?: boolean;
  target?: string;
  json?: boolean;
}

export function registerSessionsCommands(program: Command): void {
  addAwsOptions(
    program
      .command('sessions')
      .description('list Session Manager sessions (active, or --history)')
      .option('--history', 'ended sessions instead of active ones')
      .option('--target <instance-id>', 'only sessions to this instance')
      .option('--json', 'print JSON'),
  ).action(async (opts: SessionsOptions) => {
    process.exitCode = await runSessions(opts);
  });

  addAwsOptions(
    program
      .command('terminate')
      .description('terminate Session Manager sessions')
      .argument('<session-id...>', 'session ids (see `ec2-connect sessions`)'),
  ).action(async (ids: string[], opts: AwsOptions) => {
    process.exitCode = await runTerminate(ids, opts);
  });
}

export function formatSessions(sessions: Session[]): string {
  const head = ['SESSION ID', 'TARGET', 'STATUS', 'STARTED', 'ENDED', 'DOCUMENT', 'OWNER'];
  const rows = sessions.map((s) => [
    s.SessionId ?? '',
    s.Target ?? '',
    s.Status ?? '',
    s.StartDate ? s.StartDate.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-',
    s.EndDate ? s.EndDate.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-',
    s.DocumentName ?? '-',
    s.Owner ?? '',
  ]);
  return renderTable(head, rows);
}

export function runSessions(opts: SessionsOptions): Promise<number> {
  return withProfile(opts, async ({ controlPlane }) => {
    const sessions = await controlPlane.describeSessions(
      opts.history ? 'History' : 'Active',
      opts.target ? [{ key: 'Target', value: opts.target }] : [],
    );
    if (opts.json) process.stdout.write(JSON.stringify(sessions, null, 2) + '\n');
    else if (sessions.length === 0)
      process.stderr.write(`no ${opts.history ? 'ended' : 'active'} sessions\n`);
    else process.stdout.write(formatSessions(sessions) + '\n');
    return 0;
  });
}

export function runTerminate(ids: string[], opts: AwsOptions): Promise<number> {
  return withProfile(opts, async ({ controlPlane }) => {
    let failed = 0;
    for (const id of ids) {
      try {
        await controlPlane.terminateSession(id);
        process.stdout.write(`terminated ${id}\n`);
      } catch (err) {
        failed++;
        process.stderr.write(`ec2-connect: ${id}: ${(err as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  });
}
