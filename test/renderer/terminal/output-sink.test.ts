import { describe, expect, it } from 'vitest';
import {
  ACK_THRESHOLD_BYTES,
  OutputSink,
  utf8Tail,
  type OutputBatch,
} from '../../../renderer/terminal/output-sink.js';

/** A terminal whose parsing the test drives, and a manual timer. */
function harness(options: { buffering?: boolean; startOffset?: number } = {}) {
  const written: string[] = [];
  const callbacks: Array<() => void> = [];
  const acks: number[] = [];
  let timer: (() => void) | undefined;
  let timersSet = 0;
  const sink = new OutputSink({
    paceMs: 0, // one timer here (the acknowledgement's); pacing has its own harness below
    ...options,
    write: (data, parsed) => {
      written.push(data);
      callbacks.push(parsed);
    },
    ack: (bytes) => acks.push(bytes),
    setTimer: (fn) => {
      timersSet++;
      timer = fn;
      return fn;
    },
    clearTimer: () => {
      timer = undefined;
    },
  });
  return {
    sink,
    written,
    acks,
    timersSet: () => timersSet,
    parseAll: () => {
      while (callbacks.length > 0) callbacks.shift()!();
    },
    parse: (n: number) => {
      for (let i = 0; i < n && callbacks.length > 0; i++) callbacks.shift()!();
    },
    fireTimer: () => {
      const fn = timer;
      timer = undefined;
      fn?.();
    },
  };
}

function batches(sizes: number[], start = 0): OutputBatch[] {
  let offset = start;
  return sizes.map((bytes, i) => {
    const b = { offset, bytes, data: `[${i}:${'x'.repeat(Math.max(0, bytes - 4))}]`.slice(0, bytes) };
    offset += bytes;
    return b;
  });
}

describe('OutputSink: write and acknowledge', () => {
  it('acknowledges only what xterm has parsed', () => {
    const h = harness();
    for (const b of batches([100, 200, 300])) h.sink.push(b);
    expect(h.written).toHaveLength(3);
    h.fireTimer();
    expect(h.acks).toEqual([]); // nothing parsed yet
    h.parse(2);
    h.fireTimer();
    expect(h.acks).toEqual([300]);
    h.parse(1);
    h.fireTimer();
    expect(h.acks).toEqual([300, 300]);
  });

  it('coalesces: one ack per timer tick, whatever the number of batches', () => {
    const h = harness();
    for (const b of batches(new Array(50).fill(100))) h.sink.push(b);
    h.parseAll();
    expect(h.acks).toEqual([]);
    expect(h.timersSet()).toBe(1);
    h.fireTimer();
    expect(h.acks).toEqual([5000]);
  });

  it('acknowledges at once when 64 KiB are waiting', () => {
    const h = harness();
    const big = ACK_THRESHOLD_BYTES / 4;
    for (const b of batches([big, big, big, big, 10])) h.sink.push(b);
    h.parseAll();
    expect(h.acks).toEqual([ACK_THRESHOLD_BYTES]);
    h.fireTimer();
    expect(h.acks).toEqual([ACK_THRESHOLD_BYTES, 10]);
    expect(h.sink.stats.ackedBytes).toBe(ACK_THRESHOLD_BYTES + 10);
  });

  it('a batch carrying only part of a character (empty data) is acknowledged without a write', () => {
    const h = harness();
    h.sink.push({ offset: 0, bytes: 5, data: 'hello' });
    h.sink.push({ offset: 5, bytes: 2, data: '' });
    h.sink.push({ offset: 7, bytes: 4, data: '€x' });
    expect(h.written).toEqual(['hello', '€x']);
    h.parseAll();
    h.fireTimer();
    expect(h.acks).toEqual([11]);
  });

  it('never drops output: every byte written is acknowledged exactly once', () => {
    const h = harness();
    let total = 0;
    let text = '';
    for (const b of batches(Array.from({ length: 500 }, (_, i) => 1 + ((i * 7919) % 4000)))) {
      h.sink.push(b);
      total += b.bytes;
      text += b.data;
      if (b.offset % 3 === 0) h.parse(1);
    }
    h.parseAll();
    h.fireTimer();
    expect(h.acks.reduce((a, b) => a + b, 0)).toBe(total);
    // Batches that waited are joined into fewer writes; the text is the same, in order.
    expect(h.written.join('')).toBe(text);
  });

  it('dispose(true) sends what is pending; later callbacks are ignored', () => {
    const h = harness();
    for (const b of batches([10, 20])) h.sink.push(b);
    h.parse(1);
    h.sink.dispose(true);
    expect(h.acks).toEqual([10]);
    h.parseAll();
    h.fireTimer();
    expect(h.acks).toEqual([10]);
    h.sink.push({ offset: 30, bytes: 5, data: 'later' });
    expect(h.written).toHaveLength(2);
  });
});

