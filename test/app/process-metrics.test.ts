import { describe, expect, it } from 'vitest';
import { ProcessStatSchema } from '../../preload/api.js';
import { electronProcesses, roleOf, type ElectronProcessMetric } from '../../main/app/process-metrics.js';

const metric = (pid: number, type: string, cpu: number, kib: number): ElectronProcessMetric => ({
  pid,
  type,
  cpu: { percentCPUUsage: cpu },
  memory: { workingSetSize: kib },
});

describe('electronProcesses', () => {
  it("turns app.getAppMetrics() into the monitor's processes, leaving the main process to pidusage", () => {
    const stats = electronProcesses(
      {
        getAppMetrics: () => [
          metric(100, 'Browser', 3, 90_000),
          metric(101, 'GPU', 1.26, 50_000),
          metric(102, 'Tab', 12.04, 180_000),
          metric(103, 'Utility', 0, 20_000),
          metric(104, 'Some New Type', Number.NaN, -5),
          metric(0, 'Tab', 1, 1),
        ],
      },
      100,
    );
    expect(stats).toEqual([
      { pid: 101, role: 'gpu', cpuPercent: 1.3, memoryBytes: 50_000 * 1024, governed: true },
      { pid: 102, role: 'renderer', cpuPercent: 12, memoryBytes: 180_000 * 1024, governed: true },
      { pid: 103, role: 'utility', cpuPercent: 0, memoryBytes: 20_000 * 1024, governed: true },
      { pid: 104, role: 'some-new-type', cpuPercent: 0, memoryBytes: 0, governed: true },
    ]);
    for (const s of stats) expect(ProcessStatSchema.parse(s)).toEqual(s);
  });

  it('names roles for every Electron process type', () => {
    expect(roleOf('Tab')).toBe('renderer');
    expect(roleOf('Pepper Plugin Broker')).toBe('plugin');
    expect(roleOf('Sandbox helper')).toBe('sandbox-helper');
    expect(roleOf('???')).toBe('unknown');
  });
});
