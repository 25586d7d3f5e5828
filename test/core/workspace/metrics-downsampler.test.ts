import { describe, expect, it } from 'vitest';
import type { ResourceSample } from '../../../preload/api.js';
import { MetricsDownsampler } from '../../../main/core/workspace/metrics-downsampler.js';
import type { MetricsRecord, ProcessMetricsRecord } from '../../../main/core/store/types.js';
import type { MetricsSample } from '../../../main/core/workspace/session-metrics.js';

function sink() {
  const metrics: MetricsRecord[] = [];
  const processes: ProcessMetricsRecord[] = [];
  return {
    metrics,
    processes,
    s: {
      metrics: (r: MetricsRecord[]) => metrics.push(...r),
      processes: (r: ProcessMetricsRecord[]) => processes.push(...r),
    },
  };
}

const sample = (t: number, over: Partial<MetricsSample> = {}): MetricsSample => ({
  t,
  latencyP50: null,
  latencyP95: null,
  latencyP99: null,
  inBytesPerSec: 0,
  outBytesPerSec: 0,
  retransmissions: 0,
  reconnects: 0,
  ...over,
});

describe('MetricsDownsampler', () => {
  it('folds 1 s session samples into 10 s rows: p50 averaged, p95/p99 max, throughput averaged, counts summed', () => {
    const { metrics, s } = sink();
    const d = new MetricsDownsampler(s, 10_000, 30_000);
    for (let i = 0; i < 10; i++)
      d.addSession(
        'a',
        sample(1000 * i, {
          latencyP50: i % 2 ? 2 : null,
          latencyP95: i,
          latencyP99: i * 2,
          inBytesPerSec: 100,
          outBytesPerSec: i === 0 ? 50 : 0,
          retransmissions: 1,
          reconnects: i === 5 ? 1 : 0,
        }),
      );
    expect(metrics).toHaveLength(0);
    d.addSession('a', sample(10_000, { inBytesPerSec: 7 })); // starts the next bucket
    expect(metrics).toEqual([
      {
        sessionId: 'a',
        t: 9000,
        latencyP50: 2,
        latencyP95: 9,
        latencyP99: 18,
        inBytesPerSec: 100,
        outBytesPerSec: 5,
        retransmissions: 10,
        reconnects: 1,
      },
    ]);
    d.flushSession('a'); // the partial bucket of a closing session is kept
    expect(metrics[1]).toMatchObject({ t: 10_000, inBytesPerSec: 7, latencyP50: null, latencyP95: null });
    d.flushSession('a');
    expect(metrics).toHaveLength(2);
  });

  it('folds process samples per role into 30 s rows, with a process-wide total', () => {
    const { metrics, processes, s } = sink();
    const d = new MetricsDownsampler(s, 10_000, 30_000);
    const at = (t: number, mainMb: number, shells: number): ResourceSample => ({
      t,
      intervalMs: 5000,
      cores: 2,
      heapUsedBytes: 1,
      cpuPercent: 10,
      memoryBytes: mainMb * 2 ** 20,
      processes: [
        { pid: 1, role: 'main', cpuPercent: 20, memoryBytes: mainMb * 2 ** 20, governed: true },
        ...Array.from({ length: shells }, (_, i) => ({
          pid: 10 + i,
          role: 'pty',
          cpuPercent: 1,
          memoryBytes: 2 ** 20,
          governed: false,
        })),
      ],
    });
    d.addProcesses(at(0, 100, 2));
    d.addProcesses(at(5000, 200, 4));
    d.flushAll();
    expect(metrics).toEqual([
      expect.objectContaining({ sessionId: null, t: 5000, cpuPercent: 10, memoryBytes: 150 * 2 ** 20 }),
    ]);
    expect(processes).toEqual([
      { t: 5000, role: 'main', processes: 1, cpuPercent: 20, memoryBytes: 150 * 2 ** 20 },
      { t: 5000, role: 'pty', processes: 4, cpuPercent: 3, memoryBytes: 3 * 2 ** 20 },
    ]);
  });
});
