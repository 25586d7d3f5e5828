/**
 * The concurrency sweep: grow to 1, 10, 20, 50, 100 and 200 open shell sessions (through the
 * session manager, against the sandbox in the peer process) and at each step record
 *   - success rate: sessions that opened and answered every command of the load below;
 *   - open time (StartSession to handshake) of the sessions opened to reach the step, 20 in
 *     flight, while the earlier ones stay open;
 *   - this process's heap + buffers per session, after GC, over those before any session was
 *     open, and its resident memory (RSS) in all, with the RSS growth per session added (see
 *     rssGrowthPerSession);
 *   - this process's CPU per session while idle (health checks only) and while every session
 *     echoes and prints a moderate load (a typed `echo` of 200 characters every 200 ms).
 * Writes bench/results/sweep.svg (memory and CPU against the number of sessions) and, on a full
 * run, docs/img/sweep.svg for the README (run.ts passes the files).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ManagedSessionInfo, SessionManager } from '../main/core/sessions/session-manager.js';
import { renderLineChart } from './lib/svg-chart.js';
import { round, summarize, type Summary } from './lib/stats.js';
import {
  benchSessionManager,
  cpuPercentOver,
  memoryNow,
  settle,
  warmUp,
  type SessionsFigure,
  type SessionsPeer,
} from './sessions.js';

export const SWEEP_STEPS = [1, 10, 20, 50, 100, 200] as const;

export interface SweepStep {
  sessions: number;
  opened: number;
  succeeded: number;
  successPct: number;
  open: Summary;
  heapPerSessionKB: number;
  rssTotalMB: number;
  /** This process, % of one core in all. */
  idleCpuPct: number;
  loadCpuPct: number;
}

export interface SweepOptions {
  steps?: readonly number[];
  /** Length of the idle CPU window and of the load at each step. */
  idleMs?: number;
  loadMs?: number;
  /** Where to write the chart; none when empty. */
  chartFiles?: string[];
  /** A line under the chart (machine, date). */
  footnote?: string;
}

const LOAD_INTERVAL_MS = 200;
const OPEN_IN_FLIGHT = 20;

/**
 * Watches each session's output for the end-of-load marker of a step. Keeps only a short tail
 * per session, so the watching costs this process (whose CPU is measured) next to nothing.
 */
class MarkerWatch {
  private readonly tails = new Map<string, string>();
  private readonly seen = new Set<string>();
  private want = new Map<string, string>();
  private readonly sub: { dispose(): void };

  constructor(manager: SessionManager) {
    this.sub = manager.onOutput(({ id, data }) => {
      const marker = this.want.get(id);
      if (marker === undefined) return;
      const text = (this.tails.get(id) ?? '') + data.toString('latin1');
      if (text.includes(marker)) {
        this.seen.add(id);
        this.want.delete(id);
        this.tails.delete(id);
      } else this.tails.set(id, text.slice(-marker.length));
    });
  }

  expect(markers: Map<string, string>): void {
    this.want = new Map(markers);
    this.seen.clear();
    this.tails.clear();
  }

  /** Resolves with the ids whose marker arrived, once all have or at the deadline. */
  async wait(deadlineMs: number): Promise<Set<string>> {
    const end = Date.now() + deadlineMs;
    while (this.want.size && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return new Set(this.seen);
  }

  dispose(): void {
    this.sub.dispose();
  }
}

/** Open `count` sessions, `OPEN_IN_FLIGHT` at a time; failures are counted, not thrown. */
async function openMany(
  manager: SessionManager,
  peer: SessionsPeer,
  first: number,
  count: number,
): Promise<{ opened: ManagedSessionInfo[]; openMs: number[]; failed: number }> {
  const opened: ManagedSessionInfo[] = [];
  const openMs: number[] = [];
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(OPEN_IN_FLIGHT, count) }, async () => {
      while (next < count) {
        const i = first + next++;
        try {
          const s = await manager.open({
            profile: 'sandbox',
            region: peer.region,
            target: peer.onlineInstanceIds[i % peer.onlineInstanceIds.length]!,
          });
          opened.push(s);
          openMs.push(s.openMs);
        } catch (err) {
          failed++;
          if (process.env.BENCH_DEBUG)
            process.stderr.write(`sweep: open ${i} failed: ${(err as Error).message}\n`);
        }
      }
    }),
  );
  return { opened, openMs, failed };
}

