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
export const THROUGHPUT_SERIES: readonly ChartSeries[] = [
  { label: 'in', color: '--chart-3' },
  { label: 'out', color: '--chart-4' },
];
