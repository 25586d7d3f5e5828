import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ACK_COALESCE_MS, createWsTransport, socketOf } from '../../../main/core/ssm/ws-transport.js';
import { StreamEndpoint, type FrameTransport } from '../../../main/core/ssm/stream-endpoint.js';
import { MessageType, PayloadType, decodeMessage, encodeMessage } from '../../../main/core/ssm/codec.js';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

/** A loopback server recording what it receives, and a client socket to it. */
async function pair(): Promise<{ ws: WebSocket; received: string[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  open.push(server);
  await new Promise((r) => server.once('listening', r));
  const received: string[] = [];
  server.on('connection', (s) => s.on('message', (d) => received.push(String(d))));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  open.push(ws);
  await new Promise((r) => ws.once('open', r));
  return { ws, received };
}

async function until(test: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('ws transport: coalesced writes', () => {
  it('holds deferred frames for a moment, then writes them all, in order', async () => {
    const { ws, received } = await pair();
    const t = createWsTransport(ws);
    t.sendDeferred!(Buffer.from('a'));
    t.sendDeferred!(Buffer.from('b'));
    // Still corked after this turn: nothing has gone to the socket yet.
    await new Promise((r) => process.nextTick(r));
    expect(socketOf(ws)!.writableCorked).toBe(1);
    await until(() => received.length === 2);
    expect(received).toEqual(['a', 'b']);
    expect(socketOf(ws)!.writableCorked).toBe(0);
    expect(ACK_COALESCE_MS).toBeLessThanOrEqual(5);
  });

  it('an ordinary frame flushes the deferred ones with itself on the next tick', async () => {
    const { ws, received } = await pair();
    const t = createWsTransport(ws);
    t.sendDeferred!(Buffer.from('ack-1'));
    t.send(Buffer.from('key'));
    t.sendDeferred!(Buffer.from('ack-2'));
    await new Promise((r) => process.nextTick(r));
    expect(socketOf(ws)!.writableCorked).toBe(0);
    await until(() => received.length === 3);
    expect(received).toEqual(['ack-1', 'key', 'ack-2']);
  });

  it('leaves no timer behind when the socket closes with frames deferred', async () => {
    const { ws } = await pair();
    const t = createWsTransport(ws);
    t.sendDeferred!(Buffer.from('late'));
    ws.terminate();
    await new Promise((r) => ws.once('close', r));
    expect(socketOf(ws)!.writableCorked).toBe(0);
    // Sends after the close are dropped, not thrown.
    t.send(Buffer.from('x'));
    t.sendDeferred!(Buffer.from('y'));
  });
});

describe('stream endpoint: deferred acknowledgements and bulk output', () => {
  const frame = (seq: number) =>
    encodeMessage({
      messageType: MessageType.OutputStreamData,
      payload: Buffer.from(`m${seq}`),
      payloadType: PayloadType.Output,
      sequenceNumber: seq,
    });

  function recorder(): FrameTransport & { now: Buffer[]; deferred: Buffer[] } {
    const t = {
      now: [] as Buffer[],
      deferred: [] as Buffer[],
      send: (f: Buffer) => void t.now.push(f),
      sendDeferred: (f: Buffer) => void t.deferred.push(f),
    };
    return t;
  }

  it('acknowledges through sendDeferred with deferAcks, and at once without', () => {
    for (const deferAcks of [true, false]) {
      const t = recorder();
      const got: string[] = [];
      const e = new StreamEndpoint(
        { sendType: MessageType.InputStreamData, deferAcks },
        { onStreamMessage: (m) => got.push(m.payload.toString()) },
      );
      e.attach(t);
      e.handleFrame(frame(0));
      e.handleFrame(frame(1));
      expect(got).toEqual(['m0', 'm1']);
      const acks = (deferAcks ? t.deferred : t.now).map((f) => decodeMessage(f).messageType);
      expect(acks).toEqual([MessageType.Acknowledge, MessageType.Acknowledge]);
      expect((deferAcks ? t.now : t.deferred).length).toBe(0);
      expect(e.stats.acksOut).toBe(2);
      e.dispose();
    }
  });

  it('sends bulk output deferred, everything else at once; both stay pending until acknowledged', () => {
    const t = recorder();
    const e = new StreamEndpoint({ sendType: MessageType.OutputStreamData }, { onStreamMessage: () => {} });
    e.attach(t);
    e.send(PayloadType.Output, Buffer.from('bulk'), true);
    e.send(PayloadType.Output, Buffer.from('echo'));
    expect(t.deferred.map((f) => decodeMessage(f).payload.toString())).toEqual(['bulk']);
    expect(t.now.map((f) => decodeMessage(f).payload.toString())).toEqual(['echo']);
    expect(e.unackedCount).toBe(2);
    expect(e.stats.framesOut).toBe(2);
    e.dispose();
  });
});
