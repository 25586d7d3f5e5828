import { describe, expect, it } from 'vitest';
import { formatTraceSummary, summarizeTrace, type TraceEvent } from '../../bench/lib/trace-summary.js';

const TASK = 'ThreadControllerImpl::RunTask';
const page = { pid: 7, tid: 7 };
const other = { pid: 9, tid: 9 };

/** A complete event in ms (the trace is in µs). */
function x(name: string, atMs: number, ms: number, where = page): TraceEvent {
  return { name, ph: 'X', ...where, ts: atMs * 1000, dur: ms * 1000 };
}

const events: TraceEvent[] = [
  { name: 'thread_name', ph: 'M', ...page, ts: 0, args: { name: 'CrRendererMain' } },
  { name: 'thread_name', ph: 'M', ...other, ts: 0, args: { name: 'CrRendererMain' } },
  // Another renderer with fewer events: not the page under test.
  x(TASK, 0, 500, other),
  // frame, message, timer, frame, idle, small task
  x(TASK, 0, 30),
  x('FireAnimationFrame', 1, 25),
  x('Commit', 26, 4),
  x(TASK, 32, 2),
  x('Receive mojo message', 32, 2),
  x(TASK, 35, 10),
  x('TimerFire', 35, 10),
  x(TASK, 50, 30),
  x('FireAnimationFrame', 51, 28),
  x(TASK, 95, 5),
];

describe('trace summary', () => {
  it('finds the page thread, its busy time, work per kind and the time between frames', () => {
    const s = summarizeTrace(events, 3);
    expect(s.thread).toBe('CrRendererMain 7:7');
    expect(s.spanMs).toBe(100);
    expect(s.busyMs).toBe(77);
    const byName = Object.fromEntries(s.kinds.map((k) => [k.name, [k.count, k.ms]]));
    expect(byName.FireAnimationFrame).toEqual([2, 53]);
    expect(byName.TimerFire).toEqual([1, 10]);
    expect(byName['Receive mojo message']).toEqual([1, 2]);
    expect(s.frames).toEqual({ count: 2, meanMs: 30, meanGapMs: 20 });
    // The three longest tasks, in time order, with what they held.
    expect(s.longest.map((t) => [t.atMs, t.ms])).toEqual([
      [0, 30],
      [35, 10],
      [50, 30],
    ]);
    expect(s.longest[0]!.inside).toEqual(['FireAnimationFrame 25.0', 'Commit 4.0']);
    const text = formatTraceSummary(s);
    expect(text).toContain('main thread busy 77.0 ms (77.0 %)');
    expect(text).toContain('20.0 ms between them');
  });

  it('says what is missing from a trace without a page thread', () => {
    expect(() => summarizeTrace([x(TASK, 0, 1, other)])).toThrow(/no renderer main thread/);
  });
});
