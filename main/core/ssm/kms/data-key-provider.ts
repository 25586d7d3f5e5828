/**
 * Where an encrypted session's data key comes from: KMS GenerateDataKey for the key the agent
 * names, 64 bytes, with the encryption context the agent decrypts it with
 * (src/encryption/kmsservice.go and ProcessKMSEncryptionHandshakeAction in the reference plugin).
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import { DATA_KEY_BYTES } from './session-cipher.js';
import { loadKmsSdk } from '../lazy-client.js';
import { KmsError, describeKmsError } from './kms-errors.js';

export type EncryptionContext = Record<string, string>;

/** A fresh data key: the plaintext (only in memory, wiped by its user) and the ciphertext for the agent. */
export interface DataKey {
  /** The key's ARN as KMS reports it. */
  keyArn: string;
  plaintext: Buffer;
  ciphertext: Buffer;
}

export interface DataKeyProvider {
  /** A 64-byte data key under `keyId`; rejects with a KmsError naming the key and the fix. */
  generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey>;
}

/** The context the agent decrypts the session's data key with. */
export function sessionEncryptionContext(sessionId: string, targetId: string): EncryptionContext {
  return { 'aws:ssm:SessionId': sessionId, 'aws:ssm:TargetId': targetId };
}

/** Data keys from KMS through an SDK client (the control plane's, with its credentials, endpoint, proxy and retries). */
export class KmsDataKeyProvider implements DataKeyProvider {
  constructor(
    /** The client, made (and its SDK module loaded) on first use. */
    private readonly client: () => Promise<KMSClient>,
    /** For messages: the region the client calls. */
    private readonly region: string,
  ) {}

  async generateDataKey(keyId: string, context: EncryptionContext): Promise<DataKey> {
    let out;
    try {
      const [{ GenerateDataKeyCommand }, client] = await Promise.all([loadKmsSdk(), this.client()]);
      out = await client.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          NumberOfBytes: DATA_KEY_BYTES,
          EncryptionContext: context,
        }),
      );
    } catch (err) {
      throw describeKmsError(err, 'GenerateDataKey', keyId, this.region);
    }
    const plaintext = out.Plaintext ? Buffer.from(out.Plaintext) : undefined;
    out.Plaintext?.fill(0);
    if (!plaintext || plaintext.length !== DATA_KEY_BYTES || !out.CiphertextBlob?.length) {
      plaintext?.fill(0);
      throw new KmsError(
        'InvalidResponse',
        keyId,
        `KMS GenerateDataKey for key ${keyId} returned ${plaintext ? `a ${plaintext.length}-byte` : 'no'} data key${out.CiphertextBlob?.length ? '' : ' and no ciphertext'} (asked for ${DATA_KEY_BYTES} bytes); the KMS endpoint is not behaving as KMS does.`,
        false,
      );
    }
    return {
      keyArn: out.KeyId ?? keyId,
      plaintext,
      ciphertext: Buffer.from(out.CiphertextBlob),
    };
  }
}
