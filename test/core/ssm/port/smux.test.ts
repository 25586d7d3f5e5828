import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SMUX_HEADER_SIZE,
  SmuxClosedError,
  SmuxCmd,
  SmuxFrameDecoder,
  SmuxProtocolError,
  SmuxSession,
  encodeSmuxFrame,
  type SmuxFrame,
  type SmuxOptions,
  type SmuxStream,
  type SmuxTransport,
} from '../../../../main/core/ssm/port/smux/index.js';
import { Emitter } from '../../../../main/core/util/lifecycle.js';

// ---------------------------------------------------------------------------------------------
// Transports

/** One direction of an in-memory connection: asynchronous delivery, bounded like a socket buffer. */
class Link {
  private queue: Buffer[] = [];
  queued = 0;
  maxQueued = 0;
  paused = false;
  pauses = 0;
  resumes = 0;
  congestions = 0;
  private full = false;
  private scheduled = false;
  readonly writable = new Emitter<void>();
  receiver: SmuxSession | undefined;

  constructor(
    private readonly highWater = 256 * 1024,
    /** Re-chunk deliveries at random boundaries. */
    private readonly rechunk = false,
  ) {}

  write(chunk: Buffer): boolean {
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.maxQueued = Math.max(this.maxQueued, this.queued);
    this.schedule();
    if (this.queued >= this.highWater) {
      if (!this.full) this.congestions++;
      this.full = true;
      return false;
    }
    return true;
  }

  pause(): void {
    this.paused = true;
    this.pauses++;
  }

  resume(): void {
    this.paused = false;
    this.resumes++;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.paused || !this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    let data = this.rechunk ? Buffer.concat(this.queue) : undefined;
    if (data) this.queue = [];
    while (!this.paused && (data ? data.length : this.queue.length)) {
      let chunk: Buffer;
      if (data) {
        const n = Math.min(data.length, 1 + Math.floor(Math.random() * 3000));
        chunk = data.subarray(0, n);
        data = data.subarray(n);
      } else {
        chunk = this.queue.shift()!;
      }
      this.queued -= chunk.length;
      this.receiver?.feed(chunk);
    }
    if (data?.length) this.queue.unshift(data);
    if (this.full && this.queued < this.highWater / 2) {
      this.full = false;
      this.writable.fire();
    }
    this.schedule();
  }
}

function pair(
  clientOptions: Partial<SmuxOptions> = {},
  serverOptions: Partial<SmuxOptions> = {},
  link: { highWater?: number; rechunk?: boolean } = {},
) {
  const c2s = new Link(link.highWater, link.rechunk);
  const s2c = new Link(link.highWater, link.rechunk);
  const transport = (out: Link, inp: Link): SmuxTransport => ({
    write: (chunk) => out.write(chunk),
    onWritable: out.writable.event,
    pause: () => inp.pause(),
    resume: () => inp.resume(),
  });
  const client = new SmuxSession(transport(c2s, s2c), {
    keepAliveIntervalMs: 0,
    ...clientOptions,
    role: 'client',
  });
  const server = new SmuxSession(transport(s2c, c2s), {
    keepAliveIntervalMs: 0,
    ...serverOptions,
    role: 'server',
  });
  c2s.receiver = server;
  s2c.receiver = client;
  return { client, server, c2s, s2c };
}

/** Writes go to `frames` (decoded); input is fed by the test. */
class Recorder implements SmuxTransport {
  readonly raw: Buffer[] = [];
  readonly writableEmitter = new Emitter<void>();
  readonly onWritable = this.writableEmitter.event;
  congested = false;
  pauses = 0;
  resumes = 0;
  write(chunk: Buffer): boolean {
    this.raw.push(Buffer.from(chunk));
    return !this.congested;
  }
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
  frames(version = 1): SmuxFrame[] {
    const d = new SmuxFrameDecoder(version);
    d.push(Buffer.concat(this.raw));
    const out: SmuxFrame[] = [];
    for (let f = d.next(); f; f = d.next()) out.push(f);
    return out;
  }
}

const frame = (cmd: number, sid: number, data?: Buffer | string, version = 1) =>
  encodeSmuxFrame(version, cmd, sid, typeof data === 'string' ? Buffer.from(data) : data);

