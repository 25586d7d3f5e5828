/**
 * The baseline workflow of `npm run bench`: compares the medians of this run's figures with a
 * baseline file (the shape of bench/results/latest.json, plus optional top-level `maxRegression`
 * and per-figure `tolerances`) in each figure's `better` direction, gives each figure its ratio
 * (this run / baseline) for the table and latest.json, and decides which baseline file a run
 * compares against (bench/baseline.json by default, when it exists).
 */
import { existsSync, readFileSync } from 'node:fs';

/** One figure as bench/results/latest.json stores it. */
export interface FigureRecord {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  median: number | null;
  target?: string;
  n?: number;
  min?: number | null;
  p95?: number | null;
  p99?: number | null;
  /** This run's median / the baseline's, when the run was compared with one. */
  ratio?: number | null;
}

/** bench/results/latest.json (only the parts the comparison reads). */
export interface BenchResult {
  figures: FigureRecord[];
  quick?: boolean;
  date?: string;
  [key: string]: unknown;
}

/** A baseline file: a results file plus optional tolerances. */
export interface BaselineFile extends BenchResult {
  /** Default allowed regression, as a ratio of the baseline median (0.25 = 25 %). */
  maxRegression?: number;
  /** Allowed regression per figure, by figure name (or `name [unit]` when a name repeats). */
  tolerances?: Record<string, number>;
}

export interface CompareOptions {
  /** Default allowed regression; overrides the baseline file's `maxRegression`. Default 0.25. */
  maxRegression?: number;
  /** Per-figure tolerances; override the baseline file's `tolerances`. */
  perFigure?: Record<string, number>;
}

export type CompareStatus = 'ok' | 'regressed' | 'improved' | 'missing' | 'new' | 'ignored';

export interface CompareRow {
  /** The figure's name, or `name [unit]` (then `#k`) when the name repeats within a file. */
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  baseline: number | null;
  current: number | null;
  /** Signed relative change of the median, (current - baseline) / |baseline|; null when not compared. */
  change: number | null;
  /** current / baseline median (whatever the direction); null when not compared. */
  ratio: number | null;
  /** Allowed regression ratio used for this figure. */
  tolerance: number;
  /**
   * 'missing': in the baseline only; 'new': in this run only; 'ignored': baseline median 0 or not
   * finite, or current median not finite; 'improved': better by more than the tolerance.
   */
  status: CompareStatus;
}

export interface CompareResult {
  rows: CompareRow[];
  regressed: number;
}

export const DEFAULT_MAX_REGRESSION = 0.25;
/** Tolerance that --save-baseline writes for figures that are noisy on shared VMs. */
export const NOISY_TOLERANCE = 0.6;

/**
 * Each figure's comparison key, in order: its name; a repeated name gets its unit, then an
 * occurrence number.
 */
export function figureKeys(figures: Pick<FigureRecord, 'name' | 'unit'>[]): string[] {
  const count = new Map<string, number>();
  for (const f of figures) count.set(f.name, (count.get(f.name) ?? 0) + 1);
  const seen = new Set<string>();
  return figures.map((f) => {
    let key = count.get(f.name)! > 1 ? `${f.name} [${f.unit}]` : f.name;
    if (seen.has(key)) {
      let k = 2;
      while (seen.has(`${key} #${k}`)) k++;
      key = `${key} #${k}`;
    }
    seen.add(key);
    return key;
  });
}

