/** The client data channel against a scripted fake agent on a loopback WebSocket. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import {
  MessageType,
  PayloadType,
  encodeChannelClosed,
  encodeMessage,
} from '../../../main/core/ssm/codec.js';
import { StreamEndpoint } from '../../../main/core/ssm/stream-endpoint.js';
import { DataChannel } from '../../../main/core/ssm/data-channel.js';

interface FakeAgent {
  url: string;
  sockets: WebSocket[];
  openFrames: Array<Record<string, unknown>>;
  endpoint: StreamEndpoint;
  inputs: Array<{ type: number; payload: Buffer }>;
  close(): Promise<void>;
}

async function fakeAgent(
  onInput?: (type: number, payload: Buffer, ep: StreamEndpoint) => void,
): Promise<FakeAgent> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const inputs: FakeAgent['inputs'] = [];
  const openFrames: FakeAgent['openFrames'] = [];
  const sockets: WebSocket[] = [];
  const endpoint = new StreamEndpoint(
    { sendType: MessageType.OutputStreamData },
    {
      onStreamMessage: (m) => {
        inputs.push({ type: m.payloadType, payload: m.payload });
        onInput?.(m.payloadType, m.payload, endpoint);
      },
    },
  );
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.once('message', (d) => {
      openFrames.push(JSON.parse(d.toString()) as Record<string, unknown>);
      ws.on('message', (data, isBinary) => isBinary && endpoint.handleFrame(data as Buffer));
      endpoint.attach({ send: (f) => ws.send(f) });
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/v1/data-channel/s-1`,
    sockets,
    openFrames,
    endpoint,
    inputs,
    async close() {
      endpoint.dispose();
      for (const s of sockets) s.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

const handshake = (extra: unknown[] = [], sessionType = 'Standard_Stream') =>
  Buffer.from(
    JSON.stringify({
      AgentVersion: '3.3.0.0',
      RequestedClientActions: [
        { ActionType: 'SessionType', ActionParameters: { SessionType: sessionType } },
        ...extra,
      ],
    }),
  );

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('DataChannel', () => {
  it('sends the open frame, completes the handshake, then sends the size', async () => {
    const agent = await fakeAgent((type, _p, ep) => {
      if (type === PayloadType.HandshakeResponse)
        ep.send(
          PayloadType.HandshakeComplete,
          Buffer.from('{"HandshakeTimeToComplete":1000,"CustomerMessage":""}'),
        );
    });
    cleanup.push(() => agent.close());
    const dc = new DataChannel({ streamUrl: agent.url, tokenValue: 'tok-123', sessionId: 's-1' });
    cleanup.push(() => dc.dispose());
    dc.resize(120, 40);
    await dc.open();
    agent.endpoint.send(PayloadType.HandshakeRequest, handshake());
    const info = await dc.waitReady(5000);
    expect(info.sessionType).toBe('Standard_Stream');
    expect(info.agentVersion).toBe('3.3.0.0');
    expect(agent.openFrames[0]).toMatchObject({
      MessageSchemaVersion: '1.0',
      TokenValue: 'tok-123',
      ClientId: dc.clientId,
    });
    await dc.waitForAcks(2000);
    const response = JSON.parse(agent.inputs[0]!.payload.toString());
    expect(response.ProcessedClientActions).toEqual([{ ActionType: 'SessionType', ActionStatus: 1 }]);
    expect(agent.inputs[1]).toMatchObject({ type: PayloadType.Size });
    expect(JSON.parse(agent.inputs[1]!.payload.toString())).toEqual({ cols: 120, rows: 40 });
    dc.write('\n');
    dc.write(Buffer.alloc(3000, 0x61));
    await dc.waitForAcks(2000);
    expect(agent.inputs.slice(2).map((i) => i.payload.length)).toEqual([1, 1024, 1024, 952]);
    expect(agent.inputs[2]!.payload[0]).toBe(0x0d); // a lone LF goes as CR
  });

  it('keeps going through malformed frames, counting each', async () => {
    const agent = await fakeAgent((type, _p, ep) => {
      if (type === PayloadType.HandshakeResponse) ep.send(PayloadType.HandshakeComplete, Buffer.from('{}'));
    });
    cleanup.push(() => agent.close());
    const dc = new DataChannel({ streamUrl: agent.url, tokenValue: 't', sessionId: 's-1' });
    cleanup.push(() => dc.dispose());
    const out: Buffer[] = [];
    dc.onOutput((b) => out.push(b));
    await dc.open();
    agent.endpoint.send(PayloadType.HandshakeRequest, handshake());
    await dc.waitReady(5000);
    const ws = agent.sockets[0]!;
    agent.endpoint.send(PayloadType.Output, Buffer.from('one '));
    ws.send(Buffer.from('short'));
    const bad = encodeMessage({
      messageType: 'output_stream_data',
      payload: Buffer.from('EVIL'),
      payloadType: 1,
      sequenceNumber: 99n,
    });
    bad[bad.length - 1] ^= 0xff;
    ws.send(bad);
    ws.send(encodeMessage({ messageType: 'who_knows', payload: Buffer.from('x'), payloadType: 1 }));
    ws.send('a text frame');
    ws.send(
      encodeMessage({
        messageType: 'output_stream_data',
        payload: Buffer.from('not json'),
        payloadType: PayloadType.HandshakeComplete,
        sequenceNumber: 50n,
      }),
    );
    agent.endpoint.send(PayloadType.Output, Buffer.from('two'));
    await new Promise((r) => setTimeout(r, 300));
    expect(Buffer.concat(out).toString()).toBe('one two');
    expect(dc.state).toBe('open');
    expect(dc.stats.malformed).toMatchObject({ short_frame: 1, bad_digest: 1, unknown_message_type: 1 });
  });

  it('refuses KMS encryption with a message naming the key, and tells the agent', async () => {
    const agent = await fakeAgent();
    cleanup.push(() => agent.close());
    const dc = new DataChannel({ streamUrl: agent.url, tokenValue: 't', sessionId: 's-1' });
    cleanup.push(() => dc.dispose());
    await dc.open();
    agent.endpoint.send(
      PayloadType.HandshakeRequest,
      handshake([{ ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'alias/ssm' } }]),
    );
    await expect(dc.waitReady(5000)).rejects.toThrow(/requires KMS encryption with key alias\/ssm/);
    await new Promise((r) => setTimeout(r, 100));
    const response = JSON.parse(agent.inputs[0]!.payload.toString());
    expect(response.ProcessedClientActions[1]).toMatchObject({
      ActionType: 'KMSEncryption',
      ActionStatus: 2,
    });
  });

  it('refuses a malformed handshake request and an unsupported session type', async () => {
    for (const payload of [Buffer.from('{oops'), handshake([], 'Port')]) {
      const agent = await fakeAgent();
      const dc = new DataChannel({ streamUrl: agent.url, tokenValue: 't', sessionId: 's-1' });
      await dc.open();
      agent.endpoint.send(PayloadType.HandshakeRequest, payload);
      await expect(dc.waitReady(5000)).rejects.toThrow(
        /handshake request is not valid JSON|session type Port is not supported/,
      );
      dc.dispose();
      await agent.close();
    }
  });

  it('reports channel_closed with its reason', async () => {
    const agent = await fakeAgent((type, _p, ep) => {
      if (type === PayloadType.HandshakeResponse) ep.send(PayloadType.HandshakeComplete, Buffer.from('{}'));
    });
    cleanup.push(() => agent.close());
    const dc = new DataChannel({ streamUrl: agent.url, tokenValue: 't', sessionId: 's-1' });
    cleanup.push(() => dc.dispose());
    await dc.open();
    agent.endpoint.send(PayloadType.HandshakeRequest, handshake());
    await dc.waitReady(5000);
    const closed = new Promise((r) => dc.onClosed(r));
    agent.sockets[0]!.send(encodeChannelClosed('s-1', 'Session terminated by admin'));
    await expect(closed).resolves.toEqual({ cause: 'channel_closed', reason: 'Session terminated by admin' });
  });

  it('fails to connect with a clear error when the server refuses the upgrade', async () => {
    const dc = new DataChannel({
      streamUrl: 'ws://127.0.0.1:1/v1/data-channel/x',
      tokenValue: 't',
      sessionId: 'x',
      connectTimeoutMs: 2000,
    });
    await expect(dc.open()).rejects.toThrow(/could not open the data channel/);
    dc.dispose();
  });
});
