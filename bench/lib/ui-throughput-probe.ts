/**
 * A part of bench/ui.ts alone, for profiling and A/B runs: the render-throughput figures, or with
 * --responsiveness the UI responsiveness figures (20 sessions open in the UI: event-loop lag and
 * input latency idle, with moderate and with busy output).
 *   node --import tsx bench/lib/ui-throughput-probe.ts [--quick] [--responsiveness]
 *   BENCH_UI_PROFILE=/tmp/ui-prof node --import tsx bench/lib/ui-throughput-probe.ts --quick
 *   BENCH_UI_TRACE=/tmp/ui-trace node --import tsx bench/lib/ui-throughput-probe.ts --quick --responsiveness
 * (the traces: ui-render-<run>.json, xterm-alone-<bytes>.json, ui-input-<phase>.json; see
 * trace-summary.ts).
 */
import { parseArgs } from 'node:util';
import { runUiBench } from '../ui.js';

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, responsiveness: { type: 'boolean' } },
});
process.env.BENCH_UI_ONLY = values.responsiveness ? 'responsiveness' : 'throughput';
for (const f of await runUiBench({ quick: values.quick === true })) {
  const s = f.summary;
  process.stdout.write(
    `${f.name.padEnd(100)} ${f.unit.padStart(5)}  median ${s.median.toFixed(2)}  p95 ${s.p95.toFixed(2)}  p99 ${s.p99.toFixed(2)}  min ${s.min.toFixed(2)}  max ${s.max.toFixed(2)}\n`,
  );
}
