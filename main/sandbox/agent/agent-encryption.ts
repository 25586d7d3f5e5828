/**
 * The agent's side of a KMS-encrypted session, as amazon-ssm-agent does it: the data key the
 * client put in its HandshakeResponse is decrypted with KMS under the session's encryption
 * context (here in-process, as the instance's role), the agent challenges the client to prove
 * it holds the same key (EncChallengeRequest / EncChallengeResponse), then seals its Output,
 * StdErr and ExitCode with the first half of the key and opens the client's Output with the
 * second (core/ssm/kms/session-cipher.ts, role 'agent').
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  EncryptionChallengeSchema,
  KmsEncryptionResultSchema,
  parsePayload,
} from '../../core/ssm/handshake.js';
import { sessionEncryptionContext } from '../../core/ssm/kms/data-key-provider.js';
import { SessionCipher } from '../../core/ssm/kms/session-cipher.js';
import type { Disposable } from '../../core/util/lifecycle.js';
import { ApiError } from '../api/errors.js';
import type { SandboxKmsKeys } from '../api/kms-keys.js';

/** Random bytes in each challenge. */
export const CHALLENGE_BYTES = 64;

export interface EstablishInput {
  /** The ActionResult of the client's processed KMSEncryption action. */
  actionResult: unknown;
  /** The key the instance requires (its kmsKeyId). */
  requiredKeyId: string;
  sessionId: string;
  targetId: string;
  kms: SandboxKmsKeys | undefined;
}

export class AgentEncryption implements Disposable {
  private challenge: Buffer | undefined;

  private constructor(
    private readonly cipher: SessionCipher,
    /** The key the data key was generated under. */
    readonly keyArn: string,
  ) {}

  /**
   * Decrypt the client's data key and make the agent's cipher. Throws an Error whose message is
   * the reason to end the session with.
   */
  static establish(input: EstablishInput): AgentEncryption {
    const { kms, requiredKeyId } = input;
    if (!kms) {
      throw new Error(`the sandbox agent has no KMS to decrypt the session key (key ${requiredKeyId}) with`);
    }
    const result = KmsEncryptionResultSchema.safeParse(input.actionResult);
    if (!result.success) {
      throw new Error(
        'the client reported KMSEncryption as done but sent no KMSCipherTextKey (the encrypted data key) in its ActionResult',
      );
    }
    const blob = Buffer.from(result.data.KMSCipherTextKey, 'base64');
    const role = { arn: `arn:aws:sts::${kms.accountId}:assumed-role/SandboxInstanceRole/${input.targetId}` };
    let decrypted;
    let required;
    try {
      required = kms.resolveArn(requiredKeyId);
      decrypted = kms.decrypt(blob, sessionEncryptionContext(input.sessionId, input.targetId), role);
    } catch (err) {
      if (err instanceof ApiError) {
        throw new Error(
          `the instance could not decrypt the session key with KMS (${err.code}: ${err.message})`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    if (decrypted.keyArn !== required) {
      decrypted.plaintext.fill(0);
      throw new Error(
        `the client generated the session key under ${decrypted.keyArn}, but this instance requires ${required}`,
      );
    }
    try {
      return new AgentEncryption(SessionCipher.fromDataKey(decrypted.plaintext, 'agent'), decrypted.keyArn);
    } catch (err) {
      throw new Error(`the session key from the client is unusable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The EncChallengeRequest payload: fresh random bytes sealed with the agent's key, base64 in JSON. */
  challengeRequest(): Buffer {
    this.challenge?.fill(0);
    this.challenge = randomBytes(CHALLENGE_BYTES);
    return Buffer.from(JSON.stringify({ Challenge: this.cipher.encrypt(this.challenge).toString('base64') }));
  }

  /** Whether an EncChallengeResponse holds the challenge, sealed again with the client's key; the reason when not. */
  verify(payload: Buffer): { ok: true } | { ok: false; reason: string } {
    const expected = this.challenge;
    if (!expected) return { ok: false, reason: 'an encryption challenge response came before any challenge' };
    this.challenge = undefined;
    try {
      const response = parsePayload(EncryptionChallengeSchema, payload, 'encryption challenge response');
      const answer = this.cipher.decrypt(Buffer.from(response.Challenge, 'base64'));
      const ok = answer.length === expected.length && timingSafeEqual(answer, expected);
      answer.fill(0);
      return ok ? { ok: true } : { ok: false, reason: 'the answer does not match the challenge' };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    } finally {
      expected.fill(0);
    }
  }

  encrypt(plaintext: Uint8Array): Buffer {
    return this.cipher.encrypt(plaintext);
  }

  decrypt(sealed: Uint8Array): Buffer {
    return this.cipher.decrypt(sealed);
  }

  dispose(): void {
    this.challenge?.fill(0);
    this.challenge = undefined;
    this.cipher.dispose();
  }
}
