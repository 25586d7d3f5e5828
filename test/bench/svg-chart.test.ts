import { describe, expect, it } from 'vitest';
import {
  escapeXml,
  formatTick,
  niceTicks,
  renderLineChart,
  type LineChartOptions,
} from '../../bench/lib/svg-chart.js';
import { rssGrowthPerSession, sweepChart, type SweepStep } from '../../bench/sweep.js';
import { summarize } from '../../bench/lib/stats.js';

/**
 * A strict-enough XML well-formedness check for what the chart emits: every tag closes in
 * order, attribute values are quoted, and text holds no raw '<' or stray '&'.
 */
function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let roots = 0;
  while ((m = token.exec(xml))) {
    const [, close, name, , selfClose, text, stray] = m;
    if (stray) throw new Error(`stray '<' at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(text)) throw new Error(`unescaped '&' in ${text}`);
      if (!stack.length && text.trim()) throw new Error(`text outside the root: ${text}`);
      continue;
    }
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClose) {
      if (!stack.length) roots++;
      stack.push(name!);
    } else if (!stack.length) roots++;
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

function attrs(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

const options = (): LineChartOptions => ({
  title: 'Sessions <&> "memory"',
  xLabel: 'open sessions',
  xTicks: [1, 10, 50, 100, 200],
  panels: [
    {
      title: 'Memory per session',
      yLabel: 'KB per session',
      series: [
        {
          name: 'heap',
          points: [
            { x: 1, y: 190 },
            { x: 10, y: 120 },
            { x: 200, y: 35 },
          ],
        },
        { name: 'rss', points: [{ x: 50, y: 36 }] },
      ],
    },
    {
      title: 'CPU',
      yLabel: '% of a core',
      series: [
        {
          name: 'idle',
          points: [
            { x: 1, y: 0.2 },
            { x: 200, y: 1.6 },
          ],
        },
      ],
    },
  ],
});

describe('the well-formedness check', () => {
  it('catches what it is there to catch', () => {
    expect(() => checkWellFormed('<svg><g></svg>')).toThrow(/closes/);
    expect(() => checkWellFormed('<svg><text>a < b</text></svg>')).toThrow(/stray/);
    expect(() => checkWellFormed('<svg><text>a & b</text></svg>')).toThrow(/&/);
    expect(() => checkWellFormed('<svg><g>')).toThrow(/unclosed/);
    expect(() => checkWellFormed('<svg/><svg/>')).toThrow(/root/);
    expect(() => checkWellFormed('<svg><g x="1"/></svg>')).not.toThrow();
  });
});

describe('niceTicks and formatTick', () => {
  it('covers the maximum with round steps from 0', () => {
    expect(niceTicks(190)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(1.6)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(0.03)).toEqual([0, 0.01, 0.02, 0.03]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(NaN)).toEqual([0, 1]);
    for (const max of [0.7, 3, 17, 99.5, 250, 12_345]) {
      const t = niceTicks(max);
      expect(t[0]).toBe(0);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(max);
      expect(t.length).toBeLessThanOrEqual(6);
    }
  });

  it('prints ticks short', () => {
    expect(formatTick(0.30000000000000004)).toBe('0.3');
    expect(formatTick(150)).toBe('150');
    expect(formatTick(25_000)).toBe('25k');
  });
});

describe('renderLineChart', () => {
  it('is well-formed SVG with escaped text, axis labels and titles', () => {
    const svg = renderLineChart(options());
    checkWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Sessions &lt;&amp;&gt; &quot;memory&quot;');
    expect(svg).not.toContain('<&>');
    for (const label of ['open sessions', 'KB per session', '% of a core', 'Memory per session', 'CPU'])
      expect(svg).toContain(`>${label}<`);
    for (const tick of ['1', '10', '50', '100', '200', '150', '1.5'])
      expect(svg).toContain(`>${tick}</text>`);
    // Its own background, so it reads on dark pages too.
    expect(svg).toMatch(/<rect [^>]*fill="#ffffff"/);
  });

  it('leaves out a tick label that would touch the one before it, never the tick mark', () => {
    const xTicks = [1, 10, 20, 50, 100, 200];
    const svg = renderLineChart({ ...options(), xTicks });
    checkWellFormed(svg);
    // 1, 10 and 20 sit within 25 px of each other on a 0-200 axis 256 px long: 20 would touch 10.
    for (const tick of ['1', '10', '50', '100', '200']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).not.toContain('>20</text>');
    const marks = [...svg.matchAll(/<line [^>]*y2="[^"]*"[^>]*stroke-width="1"\/>/g)].filter((m) => {
      const a = attrs(m[0]);
      return a.x1 === a.x2 && Number(a.y2) - Number(a.y1) === 4;
    });
    expect(marks).toHaveLength(xTicks.length * 2); // every tick, in both panels
  });

  it('puts every point inside its panel and in order along x', () => {
    const o = options();
    const svg = renderLineChart(o);
    const { width, height } = attrs(svg.slice(0, svg.indexOf('>')));
    const circles = [...svg.matchAll(/<circle [^>]*>/g)].map((m) => attrs(m[0]));
    expect(circles).toHaveLength(6);
    for (const c of circles) {
      expect(Number(c.cx)).toBeGreaterThan(0);
      expect(Number(c.cx)).toBeLessThan(Number(width));
      expect(Number(c.cy)).toBeGreaterThan(0);
      expect(Number(c.cy)).toBeLessThan(Number(height));
    }
    // Panel 1 spans x < 320; panel 2 the next 320 px.
    const heap = circles.slice(0, 3).map((c) => ({ x: Number(c.cx), y: Number(c.cy) }));
    expect(heap.every((p) => p.x < 320)).toBe(true);
    expect(heap[0]!.x).toBeLessThan(heap[1]!.x);
    expect(heap[1]!.x).toBeLessThan(heap[2]!.x);
    // Higher values sit higher (smaller y); 190 is near the top of a 0..200 axis.
    expect(heap[0]!.y).toBeLessThan(heap[1]!.y);
    expect(heap[1]!.y).toBeLessThan(heap[2]!.y);
    const cpu = circles.slice(4).map((c) => Number(c.cx));
    expect(cpu.every((x) => x > 320 && x < 640)).toBe(true);
    // A line for each series of two points or more, none for a single point.
    expect([...svg.matchAll(/<polyline /g)]).toHaveLength(2);
    expect(svg).toContain('<title>heap: 190 KB per session at 1 open sessions</title>');
  });

  it('refuses a chart without panels or x ticks', () => {
    expect(() => renderLineChart({ ...options(), panels: [] })).toThrow(/panel/);
    expect(() => renderLineChart({ ...options(), xTicks: [] })).toThrow(/x tick/);
  });

  it('escapes XML specials', () => {
    expect(escapeXml(`a<b>&"c"'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;');
  });
});

