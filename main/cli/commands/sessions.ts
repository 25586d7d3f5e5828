/**
 * `ec2-connect sessions`: Session Manager sessions as the service sees them (DescribeSessions),
 * active by default or `--history`, with the KMS key of those this machine opened encrypted
 * (from the local history: the service does not say); `ec2-connect terminate <session-id...>`
 * ends sessions.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { Session } from '@aws-sdk/client-ssm';
import { historyOptions } from '../../core/config/apply.js';
import type { Logger } from '../../core/log/logger.js';
import { openHistoryStore } from '../../core/store/sqlite-store.js';
import { recordedEncryption } from '../history.js';
import { renderTable } from '../table.js';
import { addAwsOptions, cliConfig, withProfile, type AwsOptions } from '../options.js';

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
      .option('--json', 'print JSON')
      .addHelpText(
        'after',
        '\nKMS KEY: the key of a KMS-encrypted session this machine opened (app, web mode or connect),\n' +
          'as its session history recorded it; "-" for the others (DescribeSessions does not say).\n' +
          'With --json, such sessions carry it as "KmsKey".',
      ),
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

/** The sessions as a table; `kmsKeys` (AWS session id to KMS key) fills the KMS KEY column. */
export function formatSessions(
  sessions: Session[],
  kmsKeys: ReadonlyMap<string, string> = new Map(),
): string {
  const head = ['SESSION ID', 'TARGET', 'STATUS', 'STARTED', 'ENDED', 'DOCUMENT', 'KMS KEY', 'OWNER'];
  const rows = sessions.map((s) => [
    s.SessionId ?? '',
    s.Target ?? '',
    s.Status ?? '',
    s.StartDate ? s.StartDate.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-',
    s.EndDate ? s.EndDate.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-',
    s.DocumentName ?? '-',
    (s.SessionId && kmsKeys.get(s.SessionId)) || '-',
    s.Owner ?? '',
  ]);
  return renderTable(head, rows);
}

/** How far before the oldest listed session the history is searched (clocks differ). */
const HISTORY_SLACK_MS = 60 * 60 * 1000;

/**
 * The KMS keys of the listed sessions that this machine opened encrypted, from the session
 * history when there is one (a listing never creates it); empty without history.
 */
function encryptionFromHistory(
  opts: SessionsOptions,
  sessions: Session[],
  logger: Logger,
): Map<string, string> {
  const ids = sessions.flatMap((s) => (s.SessionId ? [s.SessionId] : []));
  const options = historyOptions(cliConfig(opts).config);
  if (ids.length === 0 || !options || !fs.existsSync(options.file)) return new Map();
  const store = openHistoryStore({ ...options, logger, cleanupIntervalHours: 0, closeOnExit: false });
  try {
    if (!store.status.available) return new Map();
    const oldest = Math.min(Date.now(), ...sessions.map((s) => s.StartDate?.getTime() ?? Date.now()));
    return recordedEncryption(store, ids, new Date(oldest - HISTORY_SLACK_MS));
  } finally {
    store.close();
  }
}

export function runSessions(opts: SessionsOptions): Promise<number> {
  return withProfile(opts, async ({ controlPlane }, logger) => {
    const sessions = await controlPlane.describeSessions(
      opts.history ? 'History' : 'Active',
      opts.target ? [{ key: 'Target', value: opts.target }] : [],
    );
    if (opts.json) {
      // DescribeSessions' objects as AWS returns them, plus KmsKey for those this machine opened encrypted.
      const keys = encryptionFromHistory(opts, sessions, logger);
      const out = sessions.map((s) => {
        const key = s.SessionId ? keys.get(s.SessionId) : undefined;
        return key ? { ...s, KmsKey: key } : s;
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else if (sessions.length === 0)
      process.stderr.write(`no ${opts.history ? 'ended' : 'active'} sessions\n`);
    else process.stdout.write(formatSessions(sessions, encryptionFromHistory(opts, sessions, logger)) + '\n');
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
