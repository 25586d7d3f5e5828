/**
 * The sandbox's KMS keys: symmetric keys with aliases, their state, and per-key conditions for
 * fault tests (`deny`: actions every caller is refused on the key, with AWS's AccessDenied text).
 * Each key has its own random 256-bit material, made at start and never exported.
 *
 * Ciphertext blobs (what GenerateDataKey returns and Decrypt takes) are sealed as KMS's are:
 * they name their key, and they open only with the encryption context they were made with
 * (AES-256-GCM under the key's material, the canonical context as additional data).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from './errors.js';

export const KMS_KEY_STATES = ['Enabled', 'Disabled', 'PendingDeletion'] as const;
export type KmsKeyState = (typeof KMS_KEY_STATES)[number];
/** Actions a key's `deny` condition can refuse. */
export const KMS_DENIABLE_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey'] as const;
export type KmsDeniableAction = (typeof KMS_DENIABLE_ACTIONS)[number];

/** The key every sandbox has: `alias/sandbox-session`. */
export const DEFAULT_KMS_KEY_ID = '5a9b3c1e-7d2f-4e8a-9b6c-0d1e2f3a4b5c';
export const DEFAULT_KMS_ALIAS = 'alias/sandbox-session';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALIAS_RE = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/** A key as a fleet file, `startSandbox({ kmsKeys })` or the admin API give it. */
export const kmsKeySpecSchema = z.strictObject({
  keyId: z
    .string()
    .regex(UUID_RE, {
      error: 'expected a key id: a lower-case UUID like "1234abcd-12ab-34cd-56ef-1234567890ab"',
    })
    .optional(),
  aliases: z
    .array(
      z.string().regex(ALIAS_RE, {
        error: 'expected an alias name like "alias/my-key" (letters, digits, /, _ and -)',
      }),
    )
    .optional(),
  description: z.string().max(8192).optional(),
  keyState: z.enum(KMS_KEY_STATES).optional(),
  /** Every caller is refused these actions on the key (AccessDeniedException, as an IAM policy without them). */
  deny: z.array(z.enum(KMS_DENIABLE_ACTIONS)).optional(),
});
export type KmsKeySpec = z.infer<typeof kmsKeySpecSchema>;

/** A change to an existing key (admin API): any field but keyId. */
export const kmsKeyPatchSchema = kmsKeySpecSchema.omit({ keyId: true });
export type KmsKeyPatch = z.infer<typeof kmsKeyPatchSchema>;

/** A key as the sandbox reports it (never its material). */
export interface KmsKeyInfo {
  keyId: string;
  arn: string;
  aliases: string[];
  description: string;
  keyState: KmsKeyState;
  deny: KmsDeniableAction[];
  creationDate: string;
}

interface KmsKey extends Omit<KmsKeyInfo, 'creationDate'> {
  creationDate: Date;
  material: Buffer;
}

export function defaultKmsKeys(): KmsKeySpec[] {
  return [
    {
      keyId: DEFAULT_KMS_KEY_ID,
      aliases: [DEFAULT_KMS_ALIAS],
      description: 'Session Manager session encryption (sandbox default key)',
    },
  ];
}

export type EncryptionContext = Record<string, string>;

const BLOB_MAGIC = Buffer.from('SBKMS1', 'ascii');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 36;

/** Context as additional data: the same pairs in any order give the same bytes. */
function contextBytes(keyId: string, context: EncryptionContext): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(`${keyId}\n${JSON.stringify(sorted)}`, 'utf8');
}

function invalidCiphertext(): ApiError {
  // AWS says nothing more; the reason here helps whoever debugs against the sandbox.
  return new ApiError(
    'InvalidCiphertextException',
    'The ciphertext is not a KMS ciphertext blob of this account, or the encryption context differs from the one it was encrypted with.',
  );
}

export interface KmsCaller {
  /** The ARN AccessDenied messages name. */
  arn: string;
}

export class SandboxKmsKeys {
  private readonly keys = new Map<string, KmsKey>();

