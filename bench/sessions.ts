/**
 * Many sessions at once through the session manager, against the sandbox in the peer process:
 * success rate of 200 concurrent sessions that each echo input and produce output, main-process
 * memory per session, CPU of 20 idle open sessions, and the time to notice a silent (black-holed)
 * or a dropped (closed) connection and to reconnect. Its helpers serve sweep.ts and faults.ts too.
 */
import { ControlPlane } from '../main/core/ssm/control-plane.js';
import { ControlPlanePool } from '../main/core/sessions/control-plane-pool.js';
import { SessionManager, type ManagedSessionInfo } from '../main/core/sessions/session-manager.js';
import { summarize, type Summary } from './lib/stats.js';

export interface SessionsPeer {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  adminToken: string;
  onlineInstanceIds: string[];
}

export interface SessionsFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

const gc = (globalThis as { gc?: () => void }).gc;

export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 200));
}

/** This process's memory after two full GCs (run.ts runs with --expose-gc). */
export function memoryNow(): { rss: number; heap: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
}

/**
 * Open and end one session so module loading and connection set-up are not counted per
 * session; then the memory to count from.
 */
export async function warmUp(
  manager: SessionManager,
  peer: SessionsPeer,
): Promise<{ rss: number; heap: number }> {
  const warm = await manager.open({
    profile: 'sandbox',
    region: peer.region,
    target: peer.onlineInstanceIds[0]!,
  });
  await manager.terminate(warm.id);
  await settle();
  return memoryNow();
}

/** A call to the sandbox's admin API (faults, dropped or silent sockets). */
export async function admin(peer: SessionsPeer, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${peer.endpoint}/__sandbox${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sandbox-admin-token': peer.adminToken },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${path} failed: ${res.status} ${await res.text()}`);
}

/** CPU of this process over the next `ms`, in % of one core. */
export async function cpuPercentOver(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c = process.cpuUsage(c0);
  return (100 * (c.user + c.system)) / 1000 / (performance.now() - t0);
}

/**
 * A session manager against the peer's sandbox with no session limits (the sandbox has none
 * either) and fast reconnects; dispose with `manager.shutdown()` then `pool.dispose()`.
 */
export function benchSessionManager(peer: SessionsPeer): { manager: SessionManager; pool: ControlPlanePool } {
  const pool = new ControlPlanePool(
    (_p, region) =>
      new ControlPlane({ region, endpoint: peer.endpoint, credentials: peer.credentials, maxAttempts: 3 }),
  );
  const manager = new SessionManager({
    controlPlaneFor: (p, r) => pool.get(p, r),
    limits: { maxSessionsPerInstance: 0, maxTotalSessions: 0 },
    reconnect: { baseDelayMs: 50, maxDelayMs: 500 },
  });
  return { manager, pool };
}

/**
 * Times from a socket fault (injected by `inject`) to the session's 'reconnecting' state, and
 * from there back to 'open', for each session in turn.
 */
export async function faultRecovery(
  manager: SessionManager,
  sessions: ManagedSessionInfo[],
  inject: (s: ManagedSessionInfo) => Promise<void>,
): Promise<{ detect: number[]; reconnect: number[] }> {
  const detect: number[] = [];
  const reconnect: number[] = [];
  for (const s of sessions) {
    const t = performance.now();
    let lost = 0;
    let sub: { dispose(): void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`session ${s.id} did not reconnect within 30 s after the fault`)),
        30_000,
      );
      sub = manager.onStateChanged(({ id, state }) => {
        if (id !== s.id) return;
        if (state === 'reconnecting' && !lost) lost = performance.now();
        if (state === 'open' && lost) {
          detect.push(lost - t);
          reconnect.push(performance.now() - lost);
          clearTimeout(timer);
          resolve();
        }
      });
    });
    try {
      await inject(s);
      await done;
    } finally {
      sub?.dispose();
    }
  }
  return { detect, reconnect };
}

