/**
 * Splits a byte stream into payloads of at most `size` bytes without cutting a UTF-8
 * character in two, as the SSM agent does (it carries an incomplete trailing sequence
 * over to the next message). Invalid bytes pass through unchanged.
 */
export class Utf8Chunker {
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly size: number) {}

  /** Payloads ready to send; an incomplete character at the end waits for the next call. */
  push(data: Buffer): Buffer[] {
    const buf = this.carry.length ? Buffer.concat([this.carry, data]) : data;
    const keep = incompleteTail(buf);
    const ready = buf.subarray(0, buf.length - keep);
    this.carry = keep ? Buffer.from(buf.subarray(buf.length - keep)) : Buffer.alloc(0);
    const out: Buffer[] = [];
    let off = 0;
    while (off < ready.length) {
      let end = Math.min(ready.length, off + this.size);
      if (end < ready.length) {
        // Step back over continuation bytes so the next payload starts on a character.
        let back = end;
        while (back > off && (ready[back]! & 0xc0) === 0x80 && end - back < 3) back--;
        if (back > off && (ready[back]! & 0xc0) !== 0x80) end = back;
      }
      out.push(ready.subarray(off, end));
      off = end;
    }
    return out;
  }

  /** Whatever is left (an incomplete character at the end of the stream). */
  flush(): Buffer[] {
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return rest.length ? [rest] : [];
  }
}

/** Bytes at the end of `buf` that start a UTF-8 sequence which is not complete yet (0 to 3). */
function incompleteTail(buf: Buffer): number {
  for (let i = 1; i <= Math.min(3, buf.length); i++) {
    const b = buf[buf.length - i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > i ? i : 0;
  }
  return 0;
}
