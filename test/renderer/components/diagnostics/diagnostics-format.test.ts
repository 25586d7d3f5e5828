import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  latencyBar,
  overallTone,
  rankRegions,
  statusTone,
  summaryText,
  withCode,
} from '../../../../renderer/components/diagnostics/diagnostics-format.js';
import type { RegionLatency } from '../../../../preload/api.js';

const region = (name: string, latencyMs: number | null): RegionLatency => ({
  region: name,
  endpoint: `https://ssm.${name}.amazonaws.com`,
  ok: latencyMs !== null,
  latencyMs,
  error: latencyMs === null ? 'timed out' : null,
});

describe('diagnostics-format', () => {
  it('sums up a report in words and a tone', () => {
    expect(summaryText({ pass: 8, warn: 0, fail: 0, skip: 0 })).toBe('All 8 checks passed');
    expect(summaryText({ pass: 5, warn: 1, fail: 2, skip: 1 })).toBe(
      '2 failed, 1 warning, 5 passed, 1 skipped',
    );
    expect(summaryText({ pass: 0, warn: 0, fail: 0, skip: 0 })).toBe('No checks ran');
    expect(overallTone({ pass: 5, warn: 1, fail: 0, skip: 0 })).toBe('warn');
    expect(overallTone({ pass: 5, warn: 1, fail: 1, skip: 0 })).toBe('bad');
    expect(statusTone('pending')).toBe('info');
    expect(statusTone('skip')).toBe('muted');
  });

  it('ranks regions fastest first, unreachable last, with bars against the slowest', () => {
    const regions = [region('eu-west-1', 80), region('ap-south-1', null), region('us-east-1', 20)];
    expect(rankRegions(regions).map((r) => r.region)).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
    expect(latencyBar(regions[0]!, regions)).toBe(100);
    expect(latencyBar(regions[2]!, regions)).toBe(25);
    expect(latencyBar(regions[1]!, regions)).toBe(0);
  });

  it('formats durations and splits `commands` out of text', () => {
    expect(formatDuration(420)).toBe('420 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(25_000)).toBe('25 s');
    expect(withCode('run `aws sso login` then `retry`.')).toEqual([
      { text: 'run ', code: false },
      { text: 'aws sso login', code: true },
      { text: ' then ', code: false },
      { text: 'retry', code: true },
      { text: '.', code: false },
    ]);
    expect(withCode('plain')).toEqual([{ text: 'plain', code: false }]);
  });
});