function keyed(figures: FigureRecord[]): Map<string, FigureRecord> {
  const keys = figureKeys(figures);
  return new Map(figures.map((f, i) => [keys[i]!, f]));
}

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Compare medians of `current` against `baseline`. Pure. */
export function compareFigures(
  baseline: BaselineFile,
  current: BenchResult,
  options: CompareOptions = {},
): CompareResult {
  const maxRegression = options.maxRegression ?? baseline.maxRegression ?? DEFAULT_MAX_REGRESSION;
  const tolerances = { ...baseline.tolerances, ...options.perFigure };
  const base = keyed(baseline.figures);
  const cur = keyed(current.figures);
  const rows: CompareRow[] = [];
  const toleranceFor = (key: string, f: FigureRecord) =>
    tolerances[key] ?? tolerances[f.name] ?? maxRegression;

  for (const [key, b] of base) {
    const c = cur.get(key);
    const tolerance = toleranceFor(key, b);
    const row: CompareRow = {
      name: key,
      unit: b.unit,
      better: b.better,
      baseline: b.median,
      current: c?.median ?? null,
      change: null,
      ratio: null,
      tolerance,
      status: 'ok',
    };
    if (!c) row.status = 'missing';
    else if (!finite(b.median) || b.median === 0 || !finite(c.median)) row.status = 'ignored';
    else {
      const change = (c.median - b.median) / Math.abs(b.median);
      row.change = change;
      // A ratio of a negative baseline (a memory delta that shrank) would read backwards.
      row.ratio = b.median > 0 && c.median >= 0 ? c.median / b.median : null;
      // Positive `worse` = moved in the bad direction.
      const worse = b.better === 'lower' ? change : -change;
      if (worse > tolerance) row.status = 'regressed';
      else if (worse < -tolerance) row.status = 'improved';
    }
    rows.push(row);
  }
  for (const [key, c] of cur) {
    if (base.has(key)) continue;
    rows.push({
      name: key,
      unit: c.unit,
      better: c.better,
      baseline: null,
      current: c.median,
      change: null,
      ratio: null,
      tolerance: toleranceFor(key, c),
      status: 'new',
    });
  }
  return { rows, regressed: rows.filter((r) => r.status === 'regressed').length };
}

