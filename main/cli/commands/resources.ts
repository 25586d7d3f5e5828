/**
 * `ec2-connect resources`: the live resource view of a running EC2 Connect (desktop app or web
 * mode), read from its status socket (main/core/monitor/status-server.ts): its processes with CPU
 * and memory, the governor's level and limits, low-power mode, the leak watch, endpoint latencies
 * and the open sessions. Refreshes in place like `top` (q or Ctrl-C quits); `--once` prints one
 * view, `--json` one JSON document.
 *
 * The view is built by pure functions (`renderResourcesView`), separate from the socket and the
 * terminal, so it can be tested as text.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import {
  MetricsHistorySchema,
  ResourceSnapshotSchema,
  SessionInfoSchema,
  type ResourceSnapshot,
  type SessionInfo,
} from '../../../preload/api.js';
import {
  getJson,
  listRunning,
  pidAlive,
  statusDir,
  type RunningInstance,
  type StatusKind,
} from '../../core/monitor/status-client.js';
import { renderTable } from '../table.js';
import { formatBytes } from './database.js';
import { formatMs, formatRate, formatTime } from './metrics.js';

export type MetricsHistory = z.infer<typeof MetricsHistorySchema>;

/** What GET /v1/sessions answers. */
export interface StatusSessions {
  sessions: SessionInfo[];
  metrics: MetricsHistory;
}

export const StatusSessionsSchema = z.object({
  sessions: z.array(SessionInfoSchema),
  metrics: MetricsHistorySchema,
});

/** Who answers: from the status descriptor. */
export interface ViewHeader {
  pid: number;
  kind: StatusKind;
  startedAt: string;
  version: string;
}

export interface ResourcesOptions {
  once?: boolean;
  json?: boolean;
  /** Seconds. */
  interval?: number;
  pid?: number;
}

export const DEFAULT_INTERVAL_SECONDS = 2;
const REQUEST_TIMEOUT_MS = 5000;

export function parseInterval(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0.2 || n > 3600)
    throw new InvalidArgumentError(
      '--interval must be a number of seconds from 0.2 to 3600, e.g. --interval 5.',
    );
  return n;
}

export function parsePid(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError('--pid must be a process id (a whole number).');
  return n;
}

export function registerResourcesCommand(program: Command): void {
  program
    .command('resources')
    .description(
      "a running EC2 Connect's processes, CPU and memory, governor, endpoint latencies and sessions, refreshing like top",
    )
    .option('--once', 'print the view once and exit')
    .option('--json', 'print one JSON document (the resource snapshot and the sessions) and exit')
    .option(
      '--interval <seconds>',
      `refresh every this many seconds (default ${DEFAULT_INTERVAL_SECONDS})`,
      parseInterval,
    )
    .option('--pid <pid>', 'which EC2 Connect, when several run (default: the newest)', parsePid)
    .action(async (opts: ResourcesOptions) => {
      process.exitCode = await runResources(opts);
    });
}

// ---- the view (pure) ------------------------------------------------------------------------------

/** `42s`, `5m 12s`, `2h 03m`, `3d 4h`. */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const pct = (n: number): string => `${n.toFixed(1)} %`;

/** Cut lines to the width (with an ellipsis); a width of 0 or less leaves them whole. */
export function fitLines(lines: string[], width: number): string[] {
  if (!(width > 0) || !Number.isFinite(width)) return lines;
  return lines.map((l) => (l.length > width ? l.slice(0, Math.max(0, width - 1)) + '…' : l));
}