  constructor(
    readonly region: string,
    readonly accountId: string,
    specs: KmsKeySpec[] = defaultKmsKeys(),
    private readonly now: () => number = Date.now,
  ) {
    specs.forEach((spec, index) => {
      try {
        this.put(spec);
      } catch (err) {
        throw new Error(
          `Sandbox KMS: key ${index + 1} (${spec.keyId ?? spec.aliases?.[0] ?? 'no id'}): ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    });
  }

  private arnOf(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  private aliasArn(alias: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${alias}`;
  }

  list(): KmsKeyInfo[] {
    return [...this.keys.values()].map(info);
  }

  /** Add a key, or replace the one with the same keyId (keeping its material). Validated. */
  put(input: unknown): KmsKeyInfo {
    const spec = parseSpec(kmsKeySpecSchema, input);
    const keyId = spec.keyId ?? randomUUID();
    const existing = this.keys.get(keyId);
    const aliases = [...new Set(spec.aliases ?? [])];
    this.checkAliases(keyId, aliases);
    const key: KmsKey = {
      keyId,
      arn: this.arnOf(keyId),
      aliases,
      description: spec.description ?? '',
      keyState: spec.keyState ?? 'Enabled',
      deny: [...new Set(spec.deny ?? [])],
      creationDate: existing?.creationDate ?? new Date(this.now()),
      material: existing?.material ?? randomBytes(32),
    };
    this.keys.set(keyId, key);
    return info(key);
  }

  /** Change a key named by id, ARN, alias or alias ARN. */
  update(ref: string, input: unknown): KmsKeyInfo {
    const patch = parseSpec(kmsKeyPatchSchema, input);
    const key = this.resolve(ref);
    if (patch.aliases) {
      const aliases = [...new Set(patch.aliases)];
      this.checkAliases(key.keyId, aliases);
      key.aliases = aliases;
    }
    if (patch.description !== undefined) key.description = patch.description;
    if (patch.keyState !== undefined) key.keyState = patch.keyState;
    if (patch.deny !== undefined) key.deny = [...new Set(patch.deny)];
    return info(key);
  }

  private checkAliases(keyId: string, aliases: string[]): void {
    for (const alias of aliases) {
      if (alias.startsWith('alias/aws/')) {
        throw new Error(`alias ${alias} is reserved for AWS managed keys (alias/aws/...)`);
      }
      for (const other of this.keys.values()) {
        if (other.keyId !== keyId && other.aliases.includes(alias)) {
          throw new Error(`alias ${alias} already names key ${other.keyId}`);
        }
      }
    }
  }

  /** The ARN of the key a KeyId parameter names (key id, key ARN, alias or alias ARN); NotFoundException otherwise. */
  resolveArn(ref: string): string {
    return this.resolve(ref).arn;
  }

  /** The key for a KeyId parameter: a key id, key ARN, alias name or alias ARN; NotFoundException otherwise. */
  private resolve(ref: string): KmsKey {
    const arn = /^arn:aws:kms:([^:]*):([^:]*):(key\/.+|alias\/.+)$/.exec(ref);
    let name = ref;
    if (arn) {
      if (arn[1] !== this.region || arn[2] !== this.accountId) throw notFound(ref);
      name = arn[3]!;
    }
    if (name.startsWith('alias/')) {
      for (const key of this.keys.values()) if (key.aliases.includes(name)) return key;
      throw new ApiError('NotFoundException', `Alias ${this.aliasArn(name)} is not found.`);
    }
    const keyId = name.startsWith('key/') ? name.slice(4) : name;
    if (!UUID_RE.test(keyId)) throw new ApiError('NotFoundException', `Invalid keyId '${ref}'`);
    const key = this.keys.get(keyId);
    if (!key) throw notFound(this.arnOf(keyId));
    return key;
  }

  /** AccessDeniedException for a denied action, then the key state's own errors. */
  private authorize(key: KmsKey, action: KmsDeniableAction, caller: KmsCaller, needsEnabled = true): void {
    if (key.deny.includes(action)) {
      throw new ApiError(
        'AccessDeniedException',
        `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${key.arn} because no identity-based policy allows the ${action} action`,
      );
    }
    if (!needsEnabled) return;
    if (key.keyState === 'Disabled') throw new ApiError('DisabledException', `${key.arn} is disabled.`);
    if (key.keyState === 'PendingDeletion') {
      throw new ApiError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
  }

  /** `numberOfBytes` random bytes and their blob under `ref` with `context`. */
  generateDataKey(
    ref: string,
    numberOfBytes: number,
    context: EncryptionContext,
    caller: KmsCaller,
  ): { keyArn: string; plaintext: Buffer; ciphertext: Buffer } {
    const key = this.resolve(ref);
    this.authorize(key, 'kms:GenerateDataKey', caller);
    const plaintext = randomBytes(numberOfBytes);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.material, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(contextBytes(key.keyId, context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const ciphertext = Buffer.concat([
      BLOB_MAGIC,
      Buffer.from(key.keyId, 'ascii'),
      nonce,
      body,
      cipher.getAuthTag(),
    ]);
    return { keyArn: key.arn, plaintext, ciphertext };
  }

  /**
   * The plaintext of a blob, if `context` is the one it was made with. `expectedKey` (Decrypt's
   * optional KeyId) must name the blob's key (IncorrectKeyException otherwise).
   */
  decrypt(
    blob: Buffer,
    context: EncryptionContext,
    caller: KmsCaller,
    expectedKey?: string,
  ): { keyArn: string; plaintext: Buffer } {
    const headerBytes = BLOB_MAGIC.length + KEY_ID_BYTES;
    if (
      blob.length < headerBytes + NONCE_BYTES + TAG_BYTES ||
      !blob.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)
    ) {
      throw invalidCiphertext();
    }
    const keyId = blob.subarray(BLOB_MAGIC.length, headerBytes).toString('ascii');
    const key = this.keys.get(keyId);
    if (!key) throw invalidCiphertext();
    if (expectedKey !== undefined && this.resolve(expectedKey).keyId !== key.keyId) {
      throw new ApiError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      );
    }
    this.authorize(key, 'kms:Decrypt', caller);
    const nonce = blob.subarray(headerBytes, headerBytes + NONCE_BYTES);
    const tag = blob.subarray(blob.length - TAG_BYTES);
    const body = blob.subarray(headerBytes + NONCE_BYTES, blob.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key.material, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(contextBytes(key.keyId, context));
    decipher.setAuthTag(tag);
    try {
      return { keyArn: key.arn, plaintext: Buffer.concat([decipher.update(body), decipher.final()]) };
    } catch {
      throw invalidCiphertext();
    }
  }

  describe(ref: string, caller: KmsCaller): KmsKeyInfo {
    const key = this.resolve(ref);
    this.authorize(key, 'kms:DescribeKey', caller, false);
    return info(key);
  }
}

function notFound(arn: string): ApiError {
  return new ApiError('NotFoundException', `Key '${arn}' does not exist`);
}

function info(key: KmsKey): KmsKeyInfo {
  return {
    keyId: key.keyId,
    arn: key.arn,
    aliases: [...key.aliases],
    description: key.description,
    keyState: key.keyState,
    deny: [...key.deny],
    creationDate: key.creationDate.toISOString(),
  };
}

function parseSpec<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')} (known: ${Object.keys(kmsKeySpecSchema.shape).join(', ')})`
        : `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new Error(`invalid KMS key: ${lines.join('; ')}`);
  }
  return result.data;
}
