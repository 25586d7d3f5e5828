import { describe, expect, it } from 'vitest';
import {
  formatSelfTimes,
  selfTimes,
  totalTimes,
  type CpuProfile,
} from '../../bench/lib/cpuprofile-summary.js';

// root -> main -> (hot, cold); each sample's time is the delta that follows it.
const profile: CpuProfile = {
  startTime: 0,
  endTime: 100,
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
    { id: 2, callFrame: { functionName: 'main', url: 'file:///a/app.ts', lineNumber: 9 }, children: [3, 4] },
    { id: 3, callFrame: { functionName: 'hot', url: 'file:///a/node_modules/ws/x.js', lineNumber: 0 } },
    { id: 4, callFrame: { functionName: '', url: 'file:///a/app.ts', lineNumber: 20 } },
  ],
  samples: [3, 3, 4, 2, 3],
  timeDeltas: [0, 10_000, 20_000, 5_000, 5_000],
};

describe('cpuprofile summary', () => {
  it('sums self time per function, heaviest first, with file and line', () => {
    const s = selfTimes(profile);
    expect(s.totalMs).toBe(40);
    // The last sample has no following delta: it counts nothing.
    expect(s.rows[0]).toEqual({ fn: 'hot (ws/x.js:1)', selfMs: 30, percent: 75 });
    expect(s.rows.slice(1).map((r) => [r.fn, r.selfMs])).toEqual(
      expect.arrayContaining([
        ['(anonymous) (app.ts:21)', 5],
        ['main (app.ts:10)', 5],
      ]),
    );
    expect(s.rows).toHaveLength(3);
  });

  it('counts a sample once for every function on its stack for total time', () => {
    const t = totalTimes(profile);
    const byFn = Object.fromEntries(t.rows.map((r) => [r.fn, r.selfMs]));
    expect(byFn['main (app.ts:10)']).toBe(40);
    expect(byFn['hot (ws/x.js:1)']).toBe(30);
    expect(byFn['(anonymous) (app.ts:21)']).toBe(5);
    expect(byFn['(root)']).toBe(40);
  });

  it('prints the top rows only', () => {
    const text = formatSelfTimes(selfTimes(profile), 1);
    expect(text).toContain('hot (ws/x.js:1)');
    expect(text).not.toContain('main (app.ts:10)');
  });
});
