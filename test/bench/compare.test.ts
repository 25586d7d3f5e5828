import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseBaseline,
  compareFigures,
  compareWithBaseline,
  figureKeys,
  formatComparison,
  formatRatio,
  loadBaseline,
  makeBaseline,
  normalizeCompareArgv,
  parseRatio,
  ratiosFor,
  type BaselineFile,
  type FigureRecord,
} from '../../bench/compare.js';

const fig = (name: string, median: number | null, better: 'lower' | 'higher' = 'lower', unit = 'ms') =>
  ({ name, unit, better, median }) satisfies FigureRecord;
const run = (...figures: FigureRecord[]) => ({ figures });
const row = (r: ReturnType<typeof compareFigures>, name: string) => {
  const found = r.rows.find((x) => x.name === name);
  if (!found) throw new Error(`no row ${name}`);
  return found;
};

describe('compareFigures', () => {
  it('lower is better: regression only when the median rises beyond the ratio', () => {
    const base = run(fig('open', 100), fig('echo', 100), fig('fast', 100));
    const cur = run(fig('open', 126), fig('echo', 124), fig('fast', 70));
    const r = compareFigures(base, cur);
    expect(row(r, 'open').status).toBe('regressed');
    expect(row(r, 'open').change).toBeCloseTo(0.26);
    expect(row(r, 'echo').status).toBe('ok');
    expect(row(r, 'fast').status).toBe('improved');
    expect(row(r, 'fast').change).toBeCloseTo(-0.3);
    expect(r.regressed).toBe(1);
  });

  it('higher is better: regression only when the median falls beyond the ratio', () => {
    const base = run(fig('tp', 100, 'higher', 'MB/s'), fig('tp2', 100, 'higher', 'MB/s'));
    const cur = run(fig('tp', 74, 'higher', 'MB/s'), fig('tp2', 200, 'higher', 'MB/s'));
    const r = compareFigures(base, cur);
    expect(row(r, 'tp').status).toBe('regressed');
    expect(row(r, 'tp').change).toBeCloseTo(-0.26);
    expect(row(r, 'tp2').status).toBe('improved');
    expect(r.regressed).toBe(1);
    // A rise is no regression when higher is better.
    expect(compareFigures(run(fig('x', 100, 'higher')), run(fig('x', 1000, 'higher'))).regressed).toBe(0);
  });

  it('a negative baseline median is compared by its magnitude', () => {
    const r = compareFigures(run(fig('rss', -4)), run(fig('rss', -2)));
    expect(row(r, 'rss').change).toBeCloseTo(0.5);
    expect(row(r, 'rss').status).toBe('regressed');
  });

  it('maxRegression option, file default and per-figure tolerances', () => {
    const base: BaselineFile = {
      ...run(fig('a', 100), fig('b', 100), fig('c', 100)),
      maxRegression: 0.1,
      tolerances: { b: 0.5 },
    };
    const cur = run(fig('a', 120), fig('b', 140), fig('c', 105));
    const fromFile = compareFigures(base, cur);
    expect(row(fromFile, 'a').status).toBe('regressed');
    expect(row(fromFile, 'a').tolerance).toBe(0.1);
    expect(row(fromFile, 'b').status).toBe('ok');
    expect(row(fromFile, 'b').tolerance).toBe(0.5);
    expect(row(fromFile, 'c').status).toBe('ok');

    // The option overrides the file's default, not its per-figure tolerances.
    const loose = compareFigures(base, cur, { maxRegression: 0.3 });
    expect(row(loose, 'a').status).toBe('ok');
    expect(row(loose, 'b').tolerance).toBe(0.5);
    const strict = compareFigures(base, cur, { maxRegression: 0.01, perFigure: { b: 0.3 } });
    expect(row(strict, 'b').status).toBe('regressed');
    expect(row(strict, 'c').status).toBe('regressed');
    expect(strict.regressed).toBe(3);

    // Default 25 % when neither the file nor the options give one.
    expect(row(compareFigures(run(fig('a', 100)), run(fig('a', 125.1))), 'a').status).toBe('regressed');
    expect(row(compareFigures(run(fig('a', 100)), run(fig('a', 124.9))), 'a').status).toBe('ok');
  });

  it('lists figures missing on either side without failing on them', () => {
    const r = compareFigures(run(fig('gone', 1), fig('kept', 1)), run(fig('kept', 1), fig('added', 5)));
    expect(row(r, 'gone')).toMatchObject({ status: 'missing', current: null, change: null });
    expect(row(r, 'added')).toMatchObject({ status: 'new', baseline: null, current: 5, change: null });
    expect(row(r, 'kept').status).toBe('ok');
    expect(r.regressed).toBe(0);
  });

  it('ignores figures whose baseline median is 0 or not finite', () => {
    const base = run(fig('zero', 0), fig('null', null), fig('nan', NaN), fig('inf', Infinity));
    const cur = run(fig('zero', 50), fig('null', 50), fig('nan', 50), fig('inf', 50));
    const r = compareFigures(base, cur);
    for (const name of ['zero', 'null', 'nan', 'inf']) {
      expect(row(r, name).status).toBe('ignored');
      expect(row(r, name).change).toBeNull();
    }
    expect(r.regressed).toBe(0);
  });

  it('tells apart figures that share a name by their unit', () => {
    const base = run(fig('baseline: raw', 1, 'lower', 'ms'), fig('baseline: raw', 40, 'higher', 'MB/s'));
    const cur = run(fig('baseline: raw', 1, 'lower', 'ms'), fig('baseline: raw', 20, 'higher', 'MB/s'));
    const r = compareFigures(base, cur);
    expect(row(r, 'baseline: raw [ms]').status).toBe('ok');
    expect(row(r, 'baseline: raw [MB/s]').status).toBe('regressed');
  });
});

