/**
 * The leak test: 40 sessions against one sandbox, ended every way a session can end
 * (terminate, the shell exiting, a dropped socket then terminate, terminate while
 * reconnecting, dispose without terminate, terminated elsewhere, a command finishing),
 * eight at a time. Afterwards nothing may be left: no agent session, no timer (ref'd or
 * not), socket, pipe, pty or child process, no session object reachable, and the heap
 * back near where it started.
 *
 * Resources are checked two ways:
 *  - process.getActiveResourcesInfo() counted by type against a baseline taken after a
 *    warm-up. It does not list unref'd timers (such as the data channel's ping interval).
 *  - an async_hooks tracker of every handle and timer created after the baseline: each
 *    must have been destroyed. This one names the leak with the stack that created it.
 */
import { createHook } from 'node:async_hooks';
import { readFileSync, readdirSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../main/core/ssm/control-plane.js';
import { SsmSession, type SessionClosed, type SessionState } from '../../main/core/ssm/session.js';
import { OutputCollector, startFixture, type Fixture } from '../helpers/sandbox.js';

/**
 * Reconnect window of the second sandbox, where sessions let go by dispose() are left to
 * expire. The main sandbox keeps the default (2 minutes), so a timer leaked there (reconnect,
 * idle, handshake) is still pending when the checks run.
 */
const SHORT_RECONNECT_WINDOW_MS = 3_000;
const BATCHES = 5;

// ---- resources ------------------------------------------------------------------------

type Counts = Record<string, number>;

function activeResources(): Counts {
  const counts: Counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Types in `now` above `base` (+ `slack` for that type). */
function excess(now: Counts, base: Counts, slack: Counts = {}): Counts {
  const out: Counts = {};
  for (const [type, n] of Object.entries(now)) {
    const over = n - (base[type] ?? 0) - (slack[type] ?? 0);
    if (over > 0) out[type] = over;
  }
  return out;
}

/** Handle and timer types the tracker follows (async_hooks names). Promises, ticks and immediates are transient. */
const TRACKED = new Set([
  'Timeout',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'PROCESSWRAP',
  'TTYWRAP',
  'SIGNALWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'UDPWRAP',
]);
/** Created by the test runner itself (its RPC with the main process), not by the code under test. */
const RUNNER_FRAMES = /node_modules[\\/](vitest|@vitest|tinypool|birpc)[\\/]/;
/** The test's own polling delay (see pollDelay). */
const OWN_FRAMES = /\bat lifecycleTestPollDelay\b/;

/** Every tracked handle or timer created while it runs and not yet destroyed, with the stack that made it. */
class ResourceTracker {
  private readonly live = new Map<number, { type: string; stack: string }>();
  private readonly hook = createHook({
    init: (asyncId, type) => {
      if (!TRACKED.has(type)) return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 30;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      // Only the synchronous frames say who created it: the async part ("at async ...") of
      // anything the test starts ends in the runner.
      const sync = stack.split('\n    at async ')[0]!;
      if (RUNNER_FRAMES.test(sync) || OWN_FRAMES.test(sync)) return;
      this.live.set(asyncId, { type, stack });
    },
    destroy: (asyncId) => {
      this.live.delete(asyncId);
    },
  });
  start(): void {
    this.hook.enable();
  }
  stop(): void {
    this.hook.disable();
  }
  leftovers(): Array<{ type: string; stack: string }> {
    return [...this.live.values()];
  }
  static describe(list: Array<{ type: string; stack: string }>): string {
    return list
      .slice(0, 12)
      .map(
        (r) =>
          `${r.type}:\n${r.stack
            .split('\n')
            .slice(1)
            .filter((l) => !/node:internal|node:async_hooks|ResourceTracker/.test(l))
            .slice(0, 8)
            .join('\n')}`,
      )
      .join('\n---\n');
  }
}

// ---- processes ------------------------------------------------------------------------

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0').join(' ');
      out.push({ pid: Number(name), ppid: Number(rest[1]), state: rest[0]!, cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function children(): Proc[] {
  return processes().filter((p) => p.ppid === process.pid);
}

/** Processes started by this run as `sleep <marker>` (anywhere: orphans are re-parented). */
function markerProcesses(prefix: string): Proc[] {
  return processes().filter((p) => p.cmdline.startsWith(`sleep ${prefix}`));
}

// ---- gc ---------------------------------------------------------------------------------

/**
 * A full GC. vitest.config.ts passes no --expose-gc to the workers, so without global.gc
 * the flag is set at run time and `gc` taken from a fresh context (it exists only in
 * contexts created after the flag is set).
 */
function findGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}

// ---- helpers ----------------------------------------------------------------------------

function lifecycleTestPollDelay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until `check` returns undefined (satisfied); else fail with its last complaint. */
async function eventually(what: string, timeoutMs: number, check: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = check();
    if (problem === undefined) return;
    if (Date.now() > deadline) throw new Error(`${what}: ${problem}`);
    await lifecycleTestPollDelay(100);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Run `cmd` in the shell between markers; return what it printed (line ends as \n). */
async function runMarked(s: SsmSession, out: OutputCollector, cmd: string): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 8);
  const from = out.mark();
  // Not waiting for the first prompt: typed-ahead input is buffered by the pty.
  s.write(`echo B${tag}""EGIN; ${cmd}; echo E${tag}""ND\r`);
  const text = (await out.waitFor(`E${tag}ND\r\n`, 20_000, from)).replace(/\r\n/g, '\n');
  return text.slice(text.indexOf(`B${tag}EGIN\n`) + `B${tag}EGIN\n`.length, text.lastIndexOf(`E${tag}ND\n`));
}

function closedPromise(s: SsmSession): Promise<SessionClosed> {
  return new Promise((r) => s.onClosed(r));
}

/**
 * After terminate(). 'ended' too: when the agent answers the terminate flag with channel_closed
 * while terminate() waits for the flag's acknowledgement, the session closes as 'ended' (see the report).
 */
function expectTerminated(c: SessionClosed): void {
  expect(['terminated', 'ended']).toContain(c.how);
}

function statePromise(s: SsmSession, want: (st: SessionState) => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (want(s.state)) return resolve();
    const sub = s.onStateChange((st) => {
      if (want(st)) {
        sub.dispose();
        resolve();
      }
    });
  });
}

