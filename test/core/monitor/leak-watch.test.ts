import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { LeakWatch, type LeakWarning } from '../../../main/core/monitor/leak-watch.js';
import { Emitter } from '../../../main/core/util/lifecycle.js';
import type { ProcessSample } from '../../../main/core/monitor/process-sampler.js';

const MB = 1024 * 1024;
const WINDOW = 600_000;
const STEP = 5_000;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feed `count` samples 5 s apart, heap from `heapAt(i)`; returns the warnings. */
function feed(watch: LeakWatch, count: number, heapAt: (i: number) => number, t0 = 0): LeakWarning[] {
  const warnings: LeakWarning[] = [];
  const sub = watch.onWarning((w) => warnings.push(w));
  for (let i = 0; i < count; i++) watch.record({ t: t0 + i * STEP, heapUsed: heapAt(i) });
  sub.dispose();
  return warnings;
}

const newWatch = (extra: ConstructorParameters<typeof LeakWatch>[0] = {}) =>
  new LeakWatch({ observeGc: false, activeResources: () => [], ...extra });

describe('LeakWatch heap trend', () => {
  it('does not warn on a steady heap', () => {
    const w = newWatch();
    expect(feed(w, 300, () => 100 * MB)).toEqual([]);
    expect(w.trend()).toMatchObject({ judged: true, growing: false, growthRatio: 0 });
    w.dispose();
  });

  it('warns once when the heap grew 60 % over the window', () => {
    const w = newWatch();
    // Flat at 100 MB for the first fifth, a ramp, flat at 160 MB for the last fifth (121 samples = 10 min).
    const n = WINDOW / STEP + 1;
    const heap = (i: number) => {
      const x = Math.min(1, Math.max(0, (i / (n - 1) - 0.2) / 0.6));
      return (100 + 60 * x) * MB;
    };
    const warnings = feed(w, n, heap);
    expect(warnings).toHaveLength(1);
    // Judged as soon as the samples span minFill (80 %) of the window and growth passes 50 %.
    expect(warnings[0]!.growthRatio).toBeGreaterThan(0.5);
    expect(warnings[0]!.startAvg).toBe(100 * MB);
    expect(w.trend()).toMatchObject({ judged: true, growing: true, startAvg: 100 * MB, endAvg: 160 * MB });
    expect(w.trend().growthRatio).toBeCloseTo(0.6, 5);
    // Keeps growing: no repeated warning within the same window.
    expect(feed(w, 20, () => 200 * MB, n * STEP)).toEqual([]);
    w.dispose();
  });

  it('catches a steady linear leak (fifths are 0.8 window apart: 80 % end to end is 64 % between fifths)', () => {
    const w = newWatch();
    const n = WINDOW / STEP + 1;
    const warnings = feed(w, n, (i) => (100 + (80 * i) / (n - 1)) * MB);
    expect(warnings).toHaveLength(1);
    w.dispose();
  });

  it('does not judge before the window is full enough', () => {
    const w = newWatch();
    // Doubles within 4 minutes: 40 % of the window (< minFill 0.8).
    expect(feed(w, 48, (i) => (100 + i * 3) * MB)).toEqual([]);
    expect(w.trend()).toMatchObject({ judged: false, growing: false });
    w.dispose();
  });

  it('raises no false alarm on GC saw-teeth and noise', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const w = newWatch();
      let heap = 80 * MB;
      const warnings = feed(w, 600, () => {
        // Allocation climbs 2-12 MB per sample until a collection drops it back near 80 MB.
        heap += (2 + r() * 10) * MB;
        if (heap > 150 * MB || r() < 0.1) heap = (75 + r() * 10) * MB;
        return heap + (r() - 0.5) * 8 * MB;
      });
      expect(warnings, `seed ${seed}`).toEqual([]);
      w.dispose();
    }
  });

  it('evicts samples older than the window', () => {
    const w = newWatch({ windowMs: 60_000 });
    feed(w, 100, () => MB);
    expect(w.sampleCount).toBe(13); // 60 s / 5 s + 1
    w.dispose();
  });

  it('takes samples from a sampler event', () => {
    const w = newWatch();
    const em = new Emitter<ProcessSample>();
    const sub = w.attach(em.event);
    const heap = { rss: 1, heapUsed: 42, heapTotal: 50, external: 0, arrayBuffers: 0 };
    em.fire({ t: 1, intervalMs: 5000, processes: [], heap });
    expect(w.sampleCount).toBe(1);
    sub.dispose();
    em.fire({ t: 2, intervalMs: 5000, processes: [], heap });
    expect(w.sampleCount).toBe(1);
    w.dispose();
  });
});