/**
 * Every session types `echo` lines for `loadMs`, then a last one whose output (not its typed
 * echo: the shell expands `$((...))`) marks the end. Resolves with this process's CPU from the
 * first line to the last marker (or the deadline), as % of a core over the nominal `loadMs`, and
 * the sessions that answered everything.
 */
async function loadStep(
  manager: SessionManager,
  watch: MarkerWatch,
  sessions: ManagedSessionInfo[],
  step: number,
  loadMs: number,
): Promise<{ cpuPct: number; answered: Set<string> }> {
  const markers = new Map<string, string>();
  sessions.forEach((s, i) => markers.set(s.id, `L${step}-${i + 1}-end\r\n`));
  watch.expect(markers);
  const line = `echo ${'x'.repeat(200)}\r`;
  const c0 = process.cpuUsage();
  const ticks = Math.max(1, Math.round(loadMs / LOAD_INTERVAL_MS));
  for (let t = 0; t < ticks; t++) {
    for (const s of sessions) manager.write(s.id, line);
    await new Promise((r) => setTimeout(r, LOAD_INTERVAL_MS));
  }
  sessions.forEach((s, i) => manager.write(s.id, `echo L${step}-$((${i}+1))-end\r`));
  const answered = await watch.wait(60_000);
  const c = process.cpuUsage(c0);
  return { cpuPct: (100 * (c.user + c.system)) / 1000 / loadMs, answered };
}

/**
 * Resident memory per session: the growth of the process's RSS from its lowest reading before
 * the last step to the last step, per session added. Not from the start: some seconds after the
 * warm-up, V8 shrinks its young generation and the allocator hands pages back (RSS falls by 10 to
 * 50 MB, at a step that varies from run to run) whatever the sessions cost; after that lowest
 * point the growth is the sessions'. The heap figures (after GC) are exact at every step.
 * Undefined with fewer than 2 steps.
 */
export function rssGrowthPerSession(
  steps: SweepStep[],
): { from: number; to: number; kb: number } | undefined {
  if (steps.length < 2) return undefined;
  const last = steps[steps.length - 1]!;
  const low = steps.slice(0, -1).reduce((a, s) => (s.rssTotalMB <= a.rssTotalMB ? s : a));
  if (last.sessions === low.sessions) return undefined;
  return {
    from: low.sessions,
    to: last.sessions,
    kb: ((last.rssTotalMB - low.rssTotalMB) * 1024) / (last.sessions - low.sessions),
  };
}

/** The chart of a sweep: memory per session, total resident memory, CPU per session. */
export function sweepChart(steps: SweepStep[], footnote?: string): string {
  const pts = (f: (s: SweepStep) => number) => steps.map((s) => ({ x: s.sessions, y: round(f(s), 3) }));
  return renderLineChart({
    title: 'EC2 Connect: concurrent sessions (main process)',
    xLabel: 'open sessions',
    xTicks: steps.map((s) => s.sessions),
    ...(footnote ? { footnote } : {}),
    panels: [
      {
        title: 'Memory per session',
        yLabel: 'KB per session',
        series: [{ name: 'heap + buffers, after GC', points: pts((s) => s.heapPerSessionKB) }],
      },
      {
        title: 'Total resident memory',
        yLabel: 'MB',
        series: [{ name: 'RSS', points: pts((s) => s.rssTotalMB) }],
      },
      {
        title: 'CPU of the process',
        yLabel: '% of a core',
        series: [
          { name: 'idle (health checks)', points: pts((s) => s.idleCpuPct) },
          { name: 'echo load, ~2 KB/s each', points: pts((s) => s.loadCpuPct) },
        ],
      },
    ],
  });
}