type Mode =
  | 'terminate'
  | 'shell-exit'
  | 'drop-reconnect-terminate'
  | 'drop-terminate-while-reconnecting'
  | 'dispose-then-terminate-session'
  | 'dispose-then-reconnect-window'
  | 'terminated-elsewhere'
  | 'command';

const MODES: Mode[] = [
  'terminate',
  'shell-exit',
  'drop-reconnect-terminate',
  'drop-terminate-while-reconnecting',
  'dispose-then-terminate-session',
  'dispose-then-reconnect-window',
  'terminated-elsewhere',
  'command',
];

/** A sandbox and a control plane signed for it. */
interface Target {
  fx: Fixture;
  cp: ControlPlane;
}

interface RunStats {
  /** Sessions, their data channels and agent sessions: all must become unreachable. */
  weak: Array<WeakRef<object>>;
}

describe('session lifecycle: no leaks', () => {
  let fx: Fixture;
  let fxShort: Fixture;
  const tracker = new ResourceTracker();
  const cps: ControlPlane[] = [];

  beforeAll(async () => {
    fx = await startFixture();
    fxShort = await startFixture({ agent: { timeouts: { reconnectWindowMs: SHORT_RECONNECT_WINDOW_MS } } });
  });
  afterAll(async () => {
    tracker.stop();
    for (const cp of cps) cp.dispose();
    await fx?.close();
    await fxShort?.close();
  });

  function targetFor(f: Fixture): Target {
    const cp = new ControlPlane({
      region: f.sandbox.region,
      endpoint: f.sandbox.endpoint,
      credentials: {
        accessKeyId: f.sandbox.credentials.accessKeyId,
        secretAccessKey: f.sandbox.credentials.secretAccessKey,
      },
      maxAttempts: 1,
    });
    cps.push(cp);
    return { fx: f, cp };
  }

  /** One session, opened, used and ended in the given way. Keeps nothing that holds it. */
  async function runSession(
    t: Target,
    mode: Mode,
    n: number,
    stats: RunStats,
    marker: string,
  ): Promise<void> {
    const { fx: f, cp } = t;
    const sleepArg = `${marker}${String(n).padStart(3, '0')}`;
    const isCommand = mode === 'command';
    const interactiveCommand = isCommand && n % 2 === 1;
    const s = await SsmSession.open({
      controlPlane: cp,
      target: f.instanceId,
      cols: 100,
      rows: 30,
      reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
      ...(isCommand
        ? {
            documentName: interactiveCommand
              ? 'AWS-StartInteractiveCommand'
              : 'AWS-StartNonInteractiveCommand',
            // The short sleep keeps the output well after the handshake (see the report: output
            // arriving together with HandshakeComplete is fired before open() resolves).
            parameters: { command: [`sleep 0.2; echo out-${n}; echo err-${n} >&2; exit 3`] },
          }
        : {}),
    });
    stats.weak.push(new WeakRef(s), new WeakRef(s.channel));
    const agent = f.sandbox.dataChannel.session(s.sessionId);
    if (agent) stats.weak.push(new WeakRef(agent));
    const closed = closedPromise(s);
    const out = new OutputCollector(s);

    if (isCommand) {
      const err: Buffer[] = [];
      s.onStderr((b) => err.push(b));
      const c = await closed;
      expect(c).toMatchObject({ how: 'ended' });
      if (interactiveCommand) {
        expect(out.text.replace(/\r\n/g, '\n')).toContain(`out-${n}\nerr-${n}\n`);
      } else {
        expect(c.exitCode).toBe(3);
        expect(out.text).toBe(`out-${n}\n`);
        expect(Buffer.concat(err).toString()).toBe(`err-${n}\n`);
      }
      expect(f.sandbox.registry.get(s.sessionId)?.status).toBe('Terminated');
      s.dispose();
      return;
    }

    expect(await runMarked(s, out, `echo hi-$((${n}*2))`)).toBe(`hi-${n * 2}\n`);

    // A long-running foreground command that must not outlive the session.
    if (mode !== 'shell-exit' && mode !== 'drop-reconnect-terminate') {
      s.write(`sleep ${sleepArg}\r`);
      await eventually(`session ${n} (${mode}): sleep did not start`, 15_000, () =>
        markerProcesses(sleepArg).length ? undefined : 'not running yet',
      );
    }

    // Even sessions: the sandbox drops the socket; odd: the client's side drops it.
    const drop = (): void => {
      if (n % 2 === 0) f.sandbox.faults.dropSockets(s.sessionId);
      else s.simulateNetworkDrop();
    };
    switch (mode) {
      case 'terminate': {
        await s.terminate();
        expectTerminated(await closed);
        break;
      }
      case 'shell-exit': {
        s.write('exit\r');
        expect(await closed).toMatchObject({ how: 'ended' });
        break;
      }
      case 'drop-reconnect-terminate': {
        drop();
        await statePromise(s, (st) => st === 'reconnecting' || st === 'closed');
        await statePromise(s, (st) => st === 'open' || st === 'closed');
        expect(s.state).toBe('open');
        expect(s.reconnects).toBeGreaterThanOrEqual(1);
        expect(await runMarked(s, out, `echo again-${n}`)).toBe(`again-${n}\n`);
        await s.terminate();
        expectTerminated(await closed);
        break;
      }
      case 'drop-terminate-while-reconnecting': {
        drop();
        await statePromise(s, (st) => st !== 'open');
        await s.terminate();
        expectTerminated(await closed);
        break;
      }
      case 'dispose-then-terminate-session':
      case 'dispose-then-reconnect-window': {
        const id = s.sessionId;
        s.dispose();
        expect(s.state).toBe('closed');
        // The agent sees the client go (its socket closes), but keeps the session resumable.
        await eventually(`session ${n} (${mode}): the agent still sees a connection`, 10_000, () => {
          const a = f.sandbox.dataChannel.session(id);
          return !a || !a.connected ? undefined : 'connected';
        });
        // dispose() lets go locally only: the agent keeps the session (and its shell) resumable
        // until TerminateSession or its reconnect window, as the service does. One or the other
        // ends it here (the short-window sandbox lets the window pass); checked at the end.
        if (mode === 'dispose-then-terminate-session') await cp.terminateSession(id);
        return;
      }
      case 'terminated-elsewhere': {
        await cp.terminateSession(s.sessionId); // as another client or the console would
        expect(await closed).toMatchObject({ how: 'ended' });
        break;
      }
      default:
        throw new Error(`unknown mode ${mode as string}`);
    }
    expect(f.sandbox.registry.get(s.sessionId)?.status).toBe('Terminated');
    s.dispose();
  }

  /** One session per mode, all at once. */
  async function runBatch(
    main: Target,
    short: Target,
    modes: Mode[],
    first: number,
    stats: RunStats,
    marker: string,
  ): Promise<void> {
    const results = await Promise.allSettled(
      modes.map((mode, i) =>
        withTimeout(
          runSession(mode === 'dispose-then-reconnect-window' ? short : main, mode, first + i, stats, marker),
          60_000,
          `session ${first + i} (${mode})`,
        ),
      ),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`session ${first + i} (${modes[i]}): ${String(r.reason)}`] : [],
    );
    if (failed.length) throw new Error(failed.join('\n'));
  }

  /** Everything the sandboxes and this process started for sessions is gone. */
  async function allSessionsGone(marker: string, timeoutMs: number): Promise<void> {
    await eventually('sessions left behind', timeoutMs, () => {
      const problems: string[] = [];
      for (const f of [fx, fxShort]) {
        const agents = f.sandbox.dataChannel.activeSessions;
        if (agents) problems.push(`${agents} agent session(s) still active`);
        const active = f.sandbox.registry.list('Active');
        if (active.length)
          problems.push(`registry: ${active.map((a) => `${a.sessionId} ${a.status}`).join(', ')}`);
      }
      const kids = children();
      if (kids.length)
        problems.push(`child processes: ${kids.map((k) => `${k.pid} [${k.state}] ${k.cmdline}`).join('; ')}`);
      const sleeps = markerProcesses(marker);
      if (sleeps.length)
        problems.push(
          `commands outlived their sessions: ${sleeps.map((k) => `${k.pid} (ppid ${k.ppid}) ${k.cmdline}`).join('; ')}`,
        );
      return problems.length ? problems.join('; ') : undefined;
    });
  }

  it('opens and ends 40 sessions every way and leaves nothing behind', async () => {
    const runId = `${process.pid % 100000}`;
    const gc = findGc();
    const collect = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await lifecycleTestPollDelay(20);
        gc?.();
      }
    };

    // Warm-up: every code path once (module loading, native addons, lazily created singletons).
    const warm = targetFor(fx);
    const warmShort = targetFor(fxShort);
    await runBatch(warm, warmShort, MODES, 900, { weak: [] }, `2999.${runId}`);
    warm.cp.dispose();
    warmShort.cp.dispose();
    await allSessionsGone(`2999.${runId}`, SHORT_RECONNECT_WINDOW_MS + 20_000);

    // Baseline: resource counts once they are steady, child processes, heap.
    let baseline: Counts = {};
    await eventually('resources never settled after the warm-up', 20_000, () => {
      const a = activeResources();
      const changed = JSON.stringify(a) !== JSON.stringify(baseline);
      baseline = a;
      return changed ? 'still changing' : undefined;
    });
    expect(children()).toEqual([]);
    await collect();
    const heapBefore = process.memoryUsage().heapUsed;

    tracker.start();
    const marker = `3000.${runId}`;
    const main = targetFor(fx);
    const short = targetFor(fxShort);
    const stats: RunStats = { weak: [] };
    for (let b = 0; b < BATCHES; b++) {
      // Rotated, so each batch starts (and races) the modes in a different order.
      const modes = MODES.map((_, i) => MODES[(i + b) % MODES.length]!);
      await runBatch(main, short, modes, b * MODES.length, stats, marker);
    }

    // Server side: every agent session ends (those let go by dispose() when their reconnect
    // window passes), every shell and command is gone, nothing was re-parented.
    await allSessionsGone(marker, SHORT_RECONNECT_WINDOW_MS + 20_000);
    const history =
      fx.sandbox.registry.list('History').length + fxShort.sandbox.registry.list('History').length;
    expect(history).toBeGreaterThanOrEqual(BATCHES * MODES.length);

    // With the control planes still open, only their pooled keep-alive connections may remain:
    // at most maxSockets (16) client sockets per control plane plus the sandbox's end of each,
    // all TCPSocketWrap.
    await eventually('resources left with the control planes still open', 15_000, () => {
      const over = excess(activeResources(), baseline, { TCPSocketWrap: 2 * 2 * 16 });
      return Object.keys(over).length ? JSON.stringify(over) : undefined;
    });

    // Closing the control planes releases those: the counts are back to the baseline exactly,
    // and every handle and timer created since the baseline (unref'd ones too) is destroyed.
    main.cp.dispose();
    short.cp.dispose();
    await eventually('resources left after the sessions and the control planes', 15_000, () => {
      const over = excess(activeResources(), baseline);
      return Object.keys(over).length
        ? `${JSON.stringify(over)} over the baseline ${JSON.stringify(baseline)}`
        : undefined;
    });
    await eventually('handles or timers created by sessions were never released', 15_000, () => {
      const left = tracker.leftovers();
      return left.length ? `${left.length} left:\n${ResourceTracker.describe(left)}` : undefined;
    });
    tracker.stop();
    expect(children()).toEqual([]);

    // Nothing holds on to a session, its data channel or its agent session; the heap is back.
    if (!gc) {
      console.warn(
        'lifecycle.test: no gc() available (global.gc missing and --expose-gc could not be set at run time); ' +
          'the reachability and heap checks are skipped',
      );
    } else {
      await collect();
      const reachable = stats.weak.flatMap((w) => {
        const o = w.deref();
        return o ? [o.constructor.name] : [];
      });
      expect(reachable, 'objects still reachable after every session ended').toEqual([]);
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      expect(grownMb, `heap grew ${grownMb.toFixed(1)} MB`).toBeLessThan(20);
    }
  }, 180_000);
});
