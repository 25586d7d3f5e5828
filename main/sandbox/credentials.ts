/**
 * The sandbox's credential store: which access keys the control plane accepts and
 * whom they identify.
 *
 * Out of the box there is one long-term key pair, fixed and public (it only ever
 * unlocks this local sandbox):
 *
 *   access key id      AKIASANDBOXEXAMPLE01
 *   secret access key  sandbox/SecretAccessKey/EXAMPLEKEY000000
 *   account            123456789012
 *   user               sandbox-user (arn:aws:iam::123456789012:user/sandbox-user)
 *
 * Temporary credentials (an access key with a session token and an expiry, as STS
 * hands out) can be added for tests; using them after they expire fails with
 * ExpiredTokenException, as AWS does.
 *
 * STS AssumeRole and the SSO portal hand out temporary credentials for the roles below
 * (see api/sts.ts and api/sso-portal.ts), and AssumeRole checks MFA codes of the virtual
 * MFA devices below against RFC 6238 (TOTP: HMAC-SHA1, 30-second steps, 6 digits). The
 * default device's secret is public, like the keys above:
 *
 *   MFA device (SerialNumber)  arn:aws:iam::123456789012:mfa/sandbox-user
 *   secret (base32)            SANDBOXMFASECRETKEY234567ABCDEFG
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { SandboxCredentials } from './types.js';

export const SANDBOX_ACCESS_KEY_ID = 'AKIASANDBOXEXAMPLE01';
export const SANDBOX_SECRET_ACCESS_KEY = 'sandbox/SecretAccessKey/EXAMPLEKEY000000';
export const SANDBOX_ACCOUNT_ID = '123456789012';
export const SANDBOX_USER_NAME = 'sandbox-user';
/** The default virtual MFA device of sandbox-user, and its TOTP secret (base32, public). */
export const SANDBOX_MFA_SERIAL = `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:mfa/${SANDBOX_USER_NAME}`;
export const SANDBOX_MFA_SECRET = 'SANDBOXMFASECRETKEY234567ABCDEFG';
/** The ExternalId the default SandboxPartner role requires. */
export const SANDBOX_EXTERNAL_ID = 'sandbox-external-id';

/** The sandbox's fixed long-term credentials (a fresh copy each call). */
export function defaultCredentials(): SandboxCredentials {
  return {
    accessKeyId: SANDBOX_ACCESS_KEY_ID,
    secretAccessKey: SANDBOX_SECRET_ACCESS_KEY,
    accountId: SANDBOX_ACCOUNT_ID,
    userName: SANDBOX_USER_NAME,
    arn: `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:user/${SANDBOX_USER_NAME}`,
  };
}

/** Who a request was signed by, as the control plane sees it. */
export interface CallerIdentity {
  accessKeyId: string;
  accountId: string;
  /** Caller name; session ids are `${userName}-${17 hex}`. */
  userName: string;
  arn: string;
  /** The unique id GetCallerIdentity reports (AIDA... for users, AROA...:<session> for roles). */
  userId: string;
}

/** One access key the sandbox accepts. */
export interface CredentialRecord extends CallerIdentity {
  secretAccessKey: string;
  /** Present for temporary credentials: requests must carry it in x-amz-security-token. */
  sessionToken?: string;
  /** Present for temporary credentials: requests signed at or after this instant are refused. */
  expiration?: Date;
}

export interface TemporaryCredentialsInput {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** Identity the credentials stand for; defaults to the store's default identity. */
  userName?: string;
  arn?: string;
  accountId?: string;
  userId?: string;
}

const ACCESS_KEY_RE = /^[A-Z0-9]{16,128}$/;

/** A stable, realistic-looking unique id (AIDA + 17 characters) for an IAM user. */
function userIdFor(prefix: string, seed: string): string {
  const digest = createHash('sha256')
    .update(seed)
    .digest('base64')
    .replace(/[^A-Z0-9]/g, '');
  return (prefix + digest + 'AAAAAAAAAAAAAAAAA').slice(0, 21);
}

function checkNonEmpty(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`Sandbox credentials: ${what} must be a non-empty string.`);
  }
  return value;
}

function checkCredentials(creds: SandboxCredentials): void {
  const key = checkNonEmpty(creds.accessKeyId, 'accessKeyId');
  if (!ACCESS_KEY_RE.test(key)) {
    throw new Error(
      'Sandbox credentials: accessKeyId must be 16 to 128 upper-case letters and digits (like AWS keys, e.g. AKIASANDBOXEXAMPLE01).',
    );
  }
  checkNonEmpty(creds.secretAccessKey, 'secretAccessKey');
  checkNonEmpty(creds.userName, 'userName');
  checkNonEmpty(creds.arn, 'arn');
  if (!/^\d{12}$/.test(creds.accountId)) {
    throw new Error(`Sandbox credentials: accountId must be 12 digits, got "${creds.accountId}".`);
  }
}

