/**
 * The CLI bundle is made ASCII-only (build/ascii-only.mjs) so V8 holds its source as a one-byte
 * string; the escapes must not change what the code does.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { asciiOnly } from '../../build/ascii-only.mjs';

describe('asciiOnly', () => {
  it('escapes every non-ASCII character, and the code means the same', () => {
    const code = [
      '// a comment — with a dash',
      'const café = "naïve — 日本";',
      'const t = `tab ✓ ${café.length}`;',
      'const re = /[é—]/;',
      'const emoji = "😀";',
      '({ café, t, match: re.test("—"), emoji, n: emoji.length })',
    ].join('\n');
    const out = asciiOnly(code);
    expect(/[\u0080-\uffff]/.test(out)).toBe(false);
    expect(out).toContain('\\u2014');
    expect(runInNewContext(out)).toEqual(runInNewContext(code));
  });

  it('leaves ASCII code as it is', () => {
    const code = 'const a = "plain"; // nothing to do\n';
    expect(asciiOnly(code)).toBe(code);
  });
});
