/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof` or Chromium's Profiler domain): self time per
 * function, with its file and line, heaviest first.
 *
 *   node --import tsx bench/lib/cpuprofile-summary.ts <file.cpuprofile> [--top 25] [--total]
 * --total lists inclusive time (the function and everything it called) instead of self time.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeRow {
  /** `name (file:line)`; anonymous functions and V8 states keep V8's names. */
  fn: string;
  selfMs: number;
  /** Share of all sampled time, 0..100. */
  percent: number;
}

/** Self time per function (summed over every node of that function), heaviest first. */
export function selfTimes(profile: CpuProfile): { totalMs: number; rows: SelfTimeRow[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  // The time of sample i is the delta that follows it (the gap to the next sample).
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]!);
    if (!node) continue;
    const us = Math.max(0, deltas[i + 1] ?? 0);
    totalUs += us;
    const key = label(node.callFrame);
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
  }
  const rows = [...selfUs.entries()]
    .map(([fn, us]) => ({ fn, selfMs: us / 1000, percent: totalUs ? (us / totalUs) * 100 : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: totalUs / 1000, rows };
}

/**
 * Total (inclusive) time per function: a sample counts once for every distinct function on its
 * stack. Shows which of our functions a cost sits under (self time alone names only the leaves).
 */
export function totalTimes(profile: CpuProfile): { totalMs: number; rows: SelfTimeRow[] } {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const us = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const d = Math.max(0, deltas[i + 1] ?? 0);
    totalUs += d;
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (!node) break;
      const key = label(node.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      us.set(key, (us.get(key) ?? 0) + d);
    }
  }
  const rows = [...us.entries()]
    .map(([fn, t]) => ({ fn, selfMs: t / 1000, percent: totalUs ? (t / totalUs) * 100 : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: totalUs / 1000, rows };
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.includes('node_modules/')
    ? f.url.slice(f.url.lastIndexOf('node_modules/') + 'node_modules/'.length)
    : basename(f.url);
  return `${name} (${file}:${f.lineNumber + 1})`;
}

/** The top rows as a fixed-width table. */
export function formatSelfTimes(
  summary: { totalMs: number; rows: SelfTimeRow[] },
  top: number,
  column = 'self ms',
): string {
  const lines = [`sampled ${summary.totalMs.toFixed(0)} ms`, `${column.padStart(9)}      %  function`];
  for (const r of summary.rows.slice(0, top)) {
    lines.push(`${r.selfMs.toFixed(1).padStart(9)}  ${r.percent.toFixed(1).padStart(5)}  ${r.fn}`);
  }
  return lines.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, total: { type: 'boolean' } },
  });
  if (positionals.length === 0) {
    process.stderr.write('usage: cpuprofile-summary.ts <file.cpuprofile>... [--top 25]\n');
    process.exit(2);
  }
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const summary = values.total ? totalTimes(profile) : selfTimes(profile);
    const column = values.total ? 'total ms' : 'self ms';
    process.stdout.write(`== ${file}\n${formatSelfTimes(summary, Number(values.top), column)}`);
  }
}