export async function runSessionsBench(peer: SessionsPeer, count: number): Promise<SessionsFigure[]> {
  const { manager, pool } = benchSessionManager(peer);
  const texts = new Map<string, string>();
  manager.onOutput(({ id, data }) => {
    const t = (texts.get(id) ?? '') + data.toString('latin1');
    texts.set(id, t.length > 4096 ? t.slice(-4096) : t);
  });
  const figures: SessionsFigure[] = [];
  try {
    const idleCpu = cpuPercentOver;
    const before = await warmUp(manager, peer);
    const idleEmpty = await idleCpu(5_000);

    // ---- 200 at once: open (20 in flight), then each echoes input and prints output ----------
    const opened: ManagedSessionInfo[] = [];
    let failed = 0;
    const openTimes: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const i = next++;
          try {
            const s = await manager.open({
              profile: 'sandbox',
              region: peer.region,
              target: peer.onlineInstanceIds[i % peer.onlineInstanceIds.length]!,
            });
            openTimes.push(s.openMs);
            opened.push(s);
          } catch (err) {
            failed++;
            if (process.env.BENCH_DEBUG)
              process.stderr.write(`open ${i} failed: ${(err as Error).message}\n`);
          }
        }
      }),
    );
    const ok = await Promise.all(
      opened.map(async (s, i) => {
        const want = `s${i}-${i * 3}-done`;
        manager.write(s.id, `seq 1 200 >/dev/null; echo s${i}-$((${i}*3))-done; seq 1 300\r`);
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const t = texts.get(s.id) ?? '';
          if (t.includes(`${want}\r\n`) && t.includes('\r\n300\r\n')) return true;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      }),
    );
    const succeeded = ok.filter(Boolean).length;
    ok.forEach((good, i) => {
      if (!good && process.env.BENCH_DEBUG) {
        process.stderr.write(
          `session ${i} failed; output tail: ${JSON.stringify((texts.get(opened[i]!.id) ?? '').slice(-300))}\n`,
        );
      }
    });
    await settle();
    const after = memoryNow();
    figures.push(
      {
        name: `${count} concurrent sessions: success rate (open, echo, output)`,
        unit: '%',
        better: 'higher',
        summary: summarize([(100 * succeeded) / count]),
        target: '100 % (floor 99 %)',
      },
      {
        name: '  session open time under that load (StartSession to handshake)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(openTimes),
      },
      {
        name: '  main-process memory per open session (heap + buffers)',
        unit: 'KB',
        better: 'lower',
        summary: summarize([(after.heap - before.heap) / 1024 / Math.max(1, opened.length)]),
        target: '< 1 MB',
      },
      {
        name: '  main-process resident memory per open session',
        unit: 'KB',
        better: 'lower',
        summary: summarize([(after.rss - before.rss) / 1024 / Math.max(1, opened.length)]),
      },
    );
    if (failed) process.stderr.write(`sessions bench: ${failed} of ${count} sessions failed to open\n`);

    // ---- 20 idle sessions: CPU of this process ---------------------------------------------
    const keep = opened.slice(0, 20);
    await Promise.all(opened.slice(20).map((s) => manager.terminate(s.id).catch(() => {})));
    await new Promise((r) => setTimeout(r, 1_000));
    const idlePct = await idleCpu(10_000);
    figures.push(
      {
        name: '20 idle open sessions: CPU of this process (health checks included)',
        unit: '% core',
        better: 'lower',
        summary: summarize([idlePct]),
        target: '< 0.5 %',
      },
      {
        name: '  baseline: the same process with no session open',
        unit: '% core',
        better: 'lower',
        summary: summarize([idleEmpty]),
      },
    );

    // ---- disconnect detection and reconnect ---------------------------------------------------
    // A silent socket (black-holed: no close, no data) is noticed by the health checks; a dropped
    // one (closed by the far end) at once. Each beside the other, on the same 20 sessions.
    const silent = await faultRecovery(manager, keep, (s) =>
      admin(peer, '/blackhole-sockets', { sessionId: s.awsSessionId }),
    );
    const dropped = await faultRecovery(manager, keep, (s) =>
      admin(peer, '/drop-sockets', { sessionId: s.awsSessionId }),
    );
    figures.push(
      {
        name: 'dead connection detected (silent socket to reconnecting)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(silent.detect),
        target: '< 2000 ms',
      },
      {
        name: '  reconnect (reconnecting to open)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(silent.reconnect),
      },
      {
        name: 'dropped connection detected (socket closed by the far end to reconnecting)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(dropped.detect),
      },
      {
        name: '  reconnect after a dropped socket (reconnecting to open)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(dropped.reconnect),
      },
      {
        name: '  dropped socket to open again (detection + reconnect)',
        unit: 'ms',
        better: 'lower',
        summary: summarize(dropped.detect.map((d, i) => d + dropped.reconnect[i]!)),
      },
    );
  } finally {
    await manager.shutdown();
    pool.dispose();
  }
  return figures;
}
