// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  COMBINED,
  MAX_SAMPLES,
  chartData,
  combineHistory,
  combineSamples,
  createRing,
  lastSample,
  pushSample,
  useMetricsStore,
} from '../../../renderer/stores/metrics.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { session } from '../helpers/fixtures.js';
import type { SessionMetricsSample } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

function sample(t: number, extra: Partial<SessionMetricsSample> = {}): SessionMetricsSample {
  return {
    t,
    latencyP50: 1,
    latencyP95: 1.5,
    latencyP99: 2,
    inBytesPerSec: 100,
    outBytesPerSec: 10,
    retransmissions: 0,
    reconnects: 0,
    ...extra,
  };
}

describe('metrics ring', () => {
  it('keeps at most its capacity, oldest dropped, in time order', () => {
    const ring = createRing();
    for (let i = 1; i <= MAX_SAMPLES + 50; i++) pushSample(ring, sample(i * 1000, { inBytesPerSec: i }));
    expect(ring.x).toHaveLength(MAX_SAMPLES);
    expect(ring.p50).toHaveLength(MAX_SAMPLES);
    expect(ring.p95).toHaveLength(MAX_SAMPLES);
    expect(ring.retransmissions).toHaveLength(MAX_SAMPLES);
    expect(ring.reconnects).toHaveLength(MAX_SAMPLES);
    expect(ring.inRate[0]).toBe(51);
    expect(ring.x[0]).toBe(51); // seconds
    expect(lastSample(ring)).toEqual(sample((MAX_SAMPLES + 50) * 1000, { inBytesPerSec: MAX_SAMPLES + 50 }));
  });

  it('ignores samples that are not newer than the last one', () => {
    const ring = createRing(5);
    expect(pushSample(ring, sample(2000))).toBe(true);
    expect(pushSample(ring, sample(2000))).toBe(false);
    expect(pushSample(ring, sample(1000))).toBe(false);
    expect(ring.x).toEqual([2]);
  });

  it('shapes uPlot data per chart, null latency kept as a gap', () => {
    const ring = createRing();
    pushSample(ring, sample(1000, { latencyP50: null, latencyP95: null, latencyP99: null }));
    pushSample(ring, sample(2000));
    expect(chartData(ring, 'latency')).toEqual([
      [1, 2],
      [null, 1],
      [null, 1.5],
      [null, 2],
    ]);
    expect(chartData(ring, 'throughput')).toEqual([
      [1, 2],
      [100, 100],
      [10, 10],
    ]);
    expect(chartData(undefined, 'latency')).toEqual([[], [], [], []]);
    expect(chartData(undefined, 'throughput')).toEqual([[], [], []]);
  });

  it('combines sessions: traffic and counts summed, p50 mean of those with input, p95/p99 worst', () => {
    expect(
      combineSamples([
        sample(1000, {
          latencyP50: 1,
          latencyP95: 3,
          latencyP99: 4,
          inBytesPerSec: 10,
          outBytesPerSec: 1,
          retransmissions: 2,
        }),
        sample(1002, {
          latencyP50: 3,
          latencyP95: 2,
          latencyP99: 9,
          inBytesPerSec: 20,
          outBytesPerSec: 2,
          reconnects: 1,
        }),
        sample(1001, {
          latencyP50: null,
          latencyP95: null,
          latencyP99: null,
          inBytesPerSec: 5,
          outBytesPerSec: 0,
          retransmissions: 1,
        }),
      ]),
    ).toEqual({
      t: 1002,
      latencyP50: 2,
      latencyP95: 3,
      latencyP99: 9,
      inBytesPerSec: 35,
      outBytesPerSec: 3,
      retransmissions: 3,
      reconnects: 1,
    });
    expect(combineSamples([])).toBeNull();
    expect(
      combineHistory(
        [{ samples: [sample(1000), sample(2000)] }, { samples: [sample(1010), sample(3000)] }],
        1000,
      ).map((s) => [s.t, s.inBytesPerSec]),
    ).toEqual([
      [1010, 200],
      [2000, 100],
      [3000, 100],
    ]);
  });
});