function headerLines(s: ResourceSnapshot, header: ViewHeader | undefined, now: number): string[] {
  const g = s.governor;
  const lines: string[] = [];
  const who = header
    ? `EC2 Connect ${header.version}  pid ${header.pid} (${header.kind})  up ${formatUptime(now - Date.parse(header.startedAt))}`
    : 'EC2 Connect';
  const sampled = s.sample
    ? `  sampled ${formatTime(s.sample.t)} every ${(s.sample.intervalMs / 1000).toFixed(s.sample.intervalMs % 1000 ? 1 : 0)} s`
    : '  not sampled yet';
  lines.push(who + sampled);
  const lowPower = g.lowPower.active
    ? `on (${g.lowPower.reasons.length ? g.lowPower.reasons.join(', ') : g.lowPower.mode})`
    : `off (${g.lowPower.mode})`;
  lines.push(
    `Governor: ${g.level}${g.reason ? ` - ${g.reason}` : ''}` +
      `${g.pressure !== null ? ` (pressure ${g.pressure.toFixed(2)})` : ''}  |  Low power: ${lowPower}`,
  );
  const memLimit =
    g.memory.limitBytes !== null
      ? `memory ${formatBytes(g.memory.limitBytes)} (${g.sources.maxMemoryMb})`
      : 'memory none';
  const cpuLimit =
    g.cpu.limitPercent !== null
      ? `CPU ${g.cpu.limitPercent} % of the machine (${g.sources.maxCpuPercent})`
      : 'CPU none';
  lines.push(
    `Limits: ${memLimit}, ${cpuLimit}  |  UI every ${g.ui.updateIntervalMs} ms` +
      `${g.ui.economy ? ', economy rendering' : ''}` +
      `${g.ui.backgroundScrollback !== null ? `, background scrollback ${g.ui.backgroundScrollback} lines` : ''}`,
  );
  if (g.refusal) lines.push(`New sessions are refused: ${g.refusal}`);
  const change = s.changes[s.changes.length - 1];
  if (change)
    lines.push(`Last change ${formatTime(change.at)}: ${change.from} -> ${change.to}: ${change.message}`);
  return lines;
}

function processLines(s: ResourceSnapshot): string[] {
  if (!s.sample) return ['Processes: no sample yet'];
  const procs = [...s.sample.processes].sort((a, b) => b.memoryBytes - a.memoryBytes || a.pid - b.pid);
  const table = renderTable(
    ['PID', 'ROLE', 'CPU%', 'MEM', 'GOVERNED'],
    procs.map((p) => [
      String(p.pid),
      p.role,
      p.cpuPercent.toFixed(1),
      formatBytes(p.memoryBytes),
      p.governed ? 'yes' : 'no',
    ]),
  );
  const g = s.governor;
  const memOf =
    g.memory.limitBytes !== null
      ? ` of ${formatBytes(g.memory.limitBytes)} (${Math.round((100 * s.sample.memoryBytes) / g.memory.limitBytes)} %)`
      : ' (no limit)';
  const cpuOf = g.cpu.limitPercent !== null ? `, limit ${g.cpu.limitPercent} %` : ', no limit';
  return [
    `Processes (${procs.length}, by memory; CPU% of one core):`,
    ...table.split('\n'),
    `Total governed: CPU ${pct(s.sample.cpuPercent)} of the machine (${s.sample.cores} cores; ` +
      `recent average ${pct(g.cpu.percent)}${cpuOf}), memory ${formatBytes(s.sample.memoryBytes)}${memOf}, ` +
      `main heap ${formatBytes(s.sample.heapUsedBytes)}`,
  ];
}

function leakLine(s: ResourceSnapshot): string {
  const l = s.leak;
  const growth =
    l.growthRatio === null
      ? 'heap growth: not enough samples'
      : `heap growth ${l.growthRatio >= 0 ? '+' : ''}${Math.round(l.growthRatio * 100)} %`;
  return (
    `Leak watch: ${l.warning ? 'WARNING ' : ''}${l.summary} (${growth}, GC max pause ${l.gcPauseMaxMs.toFixed(1)} ms ` +
    `over ${l.gcCount} GCs, ${l.handles} handles)`
  );
}

function probeLines(s: ResourceSnapshot): string[] {
  if (s.probes.length === 0) return ['Endpoints: none probed yet'];
  const table = renderTable(
    ['SERVICE', 'ENDPOINT', 'REGION', 'LATENCY', 'AT'],
    s.probes.map((p) => [
      p.service,
      p.endpoint,
      p.region,
      p.ok ? formatMs(p.latencyMs) : `failed: ${p.error ?? 'error'}`,
      formatTime(p.at),
    ]),
  );
  return ['Endpoints:', ...table.split('\n')];
}