function collect(stream: SmuxStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------------------------

describe('smux frames', () => {
  it('encodes the Go wire format: version, cmd, little-endian length and stream id, payload', () => {
    expect(frame(SmuxCmd.PSH, 3, 'hi').toString('hex')).toBe('010202000300000068 69'.replace(' ', ''));
    expect(frame(SmuxCmd.SYN, 0x01020304).toString('hex')).toBe('0100000004030201');
    expect(encodeSmuxFrame(2, SmuxCmd.NOP, 0).toString('hex')).toBe('0203000000000000');
  });

  it('decodes frames however the bytes are chunked (property)', () => {
    const frameArb = fc.oneof(
      fc.record({
        cmd: fc.constantFrom(SmuxCmd.SYN, SmuxCmd.FIN, SmuxCmd.NOP),
        sid: fc.nat(),
        data: fc.constant(new Uint8Array(0)),
      }),
      fc.record({ cmd: fc.constant(SmuxCmd.PSH), sid: fc.nat(), data: fc.uint8Array({ maxLength: 600 }) }),
      fc.record({
        cmd: fc.constant(SmuxCmd.UPD),
        sid: fc.nat(),
        data: fc.uint8Array({ minLength: 8, maxLength: 8 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        fc.array(frameArb, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (version, frames, cuts) => {
          const bytes = Buffer.concat(
            frames.map((f) => encodeSmuxFrame(version, f.cmd, f.sid, Buffer.from(f.data))),
          );
          const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort(
            (a, b) => a - b,
          );
          const d = new SmuxFrameDecoder(version);
          const got: SmuxFrame[] = [];
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            d.push(bytes.subarray(prev, p));
            prev = p;
            for (let f = d.next(); f; f = d.next()) got.push(f);
          }
          expect(d.buffered).toBe(0);
          expect(got.map((f) => [f.version, f.cmd, f.sid, Buffer.from(f.data).toString('hex')])).toEqual(
            frames.map((f) => [version, f.cmd, f.sid, Buffer.from(f.data).toString('hex')]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names what was wrong in a malformed header', () => {
    const cases: Array<[Buffer, RegExp]> = [
      [Buffer.from('GET / HTTP/1.1\r\n'), /invalid protocol version 71 \(expected 1\).*cmd 0x45.*stream/],
      [
        frame(SmuxCmd.PSH, 5, 'x', 2),
        /invalid protocol version 2 \(expected 1\).*cmd PSH.*length 1, stream 5/,
      ],
      [Buffer.from('0107000009000000', 'hex'), /unknown command 7 for stream 9/],
      [Buffer.from('0100030003000000616263', 'hex'), /SYN frame with a 3-byte payload.*stream 3/],
      [Buffer.from('0104040003000000', 'hex'), /UPD frame with length 4/],
    ];
    for (const [bytes, re] of cases) {
      const d = new SmuxFrameDecoder(1);
      d.push(frame(SmuxCmd.NOP, 0));
      d.push(bytes);
      expect(d.next()?.cmd).toBe(SmuxCmd.NOP);
      let error: unknown;
      try {
        d.next();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(SmuxProtocolError);
      expect((error as Error).message).toMatch(re);
      expect((error as Error).message).toMatch(/at byte 8 /);
      expect(() => d.next()).toThrow(SmuxProtocolError); // and stays failed
    }
  });
});

describe('smux session: decoding through the public API', () => {
  type Op = { cmd: number; sid: number; data: Buffer };
  /** What Go's recvLoop would make of the frames (PSH after FIN dropped; see smux.ts). */
  function model(ops: Op[]) {
    const streams = new Map<number, { data: Buffer[]; fin: boolean }>();
    const opened: number[] = [];
    for (const op of ops) {
      const s = streams.get(op.sid);
      if (op.cmd === SmuxCmd.SYN && !s) {
        streams.set(op.sid, { data: [], fin: false });
        opened.push(op.sid);
      } else if (op.cmd === SmuxCmd.PSH && s && !s.fin) s.data.push(op.data);
      else if (op.cmd === SmuxCmd.FIN && s) s.fin = true;
    }
    return {
      opened,
      streams: Object.fromEntries(
        [...streams].map(([sid, s]) => [sid, { data: Buffer.concat(s.data).toString('hex'), fin: s.fin }]),
      ),
    };
  }

  async function observe(chunks: Buffer[], version: 1 | 2 = 1) {
    const session = new SmuxSession(new Recorder(), { role: 'server', keepAliveIntervalMs: 0, version });
    const opened: number[] = [];
    const streams: Record<number, { data: Buffer[]; fin: boolean }> = {};
    session.onStream((s) => {
      s.on('error', () => {});
      opened.push(s.id);
      const rec: { data: Buffer[]; fin: boolean } = (streams[s.id] = { data: [], fin: false });
      s.on('data', (d: Buffer) => rec.data.push(d));
      s.on('end', () => (rec.fin = true));
    });
    for (const c of chunks) session.feed(c);
    await tick();
    await tick();
    const closed = session.closed;
    session.close();
    return {
      closed,
      opened,
      streams: Object.fromEntries(
        Object.entries(streams).map(([sid, s]) => [
          sid,
          { data: Buffer.concat(s.data).toString('hex'), fin: s.fin },
        ]),
      ),
    };
  }

  it('arbitrary frame sequences, re-chunked arbitrarily, give the same streams, data and FINs (property)', async () => {
    const sid = fc.constantFrom(1, 2, 3, 5, 8, 0xffffffff);
    const opArb = fc.oneof(
      fc.record({
        cmd: fc.constantFrom(SmuxCmd.SYN, SmuxCmd.FIN, SmuxCmd.NOP),
        sid,
        data: fc.constant(Buffer.alloc(0)),
      }),
      fc.record({
        cmd: fc.constant(SmuxCmd.PSH),
        sid,
        data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      }),
      fc.record({
        cmd: fc.constant(SmuxCmd.UPD),
        sid,
        data: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a)),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (ops, cuts) => {
          const bytes = Buffer.concat(ops.map((o) => frame(o.cmd, o.sid, o.data)));
          const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.subarray(prev, p));
            prev = p;
          }
          const whole = await observe([bytes]);
          const chunked = await observe(chunks);
          const expected = model(ops);
          expect(whole.closed).toBe(false);
          expect(chunked).toEqual(whole);
          expect({ opened: whole.opened, streams: whole.streams }).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('malformed input closes the session with a SmuxProtocolError, never an exception (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), async (chunks) => {
        const session = new SmuxSession(new Recorder(), { role: 'server', keepAliveIntervalMs: 0 });
        let closeEvent: { reason: string; error?: Error } | undefined;
        session.onClose((e) => (closeEvent = e));
        session.onStream((s) => {
          s.on('error', () => {});
          s.resume();
        });
        for (const c of chunks) expect(() => session.feed(Buffer.from(c))).not.toThrow();
        if (session.closed) {
          expect(closeEvent?.error).toBeInstanceOf(SmuxProtocolError);
          expect(closeEvent?.reason).toBe('protocol error');
        }
        session.close();
      }),
      { numRuns: 500 },
    );
  });

  it('delivers the frames before a malformed one, then fails the stream with the protocol error', async () => {
    const session = new SmuxSession(new Recorder(), { role: 'server', keepAliveIntervalMs: 0 });
    const streams: SmuxStream[] = [];
    session.onStream((s) => streams.push(s));
    const onClose = vi.fn();
    session.onClose(onClose);
    session.feed(
      Buffer.concat([
        frame(SmuxCmd.SYN, 3),
        frame(SmuxCmd.PSH, 3, 'before'),
        Buffer.from('ff02000003000000', 'hex'),
        frame(SmuxCmd.PSH, 3, 'after'),
      ]),
    );
    expect(session.closed).toBe(true);
    expect(onClose).toHaveBeenCalledTimes(1);
    const { reason, error } = onClose.mock.calls[0]![0] as { reason: string; error: Error };
    expect(reason).toBe('protocol error');
    expect(error).toBeInstanceOf(SmuxProtocolError);
    expect(error.message).toMatch(
      /invalid protocol version 255 \(expected 1\) at byte 22 .*cmd PSH.*stream 3/,
    );
    // The stream had no reader yet: it still hands over what arrived, then fails.
    const [s] = streams;
    const chunks: Buffer[] = [];
    s!.on('data', (d: Buffer) => chunks.push(d));
    const [err] = (await once(s!, 'error')) as [Error];
    expect(err).toBe(error);
    expect(Buffer.concat(chunks).toString()).toBe('before');
    session.feed(frame(SmuxCmd.NOP, 0)); // ignored after close
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe('smux session: streams', () => {
  it('assigns stream ids as Go: client 3, 5, 7...; server 2, 4, 6...; refuses ids once they wrap', () => {
    const client = new SmuxSession(new Recorder(), { role: 'client', keepAliveIntervalMs: 0 });
    const server = new SmuxSession(new Recorder(), { role: 'server', keepAliveIntervalMs: 0 });
    const open = (session: SmuxSession) => {
      const s = session.openStream();
      s.on('error', () => {});
      return s.id;
    };
    expect([open(client), open(client), open(client)]).toEqual([3, 5, 7]);
    expect([open(server), open(server), open(server)]).toEqual([2, 4, 6]);
    (client as unknown as { nextStreamId: number }).nextStreamId = 0xfffffffb;
    expect(open(client)).toBe(0xfffffffd);
    expect(open(client)).toBe(0xffffffff);
    expect(() => client.openStream()).toThrow(/stream id overflows/);
    expect(() => client.openStream()).toThrow(/stream id overflows/);
    client.close();
    server.close();
    expect(() => server.openStream()).toThrow(SmuxClosedError);
  });

  it('sends SYN, splits writes at maxFrameSize, and FIN on end()', async () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'client', keepAliveIntervalMs: 0, maxFrameSize: 1000 });
    const s = session.openStream();
    s.on('error', () => {});
    const payload = randomBytes(2500);
    s.end(payload);
    await once(s, 'finish');
    const frames = t.frames();
    expect(frames.map((f) => [f.cmd, f.sid, f.data.length])).toEqual([
      [SmuxCmd.SYN, 3, 0],
      [SmuxCmd.PSH, 3, 1000],
      [SmuxCmd.PSH, 3, 1000],
      [SmuxCmd.PSH, 3, 500],
      [SmuxCmd.FIN, 3, 0],
    ]);
    expect(Buffer.concat(frames.map((f) => f.data)).equals(payload)).toBe(true);
    expect(session.stats.bytesOut).toBe(5 * SMUX_HEADER_SIZE + 2500);
    session.close();
  });

  it('after the peer FIN: reads end after the buffered data, writes still go out (v1)', async () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'server', keepAliveIntervalMs: 0 });
    const accepted: SmuxStream[] = [];
    session.onStream((s) => {
      s.on('error', () => {});
      accepted.push(s);
    });
    session.feed(Buffer.concat([frame(SmuxCmd.SYN, 3), frame(SmuxCmd.PSH, 3, 'abc'), frame(SmuxCmd.FIN, 3)]));
    const s = accepted[0]!;
    expect((await collect(s)).toString()).toBe('abc');
    expect(session.stats.openStreams).toBe(1); // half-closed: still ours to write on
    s.write('reply');
    s.end();
    await once(s, 'close');
    expect(t.frames().map((f) => [f.cmd, f.sid, f.data.toString()])).toEqual([
      [SmuxCmd.PSH, 3, 'reply'],
      [SmuxCmd.FIN, 3, ''],
    ]);
    expect(session.stats.openStreams).toBe(0);
    // Frames for the forgotten id are dropped; a new SYN with it opens a new stream, as in Go.
    session.feed(frame(SmuxCmd.PSH, 3, 'late'));
    expect(session.stats.receiveBuffered).toBe(0);
    session.feed(frame(SmuxCmd.SYN, 3));
    expect(accepted).toHaveLength(2);
    session.close();
  });

  it('end() is a half-close: data from the peer still arrives until its FIN', async () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'client', keepAliveIntervalMs: 0 });
    const s = session.openStream();
    const got = collect(s);
    const closed = once(s, 'close');
    s.end('request');
    await once(s, 'finish');
    session.feed(Buffer.concat([frame(SmuxCmd.PSH, 3, 'response'), frame(SmuxCmd.FIN, 3)]));
    expect((await got).toString()).toBe('response');
    await closed;
    expect(session.stats.openStreams).toBe(0);
    session.close();
  });

  it('destroy() is Go Close: FIN once, unread data dropped and its budget returned, stream forgotten', async () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'server', keepAliveIntervalMs: 0 });
    const accepted: SmuxStream[] = [];
    session.onStream((s) => accepted.push(s));
    session.feed(Buffer.concat([frame(SmuxCmd.SYN, 7), frame(SmuxCmd.PSH, 7, Buffer.alloc(5000))]));
    expect(session.stats.receiveBuffered).toBe(5000);
    accepted[0]!.destroy();
    await once(accepted[0]!, 'close');
    expect(session.stats.receiveBuffered).toBe(0);
    expect(session.stats.openStreams).toBe(0);
    expect(t.frames().map((f) => [f.cmd, f.sid])).toEqual([[SmuxCmd.FIN, 7]]);
    session.feed(frame(SmuxCmd.PSH, 7, 'more'));
    expect(session.stats.receiveBuffered).toBe(0);
    session.close();
  });

  it('ignores PSH and FIN for unknown streams and SYN for a known one', () => {
    const session = new SmuxSession(new Recorder(), { role: 'server', keepAliveIntervalMs: 0 });
    const onStream = vi.fn((s: SmuxStream) => s.on('error', () => {}));
    session.onStream(onStream);
    session.feed(
      Buffer.concat([
        frame(SmuxCmd.PSH, 9, 'x'),
        frame(SmuxCmd.FIN, 9),
        frame(SmuxCmd.SYN, 9),
        frame(SmuxCmd.SYN, 9),
      ]),
    );
    expect(onStream).toHaveBeenCalledTimes(1);
    expect(session.stats).toMatchObject({ openStreams: 1, totalStreams: 1, receiveBuffered: 0 });
    expect(session.closed).toBe(false);
    session.close();
  });

  it('keeps streams opened before anyone listens (Go accept backlog) and hands them to the first listener', async () => {
    const session = new SmuxSession(new Recorder(), { role: 'server', keepAliveIntervalMs: 0 });
    session.feed(
      Buffer.concat([frame(SmuxCmd.SYN, 3), frame(SmuxCmd.PSH, 3, 'early'), frame(SmuxCmd.SYN, 5)]),
    );
    const got: SmuxStream[] = [];
    session.onStream((s) => {
      s.on('error', () => {});
      got.push(s);
    });
    expect(got).toHaveLength(0);
    await Promise.resolve();
    expect(got.map((s) => s.id)).toEqual([3, 5]);
    expect((got[0]!.read() as Buffer).toString()).toBe('early');
    session.close();
  });

  it('close(): streams fail with SmuxClosedError, no FIN is sent, onClose fires once (also for late listeners)', async () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'client', keepAliveIntervalMs: 0 });
    const a = session.openStream();
    const b = session.openStream();
    const errors = Promise.all([once(a, 'error'), once(b, 'error')]);
    const onClose = vi.fn();
    session.onClose(onClose);
    const before = t.raw.length;
    session.close('bye');
    session.close('again');
    session.dispose();
    const [[ea], [eb]] = (await errors) as [[Error], [Error]];
    expect(ea).toBeInstanceOf(SmuxClosedError);
    expect(ea.message).toBe('smux session closed: bye');
    expect(eb).toBe(ea);
    expect(t.raw.length).toBe(before);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledWith({ reason: 'bye' });
    const late = vi.fn();
    session.onClose(late);
    await Promise.resolve();
    expect(late).toHaveBeenCalledWith({ reason: 'bye' });
    expect(session.stats.openStreams).toBe(0);
  });

  it('a listener that throws while frames are handled closes the session instead of escaping feed()', () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'server', keepAliveIntervalMs: 0 });
    session.onStream((s) => {
      s.on('error', () => {});
      throw new Error('listener bug');
    });
    const onClose = vi.fn();
    session.onClose(onClose);
    expect(() =>
      session.feed(Buffer.concat([frame(SmuxCmd.SYN, 3), frame(SmuxCmd.PSH, 3, 'x')])),
    ).not.toThrow();
    expect(session.closed).toBe(true);
    expect(onClose.mock.calls[0]![0]).toMatchObject({ reason: 'internal error: listener bug' });
    expect(t.writableEmitter.listenerCount).toBe(0); // close released the transport subscription
  });

  it('rejects configurations Go rejects (VerifyConfig)', () => {
    const t = new Recorder();
    expect(() => new SmuxSession(t, { role: 'client', version: 3 as 1 })).toThrow(/version/);
    expect(
      () => new SmuxSession(t, { role: 'client', keepAliveIntervalMs: 100, keepAliveTimeoutMs: 50 }),
    ).toThrow(/keep-alive timeout/);
    expect(() => new SmuxSession(t, { role: 'client', maxFrameSize: 65536 })).toThrow(/65535/);
    expect(() => new SmuxSession(t, { role: 'client', maxFrameSize: 0 })).toThrow(/positive/);
    expect(
      () =>
        new SmuxSession(t, {
          role: 'client',
          maxReceiveBuffer: 1000,
          maxStreamBuffer: 2000,
          keepAliveIntervalMs: 0,
        }),
    ).toThrow(/max stream buffer/);
  });
});

