import { describe, expect, it } from 'vitest';
import { MAX_WRITE_CHARS } from '../../../preload/api.js';
import { InputQueue, chunkInput, pieceEnd } from '../../../renderer/terminal/input-queue.js';

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

function splitsPair(piece: string): boolean {
  return isHigh(piece.charCodeAt(piece.length - 1)) || isLow(piece.charCodeAt(0));
}

/** A send that records pieces, resolves after a tick, and checks that only one is in flight. */
function recorder(options: { delayMs?: number; failAt?: number } = {}) {
  const sent: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (data: string): Promise<void> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    sent.push(data);
    const index = sent.length - 1;
    return new Promise<void>((resolve, reject) =>
      setTimeout(() => {
        inFlight--;
        if (options.failAt === index) reject(new Error('session closed'));
        else resolve();
      }, options.delayMs ?? 0),
    );
  };
  return { sent, send, maxInFlight: () => maxInFlight };
}

/** Deterministic text with astral characters (emoji: surrogate pairs) everywhere. */
function astralText(length: number, seed = 1): string {
  const parts: string[] = [];
  let n = 0;
  let x = seed;
  while (n < length) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const pick = x % 7;
    const s =
      pick === 0
        ? '😀'
        : pick === 1
          ? '𝄞'
          : pick === 2
            ? '\n'
            : pick === 3
              ? 'é'
              : 'abcdefghij'.slice(0, 1 + (x % 10));
    parts.push(s);
    n += s.length;
  }
  return parts.join('');
}

describe('pieceEnd / chunkInput', () => {
  it('cuts at the limit, one unit earlier when a surrogate pair would be split', () => {
    expect(pieceEnd('abcdef', 0, 4)).toBe(4);
    expect(pieceEnd('abc😀d', 0, 4)).toBe(3); // 'abc' + high surrogate would split the emoji
    expect(pieceEnd('abc😀d', 0, 5)).toBe(5);
    expect(pieceEnd('😀', 0, 1)).toBe(0); // no room for the pair
    expect(pieceEnd('ab', 0, 10)).toBe(2);
  });

  it('never splits a pair and loses nothing', () => {
    for (const max of [2, 3, 4, 7, 64]) {
      const text = astralText(2000, max);
      const pieces = chunkInput(text, max);
      expect(pieces.join('')).toBe(text);
      for (const p of pieces) {
        expect(p.length).toBeGreaterThan(0);
        expect(p.length).toBeLessThanOrEqual(max);
        expect(splitsPair(p)).toBe(false);
      }
    }
  });

  it('uses MAX_WRITE_CHARS by default', () => {
    const pieces = chunkInput('x'.repeat(MAX_WRITE_CHARS * 2 + 5));
    expect(pieces.map((p) => p.length)).toEqual([MAX_WRITE_CHARS, MAX_WRITE_CHARS, 5]);
  });
});

describe('InputQueue', () => {
  it('sends a keystroke at once when idle', () => {
    const r = recorder();
    const q = new InputQueue({ send: r.send });
    q.push('l');
    expect(r.sent).toEqual(['l']);
  });

  it('keeps one write in flight and sends what was typed meanwhile, in order, together', async () => {
    const r = recorder({ delayMs: 5 });
    const q = new InputQueue({ send: r.send });
    for (const ch of 'ls -la\r') q.push(ch);
    await q.idle();
    expect(r.sent).toEqual(['l', 's -la\r']);
    expect(r.maxInFlight()).toBe(1);
  });

  it('holds input while paused and sends it on resume', async () => {
    const r = recorder();
    const q = new InputQueue({ send: r.send }, { paused: true });
    q.push('echo hi');
    q.push('\r');
    expect(r.sent).toEqual([]);
    expect(q.pendingChars).toBe(8);
    q.resume();
    await q.idle();
    expect(r.sent).toEqual(['echo hi\r']);
  });

  it('sends a 5 MiB paste whole, in order, in pieces of at most MAX_WRITE_CHARS, pairs intact', async () => {
    const r = recorder();
    const q = new InputQueue({ send: r.send });
    const paste = astralText(5 * 1024 * 1024, 42);
    q.push('a'); // a keystroke before
    q.push(paste);
    q.push('z'); // and one after
    await q.idle();
    const joined = r.sent.join('');
    expect(joined.length).toBe(paste.length + 2);
    expect(joined === `a${paste}z`).toBe(true);
    expect(r.maxInFlight()).toBe(1);
    for (const piece of r.sent) {
      expect(piece.length).toBeLessThanOrEqual(MAX_WRITE_CHARS);
      expect(splitsPair(piece)).toBe(false);
    }
    expect(r.sent.length).toBeGreaterThanOrEqual(Math.ceil(paste.length / MAX_WRITE_CHARS));
    expect(r.sent.length).toBeLessThanOrEqual(Math.ceil(paste.length / MAX_WRITE_CHARS) + 2);
  }, 60_000);

  it('keeps order when typing goes on during a long paste', async () => {
    const r = recorder({ delayMs: 1 });
    const q = new InputQueue({ send: r.send, maxChars: 100 });
    const paste = 'p'.repeat(1000);
    q.push(paste);
    setTimeout(() => q.push('XYZ'), 3);
    await new Promise((res) => setTimeout(res, 10));
    await q.idle();
    expect(r.sent.join('')).toBe(`${paste}XYZ`);
  });

  it('on a failed write, reports what was not delivered and stops', async () => {
    const r = recorder({ failAt: 1 });
    const errors: Array<{ err: unknown; dropped: number }> = [];
    const q = new InputQueue({
      send: r.send,
      maxChars: 10,
      onError: (err, dropped) => errors.push({ err, dropped }),
    });
    q.push('x'.repeat(35));
    await q.idle();
    expect(r.sent).toEqual(['x'.repeat(10), 'x'.repeat(10)]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.dropped).toBe(25); // the failed piece and the 15 after it
    expect(q.pendingChars).toBe(0);
    q.push('y'); // the queue still works afterwards
    await q.idle();
    expect(r.sent.at(-1)).toBe('y');
  });

  it('a send that throws synchronously counts as a failed write', async () => {
    const errors: number[] = [];
    const q = new InputQueue({
      send: () => {
        throw new Error('boom');
      },
      onError: (_e, dropped) => errors.push(dropped),
    });
    q.push('abc');
    await q.idle();
    expect(errors).toEqual([3]);
  });

  it('dispose drops pending input and ignores further pushes', async () => {
    const r = recorder({ delayMs: 2 });
    const q = new InputQueue({ send: r.send });
    q.push('a');
    q.push('b');
    q.dispose();
    q.push('c');
    await new Promise((res) => setTimeout(res, 10));
    expect(r.sent).toEqual(['a']);
  });
});
