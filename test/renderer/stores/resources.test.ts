// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_CHANGES,
  MAX_RESOURCE_SAMPLES,
  appendChange,
  byRole,
  compareRoles,
  createSeries,
  pushResourceSample,
  resourceChartData,
  sortProcesses,
  useResourcesStore,
} from '../../../renderer/stores/resources.js';
import { resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import {
  PROCESSES,
  change,
  governorAt,
  governorState,
  leakStatus,
  probe,
  proc,
  resourceSample,
  snapshot,
} from '../helpers/resources-fixtures.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const MB = 1024 * 1024;

describe('resource series', () => {
  it('sums processes per role, in a fixed role order, and sorts the table by role then pid', () => {
    const processes = [
      proc({ pid: 9, role: 'zeta', cpuPercent: 1, memoryBytes: 1 }),
      proc({ pid: 7, role: 'renderer', cpuPercent: 2, memoryBytes: 10 }),
      proc({ pid: 3, role: 'renderer', cpuPercent: 3, memoryBytes: 20 }),
      proc({ pid: 5, role: 'main', cpuPercent: 4, memoryBytes: 30 }),
      proc({ pid: 2, role: 'alpha', cpuPercent: 1, memoryBytes: 1 }),
    ];
    expect(byRole(processes)).toEqual([
      { role: 'main', cpuPercent: 4, memoryBytes: 30, processes: 1 },
      { role: 'renderer', cpuPercent: 5, memoryBytes: 30, processes: 2 },
      { role: 'alpha', cpuPercent: 1, memoryBytes: 1, processes: 1 },
      { role: 'zeta', cpuPercent: 1, memoryBytes: 1, processes: 1 },
    ]);
    expect(sortProcesses(processes).map((p) => p.pid)).toEqual([5, 3, 7, 2, 9]);
    expect(['pty', 'gpu', 'main'].sort(compareRoles)).toEqual(['main', 'gpu', 'pty']);
  });

  it('keeps one column per role, aligned on time, with gaps where a role had no process', () => {
    const s = createSeries();
    pushResourceSample(
      s,
      resourceSample(1000, { processes: [proc({ pid: 1, role: 'main', cpuPercent: 2 })] }),
    );
    pushResourceSample(
      s,
      resourceSample(2000, {
        processes: [
          proc({ pid: 1, role: 'main', cpuPercent: 3 }),
          proc({ pid: 2, role: 'pty', cpuPercent: 9 }),
        ],
      }),
    );
    pushResourceSample(
      s,
      resourceSample(3000, { processes: [proc({ pid: 2, role: 'pty', cpuPercent: 8 })] }),
    );
    expect(s.roles).toEqual(['main', 'pty']);
    expect(resourceChartData(s, 'cpu')).toEqual([
      [1, 2, 3],
      [2, 3, null],
      [null, 9, 8],
    ]);
    expect(resourceChartData(s, 'memory')[1]).toEqual([50 * MB, 50 * MB, null]);
    // Not newer: ignored.
    expect(pushResourceSample(s, resourceSample(3000))).toBe(false);
    expect(s.x).toEqual([1, 2, 3]);
  });

  it('is bounded, and forgets a role once it has left the window', () => {
    const s = createSeries(5);
    pushResourceSample(s, resourceSample(1000, { processes: [proc({ pid: 1, role: 'gpu' })] }));
    for (let i = 2; i <= 20; i++)
      pushResourceSample(s, resourceSample(i * 1000, { processes: [proc({ pid: 1, role: 'main' })] }));
    expect(s.x).toEqual([16, 17, 18, 19, 20]);
    expect(s.cpu).toHaveLength(5);
    expect(s.roles).toEqual(['main']);
    expect(s.roleCpu.has('gpu')).toBe(false);
    expect(resourceChartData(s, 'cpu')).toHaveLength(2);
  });

  it('logs level changes once each, oldest first, bounded', () => {
    let log = appendChange([], change('2026-11-25T12:00:02.000Z', 'warn', 'refuse'));
    log = appendChange(log, change('2026-11-25T12:00:01.000Z', 'normal', 'warn'));
    log = appendChange(log, change('2026-11-25T12:00:02.000Z', 'warn', 'refuse'));
    expect(log.map((c) => c.to)).toEqual(['warn', 'refuse']);
    for (let i = 0; i < MAX_CHANGES + 10; i++)
      log = appendChange(
        log,
        change(new Date(Date.UTC(2026, 10, 26, 0, 0, i)).toISOString(), 'normal', 'warn'),
      );
    expect(log).toHaveLength(MAX_CHANGES);
  });
});

describe('useResourcesStore', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
  });

  afterEach(() => {
    useResourcesStore().dispose();
    vi.useRealTimers();
  });

  async function started(snap = snapshot()) {
    bridge.handle('resources.get', snap);
    const store = useResourcesStore();
    const init = store.init();
    await vi.advanceTimersByTimeAsync(0);
    await init;
    return store;
  }

  it('starts from resources.get: history, governor, changes, probes, leak watch, Prometheus', async () => {
    const store = await started(
      snapshot({
        changes: [change('2026-11-25T11:00:00.000Z', 'normal', 'warn')],
        prometheus: 'http://127.0.0.1:9464/metrics',
      }),
    );
    expect(store.loaded).toBe(true);
    expect(store.error).toBeNull();
    expect(store.size()).toBe(2);
    expect(store.roles).toEqual(['main', 'renderer', 'gpu', 'pty']);
    expect(store.sample?.t).toBe(6000);
    expect(store.processes.map((p) => p.pid)).toEqual([100, 200, 300, 400]);
    expect(store.level).toBe('normal');
    expect(store.lowPower.active).toBe(false);
    expect(store.changes).toHaveLength(1);
    expect(store.probes).toEqual([probe()]);
    expect(store.leak).toEqual(leakStatus());
    expect(store.prometheus).toBe('http://127.0.0.1:9464/metrics');
    expect(store.data('cpu')).toEqual([
      [1, 6],
      [4, 4],
      [6, 6],
      [1.5, 1.5],
      [0.5, 0.5],
    ]);
  });

  it('follows resources.tick, but publishes at most once per governor.ui.updateIntervalMs', async () => {
    const store = await started();
    const v0 = store.version;
    bridge.emit('resources.tick', resourceSample(6500)); // within an interval of the snapshot: held
    expect(store.version).toBe(v0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.sample?.t).toBe(6500);
    await vi.advanceTimersByTimeAsync(5000);
    const v1 = store.version;
    bridge.emit('resources.tick', resourceSample(7000)); // long after the last redraw: at once
    expect(store.version).toBe(v1 + 1);
    expect(store.sample?.t).toBe(7000);
    bridge.emit('resources.tick', resourceSample(8000));
    bridge.emit('resources.tick', resourceSample(9000));
    expect(store.version).toBe(v1 + 1); // held back
    expect(store.size()).toBe(6); // but kept
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.version).toBe(v1 + 2);
    expect(store.sample?.t).toBe(9000);

    // The governor slows the UI: 3 s between redraws.
    bridge.emit('governor.changed', { state: governorAt('slow-ui'), change: null });
    expect(store.updateIntervalMs).toBe(3000);
    bridge.emit('resources.tick', resourceSample(10_000));
    await vi.advanceTimersByTimeAsync(1500);
    expect(store.version).toBe(v1 + 2);
    await vi.advanceTimersByTimeAsync(1500);
    expect(store.version).toBe(v1 + 3);
    expect(store.sample?.t).toBe(10_000);
  });

  it('keeps ticks that came before the snapshot, under its history', async () => {
    let answer!: () => void;
    bridge.handle(
      'resources.get',
      () =>
        new Promise((resolve) => {
          answer = () => resolve(snapshot());
        }),
    );
    const store = useResourcesStore();
    const init = store.init();
    await vi.advanceTimersByTimeAsync(0);
    bridge.emit('resources.tick', resourceSample(11_000));
    answer();
    await init;
    expect(store.data('cpu')[0]).toEqual([1, 6, 11]);
    expect(store.sample?.t).toBe(11_000);
  });

  it('bounds the history at MAX_RESOURCE_SAMPLES over a long run', async () => {
    const store = await started();
    for (let i = 1; i <= MAX_RESOURCE_SAMPLES + 100; i++)
      bridge.emit('resources.tick', resourceSample(10_000 + i * 1000));
    expect(store.size()).toBe(MAX_RESOURCE_SAMPLES);
    for (const column of store.data('memory')) expect(column).toHaveLength(MAX_RESOURCE_SAMPLES);
  });

  it('follows governor.changed (state and level log) and probes.updated', async () => {
    const store = await started();
    const refuse = governorAt('refuse');
    bridge.emit('governor.changed', {
      state: refuse,
      change: change('2026-11-25T12:01:00.000Z', 'normal', 'refuse', 'Memory over the limit'),
    });
    expect(store.level).toBe('refuse');
    expect(store.governor?.refusal).toMatch(/refused/);
    expect(store.lowPower).toEqual({ active: true, mode: 'auto', reasons: ['limits'] });
    expect(store.terminalPolicy).toEqual({
      updateIntervalMs: 3000,
      backgroundScrollback: 500,
      economy: true,
    });
    expect(store.changes.map((c) => c.message)).toEqual(['Memory over the limit']);
    bridge.emit('governor.changed', {
      state: governorState(),
      change: change('2026-11-25T12:02:00.000Z', 'refuse', 'normal'),
    });
    expect(store.level).toBe('normal');
    expect(store.changes.map((c) => c.to)).toEqual(['refuse', 'normal']);

    bridge.emit('probes.updated', [probe({ service: 'ec2', latencyMs: 3 })]);
    expect(store.probes.map((p) => p.service)).toEqual(['ec2']);
  });

  it('probes on demand, and says when it could not', async () => {
    const store = await started();
    bridge.handle('resources.probe', [
      probe({ latencyMs: 12 }),
      probe({ service: 'sts', ok: false, latencyMs: null, error: 'ECONNREFUSED' }),
    ]);
    await store.probe();
    expect(store.probes.map((p) => p.latencyMs)).toEqual([12, null]);
    expect(store.probing).toBe(false);
    bridge.fail('resources.probe', 'no endpoints');
    await store.probe();
    expect(store.probeError).toBe('no endpoints');
  });

  it('fetches the snapshot again after a resources notice or a settings change (once for several)', async () => {
    const store = await started();
    bridge.handle(
      'resources.get',
      snapshot({
        leak: leakStatus({ warning: true, summary: 'Heap grew 60%' }),
        prometheus: 'http://127.0.0.1:9100/metrics',
      }),
    );
    const calls = () => bridge.callsTo('resources.get').length;
    const before = calls();
    bridge.emit('session.notice', {
      sessionId: null,
      kind: 'resources',
      message: 'Possible leak',
      at: '2026-11-25T12:00:00.000Z',
    });
    bridge.emit('session.notice', {
      sessionId: null,
      kind: 'limit',
      message: 'x',
      at: '2026-11-25T12:00:00.000Z',
    });
    bridge.emit('settings.changed', (await import('../helpers/fixtures.js')).settings());
    await vi.advanceTimersByTimeAsync(400);
    await flushAll();
    expect(calls()).toBe(before + 1);
    expect(store.leak?.warning).toBe(true);
    expect(store.prometheus).toBe('http://127.0.0.1:9100/metrics');
    expect(store.size()).toBe(2); // the refresh did not replace the series
  });

  it('reports a back end without resources.get, and still follows ticks', async () => {
    bridge.fail('resources.get', 'not implemented');
    const store = useResourcesStore();
    await store.init();
    expect(store.error).toBe('not implemented');
    expect(store.level).toBe('normal');
    expect(store.updateIntervalMs).toBe(1000);
    bridge.emit('resources.tick', resourceSample(1000));
    expect(store.sample?.t).toBe(1000);
  });

  it('exports metrics through metrics.export', async () => {
    const store = await started();
    bridge.handle('metrics.export', (req) => ({
      filename: 'metrics.csv',
      contentType: 'text/csv',
      text: `format=${req.format} session=${req.sessionId ?? 'all'}`,
    }));
    expect((await store.exportMetrics('csv')).text).toBe('format=csv session=all');
    expect(bridge.callsTo('metrics.export')).toEqual([{ format: 'csv' }]);
  });

  it('unsubscribes on dispose', async () => {
    const store = await started();
    expect(bridge.listenerCount('resources.tick')).toBe(1);
    store.dispose();
    expect(bridge.listenerCount('resources.tick')).toBe(0);
    expect(bridge.listenerCount('governor.changed')).toBe(0);
    expect(PROCESSES.length).toBe(4);
  });
});

async function flushAll(): Promise<void> {
  for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(0);
}
