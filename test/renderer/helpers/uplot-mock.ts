/** A uPlot stand-in for happy-dom: records instances, setData/setSize calls and destroy. */
import { vi } from 'vitest';

export interface FakePlot {
  opts: { width: number; height: number; series: Array<{ label?: string; stroke?: unknown }> };
  data: unknown;
  width: number;
  setData: ReturnType<typeof vi.fn>;
  setSize: ReturnType<typeof vi.fn>;
  destroy: ReturnType<typeof vi.fn>;
  destroyed: boolean;
}

export const plots: FakePlot[] = [];

export function uplotModule(): { default: unknown } {
  class FakeUPlot implements FakePlot {
    opts: FakePlot['opts'];
    data: unknown;
    width: number;
    destroyed = false;
    setData = vi.fn((data: unknown) => {
      this.data = data;
    });
    setSize = vi.fn(({ width }: { width: number }) => {
      this.width = width;
    });
    destroy = vi.fn(() => {
      this.destroyed = true;
    });
    constructor(opts: FakePlot['opts'], data: unknown) {
      this.opts = opts;
      this.data = data;
      this.width = opts.width;
      plots.push(this);
    }
  }
  return { default: FakeUPlot };
}
