/**
 * A small hand-written SVG line chart for the benchmark report (bench/results/sweep.svg, embedded
 * in the README): one or more panels side by side sharing the x axis, each with its own y axis
 * from 0, a legend and a dot (with a tooltip) per point. It draws its own light background, so it
 * reads the same on GitHub's light and dark themes. Pure: returns the SVG text.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface ChartPanel {
  title: string;
  /** The y axis' label, with its unit, e.g. "KB per session". */
  yLabel: string;
  series: ChartSeries[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  /** Where the x axis gets a tick and a label; the axis spans their range. */
  xTicks: number[];
  panels: ChartPanel[];
  /** One panel's size in px (default 320 x 240). */
  panelWidth?: number;
  panelHeight?: number;
  /** A line of small text under the panels (e.g. the machine and the date). */
  footnote?: string;
}

/** Series colours (GitHub's Primer palette), readable on the chart's white background. */
export const SERIES_COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#9a6700'] as const;

const TEXT = '#1f2328';
/** Width of a character of a 10 px tick label (digits of a sans-serif font), for spacing labels. */
const TICK_CHAR_PX = 5.6;
const MUTED = '#59636e';
const GRID = '#d1d9e0';
const BACKGROUND = '#ffffff';
const FONT = 'font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** Escape text for an XML text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Round tick values from 0 to at least `max`: about `count` steps of 1, 2, 2.5 or 5 times a
 * power of ten. A max of 0 or less (or not finite) gives [0, 1].
 */
export function niceTicks(max: number, count = 4): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    // Multiply (not add) so 0.1 steps stay round.
    const t = Number((i * step).toPrecision(12));
    ticks.push(t);
    if (t >= max) break;
  }
  return ticks;
}

/** A tick label: no more digits than needed, thousands as "k". */
export function formatTick(value: number): string {
  if (value !== 0 && Math.abs(value) >= 10_000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

function fixed(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function panelSvg(
  panel: ChartPanel,
  xTicks: number[],
  xLabel: string,
  left: number,
  top: number,
  width: number,
  height: number,
): string {
  const margin = { left: 52, right: 12, top: 44, bottom: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x0 = left + margin.left;
  const y0 = top + margin.top;
  const xMin = Math.min(...xTicks);
  const xMax = Math.max(...xTicks);
  const ys = panel.series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
  const yTicks = niceTicks(Math.max(0, ...ys));
  const yMax = yTicks[yTicks.length - 1]!;
  const sx = (x: number) => x0 + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => y0 + plotH - (Math.max(0, y) / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<text x="${fixed(left + width / 2)}" y="${fixed(top + 16)}" text-anchor="middle" font-size="13" font-weight="600" fill="${TEXT}">${escapeXml(panel.title)}</text>`,
  );
  // Legend: a short line and the series name, centred under the title.
  const legendItems = panel.series.map((s, i) => ({ s, color: SERIES_COLORS[i % SERIES_COLORS.length]! }));
  const itemWidth = (s: ChartSeries) => 22 + s.name.length * 5.6 + 10;
  let lx = left + (width - legendItems.reduce((a, it) => a + itemWidth(it.s), 0)) / 2;
  for (const { s, color } of legendItems) {
    out.push(
      `<line x1="${fixed(lx)}" y1="${fixed(top + 30)}" x2="${fixed(lx + 16)}" y2="${fixed(top + 30)}" stroke="${color}" stroke-width="2.5"/>`,
      `<text x="${fixed(lx + 20)}" y="${fixed(top + 34)}" font-size="10" fill="${TEXT}">${escapeXml(s.name)}</text>`,
    );
    lx += itemWidth(s);
  }
  for (const t of yTicks) {
    const y = sy(t);
    out.push(
      `<line x1="${fixed(x0)}" y1="${fixed(y)}" x2="${fixed(x0 + plotW)}" y2="${fixed(y)}" stroke="${GRID}" stroke-width="1"/>`,
      `<text x="${fixed(x0 - 6)}" y="${fixed(y + 3.5)}" text-anchor="end" font-size="10" fill="${MUTED}">${escapeXml(formatTick(t))}</text>`,
    );
  }
  // Every tick gets its mark; a label that would touch the one before it (1, 10 and 20 on a
  // 0-200 axis) is left out.
  let labelRight = Number.NEGATIVE_INFINITY;
  for (const t of xTicks) {
    const x = sx(t);
    out.push(
      `<line x1="${fixed(x)}" y1="${fixed(y0 + plotH)}" x2="${fixed(x)}" y2="${fixed(y0 + plotH + 4)}" stroke="${MUTED}" stroke-width="1"/>`,
    );
    const label = formatTick(t);
    const half = (label.length * TICK_CHAR_PX) / 2;
    if (x - half < labelRight + 3) continue;
    labelRight = x + half;
    out.push(
      `<text x="${fixed(x)}" y="${fixed(y0 + plotH + 15)}" text-anchor="middle" font-size="10" fill="${MUTED}">${escapeXml(label)}</text>`,
    );
  }
  out.push(
    `<line x1="${fixed(x0)}" y1="${fixed(y0 + plotH)}" x2="${fixed(x0 + plotW)}" y2="${fixed(y0 + plotH)}" stroke="${MUTED}" stroke-width="1"/>`,
    `<text x="${fixed(x0 + plotW / 2)}" y="${fixed(top + height - 6)}" text-anchor="middle" font-size="11" fill="${TEXT}">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(${fixed(left + 13)} ${fixed(y0 + plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="11" fill="${TEXT}">${escapeXml(panel.yLabel)}</text>`,
  );
  for (const { s, color } of legendItems) {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" points="${pts
          .map((p) => `${fixed(sx(p.x))},${fixed(sy(p.y))}`)
          .join(' ')}"/>`,
      );
    for (const p of pts)
      out.push(
        `<circle cx="${fixed(sx(p.x))}" cy="${fixed(sy(p.y))}" r="3" fill="${color}"><title>${escapeXml(
          `${s.name}: ${formatTick(p.y)} ${panel.yLabel} at ${formatTick(p.x)} ${xLabel}`,
        )}</title></circle>`,
      );
  }
  return out.join('\n');
}

/** The whole chart as a standalone SVG document. */
export function renderLineChart(options: LineChartOptions): string {
  if (!options.panels.length) throw new Error('renderLineChart: at least one panel is needed');
  if (!options.xTicks.length) throw new Error('renderLineChart: at least one x tick is needed');
  const pw = options.panelWidth ?? 320;
  const ph = options.panelHeight ?? 240;
  const titleH = 30;
  const footH = options.footnote ? 20 : 6;
  const width = pw * options.panels.length;
  const height = titleH + ph + footH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="6" fill="${BACKGROUND}" stroke="${GRID}"/>`,
    `<text x="${fixed(width / 2)}" y="20" text-anchor="middle" font-size="14" font-weight="600" fill="${TEXT}">${escapeXml(options.title)}</text>`,
    ...options.panels.map((p, i) => panelSvg(p, options.xTicks, options.xLabel, i * pw, titleH, pw, ph)),
  ];
  if (options.footnote)
    parts.push(
      `<text x="${fixed(width / 2)}" y="${fixed(height - 7)}" text-anchor="middle" font-size="10" fill="${MUTED}">${escapeXml(options.footnote)}</text>`,
    );
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