export class CredentialStore {
  private readonly records = new Map<string, CredentialRecord>();
  private readonly primary: CredentialRecord;

  /** `base`: the long-term credentials the sandbox accepts (default: {@link defaultCredentials}). */
  constructor(base: SandboxCredentials = defaultCredentials()) {
    this.primary = this.add(base);
  }

  /** The identity of the long-term credentials given to the constructor. */
  get defaultIdentity(): CallerIdentity {
    const { accessKeyId, accountId, userName, arn, userId } = this.primary;
    return { accessKeyId, accountId, userName, arn, userId };
  }

  /** Accept another long-term key pair. */
  add(creds: SandboxCredentials): CredentialRecord {
    checkCredentials(creds);
    const record: CredentialRecord = {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      accountId: creds.accountId,
      userName: creds.userName,
      arn: creds.arn,
      userId: userIdFor('AIDA', creds.arn),
    };
    this.records.set(record.accessKeyId, record);
    return record;
  }

  /**
   * Accept temporary credentials until `expiration`. Requests must carry `sessionToken`
   * (x-amz-security-token); after `expiration` they fail with ExpiredTokenException.
   */
  addTemporary(input: TemporaryCredentialsInput): CredentialRecord {
    const key = checkNonEmpty(input.accessKeyId, 'accessKeyId');
    if (!ACCESS_KEY_RE.test(key)) {
      throw new Error('Sandbox credentials: accessKeyId must be 16 to 128 upper-case letters and digits.');
    }
    checkNonEmpty(input.secretAccessKey, 'secretAccessKey');
    checkNonEmpty(input.sessionToken, 'sessionToken');
    if (!(input.expiration instanceof Date) || Number.isNaN(input.expiration.getTime())) {
      throw new Error('Sandbox credentials: expiration must be a valid Date.');
    }
    const base = this.primary;
    const userName = input.userName ?? base.userName;
    const arn = input.arn ?? (input.userName ? `arn:aws:iam::${base.accountId}:user/${userName}` : base.arn);
    const record: CredentialRecord = {
      accessKeyId: key,
      secretAccessKey: input.secretAccessKey,
      sessionToken: input.sessionToken,
      expiration: new Date(input.expiration.getTime()),
      accountId: input.accountId ?? base.accountId,
      userName,
      arn,
      userId: input.userId ?? userIdFor('AIDA', arn),
    };
    this.records.set(key, record);
    return record;
  }

  /**
   * Mint temporary credentials (random ASIA key, secret and session token) valid until
   * `expiration`, for the identity given (default: the store's default identity).
   * Records that expired more than a day ago are forgotten on the way.
   */
  issueTemporary(
    expiration: Date,
    identity: Partial<Pick<CredentialRecord, 'userName' | 'arn' | 'accountId' | 'userId'>> = {},
    nowMs: number = Date.now(),
  ): CredentialRecord {
    this.pruneExpired(nowMs - 86_400_000);
    return this.addTemporary({
      accessKeyId: randomAccessKeyId('ASIA'),
      secretAccessKey: randomBytes(30).toString('base64'),
      // Real session tokens are long opaque base64 blobs.
      sessionToken: randomBytes(180).toString('base64'),
      expiration,
      ...identity,
    });
  }

  /** Forget temporary credentials that expired before `beforeMs`. */
  pruneExpired(beforeMs: number): void {
    for (const [key, record] of this.records) {
      if (record.expiration && record.expiration.getTime() < beforeMs) this.records.delete(key);
    }
  }

  /** The record for an access key id, expired or not; undefined when the key is unknown. */
  lookup(accessKeyId: string): CredentialRecord | undefined {
    return this.records.get(accessKeyId);
  }

  /** Stop accepting an access key. Returns whether it was known. */
  remove(accessKeyId: string): boolean {
    if (accessKeyId === this.primary.accessKeyId) {
      throw new Error('Sandbox credentials: the default credentials cannot be removed.');
    }
    return this.records.delete(accessKeyId);
  }
}

// ---------------------------------------------------------------------------
// Roles, MFA devices and TOTP (STS AssumeRole, SSO)
// ---------------------------------------------------------------------------

