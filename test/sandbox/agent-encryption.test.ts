/**
 * The sandbox agent's side of KMS encryption: the client's data key decrypted with the
 * session's context and checked against the instance's key, the challenge and its verdict.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionEncryptionContext } from '../../main/core/ssm/kms/data-key-provider.js';
import { SessionCipher } from '../../main/core/ssm/kms/session-cipher.js';
import { AgentEncryption, CHALLENGE_BYTES } from '../../main/sandbox/agent/agent-encryption.js';
import { DEFAULT_KMS_ALIAS, SandboxKmsKeys, defaultKmsKeys } from '../../main/sandbox/api/kms-keys.js';

const SESSION = 'sandbox-user-0123456789abcdef0';
const TARGET = 'i-0b5bb7865829a72f8';
const user = { arn: 'arn:aws:iam::123456789012:user/sandbox-user' };

function setup(keyRef = DEFAULT_KMS_ALIAS, context = sessionEncryptionContext(SESSION, TARGET)) {
  const kms = new SandboxKmsKeys('us-east-1', '123456789012', [
    ...defaultKmsKeys(),
    { aliases: ['alias/other'] },
    { aliases: ['alias/no-decrypt'], deny: ['kms:Decrypt'] },
  ]);
  const dataKey = kms.generateDataKey(keyRef, 64, context, user);
  const client = SessionCipher.fromDataKey(Buffer.from(dataKey.plaintext), 'client');
  const input = {
    actionResult: { KMSCipherTextKey: dataKey.ciphertext.toString('base64') },
    requiredKeyId: DEFAULT_KMS_ALIAS,
    sessionId: SESSION,
    targetId: TARGET,
    kms,
  };
  return { kms, client, input };
}

/** What a client does with a challenge: open it, seal it again with its own key. */
function answer(client: SessionCipher, request: Buffer): Buffer {
  const { Challenge } = JSON.parse(request.toString()) as { Challenge: string };
  const challenge = client.decrypt(Buffer.from(Challenge, 'base64'));
  expect(challenge).toHaveLength(CHALLENGE_BYTES);
  return Buffer.from(JSON.stringify({ Challenge: client.encrypt(challenge).toString('base64') }));
}

describe('AgentEncryption', () => {
  it("accepts the client's answer, then shares the session key both ways", () => {
    const { client, input } = setup();
    const agent = AgentEncryption.establish(input);
    expect(agent.verify(answer(client, agent.challengeRequest()))).toEqual({ ok: true });
    expect(client.decrypt(agent.encrypt(Buffer.from('output'))).toString()).toBe('output');
    expect(agent.decrypt(client.encrypt(Buffer.from('input'))).toString()).toBe('input');
    agent.dispose();
  });

  it('refuses a wrong answer, an answer sealed with the wrong half, and a replayed answer', () => {
    const { client, input } = setup();
    const agent = AgentEncryption.establish(input);
    const wrong = Buffer.from(
      JSON.stringify({ Challenge: client.encrypt(randomBytes(CHALLENGE_BYTES)).toString('base64') }),
    );
    agent.challengeRequest();
    expect(agent.verify(wrong)).toEqual({ ok: false, reason: 'the answer does not match the challenge' });

    const request = agent.challengeRequest();
    const { Challenge } = JSON.parse(request.toString()) as { Challenge: string };
    // Echoing the challenge back (sealed with the agent's half) proves nothing.
    const echoed = Buffer.from(JSON.stringify({ Challenge }));
    expect(agent.verify(echoed)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/failed authentication/),
    });

    const good = answer(client, agent.challengeRequest());
    expect(agent.verify(good)).toEqual({ ok: true });
    expect(agent.verify(good)).toEqual({
      ok: false,
      reason: 'an encryption challenge response came before any challenge',
    });
    expect(agent.verify(Buffer.from('not json'))).toMatchObject({ ok: false });
  });

  it('refuses a data key made for another session, under another key, or without a ciphertext', () => {
    const otherSession = setup(
      DEFAULT_KMS_ALIAS,
      sessionEncryptionContext('sandbox-user-fffffffffffffffff', TARGET),
    );
    expect(() => AgentEncryption.establish(otherSession.input)).toThrow(
      /could not decrypt the session key with KMS \(InvalidCiphertextException/,
    );
    const otherKey = setup('alias/other');
    expect(() => AgentEncryption.establish(otherKey.input)).toThrow(
      /generated the session key under arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]+, but this instance requires arn:aws:kms:us-east-1:123456789012:key\/5a9b3c1e/,
    );
    const { input } = setup();
    expect(() => AgentEncryption.establish({ ...input, actionResult: null })).toThrow(
      /sent no KMSCipherTextKey/,
    );
    expect(() => AgentEncryption.establish({ ...input, kms: undefined })).toThrow(/has no KMS/);
  });

  it('names the instance role when it may not decrypt the key', () => {
    const { input } = setup('alias/no-decrypt');
    expect(() => AgentEncryption.establish({ ...input, requiredKeyId: 'alias/no-decrypt' })).toThrow(
      `the instance could not decrypt the session key with KMS (AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/SandboxInstanceRole/${TARGET} is not authorized to perform: kms:Decrypt`,
    );
  });
});
