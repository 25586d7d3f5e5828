import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_RESOURCE_SETTINGS,
  ResourceSnapshotSchema,
  type GovernorState,
} from '../../../preload/api.js';
import { limitsFromSettings } from '../../../main/core/governor/limits.js';
import { ResourceMonitor } from '../../../main/core/governor/resource-monitor.js';
import type { UsageFn } from '../../../main/core/monitor/process-sampler.js';

const MiB = 1024 * 1024;
const monitors: ResourceMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.dispose();
});

/** A synthetic load: what pidusage "reads" is set by the test. */
function syntheticLoad() {
  const load = { mainMb: 100, mainCpu: 0, children: new Map<number, { mb: number; cpu: number }>() };
  const usage: UsageFn = async (pids) =>
    Object.fromEntries(
      pids.map((pid) => {
        if (pid === process.pid) return [pid, { cpu: load.mainCpu, memory: load.mainMb * MiB }];
        const c = load.children.get(pid);
        return [pid, c ? { cpu: c.cpu, memory: c.mb * MiB } : null];
      }),
    );
  return { load, usage };
}

function monitor(
  settings: Partial<typeof DEFAULT_RESOURCE_SETTINGS>,
  extra: Partial<ConstructorParameters<typeof ResourceMonitor>[0]> = {},
) {
  const { load, usage } = syntheticLoad();
  const limits = limitsFromSettings({ ...DEFAULT_RESOURCE_SETTINGS, ...settings });
  const m = new ResourceMonitor({
    limits,
    sampler: {
      usage,
      memoryUsage: () => ({ rss: 1, heapUsed: 1, heapTotal: 1, external: 0, arrayBuffers: 0 }),
    },
    leakWatch: false,
    cores: 2,
    ...extra,
  });
  monitors.push(m);
  return { m, load, limits };
}

describe('ResourceMonitor', () => {
  it('drives the governor from sampled processes, counting its own and not the sandbox shells', async () => {
    const shells = [{ pid: 999_001, role: 'pty' }];
    const { m, load } = monitor(
      { maxMemoryMb: 300, maxCpuPercent: 0 },
      {
        childPids: () => shells,
        externalProcesses: () => [
          { pid: 999_100, role: 'renderer', cpuPercent: 20, memoryBytes: 150 * MiB, governed: true },
        ],
      },
    );
    load.children.set(999_001, { mb: 5000, cpu: 90 }); // a huge remote-side shell: not ours
    const states: GovernorState[] = [];
    m.onGovernor(({ state }) => states.push(state));
    m.start();
    const s = await m.sampleNow();
    expect(s.processes.map((p) => [p.role, p.governed])).toEqual([
      ['main', true],
      ['pty', false],
      ['renderer', true],
    ]);
    expect(s.memoryBytes).toBe(250 * MiB);
    expect(s.cpuPercent).toBe(10); // 20 % of one core on 2 cores
    expect(m.state.level).toBe('normal');

    load.mainMb = 170; // 320 MiB of 300
    await m.sampleNow();
    expect(m.state.level).toBe('slow-ui');
    await m.sampleNow();
    expect(m.state.level).toBe('trim');
    await m.sampleNow();
    await m.sampleNow();
    expect(m.state.level).toBe('refuse');
    expect(m.refusal()).toMatch(/320 MiB of memory; its limit is 300 MiB/);
    expect(states.map((x) => x.level)).toEqual(['slow-ui', 'trim', 'refuse']);

    // The load goes away: two samples clearly under the limit bring it back.
    load.mainMb = 50;
    await m.sampleNow();
    await m.sampleNow();
    expect(m.state.level).toBe('normal');
    const snap = m.snapshot();
    expect(ResourceSnapshotSchema.parse(snap)).toEqual(snap);
    expect(snap.changes.map((c) => c.to)).toEqual(['slow-ui', 'trim', 'refuse', 'normal']);
    expect(snap.history.length).toBeGreaterThanOrEqual(7);
  });

  it('drops shells that ended and picks up new ones', async () => {
    const shells = [{ pid: 999_001, role: 'pty' }];
    const { m, load } = monitor({}, { childPids: () => shells });
    load.children.set(999_001, { mb: 5, cpu: 0 });
    m.start();
    expect((await m.sampleNow()).processes.map((p) => p.pid)).toContain(999_001);
    shells.splice(0, 1, { pid: 999_002, role: 'pty' });
    load.children.set(999_002, { mb: 5, cpu: 0 });
    const pids = (await m.sampleNow()).processes.map((p) => p.pid);
    expect(pids).toContain(999_002);
    expect(pids).not.toContain(999_001);
  });

  it('triples the sampling interval in low-power mode and restores it after', () => {
    const { m, limits } = monitor({ monitoringIntervalMs: 1000, lowPower: 'auto' });
    m.start();
    expect(m.interval).toBe(1000);
    m.setOnBattery(true);
    expect(m.interval).toBe(3000);
    expect(m.state.lowPower.reasons).toEqual(['battery']);
    m.setOnBattery(false);
    expect(m.interval).toBe(1000);
    m.setLimits({ ...limits, lowPower: 'on' });
    expect(m.interval).toBe(3000);
    m.setLimits({ ...limits, monitoringIntervalMs: 2000, lowPower: 'off' });
    expect(m.interval).toBe(2000);
  });

  it('probes the endpoints in use, reporting failures with their cause', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    try {
      const { m } = monitor(
        {},
        {
          probeTargets: () => [
            { service: 'ssm', profile: 'p', region: 'eu-west-1', url: `http://127.0.0.1:${port}` },
            { service: 'ssmmessages', profile: 'p', region: 'eu-west-1', url: `127.0.0.1:${deadPort}` },
          ],
          probeWhile: () => false,
        },
      );
      const fired: number[] = [];
      m.onProbes((p) => fired.push(p.length));
      const probes = await m.probeNow();
      expect(probes[0]).toMatchObject({
        service: 'ssm',
        ok: true,
        endpoint: `127.0.0.1:${port}`,
        error: null,
      });
      expect(probes[0]!.latencyMs).toBeGreaterThanOrEqual(0);
      expect(probes[1]).toMatchObject({ service: 'ssmmessages', ok: false, latencyMs: null });
      expect(probes[1]!.error).toMatch(/ECONNREFUSED/);
      expect(fired).toEqual([2]);
      expect(m.snapshot().probes).toHaveLength(2);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('runs probes only while wanted, and releases its timers on dispose', async () => {
    let sessions = 0;
    const { m } = monitor(
      { monitoringIntervalMs: 250 },
      { probeTargets: () => [], probeWhile: () => sessions > 0 },
    );
    expect(m.timers).toEqual({ sampling: false, probing: false });
    m.start();
    expect(m.timers).toEqual({ sampling: true, probing: false });
    sessions = 1;
    m.updateProbeTimer();
    expect(m.timers.probing).toBe(true);
    sessions = 0;
    m.updateProbeTimer();
    expect(m.timers.probing).toBe(false);
    sessions = 1;
    m.updateProbeTimer();
    m.dispose();
    expect(m.timers).toEqual({ sampling: false, probing: false });
  });
});
