// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import PerformanceView from '../../../renderer/views/PerformanceView.vue';
import { useMetricsStore } from '../../../renderer/stores/metrics.js';
import { useResourcesStore } from '../../../renderer/stores/resources.js';
import type { SessionMetricsSample } from '../../../preload/api.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { session } from '../helpers/fixtures.js';
import {
  change,
  governorAt,
  governorState,
  leakStatus,
  probe,
  proc,
  resourceSample,
  snapshot,
} from '../helpers/resources-fixtures.js';
import { resetSessionsMock } from '../helpers/sessions-mock.js';
import { plots } from '../helpers/uplot-mock.js';
import { stubIntersectionObserver } from '../helpers/intersection-observer.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);
vi.mock('uplot', async () => (await import('../helpers/uplot-mock.js')).uplotModule());
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

let bridge: FakeBridge;

function sample(sessionId: string, partial: Partial<SessionMetricsSample> = {}) {
  return {
    sessionId,
    t: 1000,
    latencyP50: 0.5,
    latencyP95: 2,
    latencyP99: 3,
    inBytesPerSec: 2048,
    outBytesPerSec: 10,
    retransmissions: 0,
    reconnects: 0,
    ...partial,
  };
}

async function start(snap = snapshot()): Promise<void> {
  bridge.handle('metrics.history', { intervalMs: 1000, sessions: [] });
  bridge.handle('resources.get', snap);
  await useMetricsStore().init();
  await useResourcesStore().init();
}

beforeEach(() => {
  stubIntersectionObserver(); // every chart is in sight
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  plots.length = 0;
});