describe('sweepChart', () => {
  it('charts memory and CPU of each step', () => {
    const step = (n: number, heap: number): SweepStep => ({
      sessions: n,
      opened: n,
      succeeded: n,
      successPct: 100,
      open: summarize([40, 50]),
      heapPerSessionKB: heap,
      rssTotalMB: 180 + n / 10,
      idleCpuPct: n / 100,
      loadCpuPct: n / 10,
    });
    const svg = sweepChart([step(1, 190), step(10, 120), step(200, 35)], 'AMD EPYC, 2 cores & Node 20');
    checkWellFormed(svg);
    expect(svg).toContain('AMD EPYC, 2 cores &amp; Node 20');
    expect([...svg.matchAll(/<circle /g)]).toHaveLength(3 * 4);
    expect(svg).toContain('>Total resident memory<');
  });

  it('takes resident memory per session from the lowest reading to the last step', () => {
    const step = (n: number, rssTotalMB: number) => ({ sessions: n, rssTotalMB }) as SweepStep;
    // RSS fell early (warm-up pages handed back), then grew 10 MB over 150 sessions.
    const steps = [step(1, 180), step(10, 150), step(50, 140), step(100, 145), step(200, 150)];
    expect(rssGrowthPerSession(steps)).toEqual({ from: 50, to: 200, kb: (10 * 1024) / 150 });
    // No fall: from the first step.
    expect(rssGrowthPerSession([step(1, 1), step(10, 2), step(50, 3)])).toEqual({
      from: 1,
      to: 50,
      kb: (2 * 1024) / 49,
    });
    expect(rssGrowthPerSession([step(1, 1)])).toBeUndefined();
  });
});
