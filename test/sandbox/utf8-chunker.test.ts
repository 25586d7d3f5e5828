import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Utf8Chunker } from '../../main/sandbox/agent/utf8-chunker.js';

describe('Utf8Chunker', () => {
  it('never splits a character and loses no byte, however the input is cut', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 20 }),
        (text, cuts) => {
          const bytes = Buffer.from(text, 'utf8');
          const c = new Utf8Chunker(64);
          const out: Buffer[] = [];
          let off = 0;
          for (const n of cuts) {
            out.push(...c.push(bytes.subarray(off, off + n)));
            off += n;
          }
          out.push(...c.push(bytes.subarray(off)), ...c.flush());
          expect(Buffer.concat(out).equals(bytes)).toBe(true);
          for (const p of out) {
            expect(p.length).toBeLessThanOrEqual(64);
            expect(Buffer.from(p.toString('utf8'), 'utf8').equals(p)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('passes invalid bytes through', () => {
    const c = new Utf8Chunker(4);
    const bad = Buffer.from([0xff, 0x80, 0x80, 0x80, 0x80, 0x41]);
    expect(Buffer.concat([...c.push(bad), ...c.flush()]).equals(bad)).toBe(true);
  });
});
