/**
 * The resource monitor's own cost (issue 7: "the monitor itself under 0.1% CPU"): the CPU time of
 * one whole sample (pidusage reading /proc for the main process and 10 sandbox-like shells, the
 * governor's judgement, the leak watch, the event to listeners), measured as process.cpuUsage
 * deltas (all threads, so libuv's threadpool reads count) around each sample, one per second.
 * The share of a core at the default monitoring_interval (5 s) follows from it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_RESOURCE_SETTINGS } from '../preload/api.js';
import { limitsFromSettings } from '../main/core/governor/limits.js';
import { ResourceMonitor } from '../main/core/governor/resource-monitor.js';
import { summarize, type Summary } from './lib/stats.js';

export interface MonitorFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

const SHELLS = 10;

export async function runMonitorBench(options: { quick: boolean }): Promise<MonitorFigure[]> {
  const samples = options.quick ? 5 : 20;
  const seconds = samples + 30;
  const children: ChildProcess[] = Array.from({ length: SHELLS }, () =>
    spawn('sleep', [String(seconds)], { stdio: 'ignore' }),
  );
  const monitor = new ResourceMonitor({
    limits: limitsFromSettings(DEFAULT_RESOURCE_SETTINGS),
    childPids: () => children.map((c) => ({ pid: c.pid!, role: 'pty' })),
  });
  let events = 0;
  const sub = monitor.onSample(() => events++);
  const perSampleMs: number[] = [];
  try {
    monitor.start();
    await monitor.sampleNow(); // the first reading opens the /proc files
    for (let i = 0; i < samples; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const t0 = process.cpuUsage();
      const s = await monitor.sampleNow();
      const d = process.cpuUsage(t0);
      if (s.processes.length !== SHELLS + 1)
        throw new Error(`the monitor saw ${s.processes.length} processes, expected ${SHELLS + 1}`);
      perSampleMs.push((d.user + d.system) / 1000);
    }
  } finally {
    sub.dispose();
    monitor.dispose();
    for (const c of children) c.kill();
  }
  if (events < samples) throw new Error(`only ${events} sample events for ${samples} samples`);
  const atDefault = perSampleMs.map((ms) => (ms / DEFAULT_RESOURCE_SETTINGS.monitoringIntervalMs) * 100);
  return [
    {
      name: `monitor: CPU per sample (main + ${SHELLS} shells)`,
      unit: 'ms',
      better: 'lower',
      summary: summarize(perSampleMs),
    },
    {
      name: 'monitor: share of a core at monitoring_interval 5 s',
      unit: '%',
      better: 'lower',
      summary: summarize(atDefault),
      target: '< 0.1 %',
    },
  ];
}
