/**
 * What "delivered" means for input (StreamEndpoint.ackedThrough / lastSequence, which
 * DataChannel.whenDelivered and the paste window rely on): every message up to a sequence
 * number acknowledged, whatever order the acknowledgements come in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, PayloadType } from '../../../main/core/ssm/codec.js';
import { StreamEndpoint } from '../../../main/core/ssm/stream-endpoint.js';

describe('StreamEndpoint delivery', () => {
  const endpoints: StreamEndpoint[] = [];
  afterEach(() => {
    for (const e of endpoints.splice(0)) e.dispose();
  });

  function pair() {
    const toAgent: Buffer[] = [];
    const toClient: Buffer[] = [];
    const client = new StreamEndpoint(
      { sendType: MessageType.InputStreamData },
      { onStreamMessage: () => {} },
    );
    const agent = new StreamEndpoint(
      { sendType: MessageType.OutputStreamData },
      { onStreamMessage: () => {} },
    );
    endpoints.push(client, agent);
    client.attach({ send: (f) => toAgent.push(f) });
    agent.attach({ send: (f) => toClient.push(f) });
    return { client, agent, toAgent, toClient };
  }

  it('counts a sequence number delivered once it and every one before it are acknowledged', () => {
    const { client, agent, toAgent, toClient } = pair();
    expect(client.lastSequence).toBe(-1);
    expect(client.ackedThrough(-1)).toBe(true);
    for (const text of ['a', 'b', 'c']) client.send(PayloadType.Output, Buffer.from(text));
    expect(client.lastSequence).toBe(2);
    expect(client.ackedThrough(0)).toBe(false);
    // The agent gets 1 and 2 first (0 is late): it acknowledges both.
    const [m0, m1, m2] = toAgent.splice(0);
    agent.handleFrame(m1!);
    agent.handleFrame(m2!);
    for (const ack of toClient.splice(0)) client.handleFrame(ack);
    expect(client.ackedThrough(2)).toBe(false); // 0 is still out
    agent.handleFrame(m0!);
    for (const ack of toClient.splice(0)) client.handleFrame(ack);
    expect(client.ackedThrough(0)).toBe(true);
    expect(client.ackedThrough(2)).toBe(true);
    client.send(PayloadType.Output, Buffer.from('d'));
    expect(client.ackedThrough(2)).toBe(true); // a later message does not hold earlier ones up
    expect(client.ackedThrough(3)).toBe(false);
  });
});