describe('OutputSink: attaching after a replay', () => {
  it('holds events until the replay is written, then applies only those ending after it', () => {
    const h = harness({ buffering: true });
    const all = batches([100, 100, 100, 100]); // 0-100, 100-200, 200-300, 300-400
    h.sink.push(all[0]!);
    h.sink.push(all[1]!);
    h.sink.push(all[2]!);
    expect(h.written).toEqual([]);
    // The replay covered the first two batches (output up to offset 200).
    h.sink.startLive(200);
    h.sink.push(all[3]!);
    expect(h.written).toEqual([all[2]!.data, all[3]!.data]);
    expect(h.sink.stats.skipped).toBe(2);
    h.parseAll();
    h.fireTimer();
    // The replay acknowledged everything up to 200; only what came after is acknowledged.
    expect(h.acks).toEqual([200]);
    expect(h.sink.offset).toBe(400);
  });

  it('skips events that end exactly at the replay end; applies one that starts there', () => {
    const h = harness({ buffering: true });
    h.sink.push({ offset: 0, bytes: 50, data: 'a'.repeat(50) });
    h.sink.startLive(50);
    h.sink.push({ offset: 50, bytes: 10, data: 'b'.repeat(10) });
    expect(h.written).toEqual(['b'.repeat(10)]);
  });

  it('events that arrive late (after going live) but are older than the replay are skipped', () => {
    const h = harness({ buffering: true });
    h.sink.startLive(300);
    for (const b of batches([100, 100, 100, 50])) h.sink.push(b);
    expect(h.written).toEqual([batches([100, 100, 100, 50])[3]!.data]);
  });

  it('a batch straddling the replay end is cut to its new bytes (and counted)', () => {
    const h = harness({ buffering: true });
    h.sink.push({ offset: 0, bytes: 10, data: 'abcdefghij' });
    h.sink.startLive(6);
    expect(h.written).toEqual(['ghij']);
    expect(h.sink.stats.straddled).toBe(1);
    h.parseAll();
    h.fireTimer();
    expect(h.acks).toEqual([4]);
  });

  it('a new session starts live from 0', () => {
    const h = harness();
    h.sink.push({ offset: 0, bytes: 3, data: 'hi\n' });
    expect(h.written).toEqual(['hi\n']);
  });
});

describe('utf8Tail', () => {
  it('returns the last bytes from a character boundary', () => {
    expect(utf8Tail('abc€', 3)).toBe('€');
    expect(utf8Tail('abc€', 4)).toBe('c€');
    expect(utf8Tail('abc€', 2)).toBe(''); // inside the euro sign: nothing whole
    expect(utf8Tail('abc', 10)).toBe('abc');
  });
});

/** A sink with several named timers and a terminal whose parsing the test drives. */
function floodHarness(options: { maxUnparsedBytes?: number } = {}) {
  const written: Array<{ data: string; parsed: () => void }> = [];
  const acks: number[] = [];
  const timers = new Map<number, () => void>();
  let nextTimer = 1;
  const sink = new OutputSink({
    maxUnparsedBytes: options.maxUnparsedBytes ?? 1000,
    interruptBacklogBytes: 500,
    interruptTailBytes: 300,
    write: (data, parsed) => written.push({ data, parsed }),
    ack: (bytes) => acks.push(bytes),
    setTimer: (fn) => {
      timers.set(nextTimer, fn);
      return nextTimer++;
    },
    clearTimer: (h) => void timers.delete(h as number),
  });
  let parsedUpTo = 0;
  /** What pushLines pushed so far: numbered lines, and bytes (the next batch's offset). */
  const pushed = { lines: 0, bytes: 0 };
  return {
    sink,
    written,
    acks,
    pushed,
    /** Push `batches` batches of numbered lines (10 by default: 100 bytes), after those before. */
    pushLines: (batches: number, linesEach = 10) => {
      for (let i = 0; i < batches; i++) {
        const b = lines(pushed.lines, linesEach, pushed.bytes);
        pushed.lines += linesEach;
        pushed.bytes += b.bytes;
        sink.push(b);
      }
    },
    acked: () => acks.reduce((a, b) => a + b, 0),
    text: () => written.map((w) => w.data).join(''),
    /** Parse everything written so far (and what that lets through). */
    parseAll: () => {
      while (parsedUpTo < written.length) written[parsedUpTo++]!.parsed();
    },
    fireTimers: () => {
      const fns = [...timers.values()];
      timers.clear();
      for (const fn of fns) fn();
    },
  };
}

