export interface ChartSeries {
  label: string;
  /** A CSS custom property holding the colour, e.g. `--chart-1`. */
  color: string;
  dash?: number[];
}

/** The two connection charts of the Performance and History views: round trip and throughput. */
export const LATENCY_SERIES: readonly ChartSeries[] = [
  { label: 'p50', color: '--chart-1' },
  { label: 'p99', color: '--chart-2' },
];
/** The live latency chart of the Performance view also has p95 (the History view's points do not). */
export const LIVE_LATENCY_SERIES: readonly ChartSeries[] = [
  { label: 'p50', color: '--chart-1' },
  { label: 'p95', color: '--chart-5', dash: [4, 3] },
  { label: 'p99', color: '--chart-2' },
];
export const THROUGHPUT_SERIES: readonly ChartSeries[] = [
  { label: 'in', color: '--chart-3' },
  { label: 'out', color: '--chart-4' },
];

/** A fixed colour per process role, so a role keeps its colour across charts and restarts. */
const ROLE_COLORS: Readonly<Record<string, string>> = {
  main: '--chart-1',
  renderer: '--chart-2',
  gpu: '--chart-4',
  utility: '--chart-6',
  pty: '--chart-3',
  child: '--chart-5',
};
const SPARE_COLORS = ['--chart-7', '--chart-8', '--chart-6', '--chart-5'];

/** One series per process role (per-process CPU and memory charts). */
export function roleSeries(roles: readonly string[]): ChartSeries[] {
  let spare = 0;
  return roles.map((role) => ({
    label: role,
    color: ROLE_COLORS[role] ?? SPARE_COLORS[spare++ % SPARE_COLORS.length]!,
  }));
}
