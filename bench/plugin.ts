/**
 * EC2 Connect beside the official AWS session-manager-plugin, on the same kind of shell session
 * against the same peer sandbox, in the same run. Both run as a user runs them, in a terminal
 * (a PTY from node-pty, 120x40): the plugin given a StartSession response (as the AWS CLI starts
 * it), and `ec2-connect connect` (the shipped bundle, see lib/launch.ts). Measured:
 *  - session open: StartSession to the prompt on the plugin's terminal; spawn to the prompt for
 *    `ec2-connect connect` (its own StartSession and Node start-up included); and our client
 *    in-process, StartSession to the prompt, the pair of the plugin's figure without a process;
 *  - keystroke echo round trip through each terminal ('x' written, 'x' back), interleaved;
 *  - output throughput: `cat` of the peer's big file through each terminal;
 *  - resident memory (VmRSS) of the process holding one open, idle session, and its peak
 *    (VmHWM) after the throughput runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { ControlPlane } from '../main/core/ssm/control-plane.js';
import { SsmSession } from '../main/core/ssm/session.js';
import { summarize, type Summary } from './lib/stats.js';
import { catThroughput } from './lib/throughput.js';
import { ec2ConnectLaunch, processKb } from './lib/launch.js';
import { echoInterleaved, type EchoTarget } from './lib/echo.js';

export interface PluginPeer {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  instanceId: string;
  bigFile: string;
}

export interface PluginFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

/** The sandbox shell's prompt, e.g. `[ssm-user@ip-10-0-0-1 ~]$ `. */
const PROMPT = /\[ssm-user@[^\]]+\]\$ /;
const TIMEOUT_MS = 30_000;

type Listener = (b: Buffer) => void;

/** Something that takes keystrokes and gives terminal output: a PTY client or an in-process session. */
interface Terminal {
  write(data: string | Buffer): void;
  subscribe(fn: Listener): () => void;
}

/** Wait until `re` matches the output from now on (the last 8 KiB of it). */
function waitForOutput(t: Terminal, re: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      unsub();
      reject(new Error(`timed out waiting for ${what}; last output: ${JSON.stringify(text.slice(-400))}`));
    }, TIMEOUT_MS);
    const unsub = t.subscribe((b) => {
      text = (text + b.toString('latin1')).slice(-8192);
      if (re.test(text)) {
        clearTimeout(timer);
        unsub();
        resolve();
      }
    });
  });
}

/** A program in a terminal of its own, as a user runs it. */
class PtyClient implements Terminal {
  readonly proc: pty.IPty;
  readonly exited: Promise<number>;
  private readonly listeners = new Set<Listener>();

  constructor(file: string, args: string[], env: Record<string, string>) {
    this.proc = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols: 120,
      rows: 40,
      env,
      // Buffers, not strings: byte counts are exact and nothing is decoded twice.
      encoding: null,
    });
    const data = this.proc.onData((d: string | Buffer) => {
      const b = typeof d === 'string' ? Buffer.from(d) : d;
      for (const fn of this.listeners) fn(b);
    });
    this.exited = new Promise((resolve) =>
      this.proc.onExit((e) => {
        data.dispose();
        resolve(e.exitCode);
      }),
    );
  }

  write(data: string | Buffer): void {
    this.proc.write(typeof data === 'string' ? data : data.toString('latin1'));
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** `exit` at the prompt; killed when it has not exited within 10 s. */
  async close(): Promise<void> {
    this.write('\x15exit\r');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 10_000))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.proc.kill();
      await this.exited;
    }
  }
}

/** Our client in this process: SsmSession, its output as the terminal's. */
class InProcessClient implements Terminal {
  private constructor(readonly session: SsmSession) {}

  static async open(cp: ControlPlane, target: string): Promise<InProcessClient> {
    return new InProcessClient(await SsmSession.open({ controlPlane: cp, target, cols: 120, rows: 40 }));
  }

  write(data: string | Buffer): void {
    this.session.write(typeof data === 'string' ? Buffer.from(data) : data);
  }

  subscribe(fn: Listener): () => void {
    const d = this.session.onOutput(fn);
    return () => d.dispose();
  }
}

/** `cat` of the file and an end marker; MB/s of terminal output until the marker. */
async function throughputOnce(t: Terminal, file: string): Promise<number> {
  const { mbps } = await catThroughput(
    file,
    (b) => t.write(b.toString()),
    (fn) => t.subscribe(fn),
  );
  return mbps;
}

