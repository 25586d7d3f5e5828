import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutputBatcher, type OutputBatch } from '../../../main/core/workspace/output-batcher.js';

describe('OutputBatcher', () => {
  afterEach(() => vi.useRealTimers());

  it('sends one batch per interval, numbered by byte offset', () => {
    vi.useFakeTimers();
    const batches: OutputBatch[] = [];
    const b = new OutputBatcher({ intervalMs: 16, emit: (x) => batches.push(x) });
    b.push('s1', Buffer.from('hello '));
    b.push('s1', Buffer.from('world'));
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(16);
    expect(batches).toEqual([{ sessionId: 's1', offset: 0, bytes: 11, data: 'hello world' }]);
    b.push('s1', Buffer.from('!'));
    vi.advanceTimersByTime(16);
    expect(batches[1]).toEqual({ sessionId: 's1', offset: 11, bytes: 1, data: '!' });
    b.dispose();
  });

  it('sends at once when a batch is full, without waiting for the timer', () => {
    vi.useFakeTimers();
    const batches: OutputBatch[] = [];
    const b = new OutputBatcher({ intervalMs: 1000, maxBatchBytes: 10, emit: (x) => batches.push(x) });
    b.push('s', Buffer.alloc(6, 0x61));
    b.push('s', Buffer.alloc(6, 0x62));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ offset: 0, bytes: 12 });
    b.dispose();
  });

  it('never splits a character across batches and loses no byte, however the output is cut (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 1, max: 40 }),
        (text, cuts, maxBatchBytes) => {
          const bytes = Buffer.from(text, 'utf8');
          const batches: OutputBatch[] = [];
          const b = new OutputBatcher({ intervalMs: 1e9, maxBatchBytes, emit: (x) => batches.push(x) });
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            b.push('s', bytes.subarray(at, at + n));
            at += n;
          }
          b.flush();
          b.dispose();
          expect(batches.map((x) => x.data).join('')).toBe(text);
          let offset = 0;
          for (const x of batches) {
            expect(x.offset).toBe(offset);
            offset += x.bytes;
            // No replacement characters from a split sequence (unless the text itself has one).
            if (!text.includes('\ufffd')) expect(x.data).not.toContain('\ufffd');
          }
          expect(offset).toBe(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a bounded replay that ends where the next batch starts', () => {
    vi.useFakeTimers();
    const batches: OutputBatch[] = [];
    const b = new OutputBatcher({ intervalMs: 16, replayBytes: 20, emit: (x) => batches.push(x) });
    for (let i = 0; i < 10; i++) b.push('s', Buffer.from(`line ${i}\n`));
    const replay = b.replay('s')!;
    // The pending batch was flushed first, so nothing before endOffset is still to come.
    expect(batches.at(-1)!.offset + batches.at(-1)!.bytes).toBe(replay.endOffset);
    expect(replay.endOffset).toBe(70);
    expect(replay.truncated).toBe(true);
    expect(replay.data.endsWith('line 9\n')).toBe(true);
    expect(Buffer.byteLength(replay.data)).toBeLessThanOrEqual(20 + 7);
    b.push('s', Buffer.from('next'));
    vi.advanceTimersByTime(16);
    expect(batches.at(-1)).toMatchObject({ offset: 70, data: 'next' });
    b.dispose();
  });

  it('starts a truncated replay on a whole character', () => {
    const b = new OutputBatcher({ intervalMs: 1e9, replayBytes: 4, emit: () => undefined });
    b.push('s', Buffer.from('€'));
    b.push('s', Buffer.from('é'));
    b.push('s', Buffer.from('ü'));
    const replay = b.replay('s')!;
    expect(replay.data).not.toContain('\ufffd');
    expect(replay.data.endsWith('éü')).toBe(true);
    b.dispose();
  });

  it('flushes what is pending when a session is removed, and forgets it', () => {
    vi.useFakeTimers();
    const batches: OutputBatch[] = [];
    const b = new OutputBatcher({ intervalMs: 16, emit: (x) => batches.push(x) });
    b.push('s', Buffer.from('bye'));
    b.remove('s');
    expect(batches).toEqual([{ sessionId: 's', offset: 0, bytes: 3, data: 'bye' }]);
    expect(b.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(b.replay('s')).toBeUndefined();
    b.dispose();
  });

  it('slows its batches and trims every replay ring on demand', () => {
    vi.useFakeTimers();
    const batches: OutputBatch[] = [];
    const b = new OutputBatcher({ intervalMs: 16, replayBytes: 1000, emit: (x) => batches.push(x) });
    for (let i = 0; i < 50; i++) b.push('s', Buffer.from(`line ${String(i).padStart(3, '0')}\n`)); // 450 bytes
    for (let i = 0; i < 50; i++) b.push('t', Buffer.from(`row ${String(i).padStart(4, '0')}\n`));
    expect(b.replayBytes).toBe(900);
    b.setReplayLimit(100);
    expect(b.replayBytes).toBeLessThanOrEqual(2 * (100 + 9)); // per session: the limit plus at most one chunk
    const r = b.replay('s')!;
    expect(r.truncated).toBe(true);
    expect(r.data.endsWith('line 049\n')).toBe(true);
    // A single chunk bigger than the ring is cut to its tail.
    b.setReplayLimit(1000);
    b.push('u', Buffer.alloc(5000, 'x'));
    b.setReplayLimit(10);
    expect(b.replay('u')!.data).toBe('x'.repeat(10));

    b.flush();
    b.setIntervalMs(50);
    batches.length = 0;
    b.push('s', Buffer.from('late'));
    vi.advanceTimersByTime(49);
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(batches.map((x) => x.data)).toEqual(['late']);
    expect(b.interval).toBe(50);
    b.dispose();
  });
});
