/**
 * KMS errors met while setting up an encrypted session, as messages that name the key, what
 * was wrong and what to do. Errors that are not KMS's own (credentials, network, throttling)
 * get the control plane's descriptions.
 */
import { CredentialError } from '../../credentials/types.js';
import { describeAwsError } from '../errors.js';

export class KmsError extends Error {
  override readonly name = 'KmsError';
  constructor(
    /** The AWS error name (AccessDeniedException, NotFoundException, ...) or a network code. */
    readonly code: string,
    /** The key as the session preferences name it (id, ARN or alias). */
    readonly keyId: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TURN_OFF = 'or turn off KMS encryption in the Session Manager preferences';

/** "User: <arn> is not authorized to perform: kms:<Action> on resource: <arn> because ..." */
const DENIED_RE = /User: (\S+) is not authorized to perform: (kms:\w+) on resource: ([^\s]+?)(?:\s|$)/;

interface ErrorLike {
  name?: string;
  message?: string;
}

/**
 * What went wrong calling KMS `action` (kms:GenerateDataKey for a session) with key `keyId`.
 * A CredentialError passes through (it already says how to sign in).
 */
export function describeKmsError(err: unknown, action: string, keyId: string, region: string): Error {
  if (err instanceof CredentialError || err instanceof KmsError) return err;
  const e = (err ?? {}) as ErrorLike;
  const code = e.name ?? 'Error';
  const awsMessage = (e.message ?? '').trim().replace(/[.\s]+$/, '');
  const permission = `kms:${action}`;
  const make = (message: string, retryable = false): KmsError =>
    new KmsError(code, keyId, message, retryable, { cause: err });
  switch (code) {
    case 'AccessDeniedException': {
      const m = DENIED_RE.exec(awsMessage);
      const who = m?.[1] ?? 'this identity';
      const denied = m?.[2] ?? permission;
      const resource = m?.[3] ?? keyId;
      return make(
        `KMS denied ${denied} on key ${resource} for ${who}: allow ${denied} on that key for this identity ` +
          `(Session Manager's KMS encryption needs it), ${TURN_OFF}.`,
      );
    }
    case 'NotFoundException':
      return make(
        `KMS key ${keyId}, which the Session Manager preferences require for encrypting sessions, was not found in ${region}` +
          `${awsMessage ? ` (${awsMessage})` : ''}: set an existing key in the preferences, ${TURN_OFF}.`,
      );
    case 'DisabledException':
      return make(
        `KMS key ${keyId}, which the Session Manager preferences require for encrypting sessions, is disabled` +
          `${awsMessage ? ` (${awsMessage})` : ''}: enable it in KMS, choose another key in the preferences, ${TURN_OFF}.`,
      );
    case 'KMSInvalidStateException':
      return make(
        `KMS key ${keyId}, which the Session Manager preferences require for encrypting sessions, cannot be used in its current state` +
          `${awsMessage ? ` (${awsMessage})` : ''}: if it is pending deletion, cancel the deletion in KMS; otherwise choose another key in the preferences, ${TURN_OFF}.`,
      );
    case 'InvalidKeyUsageException':
      return make(
        `KMS key ${keyId} cannot generate data keys${awsMessage ? ` (${awsMessage})` : ''}: Session Manager needs a symmetric ENCRYPT_DECRYPT key; choose one in the Session Manager preferences.`,
      );
    case 'InvalidArnException':
      return make(
        `The KMS key ${keyId} set in the Session Manager preferences is not a valid key id, key ARN or alias` +
          `${awsMessage ? ` (${awsMessage})` : ''}: correct it in the preferences, ${TURN_OFF}.`,
      );
    case 'KeyUnavailableException':
    case 'DependencyTimeoutException':
    case 'KMSInternalException':
      return make(
        `KMS could not use key ${keyId} just now (${code}${awsMessage ? `: ${awsMessage}` : ''}); try the session again in a moment.`,
        true,
      );
    default: {
      const described = describeAwsError(err, action, region);
      return new KmsError(
        described.code,
        keyId,
        `Session Manager's KMS encryption with key ${keyId}: ${described.message}`,
        described.retryable,
        { cause: err },
      );
    }
  }
}