export async function runPluginBench(
  peer: PluginPeer,
  options: { quick: boolean; plugin: string },
): Promise<PluginFigure[]> {
  const nOpen = options.quick ? 3 : 10;
  const nEcho = options.quick ? 100 : 500;
  const nThroughput = options.quick ? 1 : 3;
  const cli = ec2ConnectLaunch();
  const cp = new ControlPlane({
    region: peer.region,
    endpoint: peer.endpoint,
    credentials: peer.credentials,
    maxAttempts: 1,
  });
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TERM: 'xterm-256color',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  const pluginEnv = {
    ...baseEnv,
    AWS_ACCESS_KEY_ID: peer.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: peer.credentials.secretAccessKey,
    AWS_REGION: peer.region,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // A data folder of its own: no user configuration, and the sessions' history is not the user's.
  const home = mkdtempSync(join(tmpdir(), 'ec2c-bench-plugin-'));
  const cliEnv = { ...baseEnv, EC2_CONNECT_HOME: home };

  /** The plugin on a session this process started, as the AWS CLI runs it. */
  const startPlugin = async (): Promise<PtyClient> => {
    const s = await cp.startSession({ target: peer.instanceId });
    const response = { SessionId: s.sessionId, TokenValue: s.tokenValue, StreamUrl: s.streamUrl };
    const args = [
      JSON.stringify(response),
      peer.region,
      'StartSession',
      '',
      JSON.stringify({ Target: peer.instanceId }),
      peer.endpoint,
    ];
    return new PtyClient(options.plugin, args, pluginEnv);
  };
  const startCli = (): PtyClient =>
    new PtyClient(
      cli.argv[0]!,
      [
        ...cli.argv.slice(1),
        'connect',
        '--endpoint',
        peer.endpoint,
        '--region',
        peer.region,
        '--instance-id',
        peer.instanceId,
      ],
      cliEnv,
    );

  const open = { plugin: [] as number[], cli: [] as number[], inProcess: [] as number[] };
  const rssMb = { plugin: [] as number[], cli: [] as number[] };
  const live: PtyClient[] = [];
  try {
    // ---- session open, and the memory of a process holding one idle session -----------------
    for (let i = 0; i < nOpen + 1; i++) {
      const measured = i > 0; // the first round warms up both ends
      for (const kind of ['plugin', 'cli'] as const) {
        const t0 = performance.now();
        const client = kind === 'plugin' ? await startPlugin() : startCli();
        live.push(client);
        await waitForOutput(
          client,
          PROMPT,
          `the prompt in ${kind === 'plugin' ? 'the plugin' : 'ec2-connect connect'}`,
        );
        const ms = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 300));
        const kb = await processKb(client.proc.pid, 'VmRSS');
        if (kb === undefined) throw new Error(`${kind} exited with its session open`);
        if (measured) {
          open[kind].push(ms);
          rssMb[kind].push(kb / 1024);
        }
        await client.close();
        live.splice(live.indexOf(client), 1);
      }
      const t0 = performance.now();
      const ours = await InProcessClient.open(cp, peer.instanceId);
      try {
        await waitForOutput(ours, PROMPT, 'the prompt in the in-process session');
        if (measured) open.inProcess.push(performance.now() - t0);
      } finally {
        await ours.session.terminate();
      }
    }

    // ---- echo and throughput, one long-lived session each --------------------------------------
    const plugin = await startPlugin();
    live.push(plugin);
    const conn = startCli();
    live.push(conn);
    await Promise.all([
      waitForOutput(plugin, PROMPT, 'the prompt in the plugin'),
      waitForOutput(conn, PROMPT, 'the prompt in ec2-connect connect'),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    const echoTarget = (terminal: Terminal): EchoTarget => ({
      write: (b) => terminal.write(b),
      subscribe: (fn) => terminal.subscribe(fn),
      samples: [],
    });
    const echoPlugin = echoTarget(plugin);
    const echoCli = echoTarget(conn);
    await echoInterleaved([echoCli, echoPlugin], nEcho);

    const tp = { plugin: [] as number[], cli: [] as number[] };
    for (let i = 0; i < nThroughput; i++) {
      tp.cli.push(await throughputOnce(conn, peer.bigFile));
      tp.plugin.push(await throughputOnce(plugin, peer.bigFile));
    }
    const peakPlugin = await processKb(plugin.proc.pid, 'VmHWM');
    const peakCli = await processKb(conn.proc.pid, 'VmHWM');
    if (peakPlugin === undefined || peakCli === undefined)
      throw new Error('a client exited before its peak memory was read');

    return [
      {
        name: 'ec2-connect connect: session open (spawn to prompt, in a PTY)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(open.cli),
      },
      {
        name: 'our client in-process: session open (StartSession to prompt)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(open.inProcess),
      },
      {
        name: '  baseline: official plugin (StartSession + plugin in a PTY, to prompt)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(open.plugin),
      },
      {
        name: 'ec2-connect connect: keystroke echo round trip (in a PTY)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(echoCli.samples),
      },
      {
        name: '  baseline: official plugin in a PTY, echo round trip',
        unit: 'ms',
        better: 'lower',
        summary: summarize(echoPlugin.samples),
      },
      {
        name: 'ec2-connect connect: output throughput (cat in the shell, through its PTY)',
        unit: 'MB/s',
        better: 'higher',
        summary: summarize(tp.cli),
      },
      {
        name: '  baseline: official plugin in a PTY, output throughput',
        unit: 'MB/s',
        better: 'higher',
        summary: summarize(tp.plugin),
      },
      {
        name: 'ec2-connect connect: resident memory, one idle session',
        unit: 'MB',
        better: 'lower',
        summary: summarize(rssMb.cli),
      },
      {
        name: '  baseline: official plugin, resident memory, one idle session',
        unit: 'MB',
        better: 'lower',
        summary: summarize(rssMb.plugin),
      },
      {
        name: 'ec2-connect connect: peak memory after the throughput runs',
        unit: 'MB',
        better: 'lower',
        summary: summarize([peakCli / 1024]),
      },
      {
        name: '  baseline: official plugin, peak memory after the throughput runs',
        unit: 'MB',
        better: 'lower',
        summary: summarize([peakPlugin / 1024]),
      },
    ];
  } finally {
    await Promise.all(live.map((c) => c.close()));
    cp.dispose();
    rmSync(home, { recursive: true, force: true });
  }
}
