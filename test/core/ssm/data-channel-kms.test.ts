/**
 * KMS encryption in the client data channel, against a scripted agent on a loopback WebSocket
 * that does the agent's side with the real cipher: the data key asked of KMS with the session's
 * context, the HandshakeResponse's ciphertext key, the encryption challenge, sealed keystrokes
 * and opened output, reconnection, and every way it can fail (each ends the session with a
 * message, none hangs).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { MessageType, PayloadType } from '../../../main/core/ssm/codec.js';
import { DataChannel, type DataChannelError } from '../../../main/core/ssm/data-channel.js';
import type {
  DataKey,
  DataKeyProvider,
  EncryptionContext,
} from '../../../main/core/ssm/kms/data-key-provider.js';
import { KmsError } from '../../../main/core/ssm/kms/kms-errors.js';
import { SEAL_OVERHEAD, SessionCipher } from '../../../main/core/ssm/kms/session-cipher.js';
import { StreamEndpoint } from '../../../main/core/ssm/stream-endpoint.js';

/** Data keys kept in memory, so the scripted agent can "decrypt" the ciphertext it is handed. */
class MemoryKms implements DataKeyProvider {
  readonly calls: Array<{ keyId: string; context: EncryptionContext }> = [];
  private readonly issued = new Map<string, Buffer>();
  failure: Error | undefined;
  delayMs = 0;
  /** Hand the client a plaintext other than the one the agent gets (a broken KMS). */
  corruptPlaintext = false;

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    this.calls.push({ keyId, context });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failure) throw this.failure;
    const plaintext = randomBytes(64);
    const ciphertext = randomBytes(48);
    this.issued.set(ciphertext.toString('base64'), Buffer.from(plaintext));
    if (this.corruptPlaintext) plaintext[0]! ^= 0xff;
    return { keyArn: `arn:aws:kms:us-east-1:123456789012:${keyId}`, plaintext, ciphertext };
  }

  /** The agent's KMS Decrypt. */
  decrypt(ciphertextBase64: string): Buffer {
    const key = this.issued.get(ciphertextBase64);
    if (!key) throw new Error('unknown ciphertext');
    return Buffer.from(key);
  }
}

interface Input {
  type: number;
  payload: Buffer;
}