function lines(from: number, count: number, offset: number): OutputBatch {
  let data = '';
  for (let i = from; i < from + count; i++) data += `line ${String(i).padStart(4, '0')}\n`;
  return { offset, bytes: data.length, data };
}

describe('OutputSink: bounded hand-over to xterm', () => {
  it('hands xterm at most maxUnparsedBytes; the rest waits here, in order, and nothing is lost', () => {
    const h = floodHarness();
    h.pushLines(20); // 100 bytes each
    expect(h.written).toHaveLength(10);
    expect(h.sink.behindBytes).toBe(2000);
    h.parseAll();
    expect(h.written.length).toBe(20);
    expect(h.text()).toBe(lines(0, 200, 0).data);
    h.fireTimers();
    expect(h.acked()).toBe(2000);
    expect(h.sink.behindBytes).toBe(0);
  });
});

describe('OutputSink: Ctrl-C while behind a flood', () => {
  it('skips what was not drawn (acknowledged at once), then draws a notice and the latest lines when output stops', () => {
    const h = floodHarness();
    h.pushLines(30); // 3000 bytes: 1000 in xterm, 2000 waiting
    expect(h.sink.interrupt()).toBe(true);
    expect(h.sink.isSkipping).toBe(true);
    // The 2000 waiting bytes are acknowledged without being drawn.
    h.fireTimers(); // (the quiet timer fires too: nothing more came)
    expect(h.sink.isSkipping).toBe(false);
    expect(h.acked()).toBe(2000);
    const drawn = h.text();
    expect(drawn.startsWith(lines(0, 100, 0).data)).toBe(true); // what xterm already had
    expect(drawn).toContain('of output not shown after Ctrl-C]');
    expect(drawn.endsWith('line 0299\n')).toBe(true); // the latest output is drawn
    expect(drawn).not.toContain('line 0150\n'); // the middle was skipped
    expect(h.sink.stats.interrupts).toBe(1);
    expect(h.sink.stats.interruptSkippedBytes).toBeGreaterThan(1000);
    // And then it draws everything again, acknowledging once parsed.
    h.pushLines(1, 1);
    h.parseAll();
    expect(h.text().endsWith('line 0300\n')).toBe(true);
    h.fireTimers();
    expect(h.acked()).toBe(h.pushed.bytes);
  });

  it('while skipping, output that keeps coming is acknowledged at once (the main side reads on)', () => {
    const h = floodHarness();
    h.pushLines(20);
    h.sink.interrupt();
    const before = h.written.length;
    h.pushLines(100);
    expect(h.written.length).toBe(before); // nothing drawn meanwhile
    expect(h.sink.pendingAck + h.acked()).toBe(h.pushed.bytes - 1000); // all but what xterm holds
  });

  it('does nothing when the terminal is not behind (a Ctrl-C at a quiet prompt)', () => {
    const h = floodHarness();
    h.sink.push({ offset: 0, bytes: 5, data: '^C\r\n$' });
    expect(h.sink.interrupt()).toBe(false);
    h.sink.push({ offset: 5, bytes: 1, data: ' ' });
    expect(h.text()).toBe('^C\r\n$ ');
  });

  it('dispose while skipping cancels its timers', () => {
    const h = floodHarness();
    h.pushLines(20);
    h.sink.interrupt();
    h.sink.dispose();
    const count = h.written.length;
    h.fireTimers();
    expect(h.written.length).toBe(count);
  });
});

describe('OutputSink: drawAll', () => {
  it('hands xterm what waits, whatever the bound, and ends a skip with its tail', () => {
    const h = floodHarness();
    h.pushLines(20);
    h.sink.drawAll();
    expect(h.text()).toBe(lines(0, 200, 0).data);
    h.pushLines(20);
    expect(h.sink.interrupt()).toBe(true);
    h.sink.drawAll();
    expect(h.sink.isSkipping).toBe(false);
    expect(h.text().endsWith('line 0399\n')).toBe(true);
  });
});

