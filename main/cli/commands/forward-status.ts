/**
 * `ec2-connect forward list [--json]` and `ec2-connect forward close <id-or-prefix>`: the port
 * forwards of every running EC2 Connect on this computer (the desktop app, web mode, and each
 * foreground `ec2-connect forward`), read from their status sockets (GET /v1/ports) and closed
 * through them (POST /v1/ports/<id>/close).
 *
 * The table is built by a pure function (`renderForwardTable`), so it can be tested as text.
 */
import type { Command } from 'commander';
import { PortListSchema, type PortForwardInfo } from '../../../preload/api.js';
import {
  getJson,
  listRunning,
  postJson,
  STATUS_KINDS,
  statusDir,
  type RunningInstance,
  type StatusKind,
} from '../../core/monitor/status-client.js';
import { formatBytes } from '../../core/util/format-bytes.js';
import { renderTable } from '../table.js';
import { shortIds } from './metrics.js';
import { formatUptime } from './resources.js';

const REQUEST_TIMEOUT_MS = 5000;
/** Closing ends a session: give it longer than a read. */
const CLOSE_TIMEOUT_MS = 15_000;

/** A forward and the process that runs it. */
export interface ProcessForward extends PortForwardInfo {
  process: { pid: number; kind: StatusKind };
}

export interface Unreachable {
  pid: number;
  kind: StatusKind;
  error: string;
}

/** Every running process's forwards (those that did not answer are in `unreachable`). */
export async function collectForwards(
  dir = statusDir(),
): Promise<{ forwards: ProcessForward[]; unreachable: Unreachable[]; processes: number }> {
  const running = listRunning(dir, STATUS_KINDS);
  const answers = await Promise.all(
    running.map(async (r): Promise<{ r: RunningInstance; forwards?: PortForwardInfo[]; error?: string }> => {
      try {
        const parsed = PortListSchema.safeParse(
          await getJson<unknown>(r.socket, '/v1/ports', REQUEST_TIMEOUT_MS),
        );
        if (!parsed.success)
          return {
            r,
            error: 'answered /v1/ports in an unexpected form; is it the same version as this CLI?',
          };
        return { r, forwards: parsed.data.forwards };
      } catch (err) {
        const status = (err as { status?: number | null }).status;
        return {
          r,
          error:
            status === 404
              ? `does not list port forwards (version ${r.version}; an older EC2 Connect?)`
              : (err as Error).message,
        };
      }
    }),
  );
  const forwards: ProcessForward[] = [];
  const unreachable: Unreachable[] = [];
  for (const a of answers) {
    if (a.forwards)
      forwards.push(...a.forwards.map((f) => ({ ...f, process: { pid: a.r.pid, kind: a.r.kind } })));
    else unreachable.push({ pid: a.r.pid, kind: a.r.kind, error: a.error ?? 'no answer' });
  }
  return { forwards, unreachable, processes: running.length };
}

const isLive = (f: PortForwardInfo): boolean => f.endedAt === null;

/** `name:5432`, or `db.internal:5432 via name` for a remote host. */
export function forwardTarget(f: PortForwardInfo): string {
  const name = f.instanceName || f.instanceId;
  return f.host ? `${f.host}:${f.remotePort} via ${name}` : `${name}:${f.remotePort}`;
}

/** The table of `forward list`: open forwards first, then ended ones with why below. */
export function renderForwardTable(forwards: ProcessForward[], now = Date.now()): string {
  const sorted = [...forwards].sort(
    (a, b) => Number(isLive(b)) - Number(isLive(a)) || a.startedAt - b.startedAt,
  );
  const ids = shortIds(sorted.map((f) => f.id));
  const rows = sorted.map((f, i) => [
    ids[i]!,
    `${f.process.kind} ${f.process.pid}`,
    f.localAddress || '-',
    forwardTarget(f),
    f.state,
    `${f.activeConnections}/${f.totalConnections}`,
    formatBytes(f.bytesIn),
    formatBytes(f.bytesOut),
    isLive(f) ? formatUptime(now - f.startedAt) : '-',
  ]);
  const lines = [
    renderTable(['ID', 'PROCESS', 'LOCAL', 'TARGET', 'STATE', 'CONNS', 'IN', 'OUT', 'UP'], rows),
  ];
  const reasons = sorted.flatMap((f, i) =>
    !isLive(f) && f.reason ? [`  ${ids[i]}: ${f.state}: ${f.reason}`] : [],
  );
  if (reasons.length) lines.push('', 'Ended:', ...reasons);
  return lines.join('\n');
}