function sessionLines(st: StatusSessions): string[] {
  if (st.sessions.length === 0) return ['Sessions: none open'];
  const latest = new Map<string, MetricsHistory['sessions'][number]['samples'][number]>();
  for (const m of st.metrics.sessions) {
    const last = m.samples[m.samples.length - 1];
    if (last) latest.set(m.sessionId, last);
  }
  const table = renderTable(
    ['ID', 'INSTANCE', 'STATE', 'P50', 'P99', 'IN', 'OUT'],
    st.sessions.map((s) => {
      const m = latest.get(s.id);
      return [
        s.id.slice(0, 8),
        s.instanceName && s.instanceName !== s.instanceId
          ? `${s.instanceName} (${s.instanceId})`
          : s.instanceId,
        s.state,
        formatMs(m?.latencyP50),
        formatMs(m?.latencyP99),
        m ? formatRate(m.inBytesPerSec) : '-',
        m ? formatRate(m.outBytesPerSec) : '-',
      ];
    }),
  );
  return [`Sessions (${st.sessions.length}; latest sample):`, ...table.split('\n')];
}

/**
 * The text view, one string of lines (no trailing newline): header (who, uptime, governor, low
 * power, limits), processes by memory with totals, the leak watch, endpoint probes, sessions.
 * Lines are cut to `width` (0 = not cut).
 */
export function renderResourcesView(
  snapshot: ResourceSnapshot,
  sessions: StatusSessions,
  width: number,
  header?: ViewHeader,
  now = Date.now(),
): string {
  const lines = [
    ...headerLines(snapshot, header, now),
    ...processLines(snapshot),
    leakLine(snapshot),
    ...probeLines(snapshot),
    ...sessionLines(sessions),
  ];
  return fitLines(lines, width).join('\n');
}

// ---- the socket and the terminal --------------------------------------------------------------------

class ResourcesError extends Error {}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export async function fetchStatus(
  target: RunningInstance,
): Promise<{ snapshot: ResourceSnapshot; sessions: StatusSessions }> {
  let raw: [unknown, unknown];
  try {
    raw = await Promise.all([
      getJson<unknown>(target.socket, '/v1/resources', REQUEST_TIMEOUT_MS),
      getJson<unknown>(target.socket, '/v1/sessions', REQUEST_TIMEOUT_MS),
    ]);
  } catch (err) {
    throw new ResourcesError(
      `cannot read the status of EC2 Connect (pid ${target.pid}): ${(err as Error).message}`,
    );
  }
  const snapshot = ResourceSnapshotSchema.safeParse(raw[0]);
  if (!snapshot.success)
    throw new ResourcesError(
      `EC2 Connect (pid ${target.pid}, version ${target.version}) answered /v1/resources in an unexpected form ` +
        `(${describeIssues(snapshot.error)}); is it the same version as this CLI?`,
    );
  const sessions = StatusSessionsSchema.safeParse(raw[1]);
  if (!sessions.success)
    throw new ResourcesError(
      `EC2 Connect (pid ${target.pid}, version ${target.version}) answered /v1/sessions in an unexpected form ` +
        `(${describeIssues(sessions.error)}); is it the same version as this CLI?`,
    );
  return { snapshot: snapshot.data, sessions: sessions.data };
}

function notRunningText(dir: string): string {
  return (
    `EC2 Connect is not running: no status socket in ${dir}. Start the app (npm start) or web mode ` +
    '(npm run web) and run this again; if it runs with EC2_CONNECT_HOME set, set the same here.'
  );
}

