/**
 * The UI responsiveness figures of bench/ui.ts alone (20 sessions open in the UI: event-loop lag
 * and input latency idle, with moderate and with busy output), for A/B runs and traces:
 *   node --import tsx bench/lib/ui-responsiveness-probe.ts [--quick]
 *   BENCH_UI_TRACE=/tmp/ui-trace node --import tsx bench/lib/ui-responsiveness-probe.ts --quick
 * (the trace holds each phase's interactions: ui-input-<phase>.json, see trace-summary.ts).
 */
import { parseArgs } from 'node:util';
import { runUiBench } from '../ui.js';

process.env.BENCH_UI_ONLY = 'responsiveness';
const { values } = parseArgs({ options: { quick: { type: 'boolean' } } });
for (const f of await runUiBench({ quick: values.quick === true })) {
  const s = f.summary;
  process.stdout.write(
    `${f.name.padEnd(100)} ${f.unit.padStart(5)}  median ${s.median.toFixed(2)}  p95 ${s.p95.toFixed(2)}  p99 ${s.p99.toFixed(2)}\n`,
  );
}