/** A sink with a clock and timers the test moves, pacing above 1000 bytes every 50 ms. */
function pacedHarness() {
  const written: Array<{ data: string; parsed: () => void }> = [];
  const acks: number[] = [];
  const timers = new Map<number, { fn: () => void; at: number }>();
  let nextTimer = 1;
  let clock = 0;
  let parsedUpTo = 0;
  const sink = new OutputSink({
    paceMs: 50,
    paceAboveBytes: 1000,
    maxUnparsedBytes: 100_000,
    interruptBacklogBytes: 500,
    interruptTailBytes: 300,
    now: () => clock,
    write: (data, parsed) => written.push({ data, parsed }),
    ack: (bytes) => acks.push(bytes),
    setTimer: (fn, ms) => {
      timers.set(nextTimer, { fn, at: clock + ms });
      return nextTimer++;
    },
    clearTimer: (h) => void timers.delete(h as number),
  });
  let offset = 0;
  return {
    sink,
    written,
    timers,
    push: (data: string) => {
      sink.push({ offset, bytes: data.length, data });
      offset += data.length;
    },
    parseAll: () => {
      while (parsedUpTo < written.length) written[parsedUpTo++]!.parsed();
    },
    /** Move the clock, firing the timers that are due (in order). */
    advance: (ms: number) => {
      clock += ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= clock)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        due[1].fn();
      }
    },
    acked: () => acks.reduce((a, b) => a + b, 0),
    sent: () => offset,
    text: () => written.map((w) => w.data).join(''),
  };
}

describe('OutputSink: paced hand-over during a flood', () => {
  it('small output (echoes, prompts, screen updates) goes to xterm at once, batch by batch', () => {
    const h = pacedHarness();
    for (let i = 0; i < 20; i++) {
      h.push(`k${i}`);
      h.advance(5);
    }
    expect(h.written).toHaveLength(20);
    expect(h.timers.size).toBeLessThanOrEqual(1); // at most the acknowledgement timer
    expect(h.sink.stats.pacedWrites).toBe(0);
  });

  it('after a big hand-over, what arrives within paceMs waits and goes in one write, in order', () => {
    const h = pacedHarness();
    h.push('A'.repeat(2000)); // big: handed at once, pacing starts
    expect(h.written).toHaveLength(1);
    h.advance(10);
    for (const c of 'BCDEF') h.push(c.repeat(600));
    h.parseAll();
    expect(h.written).toHaveLength(1); // held, although xterm parsed everything it had
    h.advance(39);
    expect(h.written).toHaveLength(1);
    h.advance(1); // 50 ms after the big hand-over
    expect(h.written).toHaveLength(2);
    expect(h.written[1]!.data).toBe(
      'BCDEF'
        .split('')
        .map((c) => c.repeat(600))
        .join(''),
    );
    expect(h.sink.stats.pacedWrites).toBe(1);
    // Acknowledged once parsed, every byte once.
    h.parseAll();
    h.advance(100);
    expect(h.acked()).toBe(h.sent());
    expect(h.text()).toBe(
      'A'.repeat(2000) +
        'BCDEF'
          .split('')
          .map((c) => c.repeat(600))
          .join(''),
    );
  });

  it('a flood is drawn at most once per paceMs; when it stops, output goes at once again', () => {
    const h = pacedHarness();
    for (let ms = 0; ms < 500; ms += 5) {
      h.push('x'.repeat(400)); // 80 KB/s in 400-byte batches
      h.parseAll();
      h.advance(5);
    }
    // 100 batches became about 500 / 50 writes (plus the first ones, before the pacing started).
    expect(h.written.length).toBeLessThanOrEqual(14);
    expect(h.sink.stats.pacedWrites).toBeGreaterThanOrEqual(8);
    h.advance(100); // quiet
    h.parseAll();
    h.advance(100);
    expect(h.acked()).toBe(h.sent());
    const writes = h.written.length;
    h.push('$ '); // the prompt, well after the flood: at once
    expect(h.written).toHaveLength(writes + 1);
    h.push('l'); // and the echo that follows it
    expect(h.written).toHaveLength(writes + 2);
  });

  it('Ctrl-C while output is held skips it; drawAll and dispose end the wait', () => {
    const h = pacedHarness();
    h.push('A'.repeat(2000));
    h.advance(5);
    h.push('B'.repeat(800));
    expect(h.sink.interrupt()).toBe(true); // behind: 2000 unparsed + 800 held
    expect(h.timers.size).toBeGreaterThan(0); // the skip's timers
    h.advance(200); // quiet: the skip ends, the tail is drawn
    expect(h.sink.isSkipping).toBe(false);
    expect(h.text()).toContain('B'.repeat(300));

    const d = pacedHarness();
    d.push('A'.repeat(2000));
    d.advance(5);
    d.push('B'.repeat(100));
    d.sink.drawAll();
    expect(d.text()).toBe('A'.repeat(2000) + 'B'.repeat(100));
    d.push('C'.repeat(2000));
    d.advance(1);
    d.push('D');
    expect(d.timers.size).toBeGreaterThan(0);
    d.sink.dispose();
    expect(d.timers.size).toBe(0); // nothing left behind
  });
});