describe('formatComparison', () => {
  it('names the regressed figure and its change', () => {
    const r = compareFigures(
      run(fig('session open', 10), fig('steady', 10)),
      run(fig('session open', 20), fig('steady', 10)),
    );
    const text = formatComparison(r);
    expect(text).toMatch(/session open.*REGRESSED/);
    expect(text).toContain('1 figure(s) regressed');
    expect(text).toMatch(/session open: 10 -> 20 ms \(\+100\.0 %/);
    expect(text).not.toMatch(/steady.*REGRESSED/);
  });

  it('says so when nothing regressed', () => {
    const text = formatComparison(compareFigures(run(fig('a', 10)), run(fig('a', 10))));
    expect(text).toContain('no figure regressed');
    expect(text).not.toContain('REGRESSED');
  });
});

describe('baseline files', () => {
  it('makeBaseline loosens ms figures about p99 or lag only', () => {
    const b = makeBaseline(
      run(
        fig('echo overhead (p99 difference)', 0.2),
        fig('page event-loop lag, busy', 1),
        fig('event-loop lag max, idle', 28),
        fig('keystroke echo round trip', 0.5),
        fig('ratio busy / idle, p99', 1.5, 'lower', 'x'),
      ),
    );
    expect(b.maxRegression).toBe(0.25);
    expect(b.tolerances).toEqual({
      'echo overhead (p99 difference)': 0.6,
      'page event-loop lag, busy': 0.6,
      'event-loop lag max, idle': 0.6,
    });
    expect(b.figures).toHaveLength(5);
  });

  it('loadBaseline reads a saved baseline and rejects a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(makeBaseline(run(fig('a', 1)), 0.3)));
    expect(loadBaseline(good)).toMatchObject({ maxRegression: 0.3, figures: [{ name: 'a' }] });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ nope: [] }));
    expect(() => loadBaseline(bad)).toThrow(/figures/);
    writeFileSync(bad, JSON.stringify({ figures: [], tolerances: { a: -1 } }));
    expect(() => loadBaseline(bad)).toThrow(/tolerance/);
    expect(() => loadBaseline(join(dir, 'absent.json'))).toThrow(/cannot read/);
  });

  it('compareWithBaseline reports a failure line naming each regression', () => {
    const base = makeBaseline(run(fig('open', 10), fig('tp', 100, 'higher', 'MB/s')));
    const bad = compareWithBaseline(base, run(fig('open', 10), fig('tp', 50, 'higher', 'MB/s')), 'b.json');
    expect(bad.failure).toMatch(/1 figure\(s\) regressed against b\.json: tp -50\.0 %/);
    const good = compareWithBaseline(
      base,
      run(fig('open', 10), fig('tp', 50, 'higher', 'MB/s')),
      'b.json',
      0.6,
    );
    expect(good.failure).toBeUndefined();
    expect(good.text).toContain('no figure regressed');
  });

  it('parseRatio accepts ratios and percentages', () => {
    expect(parseRatio('0.3')).toBe(0.3);
    expect(parseRatio('30%')).toBeCloseTo(0.3);
    expect(() => parseRatio('abc')).toThrow(/ratio/);
    expect(() => parseRatio('-1')).toThrow();
  });
});

