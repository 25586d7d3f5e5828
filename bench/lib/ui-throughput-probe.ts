/**
 * The UI render-throughput figures of bench/ui.ts alone (no responsiveness part), for profiling
 * and A/B runs:
 *   node --import tsx bench/lib/ui-throughput-probe.ts [--quick]
 *   BENCH_UI_PROFILE=/tmp/ui-prof node --import tsx bench/lib/ui-throughput-probe.ts --quick
 */
import { parseArgs } from 'node:util';
import { runUiBench } from '../ui.js';

process.env.BENCH_UI_ONLY = 'throughput';
const { values } = parseArgs({ options: { quick: { type: 'boolean' } } });
for (const f of await runUiBench({ quick: values.quick === true })) {
  const s = f.summary;
  process.stdout.write(
    `${f.name.padEnd(100)} ${f.unit.padStart(5)}  median ${s.median.toFixed(2)}  min ${s.min.toFixed(2)}  max ${s.max.toFixed(2)}\n`,
  );
}
