import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ProcessSampler,
  type HeapStats,
  type ProcessSample,
  type UsageFn,
} from '../../../main/core/monitor/process-sampler.js';

/** A debug-level logger whose records land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const fakeHeap: HeapStats = { rss: 100, heapUsed: 10, heapTotal: 20, external: 1, arrayBuffers: 2 };

function spawnSleep(): ChildProcess {
  return spawn('sleep', ['5'], { stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('ProcessSampler with pidusage', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('samples this process and a child, then drops the child once it is gone', async () => {
    const { logger, lines } = capturingLogger();
    const sampler = new ProcessSampler({ intervalMs: 1000, logger });
    const child = spawnSleep();
    children.push(child);
    expect(child.pid).toBeGreaterThan(0);
    sampler.addPid(child.pid!, 'pty');
    const gone: number[] = [];
    sampler.onPidGone(({ pid }) => gone.push(pid));
    const samples: ProcessSample[] = [];
    sampler.onSample((s) => samples.push(s));

    const first = await sampler.sampleNow();
    expect(samples).toEqual([first]);
    const main = first.processes[0]!;
    expect(main).toMatchObject({ pid: process.pid, role: 'main' });
    expect(main.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    const c = first.processes.find((p) => p.pid === child.pid);
    expect(c).toMatchObject({ role: 'pty' });
    expect(c!.memoryBytes).toBeGreaterThan(0);
    expect(c!.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(first.heap.heapUsed).toBeGreaterThan(0);
    expect(first.heap.heapTotal).toBeGreaterThanOrEqual(first.heap.heapUsed);
    expect(first.heap.rss).toBeGreaterThan(0);
    expect(first.heap.arrayBuffers).toBeGreaterThanOrEqual(0);

    // Burn some CPU: the second reading of this process reports it.
    const until = Date.now() + 150;
    while (Date.now() < until) Math.sqrt(Math.random());
    const second = await sampler.sampleNow();
    expect(second.processes[0]!.cpuPercent).toBeGreaterThan(0);

    child.kill('SIGKILL');
    await exited(child);
    const third = await sampler.sampleNow();
    expect(third.processes.map((p) => p.pid)).toEqual([process.pid]);
    expect(sampler.pids.has(child.pid!)).toBe(false);
    expect(gone).toEqual([child.pid]);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    sampler.dispose();
  });

  it('samples several children in one call', async () => {
    const sampler = new ProcessSampler();
    const kids = [spawnSleep(), spawnSleep(), spawnSleep()];
    children.push(...kids);
    for (const k of kids) sampler.addPid(k.pid!);
    const s = await sampler.sampleNow();
    expect(s.processes.map((p) => p.pid).sort()).toEqual([process.pid, ...kids.map((k) => k.pid!)].sort());
    expect(s.processes.filter((p) => p.role === 'child')).toHaveLength(3);
    sampler.dispose();
  });

  it('ignores this process pid and invalid pids in addPid', () => {
    const sampler = new ProcessSampler();
    sampler.addPid(process.pid, 'renderer');
    sampler.addPid(-1);
    sampler.addPid(1.5);
    expect(sampler.pids.size).toBe(0);
    sampler.addPid(4242, 'renderer');
    expect(sampler.removePid(4242)).toBe(true);
    expect(sampler.removePid(4242)).toBe(false);
    sampler.dispose();
  });
});

describe('ProcessSampler timer', () => {
  afterEach(() => vi.useRealTimers());

  function fakeSampler(usage?: UsageFn) {
    const calls: number[][] = [];
    const { logger, lines } = capturingLogger();
    const sampler = new ProcessSampler({
      intervalMs: 1000,
      logger,
      memoryUsage: () => fakeHeap,
      usage:
        usage ??
        (async (pids) => {
          calls.push(pids);
          return Object.fromEntries(pids.map((p) => [p, { cpu: 1.23, memory: 5000 }]));
        }),
    });
    return { sampler, calls, lines };
  }

  it('runs only while someone listens, and honours interval changes', async () => {
    vi.useFakeTimers();
    const { sampler, calls } = fakeSampler();
    sampler.addPid(999_001, 'renderer');
    expect(sampler.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);

    const samples: ProcessSample[] = [];
    const sub = sampler.onSample((s) => samples.push(s));
    expect(sampler.running).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(samples).toHaveLength(1);
    // One usage call with every pid.
    expect(calls).toEqual([[process.pid, 999_001]]);
    expect(samples[0]!.processes).toEqual([
      { pid: process.pid, role: 'main', cpuPercent: 1.2, memoryBytes: 5000 },
      { pid: 999_001, role: 'renderer', cpuPercent: 1.2, memoryBytes: 5000 },
    ]);
    expect(samples[0]!.heap).toEqual(fakeHeap);

    sampler.setIntervalMs(3000); // low-power mode
    expect(sampler.interval).toBe(3000);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(samples).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(samples).toHaveLength(2);
    expect(samples[1]!.intervalMs).toBe(3000);

    sampler.setIntervalMs(10); // clamped
    expect(sampler.interval).toBe(250);

    sub.dispose();
    expect(sampler.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    sampler.onSample(() => {});
    expect(vi.getTimerCount()).toBe(1);
    sampler.dispose();
    expect(sampler.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    // Subscribing after dispose does not restart it.
    sampler.onSample(() => {});
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never throws from the timer: usage failures and listener errors are logged', async () => {
    vi.useFakeTimers();
    let fail = true;
    const { sampler, lines } = fakeSampler(async (pids) => {
      if (fail) throw new Error('boom');
      return Object.fromEntries(pids.map((p) => [p, { cpu: 0, memory: 1 }]));
    });
    const samples: ProcessSample[] = [];
    sampler.onSample((s) => samples.push(s));
    await vi.advanceTimersByTimeAsync(1000);
    // Still a sample of this process (RSS from process.memoryUsage()).
    expect(samples).toHaveLength(1);
    expect(samples[0]!.processes).toEqual([
      { pid: process.pid, role: 'main', cpuPercent: 0, memoryBytes: 100 },
    ]);
    expect(lines.some((l) => l.level === 40 && /pidusage failed/.test(l.msg))).toBe(true);

    fail = false;
    sampler.onSample(() => {
      throw new Error('bad listener');
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(lines.some((l) => l.level === 40 && /listener threw/.test(l.msg))).toBe(true);
    sampler.dispose();
  });

  it('does not overlap ticks while a reading is slow', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const { sampler } = fakeSampler(async (pids) => {
      calls++;
      await new Promise((r) => setTimeout(r, 2500));
      return Object.fromEntries(pids.map((p) => [p, { cpu: 0, memory: 1 }]));
    });
    sampler.onSample(() => {});
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(1);
    const a = sampler.sampleNow();
    expect(sampler.sampleNow()).toBe(a); // joins the reading under way
    sampler.dispose();
  });
});