export async function runSweepBench(
  peer: SessionsPeer,
  options: SweepOptions = {},
): Promise<{ figures: SessionsFigure[]; steps: SweepStep[] }> {
  const stepsWanted = options.steps ?? SWEEP_STEPS;
  const idleMs = options.idleMs ?? 2_000;
  const loadMs = options.loadMs ?? 2_000;
  const { manager, pool } = benchSessionManager(peer);
  const watch = new MarkerWatch(manager);
  const steps: SweepStep[] = [];
  const open: ManagedSessionInfo[] = [];
  try {
    const before = await warmUp(manager, peer);
    let tried = 0;
    for (const n of stepsWanted) {
      const add = await openMany(manager, peer, tried, n - tried);
      if (add.failed) process.stderr.write(`sweep: ${add.failed} of ${n - tried} sessions failed to open\n`);
      tried = n;
      open.push(...add.opened);
      await settle();
      const mem = memoryNow();
      const idleCpuPct = await cpuPercentOver(idleMs);
      const load = await loadStep(manager, watch, open, n, loadMs);
      const per = Math.max(1, open.length);
      const step: SweepStep = {
        sessions: n,
        opened: open.length,
        succeeded: load.answered.size,
        successPct: (100 * load.answered.size) / n,
        open: summarize(add.openMs),
        heapPerSessionKB: (mem.heap - before.heap) / 1024 / per,
        rssTotalMB: mem.rss / 1024 / 1024,
        idleCpuPct,
        loadCpuPct: load.cpuPct,
      };
      steps.push(step);
      if (process.env.BENCH_DEBUG)
        process.stderr.write(`sweep step ${JSON.stringify({ ...step, open: undefined })}\n`);
    }
  } finally {
    watch.dispose();
    await manager.shutdown();
    pool.dispose();
  }

  const svg = sweepChart(steps, options.footnote);
  for (const file of options.chartFiles ?? []) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, svg);
  }

  const figures: SessionsFigure[] = [];
  const one = (x: number) => summarize([x]);
  for (const s of steps) {
    const per = Math.max(1, s.sessions);
    figures.push(
      {
        name: `sweep ${s.sessions} sessions: success rate (open, echo, output)`,
        unit: '%',
        better: 'higher',
        summary: one(s.successPct),
        target: '100 %',
      },
      {
        name: `  sweep ${s.sessions}: open time, ${Math.min(OPEN_IN_FLIGHT, s.open.n)} in flight, the rest open`,
        unit: 'ms',
        better: 'lower',
        summary: s.open,
      },
      {
        name: `  sweep ${s.sessions}: heap + buffers per session`,
        unit: 'KB',
        better: 'lower',
        summary: one(s.heapPerSessionKB),
      },
      {
        name: `  sweep ${s.sessions}: resident memory of the process`,
        unit: 'MB',
        better: 'lower',
        summary: one(s.rssTotalMB),
      },
      {
        name: `  sweep ${s.sessions}: CPU per session, idle (health checks)`,
        unit: '% core',
        better: 'lower',
        summary: one(s.idleCpuPct / per),
      },
      {
        name: `  sweep ${s.sessions}: CPU per session, echo load (5 lines/s of 200 chars)`,
        unit: '% core',
        better: 'lower',
        summary: one(s.loadCpuPct / per),
      },
    );
  }
  const growth = rssGrowthPerSession(steps);
  if (growth)
    figures.push({
      name: `sweep: resident memory per session added, from ${growth.from} (lowest RSS) to ${growth.to} sessions`,
      unit: 'KB',
      better: 'lower',
      summary: one(growth.kb),
    });
  return { figures, steps };
}