describe('LeakWatch report', () => {
  it('names the source that grew most relative to the window start, with numbers and handles', () => {
    let now = 0;
    let sessions = 4;
    let outputBuffers = 10;
    const queue = 7;
    const w = newWatch({
      now: () => now,
      activeResources: () => ['TCPSocketWrap', 'TCPSocketWrap', 'Timeout', 'FSReqCallback'],
    });
    w.addSource('sessions', () => sessions);
    w.addSource('outputBuffers', () => outputBuffers);
    w.addSource('storeQueue', () => queue);
    const broken = w.addSource('broken', () => {
      throw new Error('nope');
    });
    const n = WINDOW / STEP + 1;
    const warnings = feed(w, n, (i) => {
      now = i * STEP;
      sessions = 4 + Math.floor(i / 60); // 4 -> 6 (+50 %)
      outputBuffers = 10 + i; // 10 -> 130 (+1200 %)
      return (100 + i) * MB;
    });
    expect(warnings).toHaveLength(1);
    const report = warnings[0]!.report;
    expect(report.likelySource).toMatchObject({ name: 'outputBuffers', start: 10 });
    expect(report.sources.map((s) => s.name)).toEqual(['outputBuffers', 'sessions', 'storeQueue']);
    expect(report.sources.find((s) => s.name === 'storeQueue')).toMatchObject({ delta: 0, growthRatio: 0 });
    expect(report.handles).toEqual({ total: 4, byType: { TCPSocketWrap: 2, Timeout: 1, FSReqCallback: 1 } });
    expect(report.summary).toMatch(/likely source: outputBuffers 10 -> \d+/);
    expect(report.summary).toMatch(/4 active handles/);

    const later = w.report();
    expect(later.likelySource).toMatchObject({ name: 'outputBuffers', start: 10, current: 130, delta: 120 });
    expect(later.likelySource!.growthRatio).toBe(12);
    broken.dispose();
    w.dispose();
  });

  it('names no source when none grew', () => {
    const w = newWatch();
    w.addSource('sessions', () => 3);
    feed(w, 10, () => MB);
    const r = w.report();
    expect(r.likelySource).toBeNull();
    expect(r.summary).toMatch(/no registered source grew/);
    w.dispose();
  });

  it('counts real active handles by type', async () => {
    const w = new LeakWatch({ observeGc: false });
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const h = w.handles();
      expect(h.byType.TCPServerWrap).toBeGreaterThanOrEqual(1);
      expect(h.total).toBeGreaterThanOrEqual(1);
    } finally {
      await new Promise((r) => server.close(r));
      w.dispose();
    }
  });
});

describe('LeakWatch GC observation', () => {
  it('counts GC pauses in the window', async () => {
    const w = new LeakWatch();
    expect(w.observingGc).toBe(true);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
    } else {
      // vitest runs without --expose-gc: churn enough short-lived garbage to force scavenges.
      let keep = 0;
      for (let i = 0; i < 2_000_000; i++) keep += { i, s: `x${i}` }.s.length;
      expect(keep).toBeGreaterThan(0);
    }
    const deadline = Date.now() + 5000;
    while (w.gcStats().count === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const stats = w.gcStats();
    expect(stats.count).toBeGreaterThanOrEqual(1);
    expect(stats.totalPauseMs).toBeGreaterThanOrEqual(stats.maxPauseMs);
    expect(stats.maxPauseMs).toBeGreaterThanOrEqual(0);
    w.dispose();
    expect(w.observingGc).toBe(false);
  });
});
