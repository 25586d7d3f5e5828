/** Session output to a slow stream: paused past the high-water mark, resumed once drained, nothing lost. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pipeOutput, type OutputSource } from '../../main/cli/output-flow.js';
import { Emitter } from '../../main/core/util/lifecycle.js';

class FakeSession implements OutputSource {
  readonly out = new Emitter<Buffer>();
  readonly onOutput = this.out.event;
  paused = false;
  pauseCalls = 0;
  pauseOutput(): void {
    this.paused = true;
    this.pauseCalls++;
  }
  resumeOutput(): void {
    this.paused = false;
  }
}

/** A stream that takes one chunk each `delayMs` (a pipe into a slow reader). */
function slowStream(delayMs: number): Writable & { received: Buffer[] } {
  const received: Buffer[] = [];
  const w = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      received.push(chunk);
      setTimeout(cb, delayMs);
    },
  });
  return Object.assign(w, { received });
}

describe('pipeOutput', () => {
  it('pauses the session when the stream falls behind and resumes when it drains, losing nothing', async () => {
    const session = new FakeSession();
    const stream = slowStream(1);
    const flow = pipeOutput(session, stream, { highWaterBytes: 64 * 1024, lowWaterBytes: 16 * 1024 });
    const chunk = Buffer.alloc(8 * 1024, 0x61);
    let sent = 0;
    let maxBacklog = 0;
    // The producer honours pause, as the data channel does (it stops reading the socket).
    while (sent < 100) {
      if (session.paused) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      session.out.fire(chunk);
      sent++;
      maxBacklog = Math.max(maxBacklog, stream.writableLength);
    }
    // Memory stays bounded by the high-water mark (plus the chunk that crossed it).
    expect(maxBacklog).toBeLessThanOrEqual(64 * 1024 + chunk.length);
    await new Promise<void>((r) => stream.end(() => r()));
    expect(flow.pauses).toBeGreaterThan(0);
    expect(session.pauseCalls).toBe(flow.pauses);
    expect(session.paused).toBe(false);
    expect(Buffer.concat(stream.received).length).toBe(100 * chunk.length);
    flow.dispose();
  });

  it('never pauses for a stream that keeps up, and resumes a paused session when disposed', () => {
    const session = new FakeSession();
    const fast = new Writable({ write: (_c, _e, cb) => cb() });
    const flow = pipeOutput(session, fast, { highWaterBytes: 1024, lowWaterBytes: 256 });
    for (let i = 0; i < 50; i++) session.out.fire(Buffer.alloc(512));
    expect(flow.pauses).toBe(0);

    const stuck = new Writable({ highWaterMark: 16, write: () => undefined }); // never completes
    const s2 = new FakeSession();
    const f2 = pipeOutput(s2, stuck, { highWaterBytes: 1024, lowWaterBytes: 256 });
    s2.out.fire(Buffer.alloc(100));
    s2.out.fire(Buffer.alloc(2000));
    expect(s2.paused).toBe(true);
    f2.dispose();
    expect(s2.paused).toBe(false);
    s2.out.fire(Buffer.alloc(10)); // no longer listening
    expect(stuck.writableLength).toBe(2100);
    flow.dispose();
  });
});
