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
 * Writes bench/results/latest.json and prints a table.
 *
 * Flags: --quick, --no-ui, --no-store; --compare <baseline.json> (exit 1 when a figure's median
 * regressed by more than its tolerance; see compare.ts), --max-regression <ratio> (overrides the
 * baseline's default), --save-baseline <file> (write this run as a baseline).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ControlPlane } from '../main/core/ssm/control-plane.js';
import { SsmSession } from '../main/core/ssm/session.js';
import { DataChannel } from '../main/core/ssm/data-channel.js';
import { CLIENT_VERSION } from '../main/core/version.js';
import { round, summarize, type Summary } from './lib/stats.js';
import { runSessionsBench } from './sessions.js';
import { runUiBench, uiBenchUnavailable } from './ui.js';
import { runStoreBench } from './store.js';
import { runMonitorBench } from './monitor.js';
import { runPortsBench } from './ports.js';
import { compareWithBaseline, loadBaseline, makeBaseline, parseRatio, type BaselineFile } from './compare.js';

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
  args: process.argv.slice(2),
  strict: false,
  options: {
    quick: { type: 'boolean' },
    'no-ui': { type: 'boolean' },
    'no-store': { type: 'boolean' },
    compare: { type: 'string' },
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
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'peer.ts')], {
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

interface EchoTarget {
  write: (b: Buffer) => void;
  subscribe: (fn: (b: Buffer) => void) => () => void;
  samples: number[];
}

/** One echo round trip: write 'x', wait for an 'x' in the output. */
async function echoOnce(t: EchoTarget): Promise<void> {
  let unsub: () => void = () => {};
  const t0 = performance.now();
  await new Promise<void>((r) => {
    unsub = t.subscribe((b) => {
      if (b.includes(0x78)) r();
    });
    t.write(Buffer.from('x'));
  });
  t.samples.push(performance.now() - t0);
  unsub();
}

/**
 * Echo round trips on several streams, interleaved in rounds of 10 keystrokes so that
 * machine noise falls on all of them alike; the line is cleared (Ctrl-U) between rounds.
 */
async function echoInterleaved(targets: EchoTarget[], n: number): Promise<void> {
  for (let done = 0; done < n; done += 10) {
    for (const t of targets) {
      for (let i = 0; i < 10; i++) await echoOnce(t);
      t.write(Buffer.from([0x15]));
    }
    await waitQuiet(20);
  }
}

/** Run `cat file` and time until the end marker; returns MB/s of output bytes received. */
async function throughputRun(
  file: string,
  write: (b: Buffer) => void,
  subscribe: (fn: (b: Buffer) => void) => () => void,
): Promise<{ mbps: number; bytes: number }> {
  const marker = Buffer.from('END-OF-BENCH');
  let bytes = 0;
  let tail = Buffer.alloc(0);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const unsub = subscribe((b) => {
      bytes += b.length;
      const window = Buffer.concat([tail, b]);
      tail = window.subarray(-marker.length);
      if (window.includes(marker)) {
        unsub();
        resolve();
      }
    });
    write(Buffer.from(`cat ${file}; echo END-OF""-BENCH\r`));
  });
  const s = (performance.now() - t0) / 1000;
  return { mbps: bytes / 1024 / 1024 / s, bytes };
}

async function main(): Promise<void> {
  // Check the comparison flags before spending minutes on the run.
  const compareFile = stringArg('compare');
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
    tpOurs.push((await throughputRun(info.bigFile, (b) => session.write(b), sub)).mbps);
    tpPty.push((await throughputRun(info.bigFile, (b) => ptyBase.ws.send(b), wsSub(ptyBase.ws))).mbps);
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
  figures.push(...(await runSessionsBench(info, quick ? 40 : 200)));
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
    },
    openBreakdownMedianMs: {
      startSession: round(summarize(breakdown.startSessionMs).median),
      connect: round(summarize(breakdown.connectMs).median),
      handshake: round(summarize(breakdown.handshakeMs).median),
    },
    figures: figures.map((f) => ({
      name: f.name.trim(),
      unit: f.unit,
      better: f.better,
      ...(f.target ? { target: f.target } : {}),
      n: f.summary.n,
      min: round(f.summary.min),
      median: round(f.summary.median),
      p95: round(f.summary.p95),
      p99: round(f.summary.p99),
    })),
  };
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');

  const rows = figures.map((f) => [
    f.name,
    f.unit,
    String(round(f.summary.min, 2)),
    String(round(f.summary.median, 2)),
    String(round(f.summary.p95, 2)),
    String(round(f.summary.p99, 2)),
    f.target ?? '',
  ]);
  const head = ['figure', 'unit', 'min', 'median', 'p95', 'p99', 'target'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(
    [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n') + '\n',
  );
  process.stdout.write(`open breakdown (median ms): ${JSON.stringify(result.openBreakdownMedianMs)}\n`);
  process.stdout.write(`wrote ${join(outDir, 'latest.json')}\n`);

  if (saveBaseline) {
    writeFileSync(saveBaseline, JSON.stringify(makeBaseline(result, maxRegression), null, 2) + '\n');
    process.stdout.write(`wrote baseline ${saveBaseline}\n`);
  }
  if (baseline && compareFile) {
    const cmp = compareWithBaseline(baseline, result, compareFile, maxRegression);
    process.stdout.write(cmp.text);
    if (cmp.failure) {
      process.stderr.write(cmp.failure);
      process.exitCode = 1;
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