describe('useMetricsStore', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
  });

  it('starts from metrics.history, then appends ticks with one version bump per tick', async () => {
    bridge.handle('metrics.history', {
      intervalMs: 1000,
      sessions: [{ sessionId: A, samples: [sample(1000), sample(2000)] }],
    });
    const store = useMetricsStore();
    await store.init();
    expect(store.sessionIds).toEqual([A]);
    expect(store.ring(A)!.x).toEqual([1, 2]);
    const v = store.version;

    bridge.emit('metrics.tick', {
      intervalMs: 1000,
      samples: [
        { sessionId: A, ...sample(3000) },
        { sessionId: B, ...sample(3000, { inBytesPerSec: 50 }) },
      ],
    });
    expect(store.version).toBe(v + 1);
    expect(store.sessionIds).toEqual([A, B]);
    expect(store.ring(A)!.x).toEqual([1, 2, 3]);
    expect(store.latest(COMBINED)).toEqual({
      t: 3000,
      latencyP50: 1,
      latencyP95: 1.5,
      latencyP99: 2,
      inBytesPerSec: 150,
      outBytesPerSec: 20,
      retransmissions: 0,
      reconnects: 0,
    });
    expect(store.data(B, 'throughput')).toEqual([[3], [50], [10]]);
  });

  it('sums retransmissions and reconnects over the samples kept', async () => {
    bridge.handle('metrics.history', {
      intervalMs: 1000,
      sessions: [{ sessionId: A, samples: [sample(1000, { retransmissions: 2 }), sample(2000)] }],
    });
    const store = useMetricsStore();
    await store.init();
    bridge.emit('metrics.tick', {
      intervalMs: 1000,
      samples: [
        { sessionId: A, ...sample(3000, { retransmissions: 3, reconnects: 1 }) },
        { sessionId: B, ...sample(3000, { retransmissions: 1 }) },
      ],
    });
    expect(store.totals(A)).toEqual({ retransmissions: 5, reconnects: 1 });
    expect(store.totals(B)).toEqual({ retransmissions: 1, reconnects: 0 });
    expect(store.totals(COMBINED)).toEqual({ retransmissions: 6, reconnects: 1 });
    expect(store.totals('nope')).toEqual({ retransmissions: 0, reconnects: 0 });
    expect(store.data(A, 'latency')[2]).toEqual([1.5, 1.5, 1.5]);
  });

  it('keeps ticks that arrived before the history', async () => {
    let answer!: () => void;
    bridge.handle(
      'metrics.history',
      () =>
        new Promise((resolve) => {
          answer = () =>
            resolve({
              intervalMs: 1000,
              sessions: [{ sessionId: A, samples: [sample(1000), sample(2000)] }],
            });
        }),
    );
    const store = useMetricsStore();
    const init = store.init();
    await flush();
    bridge.emit('metrics.tick', { intervalMs: 1000, samples: [{ sessionId: A, ...sample(3000) }] });
    answer();
    await init;
    expect(store.ring(A)!.x).toEqual([1, 2, 3]);
    expect(store.ring(COMBINED)!.x).toEqual([1, 2, 3]);
  });

  it('bounds every session at MAX_SAMPLES under a long run of ticks', async () => {
    bridge.handle('metrics.history', { intervalMs: 1000, sessions: [] });
    const store = useMetricsStore();
    await store.init();
    for (let i = 1; i <= 1000; i++) {
      bridge.emit('metrics.tick', {
        intervalMs: 1000,
        samples: [
          { sessionId: A, ...sample(i * 1000) },
          { sessionId: B, ...sample(i * 1000) },
        ],
      });
    }
    expect(store.ring(A)!.x).toHaveLength(MAX_SAMPLES);
    expect(store.ring(B)!.inRate).toHaveLength(MAX_SAMPLES);
    expect(store.ring(COMBINED)!.x).toHaveLength(MAX_SAMPLES);
  });

  it('forgets a session once it is closed, and reports a missing history', async () => {
    bridge.fail('metrics.history', 'not implemented');
    const store = useMetricsStore();
    await store.init();
    expect(store.error).toBe('not implemented');
    bridge.emit('metrics.tick', { intervalMs: 1000, samples: [{ sessionId: A, ...sample(1000) }] });
    expect(store.sessionIds).toEqual([A]);
    bridge.emit('session.updated', session({ id: A, state: 'closed' }));
    expect(store.sessionIds).toEqual([]);
    expect(store.ring(A)).toBeUndefined();
  });
});