function warnUnreachable(unreachable: Unreachable[]): void {
  for (const u of unreachable)
    process.stderr.write(
      `ec2-connect: ${u.kind} process ${u.pid} ${u.error.startsWith('does not') ? '' : 'did not answer: '}${u.error}\n`,
    );
}

export async function runForwardList(opts: { json?: boolean }, now = Date.now()): Promise<number> {
  const dir = statusDir();
  const { forwards, unreachable, processes } = await collectForwards(dir);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ forwards, unreachable }, null, 2) + '\n');
    return 0;
  }
  warnUnreachable(unreachable);
  if (forwards.length === 0) {
    process.stderr.write(
      processes === 0
        ? `No port forwards: no EC2 Connect runs (no status socket in ${dir}).\n`
        : 'No port forwards.\n',
    );
    return 0;
  }
  process.stdout.write(renderForwardTable(forwards, now) + '\n');
  return 0;
}

/** Which forwards an id or prefix means: the open ones it starts, else the ended ones (to say so). */
export function matchForwards(
  forwards: ProcessForward[],
  ref: string,
): { live: ProcessForward[]; ended: ProcessForward[] } {
  const want = ref.trim().toLowerCase();
  const hits = forwards.filter((f) => f.id.toLowerCase().startsWith(want));
  return { live: hits.filter(isLive), ended: hits.filter((f) => !isLive(f)) };
}

export async function runForwardClose(ref: string): Promise<number> {
  if (!ref.trim()) {
    process.stderr.write(
      'ec2-connect: give the id of a forward (or its first characters) from `ec2-connect forward list`.\n',
    );
    return 1;
  }
  const { forwards, unreachable } = await collectForwards();
  const { live, ended } = matchForwards(forwards, ref);
  if (live.length === 0) {
    warnUnreachable(unreachable);
    const gone = ended[0];
    process.stderr.write(
      gone && ended.length === 1
        ? `ec2-connect: the forward ${gone.id} (${forwardTarget(gone)}) is already ${gone.state}${gone.reason ? `: ${gone.reason}` : ''}.\n`
        : `ec2-connect: no open port forward has an id starting with "${ref}"; \`ec2-connect forward list\` shows them.\n`,
    );
    return 1;
  }
  if (live.length > 1) {
    process.stderr.write(
      `ec2-connect: "${ref}" matches ${live.length} open forwards; give more of the id:\n` +
        live
          .map(
            (f) =>
              `  ${f.id}  ${f.process.kind} ${f.process.pid}  ${f.localAddress} -> ${forwardTarget(f)}\n`,
          )
          .join(''),
    );
    return 1;
  }
  const f = live[0]!;
  const owner = listRunning(statusDir(), STATUS_KINDS).find((r) => r.pid === f.process.pid);
  if (!owner) {
    process.stderr.write(
      `ec2-connect: the ${f.process.kind} process ${f.process.pid} is gone; its forwards ended with it.\n`,
    );
    return 1;
  }
  try {
    await postJson(owner.socket, `/v1/ports/${encodeURIComponent(f.id)}/close`, CLOSE_TIMEOUT_MS);
  } catch (err) {
    process.stderr.write(`ec2-connect: closing the forward ${f.id} failed: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `Closed ${f.id} (${f.localAddress || 'local port'} -> ${forwardTarget(f)}, ${f.process.kind} ${f.process.pid}).\n`,
  );
  return 0;
}

export function registerForwardStatusCommands(forward: Command): void {
  forward
    .command('list')
    .description('the port forwards of every running EC2 Connect (app, web mode, `ec2-connect forward`)')
    .option('--json', 'print them as JSON (with their connections and why ended ones ended)')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runForwardList(opts);
    });
  forward
    .command('close')
    .description('stop a running port forward (in the app, web mode or an `ec2-connect forward`)')
    .argument('<id>', 'the forward id from `ec2-connect forward list`, or enough of its first characters')
    .action(async (id: string) => {
      process.exitCode = await runForwardClose(id);
    });
}
