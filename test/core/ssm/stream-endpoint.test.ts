import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { MessageType, PayloadType, encodeMessage } from '../../../main/core/ssm/codec.js';
import { StreamEndpoint } from '../../../main/core/ssm/stream-endpoint.js';

/** Two endpoints joined by an in-memory network whose every step a script decides. */
function makePair(opts: { highWater?: number } = {}) {
  const queues = { ab: [] as Buffer[], ba: [] as Buffer[] };
  const received = { a: [] as Buffer[], b: [] as Buffer[] };
  const now = () => Date.now();
  const a = new StreamEndpoint(
    { sendType: MessageType.InputStreamData, now, highWaterMessages: opts.highWater },
    { onStreamMessage: (m) => received.a.push(m.payload) },
  );
  const b = new StreamEndpoint(
    { sendType: MessageType.OutputStreamData, now, highWaterMessages: opts.highWater },
    { onStreamMessage: (m) => received.b.push(m.payload) },
  );
  a.attach({ send: (f) => queues.ab.push(f) });
  b.attach({ send: (f) => queues.ba.push(f) });
  const deliverAll = () => {
    while (queues.ab.length || queues.ba.length) {
      const f1 = queues.ab.shift();
      if (f1) b.handleFrame(f1);
      const f2 = queues.ba.shift();
      if (f2) a.handleFrame(f2);
    }
  };
  return { a, b, queues, received, deliverAll };
}

type Step =
  | { op: 'send'; side: 'a' | 'b'; data: Uint8Array }
  | { op: 'deliver' | 'drop' | 'dup' | 'swap' | 'corrupt'; dir: 'ab' | 'ba' }
  | { op: 'tick'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('send' as const),
    side: fc.constantFrom('a' as const, 'b' as const),
    data: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
  fc.record({
    op: fc.constantFrom(
      'deliver' as const,
      'deliver' as const,
      'drop' as const,
      'dup' as const,
      'swap' as const,
      'corrupt' as const,
    ),
    dir: fc.constantFrom('ab' as const, 'ba' as const),
  }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 400 }) }),
);

