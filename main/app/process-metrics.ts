/**
 * Electron's own view of its processes (app.getAppMetrics()) for the resource monitor: the
 * renderers, the GPU process and utility processes, which pidusage in the main process cannot
 * name. The main ("Browser") process is left out: the monitor samples it itself.
 *
 * Electron reports working-set memory in KiB and CPU as percent of one core since its last call.
 */
import type { ProcessStat } from '../../preload/api.js';

/** The part of Electron's ProcessMetric used here. */
export interface ElectronProcessMetric {
  pid: number;
  type: string;
  cpu: { percentCPUUsage: number };
  memory: { workingSetSize: number };
}

export interface AppMetricsSource {
  getAppMetrics(): ElectronProcessMetric[];
}

const ROLE_OF: Record<string, string> = {
  Tab: 'renderer',
  GPU: 'gpu',
  Utility: 'utility',
  Zygote: 'zygote',
  'Sandbox helper': 'sandbox-helper',
  'Pepper Plugin': 'plugin',
  'Pepper Plugin Broker': 'plugin',
};

export function roleOf(type: string): string {
  return (
    ROLE_OF[type] ??
    (type
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') ||
      'unknown')
  );
}

export function electronProcesses(source: AppMetricsSource, mainPid = process.pid): ProcessStat[] {
  const out: ProcessStat[] = [];
  for (const m of source.getAppMetrics()) {
    if (m.type === 'Browser' || m.pid === mainPid || !Number.isInteger(m.pid) || m.pid <= 0) continue;
    const cpu = Number.isFinite(m.cpu.percentCPUUsage) ? Math.max(0, m.cpu.percentCPUUsage) : 0;
    const kib = Number.isFinite(m.memory.workingSetSize) ? Math.max(0, m.memory.workingSetSize) : 0;
    out.push({
      pid: m.pid,
      role: roleOf(m.type),
      cpuPercent: Math.round(cpu * 10) / 10,
      memoryBytes: Math.round(kib * 1024),
      governed: true,
    });
  }
  return out;
}