export async function runResources(opts: ResourcesOptions): Promise<number> {
  const dir = statusDir();
  const running = listRunning(dir);
  if (running.length === 0) {
    process.stderr.write(`ec2-connect: ${notRunningText(dir)}\n`);
    return 1;
  }
  const target = opts.pid !== undefined ? running.find((r) => r.pid === opts.pid) : running[0];
  if (!target) {
    const list = running.map((r) => `${r.pid} (${r.kind}, started ${formatTime(r.startedAt)})`).join(', ');
    process.stderr.write(
      `ec2-connect: no EC2 Connect with pid ${opts.pid} serves its status; running: ${list}.\n`,
    );
    return 1;
  }
  const header: ViewHeader = {
    pid: target.pid,
    kind: target.kind,
    startedAt: target.startedAt,
    version: target.version,
  };
  if (opts.json || opts.once) {
    try {
      const { snapshot, sessions } = await fetchStatus(target);
      if (opts.json)
        process.stdout.write(
          JSON.stringify(
            {
              ...header,
              socket: target.socket,
              resources: snapshot,
              sessions: sessions.sessions,
              metrics: sessions.metrics,
            },
            null,
            2,
          ) + '\n',
        );
      else {
        const width = process.stdout.isTTY ? (process.stdout.columns ?? 0) : 0;
        process.stdout.write(renderResourcesView(snapshot, sessions, width, header) + '\n');
      }
      return 0;
    } catch (err) {
      process.stderr.write(`ec2-connect: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return liveView(target, header, (opts.interval ?? DEFAULT_INTERVAL_SECONDS) * 1000);
}

const ESC = '\x1b[';
const ENTER_ALT_SCREEN = `${ESC}?1049h`;
const LEAVE_ALT_SCREEN = `${ESC}?1049l`;
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;
const HOME = `${ESC}H`;
const CLEAR_TO_EOL = `${ESC}K`;
const CLEAR_BELOW = `${ESC}J`;

/**
 * Redraw every `intervalMs` until q, Ctrl-C or SIGTERM (exit 0), or until the app stops (exit 1).
 * On a terminal: the alternate screen, cursor hidden, each frame drawn over the last, restored on
 * the way out. Otherwise: one frame after another, separated by a blank line.
 */
function liveView(target: RunningInstance, header: ViewHeader, intervalMs: number): Promise<number> {
  const out = process.stdout;
  const stdin = process.stdin;
  const tty = out.isTTY === true;
  const keys = stdin.isTTY === true;
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let frames = 0;
    const restore = (): void => {
      if (tty) out.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
    };
    const onKey = (data: Buffer | string): void => {
      const s = typeof data === 'string' ? data : data.toString('utf8');
      if (s.includes('q') || s.includes('Q') || s.includes('\x03')) stop(0);
    };
    const onSignal = (): void => stop(0);
    const onResize = (): void => {
      if (timer) {
        clearTimeout(timer);
        void tick();
      }
    };
    const stop = (code: number, message?: string): void => {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', restore);
      out.off('resize', onResize);
      if (keys) {
        stdin.off('data', onKey);
        stdin.setRawMode(false);
        stdin.pause();
      }
      restore();
      if (message) process.stderr.write(`ec2-connect: ${message}\n`);
      resolve(code);
    };
    const draw = (frame: string): void => {
      if (tty) {
        const rows = out.rows > 0 ? out.rows : Infinity;
        const lines = frame.split('\n').slice(0, rows);
        out.write(HOME + lines.map((l) => l + CLEAR_TO_EOL).join('\r\n') + CLEAR_BELOW);
      } else {
        out.write((frames > 0 ? '\n' : '') + frame + '\n');
      }
      frames++;
    };
    const tick = async (): Promise<void> => {
      timer = undefined;
      let frame: string;
      try {
        const { snapshot, sessions } = await fetchStatus(target);
        frame = renderResourcesView(snapshot, sessions, tty ? (out.columns ?? 0) : 0, header);
      } catch (err) {
        if (stopped) return;
        if (!pidAlive(target.pid)) {
          stop(1, `EC2 Connect (pid ${target.pid}) stopped.`);
          return;
        }
        frame = `${(err as Error).message}\n(retrying every ${intervalMs / 1000} s; q or Ctrl-C quits)`;
      }
      if (stopped) return;
      draw(frame);
      timer = setTimeout(() => void tick(), intervalMs);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', restore);
    if (tty) {
      out.write(ENTER_ALT_SCREEN + HIDE_CURSOR);
      out.on('resize', onResize);
    }
    if (keys) {
      stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', onKey);
    }
    void tick();
  });
}