describe('StreamEndpoint over a lossy, duplicating, reordering network', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers every byte exactly once and in order, both ways', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 250 }), (steps) => {
        const p = makePair();
        const sent = { a: [] as Buffer[], b: [] as Buffer[] };
        for (const s of steps) {
          if (s.op === 'send') {
            const ep = s.side === 'a' ? p.a : p.b;
            ep.send(PayloadType.Output, s.data);
            sent[s.side].push(Buffer.from(s.data));
          } else if (s.op === 'tick') {
            vi.advanceTimersByTime(s.ms);
          } else {
            const q = p.queues[s.dir];
            const target = s.dir === 'ab' ? p.b : p.a;
            if (!q.length) continue;
            if (s.op === 'deliver') target.handleFrame(q.shift()!);
            else if (s.op === 'drop') q.shift();
            else if (s.op === 'dup') q.unshift(Buffer.from(q[0]!));
            else if (s.op === 'swap' && q.length > 1) [q[0], q[1]] = [q[1]!, q[0]!];
            else if (s.op === 'corrupt') {
              const f = Buffer.from(q.shift()!);
              f[f.length - 1] ^= 0x55;
              target.handleFrame(f);
            }
          }
        }
        // Then the network heals: everything must arrive.
        for (
          let i = 0;
          i < 200 && (p.a.unackedCount || p.b.unackedCount || p.queues.ab.length || p.queues.ba.length);
          i++
        ) {
          p.deliverAll();
          vi.advanceTimersByTime(150);
        }
        p.deliverAll();
        expect(Buffer.concat(p.received.b)).toEqual(Buffer.concat(sent.a));
        expect(Buffer.concat(p.received.a)).toEqual(Buffer.concat(sent.b));
        expect(p.received.b.length).toBe(sent.a.length);
        expect(p.a.unackedCount).toBe(0);
        expect(p.b.unackedCount).toBe(0);
        p.a.dispose();
        p.b.dispose();
      }),
      { numRuns: 300 },
    );
  });

  it('resends unacknowledged messages after a reattach (socket replaced)', () => {
    const p = makePair();
    p.a.send(PayloadType.Output, Buffer.from('one'));
    p.a.send(PayloadType.Output, Buffer.from('two'));
    p.queues.ab.length = 0; // lost with the old socket
    p.a.detach();
    p.a.attach({ send: (f) => p.queues.ab.push(f) });
    p.deliverAll();
    expect(Buffer.concat(p.received.b).toString()).toBe('onetwo');
    expect(p.a.unackedCount).toBe(0);
    expect(p.a.stats.retransmissions).toBe(2);
  });

  it('adapts the retransmission timeout to measured round trips', () => {
    const p = makePair();
    expect(p.a.stats.rtoMs).toBe(200);
    for (let i = 0; i < 60; i++) {
      p.a.send(PayloadType.Output, Buffer.from([i]));
      vi.advanceTimersByTime(5);
      p.deliverAll();
    }
    expect(p.a.stats.rttMs).toBeLessThan(30);
    expect(p.a.stats.rtoMs).toBeLessThan(30);
    expect(p.a.stats.rtoMs).toBeGreaterThanOrEqual(10);
  });

  it('signals back-pressure at the high-water mark and never drops', () => {
    const p = makePair({ highWater: 10 });
    let writable = 0;
    const a = new StreamEndpoint(
      { sendType: MessageType.InputStreamData, highWaterMessages: 10 },
      {
        onStreamMessage: () => {},
        onWritable: () => writable++,
      },
    );
    const q: Buffer[] = [];
    a.attach({ send: (f) => q.push(f) });
    for (let i = 0; i < 25; i++) a.send(PayloadType.Output, Buffer.from([i]));
    expect(a.writable).toBe(false);
    expect(a.unackedCount).toBe(25);
    for (const f of q.splice(0)) p.b.handleFrame(f);
    for (const f of p.queues.ba.splice(0)) a.handleFrame(f);
    expect(a.writable).toBe(true);
    expect(writable).toBe(1);
    expect(p.received.b.length).toBe(25);
    a.dispose();
  });

  it('counts malformed frames and stays up', () => {
    const errors: string[] = [];
    const ep = new StreamEndpoint(
      { sendType: MessageType.InputStreamData },
      { onStreamMessage: () => {}, onProtocolError: (_e, code) => errors.push(code) },
    );
    ep.attach({ send: () => {} });
    ep.handleFrame(Buffer.from('garbage'));
    const bad = encodeMessage({
      messageType: 'output_stream_data',
      payload: Buffer.from('x'),
      payloadType: 1,
    });
    bad[bad.length - 1] ^= 1;
    ep.handleFrame(bad);
    ep.handleFrame(encodeMessage({ messageType: 'mystery_type', payload: Buffer.from('x'), payloadType: 1 }));
    ep.handleFrame(
      encodeMessage({ messageType: 'acknowledge', payload: Buffer.from('{not json'), payloadType: 0 }),
    );
    ep.handleFrame(
      encodeMessage({ messageType: 'channel_closed', payload: Buffer.from('nope'), payloadType: 1 }),
    );
    expect(errors).toEqual([
      'short_frame',
      'bad_digest',
      'unknown_message_type',
      'invalid_ack',
      'invalid_json',
    ]);
    expect(ep.stats.malformed).toMatchObject({ short_frame: 1, bad_digest: 1 });
    ep.dispose();
  });

  it('stops retransmitting after the resend budget and says so', () => {
    let exhausted = -1;
    const ep = new StreamEndpoint(
      { sendType: MessageType.InputStreamData, maxResendAttempts: 5 },
      { onStreamMessage: () => {}, onResendExhausted: (s) => (exhausted = s) },
    );
    ep.attach({ send: () => {} });
    ep.send(PayloadType.Output, Buffer.from('lost'));
    vi.advanceTimersByTime(10_000);
    expect(exhausted).toBe(0);
    ep.dispose();
  });
});