/** A role STS AssumeRole hands out credentials for. Every caller the sandbox knows may assume it (a trusting trust policy) when its conditions hold. */
export interface SandboxRole {
  /** arn:aws:iam::<12 digits>:role/<name> (paths allowed: role/path/name). */
  arn: string;
  /** The trust policy requires MFA (aws:MultiFactorAuthPresent): SerialNumber and TokenCode must be given. */
  requireMfa?: boolean;
  /** The trust policy requires this sts:ExternalId. */
  externalId?: string;
  /** The role's MaxSessionDuration in seconds (default 3600, as IAM; at most 43200). */
  maxSessionDurationSeconds?: number;
}

/** A virtual MFA device whose codes AssumeRole accepts. */
export interface SandboxMfaDevice {
  /** The SerialNumber clients send: arn:aws:iam::<account>:mfa/<name>. */
  serialNumber: string;
  /** The TOTP secret, base32 (as the QR code / Base32StringSeed of a virtual device). */
  secret: string;
}

const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** The account and name of a role ARN; undefined when it is not one. */
export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const m = ROLE_ARN_RE.exec(arn);
  return m ? { accountId: m[1]!, roleName: m[2]! } : undefined;
}

/** The default roles (account 123456789012): SandboxAdmin (up to 12 h), SandboxReadOnly, SandboxMfa (MFA required), SandboxPartner (ExternalId required). */
export function defaultRoles(): SandboxRole[] {
  const arn = (name: string): string => `arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/${name}`;
  return [
    { arn: arn('SandboxAdmin'), maxSessionDurationSeconds: 43_200 },
    { arn: arn('SandboxReadOnly') },
    { arn: arn('SandboxMfa'), requireMfa: true },
    { arn: arn('SandboxPartner'), externalId: SANDBOX_EXTERNAL_ID },
  ];
}

export function defaultMfaDevices(): SandboxMfaDevice[] {
  return [{ serialNumber: SANDBOX_MFA_SERIAL, secret: SANDBOX_MFA_SECRET }];
}

export function checkRole(role: SandboxRole): SandboxRole {
  if (!parseRoleArn(role.arn)) {
    throw new Error(
      `Sandbox role: "${String(role.arn).slice(0, 100)}" is not a role ARN like arn:aws:iam::123456789012:role/Name.`,
    );
  }
  const max = role.maxSessionDurationSeconds;
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 43_200)) {
    throw new Error(
      `Sandbox role ${role.arn}: maxSessionDurationSeconds must be an integer from 1 to 43200.`,
    );
  }
  if (role.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(role.externalId)) {
    throw new Error(`Sandbox role ${role.arn}: externalId must be 2 to 1224 characters of [\\w+=,.@:/-].`);
  }
  return { ...role };
}

export function checkMfaDevice(device: SandboxMfaDevice): SandboxMfaDevice {
  if (!/^[\w+=/:,.@-]{9,256}$/.test(String(device.serialNumber))) {
    throw new Error(
      'Sandbox MFA device: serialNumber must be 9 to 256 characters, e.g. arn:aws:iam::123456789012:mfa/name.',
    );
  }
  base32Decode(device.secret); // throws when malformed
  return { ...device };
}

/** RFC 4648 base32 (upper or lower case, padding and spaces ignored). */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = String(text).toUpperCase().replace(/[\s=]/g, '');
  if (clean === '' || /[^A-Z2-7]/.test(clean)) {
    throw new Error('A TOTP secret must be base32 (letters A-Z and digits 2-7).');
  }
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of clean) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 TOTP code (HMAC-SHA1, 30-second steps, 6 digits) of a base32 secret at a time in ms. */
export function totp(secret: string, atMs: number = Date.now(), stepSeconds = 30, digits = 6): string {
  const counter = Math.floor(atMs / 1000 / stepSeconds);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, '0');
}

/** Whether `code` is the device's code for the step at `atMs` or one step either side (clock drift), as AWS allows. */
export function verifyTotp(secret: string, code: string, atMs: number = Date.now()): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  return [-1, 0, 1].some((step) => totp(secret, atMs + step * 30_000) === code);
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A random access key id like AWS's: the prefix (ASIA for temporary keys) and 16 more characters. */
export function randomAccessKeyId(prefix = 'ASIA'): string {
  return prefix + [...randomBytes(16)].map((b) => KEY_ALPHABET[b % 32]).join('');
}

/** A stable unique id for a role (AROA + 17 characters). */
export function roleIdFor(roleArn: string): string {
  return userIdFor('AROA', roleArn);
}