describe('ratios to the baseline', () => {
  it("gives each figure this run / baseline, in the run's order, whatever the direction", () => {
    const base = run(fig('open', 20), fig('tp', 100, 'higher', 'MB/s'), fig('zero', 0), fig('gone', 5));
    const cur = run(fig('tp', 50, 'higher', 'MB/s'), fig('new one', 3), fig('open', 25), fig('zero', 4));
    const cmp = compareFigures(base, cur);
    expect(row(cmp, 'open').ratio).toBeCloseTo(1.25);
    expect(row(cmp, 'tp').ratio).toBeCloseTo(0.5);
    expect(row(cmp, 'gone').ratio).toBeNull();
    expect(ratiosFor(cur.figures, cmp)).toEqual([0.5, null, 1.25, null]);
  });

  it('matches repeated names by unit and occurrence, as the comparison does', () => {
    const figures = [
      fig('baseline', 1),
      fig('baseline', 2, 'higher', 'MB/s'),
      fig('baseline', 3),
      fig('x', 1),
    ];
    expect(figureKeys(figures)).toEqual(['baseline [ms]', 'baseline [MB/s]', 'baseline [ms] #2', 'x']);
    const cmp = compareFigures(
      run(...figures),
      run(fig('baseline', 2), fig('baseline', 4, 'higher', 'MB/s'), fig('baseline', 3), fig('x', 1)),
    );
    expect(ratiosFor(figures, cmp)).toEqual([2, 2, 1, 1]);
  });

  it('gives no ratio against a negative baseline (it would read backwards)', () => {
    const cmp = compareFigures(
      run(fig('rss delta', -4), fig('to zero', 5)),
      run(fig('rss delta', 80), fig('to zero', 0)),
    );
    expect(row(cmp, 'rss delta').ratio).toBeNull();
    expect(row(cmp, 'rss delta').status).toBe('regressed');
    expect(row(cmp, 'to zero').ratio).toBe(0);
  });

  it('an implicit comparison prints the verdict without the table', () => {
    const base = makeBaseline(run(fig('open', 10)));
    const short = compareWithBaseline(base, run(fig('open', 30)), 'b.json', undefined, true);
    expect(short.text).toContain('open: 10 -> 30 ms');
    expect(short.text).not.toMatch(/figure\s+unit\s+better/);
    expect(short.failure).toMatch(/regressed/);
    expect(compareWithBaseline(base, run(fig('open', 30)), 'b.json').text).toMatch(/figure\s+unit\s+better/);
  });

  it('formats ratios for the table and shows them in the comparison', () => {
    expect(formatRatio(1.04567)).toBe('1.05x');
    expect(formatRatio(12.34)).toBe('12.3x');
    expect(formatRatio(null)).toBe('-');
    expect(formatRatio(NaN)).toBe('-');
    const text = formatComparison(compareFigures(run(fig('open', 10)), run(fig('open', 15))));
    expect(text).toMatch(/open\s+ms\s+lower\s+10\s+15\s+1\.50x\s+\+50\.0 %/);
  });
});

describe('choosing the baseline', () => {
  const exists = (present: boolean) => () => present;
  it('compares with the default baseline when it exists, without failing the run', () => {
    expect(chooseBaseline(undefined, 'bench/baseline.json', exists(true))).toEqual({
      file: 'bench/baseline.json',
      explicit: false,
    });
    expect(chooseBaseline(undefined, 'bench/baseline.json', exists(false))).toBeUndefined();
  });

  it('--compare alone means the default file; with a file, that file; --no-compare none', () => {
    expect(chooseBaseline(true, 'b.json', exists(false))).toEqual({ file: 'b.json', explicit: true });
    expect(chooseBaseline('', 'b.json', exists(false))).toEqual({ file: 'b.json', explicit: true });
    expect(chooseBaseline('old.json', 'b.json', exists(true))).toEqual({ file: 'old.json', explicit: true });
    expect(chooseBaseline(false, 'b.json', exists(true))).toBeUndefined();
  });

  it('keeps a flag after a bare --compare from being taken as its file', () => {
    expect(normalizeCompareArgv(['--compare', '--quick'])).toEqual(['--compare=', '--quick']);
    expect(normalizeCompareArgv(['--quick', '--compare'])).toEqual(['--quick', '--compare=']);
    expect(normalizeCompareArgv(['--compare', 'x.json', '--quick'])).toEqual([
      '--compare',
      'x.json',
      '--quick',
    ]);
    expect(normalizeCompareArgv(['--compare=y.json'])).toEqual(['--compare=y.json']);
  });

  it("makeBaseline leaves out the run's own comparison", () => {
    const result = {
      comparedWith: 'bench/baseline.json',
      machine: { versions: { app: '0.1.0' } },
      figures: [{ ...fig('open', 10), ratio: 1.2 }],
    };
    const b = makeBaseline(result);
    expect(b).not.toHaveProperty('comparedWith');
    expect(b.figures[0]).not.toHaveProperty('ratio');
    expect(b.figures[0]).toMatchObject({ name: 'open', median: 10 });
    expect(b.machine).toEqual({ versions: { app: '0.1.0' } });
  });
});
