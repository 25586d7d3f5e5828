/**
 * The cipher of a KMS-encrypted Session Manager session, as the reference plugin's
 * src/encryption/encrypter.go: AES-256-GCM, each sealed message a 12-byte random nonce followed
 * by the ciphertext and its 16-byte tag, no additional authenticated data.
 *
 * The 64-byte data key from KMS GenerateDataKey is split in two halves: the agent encrypts with
 * the first and the client with the second, so the client decrypts with the first half and
 * encrypts with the second (the agent the other way round).
 *
 * Key material never leaves this object: it is not serialized (toJSON, util.inspect) and
 * `dispose` wipes it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { Disposable } from '../../util/lifecycle.js';

/** NumberOfBytes asked of GenerateDataKey: two AES-256 keys. */
export const DATA_KEY_BYTES = 64;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** What sealing adds to each payload. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export class CipherError extends Error {
  override readonly name = 'CipherError';
}

const ALGORITHM = 'aes-256-gcm';

/** nonce (12 random bytes) || AES-256-GCM ciphertext || tag. */
export function seal(key: Uint8Array, plaintext: Uint8Array): Buffer {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/** The plaintext of what `seal` made with the same key; a CipherError when it was made with another key or altered. */
export function open(key: Uint8Array, sealed: Uint8Array): Buffer {
  checkKey(key);
  if (sealed.length < SEAL_OVERHEAD) {
    throw new CipherError(
      `an encrypted payload is at least ${SEAL_OVERHEAD} bytes (nonce and tag), this one is ${sealed.length}`,
    );
  }
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  const out = decipher.update(body);
  try {
    return Buffer.concat([out, decipher.final()]);
  } catch {
    out.fill(0);
    throw new CipherError(
      'an encrypted payload failed authentication: it was encrypted with another key, or altered on the way',
    );
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) {
    throw new CipherError(`an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
}

/** Which end of the session this cipher is for: it decides which half of the data key encrypts. */
export type CipherRole = 'client' | 'agent';

export class SessionCipher implements Disposable {
  private disposed = false;

  private constructor(
    private readonly encryptKey: Buffer,
    private readonly decryptKey: Buffer,
  ) {}

  /**
   * The cipher for one end from the plaintext data key (64 bytes). The halves are copied and
   * the caller's buffer is wiped.
   */
  static fromDataKey(dataKey: Uint8Array, role: CipherRole): SessionCipher {
    if (dataKey.length !== DATA_KEY_BYTES) {
      dataKey.fill(0);
      throw new CipherError(
        `a session data key is ${DATA_KEY_BYTES} bytes (two AES-256 keys), got ${dataKey.length}`,
      );
    }
    const agentKey = Buffer.from(dataKey.subarray(0, KEY_BYTES));
    const clientKey = Buffer.from(dataKey.subarray(KEY_BYTES));
    dataKey.fill(0);
    return role === 'client'
      ? new SessionCipher(clientKey, agentKey)
      : new SessionCipher(agentKey, clientKey);
  }

  encrypt(plaintext: Uint8Array): Buffer {
    this.check();
    return seal(this.encryptKey, plaintext);
  }

  decrypt(sealed: Uint8Array): Buffer {
    this.check();
    return open(this.decryptKey, sealed);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private check(): void {
    if (this.disposed) throw new CipherError('the session cipher was disposed');
  }

  /** Wipe the keys. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.encryptKey.fill(0);
    this.decryptKey.fill(0);
  }

  toJSON(): string {
    return '[SessionCipher]';
  }

  [inspect.custom](): string {
    return '[SessionCipher]';
  }
}