afterEach(() => {
  useResourcesStore().dispose();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('PerformanceView: connections', () => {
  it('shows a hint when there are no sessions', async () => {
    await start();
    resetSessionsMock();
    const w = mount(PerformanceView);
    expect(w.find('[data-testid="performance-empty"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="performance-card"]')).toHaveLength(0);
  });

  it("builds a session's charts only once its card comes near the viewport, and keeps them", async () => {
    await start();
    const sessions = Array.from({ length: 6 }, (_, i) => session({ instanceName: `web-${i}` }));
    // Only the first two session cards are in sight (the combined card's charts are too).
    const inSight = new Set(['all', sessions[0]!.id, sessions[1]!.id]);
    const io = stubIntersectionObserver((el) =>
      inSight.has(el.closest('[data-testid="performance-card"]')?.getAttribute('data-session-id') ?? ''),
    );
    resetSessionsMock(sessions);
    const w = mount(PerformanceView);
    await flush(); // the observer reported; the charts render on the next tick
    const cards = w.findAll('[data-testid="performance-card"]');
    expect(cards).toHaveLength(7);
    const charts = (i: number) => cards[i]!.findAll('[data-testid="line-chart"]').length;
    expect(cards.map((_, i) => charts(i))).toEqual([2, 2, 2, 0, 0, 0, 0]);
    // A card waiting for its charts holds their place.
    const waiting = cards[3]!.find('[data-testid="when-visible"]');
    expect(waiting.attributes('data-shown')).toBe('false');
    expect((waiting.element as HTMLElement).style.minHeight).toBe('330px');
    // Scrolled to: built, and the observer lets go of it.
    inSight.add(sessions[2]!.id);
    io.update();
    await flush();
    expect(cards.map((_, i) => charts(i))).toEqual([2, 2, 2, 2, 0, 0, 0]);
    const waitingBoxes = () =>
      io
        .observed()
        .filter((el) => el.getAttribute('data-testid') === 'when-visible' && w.element.contains(el));
    expect(waitingBoxes()).toHaveLength(3); // the three cards still out of sight
    // Out of sight again: kept.
    inSight.delete(sessions[2]!.id);
    io.update();
    await flush();
    expect(charts(3)).toBe(2);
    const ours = io.observed().filter((el) => w.element.contains(el));
    expect(ours.length).toBeGreaterThan(3); // the waiting boxes and the charts' own
    w.unmount();
    expect(io.observed().filter((el) => ours.includes(el))).toHaveLength(0); // all let go
  });

  it('has a combined card and one per open session, with p95, retransmissions and reconnects', async () => {
    await start();
    const a = session({ instanceName: 'web-1' });
    const b = session({ instanceName: 'api-1' });
    const closed = session({ instanceName: 'old', state: 'closed' });
    resetSessionsMock([a, b, closed]);
    const w = mount(PerformanceView);
    await flush();
    const cards = w.findAll('[data-testid="performance-card"]');
    expect(cards.map((c) => c.attributes('data-session-id'))).toEqual(['all', a.id, b.id]);
    expect(cards[1]!.findAll('[data-testid="line-chart"]')).toHaveLength(2);
    // The latency chart has p50, p95 and p99.
    const latency = plots.find((p) => p.opts.series.some((s) => s.label === 'p95'));
    expect(latency?.opts.series.map((s) => s.label)).toEqual([undefined, 'p50', 'p95', 'p99']);

    bridge.emit('metrics.tick', {
      intervalMs: 1000,
      samples: [
        sample(a.id, { retransmissions: 2, reconnects: 1 }),
        sample(b.id, {
          latencyP50: null,
          latencyP95: null,
          latencyP99: null,
          inBytesPerSec: 1024,
          outBytesPerSec: 0,
          retransmissions: 1,
        }),
      ],
    });
    await flush();
    const card = w.find(`[data-session-id="${a.id}"]`);
    expect(card.text()).toContain('0.50 ms');
    expect(card.get('[data-testid="figure-p95"]').text()).toBe('2.0 ms');
    expect(card.text()).toContain('3.0 ms');
    expect(card.text()).toContain('2.0 KiB/s');
    expect(card.get('[data-testid="figure-retransmissions"]').text()).toBe('2');
    expect(card.get('[data-testid="figure-reconnects"]').text()).toBe('1');
    const all = w.find('[data-session-id="all"]');
    expect(all.text()).toContain('3.0 KiB/s');
    expect(all.get('[data-testid="figure-retransmissions"]').text()).toBe('3');
  });

  it('redraws the connection figures at most once per governor.ui.updateIntervalMs', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      await start();
      const a = session();
      resetSessionsMock([a]);
      const w = mount(PerformanceView);
      bridge.emit('governor.changed', { state: governorAt('slow-ui'), change: null }); // 3 s
      bridge.emit('metrics.tick', {
        intervalMs: 1000,
        samples: [sample(a.id, { t: 1000, inBytesPerSec: 1024 })],
      });
      await vi.advanceTimersByTimeAsync(0);
      const figure = () => w.get(`[data-session-id="${a.id}"]`).text();
      expect(figure()).toContain('1.0 KiB/s'); // the first one at once
      bridge.emit('metrics.tick', {
        intervalMs: 1000,
        samples: [sample(a.id, { t: 2000, inBytesPerSec: 5120 })],
      });
      await vi.advanceTimersByTimeAsync(1000);
      expect(figure()).toContain('1.0 KiB/s');
      await vi.advanceTimersByTimeAsync(2100);
      expect(figure()).toContain('5.0 KiB/s');
    } finally {
      vi.useRealTimers();
    }
  });

  it('exports CSV through metrics.export as a download, and shows the Prometheus address', async () => {
    await start(snapshot({ prometheus: 'http://127.0.0.1:9464/metrics' }));
    resetSessionsMock();
    bridge.handle('metrics.export', {
      filename: 'ec2-connect-metrics.csv',
      contentType: 'text/csv',
      text: 't,session,p50\n',
    });
    const created: Blob[] = [];
    vi.stubGlobal('URL', {
      ...URL,
      createObjectURL: (b: Blob) => {
        created.push(b);
        return 'blob:fake/1';
      },
      revokeObjectURL: () => {},
    });
    const clicked: Array<{ href: string; download: string }> = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    const w = mount(PerformanceView);
    expect(w.get('[data-testid="prometheus-note"]').text()).toContain('http://127.0.0.1:9464/metrics');
    await w.get('[data-testid="export-csv"]').trigger('click');
    await flush();
    expect(bridge.callsTo('metrics.export')).toEqual([{ format: 'csv' }]);
    expect(clicked).toEqual([{ href: 'blob:fake/1', download: 'ec2-connect-metrics.csv' }]);
    expect(await created[0]!.text()).toBe('t,session,p50\n');
    expect(created[0]!.type).toBe('text/csv');

    bridge.fail('metrics.export', 'no sessions');
    await w.get('[data-testid="export-csv"]').trigger('click');
    await flush();
    expect(w.get('[data-testid="export-error"]').text()).toContain('no sessions');
  });
});

