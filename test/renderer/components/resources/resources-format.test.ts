import { describe, expect, it } from 'vitest';
import {
  clockTime,
  cpuGauge,
  formatPercent,
  formatSeconds,
  governorActions,
  levelLabel,
  levelTone,
  lowPowerSummary,
  memoryGauge,
} from '../../../../renderer/components/resources/resources-format.js';
import { governorAt, governorState } from '../../helpers/resources-fixtures.js';

const MB = 1024 * 1024;

describe('resources-format', () => {
  it('names and colours the levels: green, yellow, red', () => {
    expect(['normal', 'warn', 'slow-ui', 'trim', 'refuse'].map((l) => levelLabel(l as never))).toEqual([
      'Normal',
      'Warning',
      'Slowing UI',
      'Trimming',
      'Refusing sessions',
    ]);
    expect(levelTone('normal')).toBe('ok');
    expect(levelTone('slow-ui')).toBe('warn');
    expect(levelTone('trim')).toBe('bad');
    expect(levelTone('refuse')).toBe('bad');
  });

  it('says what the governor does, level by level (each includes the ones before)', () => {
    expect(governorActions(governorState())).toEqual([]);
    expect(governorActions(governorAt('warn'))).toEqual([
      'Warns that a limit is near or passed',
      'Terminals draw without WebGL; cursor blink is off',
    ]);
    expect(governorActions(governorAt('trim'))).toContain(
      'Background terminals keep 500 lines of scrollback',
    );
    expect(governorActions(governorAt('trim'))).not.toContain(
      'New sessions are refused; open sessions keep running',
    );
    expect(governorActions(governorAt('refuse')).at(-1)).toBe(
      'New sessions are refused; open sessions keep running',
    );
    // Low power alone (no limit hit) slows redraws too.
    expect(
      governorActions(
        governorState({ ui: { updateIntervalMs: 2500, backgroundScrollback: null, economy: true } }),
      ),
    ).toEqual(['Charts and figures redraw every 2.5 s', 'Terminals draw without WebGL; cursor blink is off']);
  });

  it('summarises low-power mode and its reasons', () => {
    expect(lowPowerSummary({ active: false, mode: 'auto', reasons: [] })).toBe(
      'Low power is off (automatic)',
    );
    expect(lowPowerSummary({ active: false, mode: 'off', reasons: [] })).toBe('Low power is off');
    expect(lowPowerSummary({ active: true, mode: 'auto', reasons: ['battery', 'limits'] })).toBe(
      'Low power: running on battery; a resource limit was reached',
    );
  });

  it('measures use against limits: fill capped at full, tone by how close', () => {
    expect(memoryGauge(390 * MB, 1536 * MB)).toMatchObject({ tone: 'ok', text: '390 MiB of 1.5 GiB' });
    expect(memoryGauge(1300 * MB, 1536 * MB).tone).toBe('warn');
    const over = memoryGauge(390 * MB, 1 * MB);
    expect(over).toMatchObject({ fill: 1, tone: 'bad' });
    expect(over.ratio).toBeGreaterThan(300);
    expect(memoryGauge(390 * MB, null)).toEqual({
      fill: 0,
      ratio: null,
      tone: 'info',
      text: '390 MiB · no limit',
    });
    expect(cpuGauge(12.5, 50)).toMatchObject({ fill: 0.25, tone: 'ok', text: '13% of 50%' });
    expect(cpuGauge(3, null).text).toBe('3% · no limit');
  });

  it('formats percents, seconds and clock times', () => {
    expect(formatPercent(0.25)).toBe('0.3%');
    expect(formatPercent(9.94)).toBe('9.9%');
    expect(formatPercent(57.6)).toBe('58%');
    expect(formatPercent(Number.NaN)).toBe('–');
    expect(formatSeconds(1000)).toBe('1 s');
    expect(formatSeconds(15_000)).toBe('15 s');
    expect(clockTime('not a date')).toBe('');
    expect(clockTime(new Date(2026, 10, 25, 9, 5, 7).toISOString())).toBe('09:05:07');
  });
});
