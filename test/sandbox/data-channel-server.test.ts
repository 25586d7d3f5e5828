/** The sandbox's data-channel endpoint refuses bad clients clearly and stays up for good ones. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { OutputCollector, startFixture, type Fixture } from '../helpers/sandbox.js';

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
}

describe('sandbox data channel endpoint', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  const wsUrl = (sessionId: string) =>
    `${fx.sandbox.endpoint.replace('http', 'ws')}/v1/data-channel/${sessionId}`;

  it('answers 404 for an unknown session and closes bad open frames with a reason', async () => {
    const unknown = new WebSocket(wsUrl('sandbox-user-00000000000000000'));
    unknown.on('error', () => {});
    const status = await new Promise<number>((r) =>
      unknown.once('unexpected-response', (_q, res) => r(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
    unknown.terminate();

    const started = await fx.cp.startSession({ target: fx.instanceId });
    const cases: Array<[string | Buffer, RegExp]> = [
      [Buffer.from([1, 2, 3]), /must be the text open frame/],
      ['{not json', /malformed open frame/],
      [JSON.stringify({ MessageSchemaVersion: '1.0' }), /malformed open frame/],
      [JSON.stringify({ TokenValue: 'forged-token' }), /invalid or expired token/],
    ];
    for (const [frame, reason] of cases) {
      const ws = new WebSocket(started.streamUrl);
      await new Promise((r) => ws.once('open', r));
      const closed = closeOf(ws);
      ws.send(frame);
      const c = await closed;
      expect(c.code).toBe(1008);
      expect(c.reason).toMatch(reason);
    }
    await fx.cp.terminateSession(started.sessionId);
  });

  it('survives garbage frames from a client and keeps serving the session', async () => {
    const s = await fx.open();
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    // Garbage through a raw client on another session must not disturb this one.
    const started = await fx.cp.startSession({ target: fx.instanceId });
    const raw = new WebSocket(started.streamUrl);
    await new Promise((r) => raw.once('open', r));
    raw.send(
      JSON.stringify({
        MessageSchemaVersion: '1.0',
        RequestId: 'r',
        TokenValue: started.tokenValue,
        ClientId: 'c',
      }),
    );
    for (const junk of [Buffer.alloc(0), Buffer.from('garbage'), Buffer.alloc(5000, 0xff), Buffer.alloc(120)])
      raw.send(junk);
    await new Promise((r) => setTimeout(r, 200));
    const agent = fx.sandbox.dataChannel.session(started.sessionId);
    expect(agent).toBeDefined();
    expect(Object.values(agent!.stats.malformed).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    raw.terminate();
    // The other session was not disturbed.
    s.write('echo still-$((2*21))\r');
    await out.waitFor('still-42');
    await fx.cp.terminateSession(started.sessionId);
    await s.terminate();
  });
});