describe('smux session: two sessions back to back', () => {
  async function echoMany(
    n: number,
    maxSize: number,
    opts: {
      client?: Partial<SmuxOptions>;
      server?: Partial<SmuxOptions>;
      link?: { highWater?: number; rechunk?: boolean };
      /** FIN right after the payload (default), or only once the whole echo is back (v2: see below). */
      halfClose?: boolean;
    } = {},
  ) {
    const { client, server } = pair(opts.client, opts.server, opts.link);
    const serverIds: number[] = [];
    const serverClosed: Promise<unknown>[] = [];
    server.onStream((s) => {
      serverIds.push(s.id);
      serverClosed.push(once(s, 'close'));
      s.pipe(s); // echo; ends (FIN) after the client's FIN
    });
    const results = await Promise.all(
      Array.from({ length: n }, async () => {
        const s = client.openStream();
        const payload = randomBytes(Math.floor(Math.random() * maxSize));
        const got = collect(s);
        const closed = once(s, 'close');
        if (opts.halfClose === false && payload.length > 0) {
          let received = 0;
          s.on('data', (d: Buffer) => {
            received += d.length;
            if (received >= payload.length) s.end();
          });
          s.write(payload);
        } else {
          s.end(payload);
        }
        const echoed = await got;
        await closed;
        return { id: s.id, same: sha(echoed) === sha(payload), length: payload.length };
      }),
    );
    await Promise.all(serverClosed);
    return { client, server, results, serverIds };
  }

  it('200 parallel streams echo random payloads byte for byte, with FIN both ways', async () => {
    const { client, server, results, serverIds } = await echoMany(200, 64 * 1024);
    expect(results.every((r) => r.same)).toBe(true);
    expect(results.map((r) => r.id)).toEqual(Array.from({ length: 200 }, (_, i) => 3 + 2 * i));
    expect(serverIds.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => 3 + 2 * i));
    expect(client.stats).toMatchObject({ openStreams: 0, totalStreams: 200, receiveBuffered: 0 });
    expect(server.stats).toMatchObject({ openStreams: 0, totalStreams: 200, receiveBuffered: 0 });
    expect(client.stats.bytesOut).toBe(server.stats.bytesIn);
    expect(server.stats.bytesOut).toBe(client.stats.bytesIn);
    client.close();
    server.close();
  });

  it('stays exact with a tiny receive budget, small frames, a congested link and random re-chunking', async () => {
    const { client, server, results } = await echoMany(60, 40 * 1024, {
      client: { maxFrameSize: 700, maxReceiveBuffer: 16 * 1024, maxStreamBuffer: 8 * 1024 },
      server: { maxFrameSize: 1500, maxReceiveBuffer: 8 * 1024, maxStreamBuffer: 8 * 1024 },
      link: { highWater: 4096, rechunk: true },
    });
    expect(results.every((r) => r.same)).toBe(true);
    client.close();
    server.close();
  });

  it('server-opened streams get even ids and echo too', async () => {
    const { client, server } = pair();
    client.onStream((s) => s.pipe(s));
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = server.openStream();
        const payload = randomBytes(10_000);
        const got = collect(s);
        s.end(payload);
        return { id: s.id, same: (await got).equals(payload) };
      }),
    );
    expect(results.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => 2 + 2 * i));
    expect(results.every((r) => r.same)).toBe(true);
    client.close();
    server.close();
  });

  it('version 2: per-stream windows carry payloads far beyond the initial window', async () => {
    // Not half-closed: as in Go, a FIN received while waiting for window fails the write.
    const { client, server, results } = await echoMany(10, 1_500_000, {
      client: { version: 2, maxStreamBuffer: 32 * 1024 },
      server: { version: 2, maxStreamBuffer: 16 * 1024 },
      halfClose: false,
    });
    expect(results.every((r) => r.same)).toBe(true);
    client.close();
    server.close();
  });

  it('version 2: a slow reader holds back its own sender at the window, not the session', async () => {
    const { client, server, c2s } = pair({ version: 2 }, { version: 2, maxStreamBuffer: 16 * 1024 });
    const accepted: SmuxStream[] = [];
    server.onStream((s) => accepted.push(s));
    const slow = client.openStream();
    slow.on('error', () => {});
    server.onStream((s) => s.on('error', () => {}));
    slow.write(Buffer.alloc(2_000_000));
    await until(() => accepted.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    // The peer window (initially 262144) bounds what is in flight for this stream.
    expect(server.stats.receiveBuffered).toBeLessThanOrEqual(262_144);
    expect(c2s.pauses).toBe(0);
    // Another stream still flows.
    server.onStream((s) => s.pipe(s));
    const fast = client.openStream();
    const got = collect(fast);
    fast.end('still flowing');
    expect((await got).toString()).toBe('still flowing');
    client.close();
    server.close();
  });
});

