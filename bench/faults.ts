/**
 * The protocol under injected network faults (the sandbox's fault controller, which applies them
 * to every data-channel frame in both directions; see main/sandbox/faults.ts), each figure beside
 * the same measurement with no fault, in the same run and on the same peer:
 *   - keystroke echo round trip with 100 ms added to each direction
 *   - keystroke echo round trip with 5 % of data-channel messages lost (both ways, acks included;
 *     the protocol's retransmission recovers them)
 *   - protocol throughput (a fixed amount of non-interactive output) with that loss
 * Faults are global to the sandbox, so nothing else may run against the peer meanwhile; they are
 * reset before this returns, whatever happens.
 */
import { ControlPlane } from '../main/core/ssm/control-plane.js';
import { SsmSession } from '../main/core/ssm/session.js';
import { summarize } from './lib/stats.js';
import { echoInterleaved, type EchoTarget } from './lib/echo.js';
import { admin, type SessionsFigure, type SessionsPeer } from './sessions.js';

export interface FaultsPeer extends SessionsPeer {
  instanceId: string;
  /** A large text file on the peer; the throughput runs read a prefix of it. */
  bigFile: string;
}

const ADDED_LATENCY_MS = 100;
const LOSS_RATE = 0.05;

function wait(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `n` keystroke round trips in rounds of 10, clearing the line (Ctrl-U) between rounds. */
async function echoSamples(session: SsmSession, n: number): Promise<number[]> {
  const target: EchoTarget = {
    write: (b) => session.write(b),
    subscribe: (fn) => {
      const d = session.onOutput(fn);
      return () => d.dispose();
    },
    samples: [],
  };
  await echoInterleaved([target], n);
  return target.samples;
}

/**
 * MB/s of `head -c <bytes>` of the peer's big file through a non-interactive session, from the
 * first output byte to the last expected one (not to channel_closed, which a lossy link may
 * delay); rejects after 60 s.
 */
async function pipeThroughput(cp: ControlPlane, peer: FaultsPeer, bytes: number): Promise<number> {
  const s = await SsmSession.open({
    controlPlane: cp,
    target: peer.instanceId,
    documentName: 'AWS-StartNonInteractiveCommand',
    parameters: { command: [`head -c ${bytes} ${peer.bigFile}`] },
  });
  try {
    let got = 0;
    let first = 0;
    const t = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`throughput run: ${got} of ${bytes} bytes after 60 s`)),
        60_000,
      );
      s.onOutput((b) => {
        if (!first) first = performance.now();
        got += b.length;
        if (got >= bytes) {
          clearTimeout(timer);
          resolve(performance.now() - first);
        }
      });
    });
    return bytes / 1024 / 1024 / (t / 1000);
  } finally {
    await s.terminate().catch(() => {});
    s.dispose();
  }
}

export async function runFaultsBench(peer: FaultsPeer, quick: boolean): Promise<SessionsFigure[]> {
  const nLatency = quick ? 10 : 30;
  const nLoss = quick ? 100 : 300;
  const runs = quick ? 1 : 3;
  const tpBytes = (quick ? 2 : 8) * 1024 * 1024;
  const cp = new ControlPlane({
    region: peer.region,
    endpoint: peer.endpoint,
    credentials: peer.credentials,
    maxAttempts: 3,
  });
  const session = await SsmSession.open({ controlPlane: cp, target: peer.instanceId, cols: 120, rows: 40 });
  const setFaults = (dataChannel: { delayMs?: number; dropRate?: number }) =>
    admin(peer, '/faults', { dataChannel });
  try {
    await wait(300); // the prompt
    const clean = await echoSamples(session, nLoss);

    await setFaults({ delayMs: ADDED_LATENCY_MS });
    const slow = await echoSamples(session, nLatency);
    await admin(peer, '/faults/reset', {});

    await setFaults({ dropRate: LOSS_RATE });
    const lossy = await echoSamples(session, nLoss);
    await admin(peer, '/faults/reset', {});

    const tpClean: number[] = [];
    const tpLossy: number[] = [];
    for (let i = 0; i < runs; i++) {
      tpClean.push(await pipeThroughput(cp, peer, tpBytes));
      await setFaults({ dropRate: LOSS_RATE });
      tpLossy.push(await pipeThroughput(cp, peer, tpBytes));
      await admin(peer, '/faults/reset', {});
    }
    const mb = tpBytes / 1024 / 1024;
    return [
      {
        name: `keystroke echo round trip, ${ADDED_LATENCY_MS} ms added each way`,
        unit: 'ms',
        better: 'lower',
        summary: summarize(slow),
        target: `~ ${2 * ADDED_LATENCY_MS} ms + the baseline`,
      },
      {
        name: '  baseline: the same session with no fault',
        unit: 'ms',
        better: 'lower',
        summary: summarize(clean),
      },
      {
        name: `keystroke echo round trip, ${LOSS_RATE * 100} % of messages lost (both ways)`,
        unit: 'ms',
        better: 'lower',
        summary: summarize(lossy),
      },
      {
        name: `protocol throughput, ${mb} MB non-interactive output, ${LOSS_RATE * 100} % loss`,
        unit: 'MB/s',
        better: 'higher',
        summary: summarize(tpLossy),
      },
      {
        name: '  baseline: the same with no fault',
        unit: 'MB/s',
        better: 'higher',
        summary: summarize(tpClean),
      },
    ];
  } finally {
    await admin(peer, '/faults/reset', {}).catch(() => {});
    await session.terminate().catch(() => {});
    session.dispose();
    cp.dispose();
  }
}
