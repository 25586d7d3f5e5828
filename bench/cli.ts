/**
 * The `ec2-connect` command's start-up, as users launch it (ec2ConnectLaunch: the bundle
 * package.json's "bin" ships, run by node): wall time from spawn to exit and peak resident
 * memory of `ec2-connect --version` and of `ec2-connect list` against the peer sandbox, beside
 * `node -e 0` (the floor of any Node CLI) and, when installed, `session-manager-plugin --version`.
 * Runs of the commands are interleaved, so machine noise falls on all of them alike.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { summarize, type Summary } from './lib/stats.js';
import { ec2ConnectLaunch, processKb } from './lib/launch.js';

export interface CliPeer {
  endpoint: string;
  region: string;
  instanceId: string;
}

export interface CliFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

interface Probe {
  /** Figure name suffix. */
  name: string;
  argv: string[];
  /** Throws when the run did not do what it should (so a failing command is never timed). */
  check: (stdout: string) => void;
  ms: number[];
  peakMb: number[];
}

const GNU_TIME = '/usr/bin/time';
const run = promisify(execFile);

/** One run, spawn to exit, with stdout for the check. */
function timeOnce(argv: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`${argv.join(' ')} exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/**
 * Peak resident memory of one run in MB: the kernel's maxrss through GNU time when installed
 * (exact, whatever the run's length); otherwise VmHWM sampled every 2 ms, the last reading before
 * exit (a process that exits within the first sample's 2 ms is not seen: that throws).
 */
async function peakMbOnce(argv: string[], env: NodeJS.ProcessEnv, scratch: string): Promise<number> {
  if (existsSync(GNU_TIME)) {
    const out = join(scratch, 'time.txt');
    await run(GNU_TIME, ['-f', '%M', '-o', out, ...argv], { env });
    return Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024;
  }
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' });
  let peakKb = 0;
  const timer = setInterval(() => {
    void processKb(child.pid!, 'VmHWM').then((kb) => (peakKb = Math.max(peakKb, kb ?? 0)));
  }, 2);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
  } finally {
    clearInterval(timer);
  }
  if (peakKb === 0) throw new Error(`${argv.join(' ')} exited before its memory could be read`);
  return peakKb / 1024;
}

export async function runCliBench(
  peer: CliPeer,
  options: { quick: boolean; plugin: string | undefined },
): Promise<CliFigure[]> {
  const launch = ec2ConnectLaunch();
  // A data folder of its own: no user configuration, no history database of the user's.
  const home = mkdtempSync(join(tmpdir(), 'ec2c-bench-cli-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    EC2_CONNECT_HOME: home,
  };
  const probe = (name: string, argv: string[], check: (stdout: string) => void = () => {}): Probe => ({
    name,
    argv,
    check,
    ms: [],
    peakMb: [],
  });
  const version = probe('ec2-connect --version', [...launch.argv, '--version'], (out) => {
    if (!/\d+\.\d+\.\d+/.test(out)) throw new Error(`ec2-connect --version printed ${JSON.stringify(out)}`);
  });
  const list = probe(
    'ec2-connect list',
    [...launch.argv, 'list', '--endpoint', peer.endpoint, '--region', peer.region],
    (out) => {
      if (!out.includes(peer.instanceId))
        throw new Error(`ec2-connect list did not list ${peer.instanceId}: ${out.slice(0, 400)}`);
    },
  );
  const nodeFloor = probe('node -e 0', [process.execPath, '-e', '0']);
  const pluginVersion = options.plugin
    ? probe('session-manager-plugin --version', [options.plugin, '--version'])
    : undefined;
  const probes = [version, list, nodeFloor, ...(pluginVersion ? [pluginVersion] : [])];

  const nTime = options.quick ? 5 : 15;
  const nMem = options.quick ? 2 : 5;
  try {
    // One unmeasured round: the files in the page cache, the sandbox's first answers made.
    for (const p of probes) p.check((await timeOnce(p.argv, env)).stdout);
    for (let i = 0; i < nTime; i++) {
      for (const p of probes) {
        const r = await timeOnce(p.argv, env);
        p.check(r.stdout);
        p.ms.push(r.ms);
      }
    }
    for (let i = 0; i < nMem; i++) {
      for (const p of probes) p.peakMb.push(await peakMbOnce(p.argv, env, home));
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }

  const how = `(${launch.label})`;
  const figures: CliFigure[] = [
    {
      name: `CLI start-up: ec2-connect --version ${how}`,
      unit: 'ms',
      better: 'lower',
      summary: summarize(version.ms),
    },
    {
      name: '  baseline: node -e 0, start-up (the floor of a Node CLI)',
      unit: 'ms',
      better: 'lower',
      summary: summarize(nodeFloor.ms),
    },
  ];
  if (pluginVersion)
    figures.push({
      name: '  baseline: session-manager-plugin --version, start-up',
      unit: 'ms',
      better: 'lower',
      summary: summarize(pluginVersion.ms),
    });
  figures.push(
    {
      name: `CLI start-up: ec2-connect list, peer sandbox ${how}`,
      unit: 'ms',
      better: 'lower',
      summary: summarize(list.ms),
    },
    {
      name: 'CLI peak memory: ec2-connect --version',
      unit: 'MB',
      better: 'lower',
      summary: summarize(version.peakMb),
    },
    {
      name: '  baseline: node -e 0, peak memory',
      unit: 'MB',
      better: 'lower',
      summary: summarize(nodeFloor.peakMb),
    },
  );
  if (pluginVersion)
    figures.push({
      name: '  baseline: session-manager-plugin --version, peak memory',
      unit: 'MB',
      better: 'lower',
      summary: summarize(pluginVersion.peakMb),
    });
  figures.push({
    name: 'CLI peak memory: ec2-connect list',
    unit: 'MB',
    better: 'lower',
    summary: summarize(list.peakMb),
  });
  return figures;
}