function pct(x: number | null): string {
  if (x === null) return '';
  return `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
}

function num(x: number | null): string {
  return x === null ? '-' : String(Math.round(x * 1000) / 1000);
}

/** A ratio for the table: "1.05x"; "-" when there is none. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '-';
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
}

/**
 * This run's ratio to the baseline for each of `figures` (in order, matched the way
 * {@link compareFigures} matches them): current median / baseline median, or null when the
 * figure is new, or either median is 0 or not finite.
 */
export function ratiosFor(
  figures: Pick<FigureRecord, 'name' | 'unit'>[],
  comparison: CompareResult,
): (number | null)[] {
  const byKey = new Map(comparison.rows.map((r) => [r.name, r.ratio]));
  return figureKeys(figures).map((k) => byKey.get(k) ?? null);
}

/** The default baseline file of `npm run bench`, relative to the repository. */
export const DEFAULT_BASELINE = 'bench/baseline.json';

export interface CompareChoice {
  file: string;
  /**
   * True when --compare was given: a regression then fails the run. An implicit comparison
   * (the default baseline exists, no flag) only reports.
   */
  explicit: boolean;
}

/**
 * Which baseline a run compares against: `--compare <file>` that file, `--compare` alone the
 * default one, no flag the default one when it exists; `--no-compare` none.
 */
export function chooseBaseline(
  compareArg: string | boolean | undefined,
  defaultFile: string,
  exists: (file: string) => boolean = existsSync,
): CompareChoice | undefined {
  if (compareArg === false) return undefined;
  if (typeof compareArg === 'string' && compareArg !== '') return { file: compareArg, explicit: true };
  if (compareArg === true || compareArg === '') return { file: defaultFile, explicit: true };
  return exists(defaultFile) ? { file: defaultFile, explicit: false } : undefined;
}

/**
 * `--compare` may come without its file: followed by another flag or last. node:util's parseArgs
 * would take the next flag as its value, so such a `--compare` becomes `--compare=` (the default
 * baseline; see {@link chooseBaseline}).
 */
export function normalizeCompareArgv(argv: string[]): string[] {
  return argv.map((a, i) => {
    if (a !== '--compare') return a;
    const next = argv[i + 1];
    return next === undefined || next.startsWith('-') ? '--compare=' : a;
  });
}

/** A readable table of the comparison, then a one-line verdict naming each regression. */
export function formatComparison(result: CompareResult): string {
  const head = ['figure', 'unit', 'better', 'baseline', 'current', 'ratio', 'change', 'allowed', 'status'];
  const rows = result.rows.map((r) => [
    r.name,
    r.unit,
    r.better,
    num(r.baseline),
    num(r.current),
    r.ratio === null ? '' : formatRatio(r.ratio),
    pct(r.change),
    `${Math.round(r.tolerance * 100)} %`,
    r.status === 'regressed' ? 'REGRESSED' : r.status,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === 2 || i === 8 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return (
    [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n') +
    '\n' +
    formatVerdict(result)
  );
}

/** The verdict alone: each regression on a line, or "no figure regressed". */
export function formatVerdict(result: CompareResult): string {
  const lines: string[] = [];
  const regressed = result.rows.filter((r) => r.status === 'regressed');
  if (regressed.length) {
    lines.push(`${regressed.length} figure(s) regressed:`);
    for (const r of regressed)
      lines.push(
        `  ${r.name}: ${num(r.baseline)} -> ${num(r.current)} ${r.unit} (${pct(r.change)}, ` +
          `${r.better} is better, allowed ${Math.round(r.tolerance * 100)} %)`,
      );
  } else lines.push('no figure regressed');
  return lines.join('\n') + '\n';
}

/**
 * A baseline from a results file: default maxRegression, looser tolerances for noisy figures.
 * The run's own comparison (`comparedWith`, each figure's `ratio`) is left out.
 */
export function makeBaseline(result: BenchResult, maxRegression = DEFAULT_MAX_REGRESSION): BaselineFile {
  const tolerances: Record<string, number> = {};
  for (const f of result.figures)
    if (f.unit === 'ms' && /p99|lag/i.test(f.name)) tolerances[f.name] = NOISY_TOLERANCE;
  const { comparedWith: _comparedWith, ...rest } = result;
  const figures = result.figures.map(({ ratio: _ratio, ...f }) => f);
  return { ...rest, figures, maxRegression, tolerances };
}

/** Read and check a baseline file; throws with a readable message. */
export function loadBaseline(file: string): BaselineFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read baseline ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const b = parsed as BaselineFile;
  if (!b || typeof b !== 'object' || !Array.isArray(b.figures))
    throw new Error(`baseline ${file} has no "figures" array`);
  if (b.maxRegression !== undefined && !(finite(b.maxRegression) && b.maxRegression >= 0))
    throw new Error(`baseline ${file}: "maxRegression" must be a non-negative number`);
  for (const [name, t] of Object.entries(b.tolerances ?? {}))
    if (!(finite(t) && t >= 0)) throw new Error(`baseline ${file}: tolerance for "${name}" must be >= 0`);
  return b;
}

/** Parse a --max-regression value (a ratio such as 0.3; "30%" is accepted too). */
export function parseRatio(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
  if (!m) throw new Error(`--max-regression: expected a ratio such as 0.25, got "${value}"`);
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/**
 * What `npm run bench -- --compare <file>` prints: the table (for stdout) and, when a figure
 * regressed, a failure line (for stderr; the run then exits 1).
 */
export function compareWithBaseline(
  baseline: BaselineFile,
  result: BenchResult,
  file: string,
  maxRegression?: number,
  /** Only the verdict, not the table (the run's own table shows each ratio). */
  verdictOnly = false,
): { text: string; failure?: string; result: CompareResult } {
  const cmp = compareFigures(baseline, result, maxRegression === undefined ? {} : { maxRegression });
  let text = `\ncomparison with ${file} (medians):\n`;
  if (baseline.quick !== undefined && result.quick !== undefined && baseline.quick !== result.quick)
    text += `note: the baseline is a ${baseline.quick ? 'quick' : 'full'} run, this is a ${result.quick ? 'quick' : 'full'} run\n`;
  text += verdictOnly ? formatVerdict(cmp) : formatComparison(cmp);
  const regressed = cmp.rows.filter((r) => r.status === 'regressed');
  return {
    text,
    result: cmp,
    ...(regressed.length
      ? {
          failure:
            `bench: ${regressed.length} figure(s) regressed against ${file}: ` +
            regressed.map((r) => `${r.name} ${pct(r.change)}`).join('; ') +
            '\n',
        }
      : {}),
  };
}