describe('PerformanceView: resources', () => {
  it('shows the governor at normal: level, gauges against the limits, no actions', async () => {
    await start();
    resetSessionsMock();
    const w = mount(PerformanceView);
    const card = w.get('[data-testid="governor-card"]');
    expect(card.get('[data-testid="governor-level"]').text()).toBe('Normal');
    expect(card.get('[data-testid="governor-level"]').classes()).toContain('ok');
    expect(card.get('[data-testid="gauge-memory"]').text()).toContain('390 MiB of 1.5 GiB');
    expect(card.get('[data-testid="gauge-memory"]').attributes('data-tone')).toBe('ok');
    expect(card.get('[data-testid="gauge-cpu"]').text()).toContain('of 50%');
    expect(card.get('[data-testid="governor-actions"]').text()).toContain('None');
    expect(card.find('[data-testid="governor-refusal"]').exists()).toBe(false);
    expect(w.get('[data-testid="low-power-state"]').text()).toBe('Off');
  });

  it('shows a refusing governor: red level, reason, refusal, actions in words, the change log', async () => {
    await start();
    resetSessionsMock();
    const w = mount(PerformanceView);
    bridge.emit('governor.changed', {
      state: governorAt('refuse'),
      change: change('2026-11-25T12:01:00.000Z', 'normal', 'refuse', 'Memory over the 300 MiB limit'),
    });
    await flush();
    const card = w.get('[data-testid="governor-card"]');
    expect(card.attributes('data-level')).toBe('refuse');
    const level = card.get('[data-testid="governor-level"]');
    expect(level.text()).toBe('Refusing sessions');
    expect(level.classes()).toContain('bad');
    // The refusal says why: the reason is not repeated above it.
    expect(card.find('[data-testid="governor-reason"]').exists()).toBe(false);
    expect(card.get('[data-testid="governor-refusal"]').text()).toMatch(
      /New sessions are refused: memory 390 MiB is over the 300 MiB limit/,
    );
    expect(card.get('[data-testid="gauge-memory"]').attributes('data-tone')).toBe('bad');
    const actions = card.findAll('[data-testid="governor-actions"] li').map((li) => li.text());
    expect(actions).toEqual([
      'Warns that a limit is near or passed',
      'Charts and figures redraw every 3 s',
      'Terminals draw without WebGL; cursor blink is off',
      'Background terminals keep 500 lines of scrollback',
      'New sessions are refused; open sessions keep running',
    ]);
    const changes = card.findAll('[data-testid="governor-change"]');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.text()).toContain('Refusing sessions');
    expect(changes[0]!.text()).toContain('Memory over the 300 MiB limit');
    // Low power turned on by the limits.
    const lowPower = w.get('[data-testid="low-power-card"]');
    expect(lowPower.attributes('data-active')).toBe('true');
    expect(lowPower.get('[data-testid="low-power-reasons"]').text()).toContain(
      'a resource limit was reached',
    );
    expect(w.find('[data-testid="performance-low-power"]').exists()).toBe(true);

    // Easing off to trim: the reason shows, the refusal goes.
    bridge.emit('governor.changed', {
      state: governorAt('trim'),
      change: change('2026-11-25T12:02:00.000Z', 'refuse', 'trim', 'Easing off (trim)'),
    });
    await flush();
    expect(card.get('[data-testid="governor-reason"]').text()).toContain('over the 300 MiB limit');
    expect(card.find('[data-testid="governor-refusal"]').exists()).toBe(false);
    expect(card.findAll('[data-testid="governor-change"]')[0]!.text()).toContain('Easing off (trim)');
  });

  it('lists low-power reasons from config, env and battery', async () => {
    await start(
      snapshot({
        governor: governorState({
          lowPower: { active: true, mode: 'on', reasons: ['config', 'env', 'battery'] },
        }),
      }),
    );
    resetSessionsMock();
    const w = mount(PerformanceView);
    const reasons = w
      .findAll('[data-testid="low-power-reasons"] li')
      .map((li) => li.attributes('data-reason'));
    expect(reasons).toEqual(['config', 'env', 'battery']);
    expect(w.get('[data-testid="low-power-card"]').text()).toContain('running on battery');
  });

  it('charts CPU and memory with one series per role, and tables every process', async () => {
    await start();
    resetSessionsMock();
    const w = mount(PerformanceView);
    const cpu = w.get('[data-testid="process-cpu-chart"]');
    expect(cpu.attributes('data-roles')).toBe('main,renderer,gpu,pty');
    const rolePlots = plots.filter((p) => p.opts.series.some((s) => s.label === 'renderer'));
    expect(rolePlots).toHaveLength(2);
    expect(rolePlots[0]!.opts.series.map((s) => s.label)).toEqual([
      undefined,
      'main',
      'renderer',
      'gpu',
      'pty',
    ]);
    const rows = w.findAll('[data-testid="process-row"]');
    expect(rows.map((r) => r.attributes('data-role'))).toEqual(['main', 'renderer', 'gpu', 'pty']);
    expect(rows[0]!.text()).toContain('100');
    expect(rows[0]!.text()).toContain('120 MiB');
    expect(rows[3]!.text()).toContain('no'); // the sandbox's shell is not governed
    expect(w.get('[data-testid="process-figures"]').text()).toContain('390 MiB');

    // A utility process appears: a new series.
    bridge.emit(
      'resources.tick',
      resourceSample(20_000, {
        processes: [proc({ pid: 100, role: 'main' }), proc({ pid: 500, role: 'utility' })],
      }),
    );
    useResourcesStore().flush(); // not waiting for the redraw interval
    await flush();
    expect(w.get('[data-testid="process-cpu-chart"]').attributes('data-roles')).toBe(
      'main,renderer,gpu,utility,pty',
    );
    expect(w.findAll('[data-testid="process-row"]').map((r) => r.attributes('data-pid'))).toEqual([
      '100',
      '500',
    ]);
  });

  it('shows the leak watch, quiet or warning', async () => {
    await start(
      snapshot({ leak: leakStatus({ warning: true, summary: 'Heap grew 64%: likely the session buffers' }) }),
    );
    resetSessionsMock();
    const w = mount(PerformanceView);
    const leak = w.get('[data-testid="leak-status"]');
    expect(leak.attributes('data-warning')).toBe('true');
    expect(leak.text()).toContain('likely the session buffers');
    expect(leak.text()).toContain('memory keeps growing');
    expect(leak.text()).toContain('42 handles');

    // Quiet: the figures in one line, the report as its tooltip.
    useResourcesStore().applySnapshot(snapshot());
    await flush();
    const quiet = w.get('[data-testid="leak-status"]');
    expect(quiet.attributes('data-warning')).toBe('false');
    expect(quiet.text()).toContain('no leak seen');
    expect(quiet.text()).toContain('heap +4% over the window · GC pauses up to 3.2 ms · 42 handles');
    expect(quiet.text()).not.toContain('Heap steady');
    expect(quiet.attributes('title')).toBe('Heap steady (+4% over 10 min)');
  });

  it('probes endpoints now and shows the latencies, failures included', async () => {
    await start();
    resetSessionsMock();
    const w = mount(PerformanceView);
    expect(w.findAll('[data-testid="probe-row"]')).toHaveLength(1);
    bridge.handle('resources.probe', [
      probe({ service: 'ssm', latencyMs: 12.5 }),
      probe({ service: 'ec2', ok: false, latencyMs: null, error: 'ECONNREFUSED' }),
    ]);
    await w.get('[data-testid="probe-now"]').trigger('click');
    await flush();
    const rows = w.findAll('[data-testid="probe-row"]');
    expect(rows.map((r) => r.attributes('data-service'))).toEqual(['ssm', 'ec2']);
    expect(rows[0]!.text()).toContain('12.5 ms');
    expect(rows[1]!.text()).toContain('failed');
  });

  it('says when the resource monitor is unavailable', async () => {
    bridge.handle('metrics.history', { intervalMs: 1000, sessions: [] });
    bridge.fail('resources.get', 'not implemented');
    await useResourcesStore().init();
    resetSessionsMock();
    const w = mount(PerformanceView);
    expect(w.get('[data-testid="resources-error"]').text()).toContain('not implemented');
    expect(w.get('[data-testid="governor-unknown"]').text()).toContain('not implemented');
  });
});
