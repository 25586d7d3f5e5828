import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionMetrics, quantile, type MetricsTick } from '../../../main/core/workspace/session-metrics.js';

describe('quantile', () => {
  it('uses the nearest rank', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([5], 0.99)).toBe(5);
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile([...values], 0.5)).toBe(50);
    expect(quantile([...values], 0.99)).toBe(99);
    expect(quantile([...values], 1)).toBe(100);
  });
});

describe('SessionMetrics', () => {
  afterEach(() => vi.useRealTimers());

  it('samples latency and throughput per interval into one tick for all sessions', () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const ticks: MetricsTick[] = [];
    const m = new SessionMetrics({ intervalMs: 1000, onTick: (t) => ticks.push(t), now: () => now });
    m.add('a');
    m.add('b');
    for (let i = 1; i <= 100; i++) m.recordLatency('a', i);
    m.recordIn('a', 5000);
    m.recordOut('b', 300);
    now += 1000;
    vi.advanceTimersByTime(1000);
    expect(ticks).toHaveLength(1);
    const [a, b] = ticks[0]!.samples;
    expect(a).toMatchObject({ sessionId: 'a', latencyP50: 50, latencyP99: 99, inBytesPerSec: 5000 });
    expect(b).toMatchObject({ sessionId: 'b', latencyP50: null, latencyP99: null, outBytesPerSec: 300 });
    // The next interval starts empty.
    now += 1000;
    vi.advanceTimersByTime(1000);
    expect(ticks[1]!.samples[0]).toMatchObject({ latencyP50: null, inBytesPerSec: 0 });
    m.dispose();
  });

  it('keeps a bounded history and runs its timer only while sessions exist', () => {
    vi.useFakeTimers();
    const m = new SessionMetrics({ intervalMs: 100, historySize: 5, onTick: () => undefined });
    expect(vi.getTimerCount()).toBe(0);
    m.add('a');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(m.history().sessions[0]!.samples).toHaveLength(5);
    m.remove('a');
    expect(vi.getTimerCount()).toBe(0);
    expect(m.history().sessions).toEqual([]);
    m.dispose();
  });

  it('reports p95, and retransmissions and reconnects as counts per interval from running counters', () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const counters = { retransmissions: 7, reconnects: 1 };
    const ticks: MetricsTick[] = [];
    const m = new SessionMetrics({
      intervalMs: 1000,
      onTick: (t) => ticks.push(t),
      counters: () => counters,
      now: () => now,
    });
    m.add('a'); // the totals before tracking began are not counted
    for (let i = 1; i <= 100; i++) m.recordLatency('a', i);
    counters.retransmissions = 10;
    counters.reconnects = 2;
    now += 1000;
    vi.advanceTimersByTime(1000);
    expect(ticks[0]!.samples[0]).toMatchObject({ latencyP95: 95, retransmissions: 3, reconnects: 1 });
    now += 1000;
    vi.advanceTimersByTime(1000);
    expect(ticks[1]!.samples[0]).toMatchObject({ latencyP95: null, retransmissions: 0, reconnects: 0 });
    m.dispose();
  });

  it('changes its interval on the fly (slower UI updates)', () => {
    vi.useFakeTimers();
    const ticks: MetricsTick[] = [];
    const m = new SessionMetrics({ intervalMs: 1000, onTick: (t) => ticks.push(t) });
    m.add('a');
    m.setIntervalMs(3000);
    vi.advanceTimersByTime(2999);
    expect(ticks).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(ticks).toHaveLength(1);
    expect(ticks[0]!.intervalMs).toBe(3000);
    expect(vi.getTimerCount()).toBe(1);
    m.dispose();
  });
});