describe('smux session: backpressure', () => {
  it('a stream nobody reads makes the receiver pause its transport and congests the sender; reading resumes', async () => {
    const maxReceiveBuffer = 256 * 1024;
    const { client, server, c2s } = pair(
      { maxFrameSize: 16 * 1024 },
      { maxReceiveBuffer, maxStreamBuffer: 65536 },
      {
        highWater: 64 * 1024,
      },
    );
    const accepted: SmuxStream[] = [];
    server.onStream((s) => accepted.push(s));
    const s = client.openStream();
    s.on('error', () => {});
    const total = 16 * 1024 * 1024;
    const payload = randomBytes(total);
    let written = 0;
    let finished = false;
    const writer = (async () => {
      while (written < total) {
        const chunk = payload.subarray(written, written + 32 * 1024);
        written += chunk.length;
        if (!s.write(chunk)) await once(s, 'drain');
      }
      s.end();
      finished = true;
    })();
    await until(() => accepted.length === 1 && c2s.pauses > 0, 5000, 'the receiver to pause');
    await new Promise((r) => setTimeout(r, 200));
    const stalledAt = written;
    await new Promise((r) => setTimeout(r, 100));
    expect(written).toBe(stalledAt); // the sender is held
    expect(finished).toBe(false);
    expect(c2s.congestions).toBeGreaterThan(0);
    // Memory: the receive budget plus one frame on the receiver, a socket buffer on the link.
    expect(server.stats.receiveBuffered).toBeGreaterThanOrEqual(maxReceiveBuffer);
    expect(server.stats.receiveBuffered).toBeLessThanOrEqual(maxReceiveBuffer + 16 * 1024);
    expect(accepted[0]!.queuedBytes + accepted[0]!.readableLength).toBeLessThanOrEqual(
      maxReceiveBuffer + 16 * 1024,
    );
    expect(c2s.maxQueued).toBeLessThanOrEqual(64 * 1024 + 16 * 1024 + 64);
    // Reading releases everything, in order.
    const got = await collect(accepted[0]!);
    await writer;
    expect(sha(got)).toBe(sha(payload));
    expect(c2s.resumes).toBeGreaterThan(0);
    expect(server.stats.receiveBuffered).toBe(0);
    client.close();
    server.close();
  });

  it('writes wait for onWritable when the transport is congested, and control frames go first', async () => {
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'client', keepAliveIntervalMs: 0, maxFrameSize: 100 });
    const s = session.openStream();
    s.on('error', () => {});
    t.congested = true;
    const done = vi.fn();
    s.write(Buffer.alloc(1000), done);
    await tick();
    expect(t.frames().map((f) => f.cmd)).toEqual([SmuxCmd.SYN, SmuxCmd.PSH]);
    const s2 = session.openStream(); // its SYN waits, then goes ahead of s's data
    expect(done).not.toHaveBeenCalled();
    t.congested = false;
    t.writableEmitter.fire();
    await tick();
    expect(done).toHaveBeenCalled();
    expect(t.frames().map((f) => [f.cmd, f.sid])).toEqual([
      [SmuxCmd.SYN, 3],
      [SmuxCmd.PSH, 3],
      [SmuxCmd.SYN, 5],
      ...Array.from({ length: 9 }, () => [SmuxCmd.PSH, 3]),
    ]);
    s2.destroy();
    session.close();
  });
});

