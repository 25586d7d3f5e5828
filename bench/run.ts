/**
 * `npm run bench`: protocol benchmarks, each beside a baseline measured in the same run
 * against the same peer process (bench/peer.ts):
 *   - session open (StartSession to first prompt byte) vs raw WebSocket + bare PTY to first byte
 *   - keystroke echo round trip vs raw WebSocket + bare PTY, and raw WebSocket echo
 *   - output throughput through the shell's PTY (cat of a large file) vs raw WebSocket + bare PTY
 *   - protocol throughput on a non-interactive command (pipes, no PTY) vs a raw WebSocket push of
 *     the same bytes in 1 KiB frames, and the client's own CPU cost per MB
 *   - the client alone against a replay agent that sends pre-encoded messages and ignores acks
 *   - port forwarding: throughput up and down, connection set-up, 100 parallel connections through
 *     one multiplexed session, each beside a direct loopback baseline (ports.ts)
 *   - 200 concurrent sessions, memory per session, idle CPU, dead-connection detection (sessions.ts)
 *   - the history store: metric rows/s through its queue vs raw inserts, CPU at 20 busy sessions
 *     (store.ts; `--no-store` skips it)
 *   - the UI in Chromium: terminal render throughput, responsiveness with 20 busy sessions (ui.ts;
 *     `--no-ui` skips it, and it is skipped when there is no Chromium)
 *   - protocol under injected faults: 100 ms latency, 5 % loss, dropped sockets (faults.ts)
 *   - the concurrency sweep, 1 to 200 sessions, with its chart bench/results/sweep.svg (sweep.ts)
 *   - `ec2-connect connect` beside the official session-manager-plugin, both in a PTY: open, echo,
 *     throughput, memory (plugin.ts; `--no-plugin` skips it, and it is skipped when not installed)
 *   - CLI start-up time and peak memory of `--version` and `list` vs `node -e 0` (cli.ts; `--no-cli`)
 * Writes bench/results/latest.json (machine, versions, figures with their ratio to the baseline)
 * and prints a table.
 *
 * Flags: --quick, --no-ui, --no-store, --no-plugin, --no-cli. Baseline: bench/baseline.json is
 * compared against by default when it exists (a ratio per figure; a regression is reported, not
 * fatal); --compare [file] (default bench/baseline.json; exit 1 when a figure's median
 * regressed by more than its tolerance; see compare.ts), --no-compare, --max-regression <ratio>
 * (overrides the baseline's default), --update-baseline (write this run to bench/baseline.json),
 * --save-baseline <file> (write this run as a baseline elsewhere).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ControlPlane } from '../main/core/ssm/control-plane.js';
import { SsmSession } from '../main/core/ssm/session.js';
import { DataChannel } from '../main/core/ssm/data-channel.js';
import { CLIENT_VERSION } from '../main/core/version.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { catThroughput } from './lib/throughput.js';
import { runSessionsBench } from './sessions.js';
import { runUiBench, uiBenchUnavailable } from './ui.js';
import { runStoreBench } from './store.js';
import { runMonitorBench } from './monitor.js';
import { runPortsBench } from './ports.js';
import { runFaultsBench } from './faults.js';
import { runSweepBench } from './sweep.js';
import { runPluginBench } from './plugin.js';
import { runCliBench } from './cli.js';
import { findPlugin, pluginCandidates } from './lib/launch.js';
import { benchVersions } from './lib/versions.js';
import { echoInterleaved, type EchoTarget } from './lib/echo.js';
import {
  chooseBaseline,
  compareWithBaseline,
  DEFAULT_BASELINE,
  formatRatio,
  loadBaseline,
  makeBaseline,
  normalizeCompareArgv,
  parseRatio,
  ratiosFor,
  type BaselineFile,
} from './compare.js';

interface PeerInfo {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  instanceId: string;
  echoUrl: string;
  ptyUrl: string;
  replayUrl: string;
  adminToken: string;
  onlineInstanceIds: string[];
  replayBytes: number;
  bigFile: string;
  bigBytes: number;
}

interface Figure {
  name: string;
  unit: string;
  /** 'lower' or 'higher' is better. */
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  args: normalizeCompareArgv(process.argv.slice(2)),
  strict: false,
  options: {
    quick: { type: 'boolean' },
    'no-ui': { type: 'boolean' },
    'no-store': { type: 'boolean' },
    'no-plugin': { type: 'boolean' },
    'no-cli': { type: 'boolean' },
    compare: { type: 'string' },
    'no-compare': { type: 'boolean' },
    'update-baseline': { type: 'boolean' },
    'max-regression': { type: 'string' },
    'save-baseline': { type: 'string' },
  },
});
/** A string-valued flag; with strict: false a flag given without its value comes back as true. */
function stringArg(name: 'compare' | 'max-regression' | 'save-baseline'): string | undefined {
  const v = args[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} needs a value`);
  return v;
}
const quick = args.quick === true;
const N_OPEN = quick ? 5 : 20;
const N_ECHO = quick ? 100 : 1000;
const N_THROUGHPUT = quick ? 1 : 3;

async function startPeer(): Promise<{ info: PeerInfo; stop(): Promise<void> }> {
  // BENCH_PROFILE=1: the peer (the agent side) writes a .cpuprofile on exit into BENCH_PROFILE_DIR
  // (default bench/results/profiles); profile this process with `node --cpu-prof` yourself.
  const profile =
    process.env.BENCH_PROFILE === '1'
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR ?? join(here, 'results', 'profiles')}`]
      : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(here, 'peer.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...(quick ? { BENCH_BIG_MB: '16' } : {}) },
  });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench peer exited with ${code}`)));
  });
  return {
    info: JSON.parse(line) as PeerInfo,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.stdin!.end();
      }),
  };
}

/** Open a raw WebSocket and resolve with it and the time to its first message. */
function rawOpen(url: string): Promise<{ ws: WebSocket; firstMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('message', () => resolve({ ws, firstMs: performance.now() - t0 }));
  });
}

function waitQuiet(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  // Check the comparison flags before spending minutes on the run.
  const repoRoot = join(here, '..');
  const compareArg = args['no-compare'] ? false : args.compare;
  const compareWith = chooseBaseline(compareArg, join(repoRoot, DEFAULT_BASELINE));
  const compareFile = compareWith?.file;
  const maxRegressionArg = stringArg('max-regression');
  const maxRegression = maxRegressionArg === undefined ? undefined : parseRatio(maxRegressionArg);
  const saveBaseline = stringArg('save-baseline');
  const baseline: BaselineFile | undefined = compareFile ? loadBaseline(compareFile) : undefined;

  const peer = await startPeer();
  const { info } = peer;
  const cp = new ControlPlane({
    region: info.region,
    endpoint: info.endpoint,
    credentials: info.credentials,
    maxAttempts: 1,
  });
  const figures: Figure[] = [];
  const breakdown = {
    startSessionMs: [] as number[],
    connectMs: [] as number[],
    handshakeMs: [] as number[],
  };

  // ---- session open --------------------------------------------------------------
  const openOurs: number[] = [];
  const openBase: number[] = [];
  for (let i = 0; i < N_OPEN + 2; i++) {
    const t0 = performance.now();
    const s = await SsmSession.open({ controlPlane: cp, target: info.instanceId, cols: 120, rows: 40 });
    await new Promise<void>((r) => {
      if (s.timings.firstOutputMs !== undefined) r();
      else {
        const d = s.onOutput(() => {
          d.dispose();
          r();
        });
      }
    });
    const ms = performance.now() - t0;
    if (i >= 2) {
      openOurs.push(ms);
      breakdown.startSessionMs.push(s.timings.startSessionMs);
      breakdown.connectMs.push(s.timings.connectMs);
      breakdown.handshakeMs.push(s.timings.handshakeMs);
    }
    await s.terminate();
    const { ws, firstMs } = await rawOpen(info.ptyUrl);
    if (i >= 2) openBase.push(firstMs);
    ws.close();
  }
  figures.push(
    {
      name: 'session open (StartSession to first prompt byte)',
      unit: 'ms',
      better: 'lower',
      summary: summarize(openOurs),
      target: '< 100 ms',
    },
    {
      name: '  baseline: raw WebSocket + bare PTY, connect to first byte',
      unit: 'ms',
      better: 'lower',
      summary: summarize(openBase),
    },
  );

  // ---- echo round trip ---------------------------------------------------------------
  const session = await SsmSession.open({ controlPlane: cp, target: info.instanceId, cols: 120, rows: 40 });
  await waitQuiet(300);
  const sub = (fn: (b: Buffer) => void) => {
    const d = session.onOutput(fn);
    return () => d.dispose();
  };
  const ptyBase = await rawOpen(info.ptyUrl);
  await waitQuiet(300);
  const wsSub = (ws: WebSocket) => (fn: (b: Buffer) => void) => {
    const h = (d: Buffer) => fn(d);
    ws.on('message', h);
    return () => void ws.off('message', h);
  };
  const rawEcho = new WebSocket(info.echoUrl, { perMessageDeflate: false });
  await new Promise((r) => rawEcho.once('open', r));
  const oursT: EchoTarget = { write: (b) => session.write(b), subscribe: sub, samples: [] };
  const ptyT: EchoTarget = { write: (b) => ptyBase.ws.send(b), subscribe: wsSub(ptyBase.ws), samples: [] };
  const rawT: EchoTarget = { write: (b) => rawEcho.send(b), subscribe: wsSub(rawEcho), samples: [] };
  await echoInterleaved([oursT, ptyT, rawT], N_ECHO);
  const echoOurs = oursT.samples;
  const echoPty = ptyT.samples;
  const echoRaw = rawT.samples;
  const ours = summarize(echoOurs);
  const base = summarize(echoPty);
  figures.push(
    { name: 'keystroke echo round trip', unit: 'ms', better: 'lower', summary: ours },
    { name: '  baseline: raw WebSocket + bare PTY', unit: 'ms', better: 'lower', summary: base },
    {
      name: '  baseline: raw WebSocket echo (no shell)',
      unit: 'ms',
      better: 'lower',
      summary: summarize(echoRaw),
    },
    {
      name: 'echo overhead over raw WebSocket + PTY (median difference)',
      unit: 'ms',
      better: 'lower',
      summary: summarize([ours.median - base.median]),
    },
    {
      name: 'echo overhead over raw WebSocket + PTY (p95 difference)',
      unit: 'ms',
      better: 'lower',
      summary: summarize([ours.p95 - base.p95]),
    },
    {
      name: 'echo overhead over raw WebSocket + PTY (p99 difference)',
      unit: 'ms',
      better: 'lower',
      summary: { ...summarize([ours.p99 - base.p99]) },
      target: '< 1 ms',
    },
  );

  // ---- throughput ----------------------------------------------------------------------
  const tpOurs: number[] = [];
  const tpPty: number[] = [];
  const tpRaw: number[] = [];
  for (let i = 0; i < N_THROUGHPUT; i++) {
    tpOurs.push((await catThroughput(info.bigFile, (b) => session.write(b), sub)).mbps);
    tpPty.push((await catThroughput(info.bigFile, (b) => ptyBase.ws.send(b), wsSub(ptyBase.ws))).mbps);
    const t0 = performance.now();
    let bytes = 0;
    await new Promise<void>((resolve) => {
      const h = (d: Buffer, isBinary: boolean) => {
        if (!isBinary && d.toString() === 'END') {
          rawEcho.off('message', h);
          resolve();
        } else bytes += d.length;
      };
      rawEcho.on('message', h);
      rawEcho.send(`PUSH ${info.bigBytes}`);
    });
    tpRaw.push(bytes / 1024 / 1024 / ((performance.now() - t0) / 1000));
  }
  figures.push(
    {
      name: 'output throughput through a PTY (cat of a large file in the shell)',
      unit: 'MB/s',
      better: 'higher',
      summary: summarize(tpOurs),
    },
    {
      name: '  baseline: raw WebSocket + bare PTY',
      unit: 'MB/s',
      better: 'higher',
      summary: summarize(tpPty),
    },
    {
      name: '  baseline: raw WebSocket, 1 KiB frames (no shell)',
      unit: 'MB/s',
      better: 'higher',
      summary: summarize(tpRaw),
    },
  );

  // Protocol throughput without a terminal: a non-interactive command on pipes (no PTY ceiling).
  const tpPipe: number[] = [];
  const clientCeiling: number[] = [];
  for (let i = 0; i < N_THROUGHPUT; i++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const s = await SsmSession.open({
      controlPlane: cp,
      target: info.instanceId,
      documentName: 'AWS-StartNonInteractiveCommand',
      parameters: { command: [`cat ${info.bigFile}`] },
    });
    let bytes = 0;
    s.onOutput((b) => (bytes += b.length));
    await new Promise((r) => s.onClosed(r));
    tpPipe.push(bytes / 1024 / 1024 / ((performance.now() - t0) / 1000));
    const cpu = process.cpuUsage(cpu0);
    // MB this client process can take in per second of its own CPU: the client-side ceiling.
    clientCeiling.push(bytes / 1024 / 1024 / ((cpu.user + cpu.system) / 1e6));
    s.dispose();
  }
  figures.push({
    name: 'protocol throughput (non-interactive command, no PTY)',
    unit: 'MB/s',
    better: 'higher',
    summary: summarize(tpPipe),
    target: '>= 100 MB/s',
  });
  figures.push({
    name: '  client-side ceiling (MB received per CPU-second of the client)',
    unit: 'MB/s',
    better: 'higher',
    summary: summarize(clientCeiling),
  });

  // Our client alone, against a replay agent that costs almost nothing per message.
  const tpClient: number[] = [];
  for (let i = 0; i < N_THROUGHPUT; i++) {
    const dc = new DataChannel({ streamUrl: info.replayUrl, tokenValue: 'bench', sessionId: 'replay' });
    let bytes = 0;
    dc.onOutput((b) => (bytes += b.length));
    const closed = new Promise((r) => dc.onClosed(r));
    const t0 = performance.now();
    await dc.open();
    await closed;
    tpClient.push(bytes / 1024 / 1024 / ((performance.now() - t0) / 1000));
    dc.dispose();
  }
  figures.push({
    name: 'client protocol throughput (against a replay agent)',
    unit: 'MB/s',
    better: 'higher',
    summary: summarize(tpClient),
    target: '>= 100 MB/s',
  });

  await session.terminate();
  ptyBase.ws.close();
  rawEcho.close();
  figures.push(...(await runPortsBench(cp, info.instanceId, quick)));
  cp.dispose();
  const plugin = findPlugin();
  if (args['no-plugin']) process.stdout.write('official plugin benchmarks skipped: --no-plugin was given\n');
  else if (!plugin)
    process.stdout.write(
      `official plugin benchmarks skipped: session-manager-plugin not found (looked in SESSION_MANAGER_PLUGIN, ${pluginCandidates().slice(0, 3).join(', ')} and PATH)\n`,
    );
  else figures.push(...(await runPluginBench(info, { quick, plugin })));
  if (args['no-cli']) process.stdout.write('CLI start-up benchmarks skipped: --no-cli was given\n');
  else figures.push(...(await runCliBench(info, { quick, plugin: args['no-plugin'] ? undefined : plugin })));
  figures.push(...(await runSessionsBench(info, quick ? 40 : 200)));
  figures.push(...(await runFaultsBench(info, quick)));
  const sweep = await runSweepBench(info, {
    steps: quick ? [1, 10, 50] : undefined,
    idleMs: quick ? 1_000 : 2_000,
    loadMs: quick ? 1_000 : 2_000,
    // The README's copy only from full runs.
    chartFiles: [
      join(here, 'results', 'sweep.svg'),
      ...(quick ? [] : [join(repoRoot, 'docs/img/sweep.svg')]),
    ],
    footnote: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  });
  figures.push(...sweep.figures);
  await peer.stop();
  figures.push(...(await runMonitorBench({ quick })));
  if (args['no-store']) process.stdout.write('history store benchmarks skipped: --no-store was given\n');
  else figures.push(...(await runStoreBench({ quick })));
  const noUi = args['no-ui'] ? '--no-ui was given' : uiBenchUnavailable();
  if (noUi) process.stdout.write(`UI benchmarks skipped: ${noUi}\n`);
  else {
    try {
      figures.push(...(await runUiBench({ quick })));
    } catch (err) {
      // Keep the figures measured so far; the run still fails.
      process.stderr.write(`UI benchmarks failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    }
  }

  const records = figures.map((f) => ({
    name: f.name.trim(),
    unit: f.unit,
    better: f.better,
    ...(f.target ? { target: f.target } : {}),
    n: f.summary.n,
    min: round(f.summary.min),
    median: round(f.summary.median),
    p95: round(f.summary.p95),
    p99: round(f.summary.p99),
  }));
  // Ratios to the baseline (this run / baseline median) go into latest.json and the table.
  const cmp =
    baseline && compareFile
      ? compareWithBaseline(
          baseline,
          { figures: records, quick },
          compareFile,
          maxRegression,
          !compareWith?.explicit,
        )
      : undefined;
  const ratios = cmp ? ratiosFor(records, cmp.result) : undefined;
  const result = {
    date: new Date().toISOString(),
    version: CLIENT_VERSION,
    quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: process.platform,
      versions: benchVersions(CLIENT_VERSION),
    },
    ...(compareFile ? { comparedWith: relative(repoRoot, compareFile) || compareFile } : {}),
    openBreakdownMedianMs: {
      startSession: round(summarize(breakdown.startSessionMs).median),
      connect: round(summarize(breakdown.connectMs).median),
      handshake: round(summarize(breakdown.handshakeMs).median),
    },
    figures: records.map((r, i) => {
      const ratio = ratios?.[i];
      return ratios ? { ...r, ratio: ratio === null || ratio === undefined ? null : round(ratio) } : r;
    }),
  };
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');

  const rows = figures.map((f, i) => [
    f.name,
    f.unit,
    String(round(f.summary.min, 2)),
    String(round(f.summary.median, 2)),
    String(round(f.summary.p95, 2)),
    String(round(f.summary.p99, 2)),
    f.target ?? '',
    ...(ratios ? [formatRatio(ratios[i])] : []),
  ]);
  const head = ['figure', 'unit', 'min', 'median', 'p95', 'p99', 'target', ...(ratios ? ['vs base'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(
    [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n') + '\n',
  );
  process.stdout.write(`open breakdown (median ms): ${JSON.stringify(result.openBreakdownMedianMs)}\n`);
  process.stdout.write(`wrote ${join(outDir, 'latest.json')}\n`);
  if (ratios) process.stdout.write(`vs base: this run's median / the median in ${compareFile}\n`);

  if (cmp) {
    process.stdout.write(cmp.text);
    if (cmp.failure && compareWith?.explicit) {
      process.stderr.write(cmp.failure);
      process.exitCode = 1;
    } else if (cmp.failure)
      process.stdout.write(`(not failing the run: pass --compare to make a regression fail it)\n`);
  }
  const baselineFiles = [
    ...(saveBaseline ? [saveBaseline] : []),
    ...(args['update-baseline'] ? [join(repoRoot, DEFAULT_BASELINE)] : []),
  ];
  for (const file of baselineFiles) {
    writeFileSync(file, JSON.stringify(makeBaseline(result, maxRegression), null, 2) + '\n');
    process.stdout.write(`wrote baseline ${file}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
