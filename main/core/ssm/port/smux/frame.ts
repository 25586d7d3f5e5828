/**
 * smux frames (xtaci/smux frame.go): an 8-byte header (version, command, little-endian length
 * and stream id) and the payload; the constants, the errors and an incremental decoder.
 */
/** A malformed frame: the session is closed with it. */
export class SmuxProtocolError extends Error {
  override readonly name = 'SmuxProtocolError';
  readonly code = 'ERR_SMUX_PROTOCOL';
}

/** What streams fail with when their session closes for another reason than a protocol error. */
export class SmuxClosedError extends Error {
  override readonly name = 'SmuxClosedError';
  readonly code = 'ERR_SMUX_CLOSED';
}

const EMPTY = Buffer.alloc(0);

export const SmuxCmd = { SYN: 0, FIN: 1, PSH: 2, NOP: 3, UPD: 4 } as const;
const CMD_NAMES = ['SYN', 'FIN', 'PSH', 'NOP', 'UPD'];
export const SMUX_HEADER_SIZE = 8;
export const UPD_SIZE = 8;
/** frame.go initialPeerWindow (v2). */
export const INITIAL_PEER_WINDOW = 262_144;
/** session.go defaultAcceptBacklog. */
export const ACCEPT_BACKLOG = 1024;

export const SMUX_DEFAULTS = {
  version: 1,
  keepAliveIntervalMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  maxFrameSize: 32_768,
  maxReceiveBuffer: 4_194_304,
  maxStreamBuffer: 65_536,
} as const;

export interface SmuxFrame {
  version: number;
  cmd: number;
  sid: number;
  data: Buffer;
}

export function encodeSmuxFrame(version: number, cmd: number, sid: number, data?: Buffer): Buffer {
  const len = data?.length ?? 0;
  if (len > 0xffff) throw new RangeError(`smux frame payload of ${len} bytes exceeds 65535`);
  const buf = Buffer.allocUnsafe(SMUX_HEADER_SIZE + len);
  buf[0] = version;
  buf[1] = cmd;
  buf.writeUInt16LE(len, 2);
  buf.writeUInt32LE(sid >>> 0, 4);
  if (data && len) data.copy(buf, SMUX_HEADER_SIZE);
  return buf;
}

function cmdName(cmd: number): string {
  return CMD_NAMES[cmd] ?? `0x${cmd.toString(16).padStart(2, '0')}`;
}

/**
 * Incremental frame parser over arbitrarily chunked input. next() returns a whole frame,
 * undefined when more bytes are needed, or throws a SmuxProtocolError (and keeps throwing it).
 * Payloads are copies, never views of a larger input chunk (so the receive budget bounds memory).
 */
export class SmuxFrameDecoder {
  private chunks: Buffer[] = [];
  private head = 0; // index of the first unconsumed chunk
  private offset = 0; // offset in chunks[head]
  private length = 0;
  private position = 0; // stream offset of the next frame, for messages
  private failure: SmuxProtocolError | undefined;
  private readonly scratch = Buffer.alloc(SMUX_HEADER_SIZE + UPD_SIZE);

  constructor(readonly version: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.failure) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.length;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.length = 0;
  }

  next(): SmuxFrame | undefined {
    if (this.failure) throw this.failure;
    if (this.length < SMUX_HEADER_SIZE) return undefined;
    const hdr = this.peek(SMUX_HEADER_SIZE);
    const version = hdr[0]!;
    const cmd = hdr[1]!;
    const len = hdr.readUInt16LE(2);
    const sid = hdr.readUInt32LE(4);
    const where = () =>
      `at byte ${this.position} (header ${hdr.subarray(0, SMUX_HEADER_SIZE).toString('hex')}: version ${version}, cmd ${cmdName(cmd)}, length ${len}, stream ${sid})`;
    if (version !== this.version) {
      return this.fail(`smux: invalid protocol version ${version} (expected ${this.version}) ${where()}`);
    }
    let need = SMUX_HEADER_SIZE;
    switch (cmd) {
      case SmuxCmd.SYN:
      case SmuxCmd.FIN:
      case SmuxCmd.NOP:
        if (len !== 0) return this.fail(`smux: ${cmdName(cmd)} frame with a ${len}-byte payload ${where()}`);
        break;
      case SmuxCmd.PSH:
        need += len;
        break;
      case SmuxCmd.UPD:
        if (len !== UPD_SIZE) return this.fail(`smux: UPD frame with length ${len} (must be 8) ${where()}`);
        need += UPD_SIZE;
        break;
      default:
        return this.fail(`smux: unknown command ${cmd} for stream ${sid} ${where()}`);
    }
    if (this.length < need) return undefined;
    this.skip(SMUX_HEADER_SIZE);
    const data = need > SMUX_HEADER_SIZE ? this.take(need - SMUX_HEADER_SIZE) : EMPTY;
    this.position += need;
    return { version, cmd, sid, data };
  }

  private fail(message: string): never {
    this.failure = new SmuxProtocolError(message);
    this.clear();
    throw this.failure;
  }

  /** The first n bytes (n <= scratch size), without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[this.head]!;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    let copied = 0;
    for (let i = this.head; copied < n; i++) {
      const c = this.chunks[i]!;
      const start = i === this.head ? this.offset : 0;
      copied += c.copy(this.scratch, copied, start, Math.min(c.length, start + n - copied));
    }
    return this.scratch;
  }

  private skip(n: number): void {
    this.consume(n, undefined);
  }

  private take(n: number): Buffer {
    const first = this.chunks[this.head]!;
    // A whole input chunk can be handed over as is; anything smaller is copied.
    if (this.offset === 0 && first.length === n) {
      this.consume(n, undefined);
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    this.consume(n, out);
    return out;
  }

  private consume(n: number, into: Buffer | undefined): void {
    let done = 0;
    while (done < n) {
      const c = this.chunks[this.head]!;
      const avail = c.length - this.offset;
      const k = Math.min(avail, n - done);
      if (into) c.copy(into, done, this.offset, this.offset + k);
      done += k;
      this.offset += k;
      if (this.offset === c.length) {
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.offset = 0;
      }
    }
    this.length -= n;
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
