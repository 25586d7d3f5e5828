/**
 * Summarise a Chromium trace of a page (BENCH_UI_TRACE in bench/ui.ts; Playwright's
 * browser.startTracing): how busy the page's main thread was, and with what - animation frames
 * (drawing), timers (xterm parses its write buffer from a timer), incoming messages (WebSocket,
 * IPC), commits and garbage collection - then the longest tasks with what they held.
 *
 *   node --import tsx bench/lib/trace-summary.ts <trace.json> [--top 10]
 *
 * The question it answers first: between two frames, how much time did the page have for
 * anything else, and how was it spent (that is what bounds output throughput while drawing).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  /** Microseconds. */
  ts: number;
  dur?: number;
  args?: { name?: string; data?: { functionName?: string } };
}

/** The kinds of work reported, by trace event name. */
export const KINDS: Record<string, string> = {
  FireAnimationFrame: 'animation frames (requestAnimationFrame callbacks: drawing)',
  TimerFire: 'timers (setTimeout / setInterval callbacks)',
  'Receive mojo message': 'incoming messages (WebSocket frames, IPC)',
  Commit: 'commits to the compositor',
  Paint: 'paint',
  MinorGC: 'minor garbage collection',
  MajorGC: 'major garbage collection',
};

export interface TaskRow {
  /** Start, ms from the first task. */
  atMs: number;
  ms: number;
  /** Notable work inside, e.g. "FireAnimationFrame 21.9". */
  inside: string[];
}

export interface TraceSummary {
  thread: string;
  spanMs: number;
  busyMs: number;
  /** Per kind: count and total ms. */
  kinds: Array<{ name: string; what: string; count: number; ms: number }>;
  /** Tasks that held a frame's drawing, and the time between frames (gaps) left for other work. */
  frames: { count: number; meanMs: number; meanGapMs: number };
  longest: TaskRow[];
}

const TASK = 'ThreadControllerImpl::RunTask';

/** The renderer main thread with the most complete events (the page under test). */
function pageThread(events: TraceEvent[]): { key: string; name: string } | undefined {
  const names = new Map<string, string>();
  for (const e of events)
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name) names.set(`${e.pid}:${e.tid}`, e.args.name);
  const counts = new Map<string, number>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === 'X' && names.get(key) === 'CrRendererMain') counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return best ? { key: best[0], name: `CrRendererMain ${best[0]}` } : undefined;
}

export function summarizeTrace(events: TraceEvent[], top = 10): TraceSummary {
  const thread = pageThread(events);
  if (!thread) throw new Error('no renderer main thread (CrRendererMain) with complete events in this trace');
  const own = events
    .filter((e) => e.ph === 'X' && `${e.pid}:${e.tid}` === thread.key)
    .sort((a, b) => a.ts - b.ts);
  const tasks = own.filter((e) => e.name === TASK);
  if (tasks.length === 0) throw new Error(`no ${TASK} events on ${thread.name}`);
  const t0 = tasks[0]!.ts;
  const last = tasks[tasks.length - 1]!;
  const spanMs = (last.ts + (last.dur ?? 0) - t0) / 1000;
  const busyMs = tasks.reduce((a, t) => a + (t.dur ?? 0), 0) / 1000;

  const kinds = Object.entries(KINDS).map(([name, what]) => {
    const of = own.filter((e) => e.name === name);
    return { name, what, count: of.length, ms: of.reduce((a, e) => a + (e.dur ?? 0), 0) / 1000 };
  });

  // What each task held (events starting inside it), for frames and the longest tasks.
  const inside = (t: TraceEvent): TraceEvent[] => {
    const end = t.ts + (t.dur ?? 0);
    return own.filter((e) => e !== t && e.ts >= t.ts && e.ts < end && e.name !== TASK);
  };
  const frameTasks = tasks.filter((t) =>
    inside(t).some((e) => e.name === 'FireAnimationFrame' && (e.dur ?? 0) >= 1000),
  );
  let gaps = 0;
  for (let i = 1; i < frameTasks.length; i++) {
    const prev = frameTasks[i - 1]!;
    gaps += frameTasks[i]!.ts - (prev.ts + (prev.dur ?? 0));
  }
  const frames = {
    count: frameTasks.length,
    meanMs: frameTasks.length
      ? frameTasks.reduce((a, t) => a + (t.dur ?? 0), 0) / frameTasks.length / 1000
      : 0,
    meanGapMs: frameTasks.length > 1 ? gaps / (frameTasks.length - 1) / 1000 : 0,
  };

  const longest = [...tasks]
    .sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0))
    .slice(0, top)
    .sort((a, b) => a.ts - b.ts)
    .map((t) => ({
      atMs: (t.ts - t0) / 1000,
      ms: (t.dur ?? 0) / 1000,
      inside: inside(t)
        .filter((e) => e.name in KINDS && (e.dur ?? 0) >= 500)
        .map((e) => `${e.name} ${((e.dur ?? 0) / 1000).toFixed(1)}`),
    }));
  return { thread: thread.name, spanMs, busyMs, kinds, frames, longest };
}

export function formatTraceSummary(s: TraceSummary): string {
  const pct = (ms: number) => `${((100 * ms) / s.spanMs).toFixed(1).padStart(5)} %`;
  const lines = [
    `${s.thread}: ${s.spanMs.toFixed(1)} ms traced, main thread busy ${s.busyMs.toFixed(1)} ms (${pct(s.busyMs).trim()})`,
    '',
    '   count       ms   share  work',
    ...s.kinds.map(
      (k) => `${String(k.count).padStart(8)} ${k.ms.toFixed(1).padStart(8)} ${pct(k.ms)}  ${k.what}`,
    ),
    '',
    `frames that drew something: ${s.frames.count}, ${s.frames.meanMs.toFixed(1)} ms each on average, ` +
      `${s.frames.meanGapMs.toFixed(1)} ms between them for everything else`,
    '',
    'longest tasks (ms from the first task, length, what they held):',
    ...s.longest.map(
      (t) => `${t.atMs.toFixed(1).padStart(9)} ${t.ms.toFixed(1).padStart(6)}  ${t.inside.join(', ')}`,
    ),
  ];
  return lines.join('\n');
}

function readEvents(file: string): TraceEvent[] {
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (Array.isArray(json)) return json as TraceEvent[];
  const events = (json as { traceEvents?: unknown }).traceEvents;
  if (!Array.isArray(events)) throw new Error(`${file}: not a Chromium trace (no traceEvents array)`);
  return events as TraceEvent[];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '10' } },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/lib/trace-summary.ts <trace.json> [--top 10]\n');
    process.exit(2);
  }
  try {
    process.stdout.write(formatTraceSummary(summarizeTrace(readEvents(file), Number(values.top))) + '\n');
  } catch (err) {
    process.stderr.write(`trace-summary: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
