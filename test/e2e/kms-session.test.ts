/**
 * KMS-encrypted sessions end to end against the sandbox (its KMS and its agent doing the
 * agent's side): a shell whose input and output cross the wire sealed (watched by a relay in
 * the data-channel path that decodes every frame), that survives a dropped socket still
 * encrypted, a port forward, and the failures: KMS denying the client's GenerateDataKey, the
 * instance's role denied kms:Decrypt, a client whose key does not match the session.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { decodeMessage, MessageType, PayloadType, type ClientMessage } from '../../main/core/ssm/codec.js';
import type { DataKeyProvider } from '../../main/core/ssm/kms/data-key-provider.js';
import { PortForward } from '../../main/core/ssm/port/port-forward.js';
import { DEFAULT_KMS_ALIAS } from '../../main/sandbox/api/kms-keys.js';
import { OutputCollector, startFixture, type Fixture } from '../helpers/sandbox.js';

interface Frame {
  direction: 'to-agent' | 'to-client';
  message: ClientMessage;
}

/**
 * A WebSocket relay between the client and the sandbox's data channel (the instance's
 * dataChannelEndpoint points here): every binary frame each way is decoded and kept.
 */
async function recordingRelay(upstreamBase: string) {
  const frames: Frame[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const sockets = new Set<WebSocket>();
  const record = (direction: Frame['direction'], data: Buffer): void => {
    try {
      frames.push({ direction, message: decodeMessage(data) });
    } catch {
      // not a message frame (cannot happen with a healthy peer); the test looks only at messages
    }
  };
  wss.on('connection', (client, req) => {
    const upstream = new WebSocket(`${upstreamBase}${req.url ?? ''}`, { perMessageDeflate: false });
    sockets.add(client).add(upstream);
    const pending: Array<{ data: Buffer; isBinary: boolean }> = [];
    const end = (): void => {
      client.terminate();
      upstream.terminate();
    };
    client.on('message', (data: Buffer, isBinary) => {
      if (isBinary) record('to-agent', data);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else pending.push({ data, isBinary });
    });
    upstream.on('open', () => {
      for (const p of pending.splice(0)) upstream.send(p.data, { binary: p.isBinary });
    });
    upstream.on('message', (data: Buffer, isBinary) => {
      if (isBinary) record('to-client', data);
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    for (const ws of [client, upstream]) {
      ws.on('close', end);
      ws.on('error', end);
    }
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    frames,
    /** Stream payloads of a type sent one way (acknowledgements and control messages left out). */
    payloads(direction: Frame['direction'], payloadType: number): Buffer[] {
      const type = direction === 'to-agent' ? MessageType.InputStreamData : MessageType.OutputStreamData;
      return frames
        .filter(
          (f) =>
            f.direction === direction &&
            f.message.messageType === type &&
            f.message.payloadType === payloadType,
        )
        .map((f) => f.message.payload);
    },
    async close() {
      for (const s of sockets) s.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

let fx: Fixture;
let relay: Awaited<ReturnType<typeof recordingRelay>>;
const servers: net.Server[] = [];

beforeAll(async () => {
  fx = await startFixture({
    kmsKeys: [
      { aliases: ['alias/locked'], deny: ['kms:GenerateDataKey'] },
      { aliases: ['alias/agent-denied'], deny: ['kms:Decrypt'] },
    ],
  });
  relay = await recordingRelay(fx.sandbox.endpoint.replace(/^http/, 'ws'));
});
afterEach(() => {
  fx.sandbox.fleet.update(fx.instanceId, { kmsKeyId: undefined, dataChannelEndpoint: null });
  for (const s of servers.splice(0)) s.close();
});
afterAll(async () => {
  await relay.close();
  await fx.close();
});

function requireKms(kmsKeyId: string, viaRelay = false): void {
  fx.sandbox.fleet.update(fx.instanceId, {
    kmsKeyId,
    ...(viaRelay ? { dataChannelEndpoint: relay.url } : {}),
  });
}

const text = (b: Buffer): string => b.toString('latin1');

describe('KMS-encrypted shell sessions', () => {
  it('runs a shell whose input and output cross the wire sealed, and stays encrypted after a dropped socket', async () => {
    requireKms(DEFAULT_KMS_ALIAS, true);
    const s = await fx.open({ reconnect: { baseDelayMs: 20, maxDelayMs: 200 } });
    expect(s.handshake).toMatchObject({ encrypted: true, kmsKeyId: DEFAULT_KMS_ALIAS });
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    s.write('echo "SEA""LED-"$((6*7))\r');
    await out.waitFor('SEALED-42');

    // The challenge went both ways, and no keystroke or output byte crossed in the clear.
    expect(relay.payloads('to-client', PayloadType.EncChallengeRequest)).toHaveLength(1);
    expect(relay.payloads('to-agent', PayloadType.EncChallengeResponse)).toHaveLength(1);
    const typed = relay.payloads('to-agent', PayloadType.Output);
    const shown = relay.payloads('to-client', PayloadType.Output);
    expect(typed.length).toBeGreaterThan(0);
    expect(shown.length).toBeGreaterThan(0);
    expect(typed.map(text).join('')).not.toContain('SEA');
    expect(shown.map(text).join('')).not.toMatch(/SEALED|ssm-user/);
    // Each sealed payload is its plaintext plus nonce and tag: keystrokes sent one by one are 29 bytes.
    expect(typed.every((p) => p.length >= 29)).toBe(true);

    const before = relay.frames.length;
    fx.sandbox.faults.dropSockets(s.sessionId);
    await new Promise((r) => setTimeout(r, 300));
    s.write('echo "AF""TER-"$((7*7))\r');
    await out.waitFor('AFTER-49', 30_000);
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    const later = relay.frames.slice(before);
    expect(later.some((f) => f.message.payloadType === PayloadType.HandshakeRequest)).toBe(false);
    const laterOutput = later.filter(
      (f) =>
        f.message.payloadType === PayloadType.Output && f.message.messageType !== MessageType.Acknowledge,
    );
    expect(laterOutput.length).toBeGreaterThan(0);
    expect(laterOutput.map((f) => text(f.message.payload)).join('')).not.toMatch(/AFTER|AF""TER/);
    await s.terminate();
  }, 60_000);

  it('runs a non-interactive command: stdout, stderr and the exit status decrypted', async () => {
    requireKms(DEFAULT_KMS_ALIAS);
    const s = await fx.open({
      documentName: 'AWS-StartNonInteractiveCommand',
      parameters: { command: ['echo out-$((1+1)); echo err-$((2+2)) >&2; exit 7'] },
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    s.onOutput((b) => stdout.push(b));
    s.onStderr((b) => stderr.push(b));
    const closed = await new Promise<{ exitCode: number | undefined }>((r) => s.onClosed(r));
    expect(Buffer.concat(stdout).toString()).toBe('out-2\n');
    expect(Buffer.concat(stderr).toString()).toBe('err-4\n');
    expect(closed.exitCode).toBe(7);
  }, 30_000);

  it('forwards a port to an encrypted instance', async () => {
    requireKms(DEFAULT_KMS_ALIAS);
    const echo = net.createServer((c) => {
      c.on('error', () => undefined);
      c.pipe(c);
    });
    servers.push(echo);
    const port = await new Promise<number>((r) =>
      echo.listen(0, '127.0.0.1', () => r((echo.address() as AddressInfo).port)),
    );
    const f = await PortForward.open({ controlPlane: fx.cp, target: fx.instanceId, remotePort: port });
    try {
      const payload = Buffer.alloc(256 * 1024, 7).fill('encrypted forward ', 0, 18);
      const back = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let got = 0;
        const c = net.connect({ host: '127.0.0.1', port: f.localPort }, () => c.write(payload));
        c.on('data', (d: Buffer) => {
          chunks.push(d);
          got += d.length;
          if (got >= payload.length) {
            c.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        c.on('error', reject);
      });
      expect(back.equals(payload)).toBe(true);
    } finally {
      await f.close();
    }
  }, 60_000);
});

describe('KMS encryption failures', () => {
  it('refuses with a message naming the key, the permission and the identity when KMS denies GenerateDataKey', async () => {
    requireKms('alias/locked');
    const keyArn = fx.sandbox.kms.resolveArn('alias/locked');
    const earlier = new Set(fx.sandbox.registry.list('History').map((h) => h.sessionId));
    const err = (await fx.open().catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.message).toBe(
      `KMS denied kms:GenerateDataKey on key ${keyArn} for arn:aws:iam::123456789012:user/sandbox-user: ` +
        "allow kms:GenerateDataKey on that key for this identity (Session Manager's KMS encryption needs it), " +
        'or turn off KMS encryption in the Session Manager preferences.',
    );
    expect(err.code).toBe('encryption_failed');
    // The session does not linger on the service: the agent ends it on the failed action (or
    // the client's TerminateSession gets there first).
    const ended = fx.sandbox.registry.list('History').filter((h) => !earlier.has(h.sessionId));
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ status: 'Terminated', target: fx.instanceId });
    expect(ended[0]!.details).toMatch(
      /client did not complete it \(Failed to process action KMSEncryption: KMS denied|TerminateSession was called/,
    );
    expect(fx.sandbox.registry.list('Active').filter((a) => a.target === fx.instanceId)).toEqual([]);
  });

  it('names a key that does not exist', async () => {
    requireKms('arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000');
    await expect(fx.open()).rejects.toThrow(
      /KMS key arn:aws:kms:us-east-1:123456789012:key\/00000000-0000-4000-8000-000000000000, which the Session Manager preferences require .* was not found in us-east-1/,
    );
  });

  it("ends the session with the agent's reason when the instance role may not decrypt the key", async () => {
    requireKms('alias/agent-denied');
    await expect(fx.open()).rejects.toThrow(
      new RegExp(
        `KMS encryption with key alias/agent-denied could not be set up: the instance could not decrypt the session key with KMS \\(AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/SandboxInstanceRole/${fx.instanceId} is not authorized to perform: kms:Decrypt`,
      ),
    );
  });

  it('ends the session when the client holds a different key than the one it sent the agent', async () => {
    requireKms(DEFAULT_KMS_ALIAS);
    // A client whose data key is not the one KMS sealed for the agent (a broken KMS path).
    const broken: DataKeyProvider = {
      async generateDataKey(keyId, context) {
        const key = await fx.cp.kmsDataKeys.generateDataKey(keyId, context);
        key.plaintext[40]! ^= 0x01;
        return key;
      },
    };
    const started = Date.now();
    await expect(
      fx.open({ dataChannel: { encryption: { dataKeys: broken, targetId: fx.instanceId } } }),
    ).rejects.toThrow(/encryption challenge did not decrypt|answer to the encryption challenge is wrong/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
