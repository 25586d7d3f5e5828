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
 */
import { createHash } from 'node:crypto';
import type { SandboxCredentials } from './types.js';

export const SANDBOX_ACCESS_KEY_ID = 'AKIASANDBOXEXAMPLE01';
export const SANDBOX_SECRET_ACCESS_KEY = 'sandbox/SecretAccessKey/EXAMPLEKEY000000';
export const SANDBOX_ACCOUNT_ID = '123456789012';
export const SANDBOX_USER_NAME = 'sandbox-user';

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
