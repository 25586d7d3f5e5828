export interface ChartSeries {
  label: string;
  /** A CSS custom property holding the colour, e.g. `--chart-1`. */
  color: string;
  dash?: number[];
}
