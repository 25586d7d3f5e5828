// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import LineChart from '../../../../renderer/components/charts/LineChart.vue';
import { pendingFrames } from '../../../../renderer/components/charts/frame.js';
import { plots } from '../../helpers/uplot-mock.js';

vi.mock('uplot', async () => (await import('../../helpers/uplot-mock.js')).uplotModule());
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

const observers: Array<{ disconnected: boolean; fire: () => void }> = [];
class FakeResizeObserver {
  disconnected = false;
  constructor(private readonly cb: () => void) {
    observers.push(this);
  }
  observe(): void {}
  disconnect(): void {
    this.disconnected = true;
  }
  fire(): void {
    this.cb();
  }
}

let frames: Array<() => void> = [];

beforeEach(() => {
  plots.length = 0;
  observers.length = 0;
  frames = [];
  vi.stubGlobal('ResizeObserver', FakeResizeObserver);
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
});

afterEach(() => {
  runFrame(); // a frame left requested would hold frame.ts's handle for the next test
  vi.unstubAllGlobals();
});

/** The .vue shim (renderer/env.d.ts) does not type props; LineChart's are checked by vue-tsc. */
function setProps(w: VueWrapper, props: Record<string, unknown>): Promise<void> {
  return w.setProps(props as never);
}

function runFrame(): void {
  const run = frames;
  frames = [];
  for (const f of run) f();
}

const series = [
  { label: 'p50', color: '--chart-1' },
  { label: 'p99', color: '--chart-2' },
];

describe('LineChart', () => {
  it('builds a uPlot chart with one series per line', () => {
    const data = () =>
      [
        [1, 2],
        [0.5, 0.6],
        [1, 2],
      ] as [number[], number[], number[]];
    mount(LineChart, { props: { series, data, version: 0, unit: 'ms' } });
    expect(plots).toHaveLength(1);
    expect(plots[0]!.opts.series.map((s) => s.label)).toEqual([undefined, 'p50', 'p99']);
    expect(plots[0]!.data).toEqual([
      [1, 2],
      [0.5, 0.6],
      [1, 2],
    ]);
  });

  it('redraws at most once per frame however many ticks arrive', async () => {
    let n = 0;
    const data = vi.fn(() => [[n], [n], [n]] as [number[], number[], number[]]);
    const w = mount(LineChart, { props: { series, data, version: 0, unit: 'bytes/s' } });
    for (let v = 1; v <= 20; v++) {
      n = v;
      await setProps(w, { version: v });
    }
    expect(plots[0]!.setData).not.toHaveBeenCalled();
    expect(pendingFrames()).toBe(1);
    runFrame();
    expect(plots[0]!.setData).toHaveBeenCalledTimes(1);
    expect(plots[0]!.setData).toHaveBeenLastCalledWith([[20], [20], [20]]);
  });

  it('rebuilds for a new theme, and releases chart, observers and frames on unmount', async () => {
    const data = () => [[], [], []] as [number[], number[], number[]];
    const w = mount(LineChart, { props: { series, data, version: 0, unit: 'ms', theme: 'dark' } });
    await setProps(w, { theme: 'light' });
    runFrame();
    expect(plots).toHaveLength(2);
    expect(plots[0]!.destroyed).toBe(true);
    await setProps(w, { version: 1 });
    observers[0]!.fire();
    w.unmount();
    expect(plots[1]!.destroyed).toBe(true);
    expect(observers[0]!.disconnected).toBe(true);
    expect(pendingFrames()).toBe(0);
  });

  it('is rebuilt when its series change (a process role appears), not when only the data does', async () => {
    const data = () => [[], [], []] as [number[], number[], number[]];
    const w = mount(LineChart, { props: { series, data, version: 0, unit: 'percent' } });
    await setProps(w, { series: [...series], version: 1 });
    runFrame();
    expect(plots).toHaveLength(1);
    await setProps(w, { series: [...series, { label: 'gpu', color: '--chart-4' }] });
    runFrame();
    expect(plots).toHaveLength(2);
    expect(plots[1]!.opts.series.map((s) => s.label)).toEqual([undefined, 'p50', 'p99', 'gpu']);
    w.unmount();
  });

  it('formats values by unit: percent and bytes', () => {
    const data = () => [[1], [12.345]] as [number[], number[]];
    mount(LineChart, { props: { series: [series[0]!], data, version: 0, unit: 'percent' } });
    mount(LineChart, { props: { series: [series[0]!], data, version: 0, unit: 'bytes' } });
    type Fmt = { value: (u: unknown, v: number | null) => string };
    const pct = plots[0]!.opts.series[1] as unknown as Fmt;
    const bytes = plots[1]!.opts.series[1] as unknown as Fmt;
    expect(pct.value(null, 12.345)).toBe('12%');
    expect(pct.value(null, 2.345)).toBe('2.3%');
    expect(bytes.value(null, 150 * 1024 * 1024)).toBe('150 MiB');
    expect(bytes.value(null, null)).toBe('–');
  });
});
