/**
 * The shell-throughput figure of bench/run.ts alone, for profiling and A/B runs: `cat` of the
 * peer's big file through an SSM session beside the raw WebSocket + bare PTY baseline,
 * interleaved, N rounds.
 *
 *   node --import tsx bench/lib/throughput-probe.ts [--rounds 3] [--mb 64]
 *   BENCH_PROFILE=1 node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/lib/throughput-probe.ts
 * With BENCH_PROFILE=1 the peer (agent side) writes its own .cpuprofile into BENCH_PROFILE_DIR
 * (default bench/results/profiles).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ControlPlane } from '../../main/core/ssm/control-plane.js';
import { SsmSession } from '../../main/core/ssm/session.js';
import { summarize } from './stats.js';
import { catThroughput } from './throughput.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, mb: { type: 'string', default: '64' } },
});
const rounds = Number(values.rounds);

interface PeerInfo {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  instanceId: string;
  ptyUrl: string;
  bigFile: string;
}

const profileArgs =
  process.env.BENCH_PROFILE === '1'
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR ?? join(here, '..', 'results', 'profiles')}`,
      ]
    : [];
const child = spawn(process.execPath, [...profileArgs, '--import', 'tsx', join(here, '..', 'peer.ts')], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env, BENCH_BIG_MB: String(values.mb), BENCH_REPLAY_MB: '1' },
});
const info = await new Promise<PeerInfo>((resolve, reject) => {
  createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l) as PeerInfo));
  child.once('exit', (code) => reject(new Error(`bench peer exited with ${code}`)));
});

type Subscribe = (fn: (b: Buffer) => void) => () => void;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function procCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

const cpu = { client: [] as number[], peer: [] as number[] };

async function run(write: (b: Buffer) => void, subscribe: Subscribe, record = false): Promise<number> {
  const c0 = process.cpuUsage();
  const p0 = procCpuSeconds(child.pid!);
  const { mbps, bytes } = await catThroughput(info.bigFile, write, subscribe);
  const mb = bytes / 1024 / 1024;
  if (record) {
    const c = process.cpuUsage(c0);
    cpu.client.push((c.user + c.system) / 1e6 / mb);
    cpu.peer.push((procCpuSeconds(child.pid!) - p0) / mb);
  }
  return mbps;
}

const cp = new ControlPlane({
  region: info.region,
  endpoint: info.endpoint,
  credentials: info.credentials,
  maxAttempts: 1,
});
const session = await SsmSession.open({ controlPlane: cp, target: info.instanceId, cols: 120, rows: 40 });
const raw = new WebSocket(info.ptyUrl, { perMessageDeflate: false });
await new Promise((r) => raw.once('message', r));
await new Promise((r) => setTimeout(r, 300));
// Keystroke echo (the latency the bulk-output coalescing must not touch): 'x' until an 'x' is seen.
async function echo(write: (b: Buffer) => void, subscribe: Subscribe, n: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const unsub = subscribe((b) => {
        if (b.includes(0x78)) {
          unsub();
          resolve();
        }
      });
      write(Buffer.from('x'));
    });
    samples.push(performance.now() - t0);
    if (i % 20 === 19) write(Buffer.from([0x15])); // Ctrl-U: clear the line
  }
  return samples;
}
const subOurs: Subscribe = (fn) => {
  const d = session.onOutput(fn);
  return () => d.dispose();
};
const subRaw: Subscribe = (fn) => {
  raw.on('message', fn);
  return () => void raw.off('message', fn);
};
const echoOurs: number[] = [];
const echoRaw: number[] = [];
for (let i = 0; i < 5; i++) {
  echoOurs.push(...(await echo((b) => session.write(b), subOurs, 40)));
  echoRaw.push(...(await echo((b) => raw.send(b), subRaw, 40)));
}
const e = (xs: number[]) => `median ${summarize(xs).median.toFixed(2)} p99 ${summarize(xs).p99.toFixed(2)}`;
process.stdout.write(`echo ms: ours ${e(echoOurs)}; bare PTY ${e(echoRaw)}\n`);
raw.send(Buffer.from([0x15]));
session.write(Buffer.from([0x15]));
await new Promise((r) => setTimeout(r, 200));

const ours: number[] = [];
const base: number[] = [];
for (let i = 0; i < rounds; i++) {
  ours.push(
    await run(
      (b) => session.write(b),
      (fn) => {
        const d = session.onOutput(fn);
        return () => d.dispose();
      },
      true,
    ),
  );
  base.push(
    await run(
      (b) => raw.send(b),
      (fn) => {
        raw.on('message', fn);
        return () => void raw.off('message', fn);
      },
    ),
  );
  process.stdout.write(
    `round ${i + 1}: ours ${ours[i]!.toFixed(1)} MB/s, bare PTY ${base[i]!.toFixed(1)} MB/s\n`,
  );
}
const fmt = (xs: number[]) => summarize(xs).median.toFixed(1);
process.stdout.write(`median: ours ${fmt(ours)} MB/s, bare PTY ${fmt(base)} MB/s\n`);
const ms = (xs: number[]) => (summarize(xs).median * 1000).toFixed(1);
process.stdout.write(
  `CPU per MB (ours, median): client ${ms(cpu.client)} ms, agent process ${ms(cpu.peer)} ms\n`,
);
await session.terminate();
raw.close();
cp.dispose();
await new Promise<void>((r) => {
  child.once('exit', () => r());
  child.stdin!.end();
});