describe('smux session: keep-alive', () => {
  const NOP = frame(SmuxCmd.NOP, 0).toString('hex');

  it('sends a NOP every interval and closes after a timeout without input (Go tickers)', () => {
    vi.useFakeTimers();
    const t = new Recorder();
    const session = new SmuxSession(t, {
      role: 'client',
      keepAliveIntervalMs: 1000,
      keepAliveTimeoutMs: 3000,
    });
    const s = session.openStream();
    s.on('error', () => {});
    const onClose = vi.fn();
    session.onClose(onClose);
    vi.advanceTimersByTime(2999);
    expect(t.raw.slice(1).map((b) => b.toString('hex'))).toEqual([NOP, NOP]);
    session.feed(frame(SmuxCmd.NOP, 0)); // input during the first period
    vi.advanceTimersByTime(1); // t=3000: input seen, reset
    expect(session.closed).toBe(false);
    vi.advanceTimersByTime(2999);
    expect(session.closed).toBe(false);
    vi.advanceTimersByTime(1); // t=6000: nothing since 3000
    expect(session.closed).toBe(true);
    expect(onClose.mock.calls[0]![0]).toMatchObject({ reason: expect.stringMatching(/keep-alive timeout/) });
    expect(onClose.mock.calls[0]![0].error).toBeInstanceOf(SmuxClosedError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not time out while reading is stopped for lack of receive budget (as Go)', () => {
    vi.useFakeTimers();
    const t = new Recorder();
    const session = new SmuxSession(t, {
      role: 'server',
      keepAliveIntervalMs: 1000,
      keepAliveTimeoutMs: 2000,
      maxReceiveBuffer: 1000,
      maxStreamBuffer: 1000,
    });
    session.onStream((s) => s.on('error', () => {})); // never read
    session.feed(Buffer.concat([frame(SmuxCmd.SYN, 3), frame(SmuxCmd.PSH, 3, Buffer.alloc(1000))]));
    expect(t.pauses).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(session.closed).toBe(false);
    session.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not queue a second NOP while the transport is congested', () => {
    vi.useFakeTimers();
    const t = new Recorder();
    const session = new SmuxSession(t, {
      role: 'client',
      keepAliveIntervalMs: 1000,
      keepAliveTimeoutMs: 100_000,
    });
    t.congested = true;
    vi.advanceTimersByTime(1000);
    expect(t.raw).toHaveLength(1); // the NOP that congested it
    vi.advanceTimersByTime(5000);
    t.congested = false;
    t.writableEmitter.fire();
    vi.advanceTimersByTime(1000);
    expect(t.raw).toHaveLength(3);
    session.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('0 disables both the NOPs and the timeout; nothing holds a timer', () => {
    vi.useFakeTimers();
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'client', keepAliveIntervalMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(3_600_000);
    expect(t.raw).toHaveLength(0);
    expect(session.closed).toBe(false);
    session.dispose();
  });

  it('defaults to Go DefaultConfig: NOP every 10 s, timeout 30 s; close releases the timers', () => {
    vi.useFakeTimers();
    const t = new Recorder();
    const session = new SmuxSession(t, { role: 'server' });
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(29_999);
    expect(t.raw.map((b) => b.toString('hex'))).toEqual([NOP, NOP]);
    expect(session.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(session.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