/** An agent that asks for KMS encryption with `keyId` and does its side of it. */
async function encryptingAgent(kms: MemoryKms, keyId = 'alias/ssm', opts: { badChallenge?: boolean } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  const inputs: Input[] = [];
  const keystrokes: string[] = [];
  let cipher: SessionCipher | undefined;
  let challenge: Buffer | undefined;
  const endpoint: StreamEndpoint = new StreamEndpoint(
    { sendType: MessageType.OutputStreamData },
    {
      onStreamMessage: (m) => {
        inputs.push({ type: m.payloadType, payload: m.payload });
        if (m.payloadType === PayloadType.HandshakeResponse) {
          const response = JSON.parse(m.payload.toString()) as {
            ProcessedClientActions: Array<{
              ActionType: string;
              ActionStatus: number;
              ActionResult?: { KMSCipherTextKey: string };
            }>;
          };
          const action = response.ProcessedClientActions.find((a) => a.ActionType === 'KMSEncryption');
          if (action?.ActionStatus !== 1) return;
          cipher = SessionCipher.fromDataKey(kms.decrypt(action.ActionResult!.KMSCipherTextKey), 'agent');
          challenge = randomBytes(64);
          const sealed = opts.badChallenge
            ? SessionCipher.fromDataKey(randomBytes(64), 'agent').encrypt(challenge)
            : cipher.encrypt(challenge);
          endpoint.send(
            PayloadType.EncChallengeRequest,
            Buffer.from(JSON.stringify({ Challenge: sealed.toString('base64') })),
          );
        } else if (m.payloadType === PayloadType.EncChallengeResponse) {
          const answer = JSON.parse(m.payload.toString()) as { Challenge: string };
          const ok = cipher!.decrypt(Buffer.from(answer.Challenge, 'base64')).equals(challenge!);
          if (ok)
            endpoint.send(
              PayloadType.HandshakeComplete,
              Buffer.from('{"HandshakeTimeToComplete":1,"CustomerMessage":""}'),
            );
        } else if (m.payloadType === PayloadType.Output) {
          keystrokes.push(cipher!.decrypt(m.payload).toString());
        }
      },
    },
  );
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.once('message', () => {
      ws.on('message', (data, isBinary) => isBinary && endpoint.handleFrame(data as Buffer));
      endpoint.attach({ send: (f) => ws.send(f) });
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/v1/data-channel/s-1`,
    sockets,
    inputs,
    keystrokes,
    endpoint,
    requestEncryption(extra: unknown[] = []) {
      endpoint.send(
        PayloadType.HandshakeRequest,
        Buffer.from(
          JSON.stringify({
            AgentVersion: '3.3.1142.0',
            RequestedClientActions: [
              { ActionType: 'SessionType', ActionParameters: { SessionType: 'Standard_Stream' } },
              { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: keyId } },
              ...extra,
            ],
          }),
        ),
      );
    },
    /** Agent output, sealed as the real agent seals it. */
    send(type: number, text: string) {
      endpoint.send(type, cipher!.encrypt(Buffer.from(text)));
    },
    async close() {
      endpoint.dispose();
      for (const s of sockets) s.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(kms: MemoryKms, opts: { badChallenge?: boolean } = {}) {
  const agent = await encryptingAgent(kms, 'alias/ssm', opts);
  cleanup.push(() => agent.close());
  const dc = new DataChannel({
    streamUrl: agent.url,
    tokenValue: 't',
    sessionId: 's-1',
    encryption: { dataKeys: kms, targetId: 'i-0123456789abcdef0' },
  });
  cleanup.push(() => dc.dispose());
  await dc.open();
  return { agent, dc };
}

describe('DataChannel with KMS encryption', () => {
  it('gets a data key for the session, answers the challenge, seals keystrokes and opens output', async () => {
    const kms = new MemoryKms();
    const { agent, dc } = await setup(kms);
    agent.requestEncryption();
    const info = await dc.waitReady(5000);
    expect(info).toMatchObject({ encrypted: true, kmsKeyId: 'alias/ssm', sessionType: 'Standard_Stream' });
    expect(dc.encrypted).toBe(true);
    expect(kms.calls).toEqual([
      {
        keyId: 'alias/ssm',
        context: { 'aws:ssm:SessionId': 's-1', 'aws:ssm:TargetId': 'i-0123456789abcdef0' },
      },
    ]);
    const response = JSON.parse(agent.inputs[0]!.payload.toString()) as {
      ProcessedClientActions: unknown[];
      Errors?: unknown;
    };
    expect(response.ProcessedClientActions[1]).toEqual({
      ActionType: 'KMSEncryption',
      ActionStatus: 1,
      ActionResult: { KMSCipherTextKey: expect.stringMatching(/^[A-Za-z0-9+/]{64}$/) },
    });
    expect(response.Errors).toBeUndefined();
    expect(agent.inputs[1]!.type).toBe(PayloadType.EncChallengeResponse);

    dc.write('whoami\r');
    dc.resize(100, 30);
    dc.sendFlag(1);
    await dc.waitForAcks(2000);
    expect(agent.keystrokes).toEqual(['whoami\r']);
    const typed = agent.inputs.find((i) => i.type === PayloadType.Output)!;
    expect(typed.payload.length).toBe('whoami\r'.length + SEAL_OVERHEAD);
    expect(typed.payload.toString('latin1')).not.toContain('whoami');
    // Only Output is sealed: the size and flags go as they are.
    expect(JSON.parse(agent.inputs.find((i) => i.type === PayloadType.Size)!.payload.toString())).toEqual({
      cols: 100,
      rows: 30,
    });
    expect(agent.inputs.find((i) => i.type === PayloadType.Flag)!.payload.readUInt32BE(0)).toBe(1);

    const out: string[] = [];
    const err: string[] = [];
    dc.onOutput((b) => out.push(b.toString()));
    dc.onStderr((b) => err.push(b.toString()));
    agent.send(PayloadType.Output, 'ssm-user\r\n');
    agent.send(PayloadType.StdErr, 'warning\n');
    agent.send(PayloadType.ExitCode, 'EXIT_CODE: 3');
    await until('output', () => dc.exitCode !== undefined);
    expect(out.join('')).toBe('ssm-user\r\n');
    expect(err.join('')).toBe('warning\n');
    expect(dc.exitCode).toBe(3);
  });

  it('holds keystrokes typed while KMS answers, and sends them sealed after the response', async () => {
    const kms = new MemoryKms();
    kms.delayMs = 200;
    const { agent, dc } = await setup(kms);
    agent.requestEncryption();
    await until('the KMS call', () => kms.calls.length === 1);
    dc.write('early\r');
    await dc.waitReady(5000);
    await dc.waitForAcks(2000);
    expect(agent.inputs.map((i) => i.type)).toEqual([
      PayloadType.HandshakeResponse,
      PayloadType.Output,
      PayloadType.EncChallengeResponse,
    ]);
    expect(agent.keystrokes).toEqual(['early\r']);
  });

  it('stays encrypted with the same key across a reconnect', async () => {
    const kms = new MemoryKms();
    const { agent, dc } = await setup(kms);
    agent.requestEncryption();
    await dc.waitReady(5000);
    const dropped = new Promise((r) => dc.onDisconnected(r));
    agent.sockets[0]!.terminate();
    await dropped;
    dc.write('typed while down\r');
    await dc.reconnect();
    const out: string[] = [];
    dc.onOutput((b) => out.push(b.toString()));
    agent.send(PayloadType.Output, 'after reconnect');
    await until('output after the reconnect', () => out.join('') === 'after reconnect');
    await dc.waitForAcks(2000);
    expect(agent.keystrokes).toEqual(['typed while down\r']);
    expect(kms.calls).toHaveLength(1);
    expect(agent.inputs.filter((i) => i.type === PayloadType.HandshakeResponse)).toHaveLength(1);
  });

  it('ends the session with the KMS error, and tells the agent, when KMS refuses the data key', async () => {
    const kms = new MemoryKms();
    kms.failure = new KmsError(
      'AccessDeniedException',
      'alias/ssm',
      'KMS denied kms:GenerateDataKey on key arn:aws:kms:us-east-1:123456789012:key/k for arn:aws:iam::123456789012:user/u: allow it.',
      false,
    );
    const { agent, dc } = await setup(kms);
    agent.requestEncryption();
    const failure = (await dc.waitReady(5000).catch((e: unknown) => e)) as DataChannelError;
    expect(failure.code).toBe('encryption_failed');
    expect(failure.message).toMatch(
      /^KMS denied kms:GenerateDataKey on key arn:aws:kms:.*key\/k for arn:aws:iam::123456789012:user\/u/,
    );
    expect(dc.closed).toMatchObject({ cause: 'encryption_failed' });
    await until('the handshake response', () => agent.inputs.length > 0);
    const response = JSON.parse(agent.inputs[0]!.payload.toString()) as {
      ProcessedClientActions: Array<Record<string, unknown>>;
      Errors: string[];
    };
    expect(response.ProcessedClientActions[1]).toMatchObject({
      ActionType: 'KMSEncryption',
      ActionStatus: 2,
      Error: expect.stringMatching(/^Failed to process action KMSEncryption: KMS denied kms:GenerateDataKey/),
    });
    expect(response.Errors).toHaveLength(1);
  });

  it('ends the session at once, naming the key, when the challenge does not decrypt', async () => {
    for (const variant of ['agent seals with another key', 'KMS gave the client another key'] as const) {
      const kms = new MemoryKms();
      kms.corruptPlaintext = variant === 'KMS gave the client another key';
      const { agent, dc } = await setup(kms, { badChallenge: variant === 'agent seals with another key' });
      agent.requestEncryption();
      const failure = (await dc.waitReady(5000).catch((e: unknown) => e)) as DataChannelError;
      expect(failure.code, variant).toBe('encryption_failed');
      expect(failure.message, variant).toMatch(
        /encryption challenge did not decrypt with the data key KMS generated under key alias\/ssm .*failed authentication/,
      );
      expect(
        agent.inputs.some((i) => i.type === PayloadType.EncChallengeResponse),
        variant,
      ).toBe(false);
    }
  });

  it('ends the session when output from the agent does not decrypt', async () => {
    const kms = new MemoryKms();
    const { agent, dc } = await setup(kms);
    agent.requestEncryption();
    await dc.waitReady(5000);
    const out: Buffer[] = [];
    dc.onOutput((b) => out.push(b));
    const closed = new Promise((r) => dc.onClosed(r));
    agent.endpoint.send(PayloadType.Output, Buffer.from('plaintext the agent should have sealed'));
    await expect(closed).resolves.toMatchObject({
      cause: 'encryption_failed',
      reason: expect.stringMatching(
        /payload type 1, sequence 3\) did not decrypt with the session's KMS data key \(key alias\/ssm\)/,
      ),
    });
    expect(out).toEqual([]);
  });

  it('without a key provider, refuses a session that requires KMS, naming the key', async () => {
    const kms = new MemoryKms();
    const agent = await encryptingAgent(kms);
    cleanup.push(() => agent.close());
    const dc = new DataChannel({ streamUrl: agent.url, tokenValue: 't', sessionId: 's-1' });
    cleanup.push(() => dc.dispose());
    await dc.open();
    agent.requestEncryption();
    await expect(dc.waitReady(5000)).rejects.toThrow(/requires KMS encryption with key alias\/ssm/);
    expect(kms.calls).toEqual([]);
  });
});
