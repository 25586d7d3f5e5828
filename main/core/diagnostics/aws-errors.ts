/**
 * What an AWS SDK error means for diagnostics: expired credentials, an unknown key, a wrong
 * secret, a skewed clock, no credentials at all, a denied permission, throttling, the network.
 */
import { AwsCallError } from '../ssm/errors.js';
import { describeNetError, isCertificateError } from './net-errors.js';

export type AwsErrorKind =
  | 'expired'
  | 'invalid-key'
  | 'bad-secret'
  | 'clock'
  | 'no-credentials'
  | 'access-denied'
  | 'throttled'
  | 'network'
  | 'aborted'
  | 'other';

export interface ClassifiedError {
  kind: AwsErrorKind;
  /** The AWS error name or network code, e.g. ExpiredTokenException, ECONNREFUSED. */
  code: string;
  /** The service's message (or the network error in words), without a trailing period. */
  message: string;
}

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

export function classifyAwsError(err: unknown): ClassifiedError {
  const raw = (err instanceof AwsCallError ? err.cause : err) as ErrorLike | undefined;
  const e: ErrorLike = raw ?? {};
  const name = e.name ?? 'Error';
  const sysCode = typeof e.code === 'string' ? e.code : undefined;
  const message = (e.message ?? String(err)).replace(/[.\s]+$/, '');
  const code = sysCode && /^[A-Z_]+$/.test(sysCode) ? sysCode : name;
  if (name === 'AbortError' || name === 'DeadlineError') return { kind: 'aborted', code: name, message };
  // The proxy in the way (net/tunnel.ts): its message names the proxy and its setting.
  if (name === 'ProxyError') return { kind: 'network', code, message };
  if (NET_CODES.has(code) || isCertificateError(sysCode)) {
    return { kind: 'network', code, message: describeNetError(code, message, 'the endpoint') };
  }
  switch (name) {
    case 'ExpiredToken':
    case 'ExpiredTokenException':
    case 'TokenRefreshRequired':
      return { kind: 'expired', code: name, message };
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
      return { kind: 'invalid-key', code: name, message };
    case 'SignatureDoesNotMatch':
    case 'InvalidSignatureException':
    case 'AuthFailure':
    case 'RequestExpired':
      if (/signature expired|request has expired|clock/i.test(message) && !/token/i.test(message))
        return { kind: 'clock', code: name, message };
      if (name === 'RequestExpired') return { kind: 'expired', code: name, message };
      return { kind: name === 'AuthFailure' ? 'invalid-key' : 'bad-secret', code: name, message };
    case 'AccessDeniedException':
    case 'AccessDenied':
    case 'UnauthorizedOperation':
    case 'UnauthorizedException':
      return { kind: 'access-denied', code: name, message };
    case 'ThrottlingException':
    case 'Throttling':
    case 'RequestLimitExceeded':
    case 'TooManyRequestsException':
      return { kind: 'throttled', code: name, message };
    case 'CredentialsProviderError':
    case 'TokenProviderError':
      // An SSO session that ran out is an expiry; anything else means there is nothing to sign with.
      if (/sso|token/i.test(message) && /expired|refresh|invalid/i.test(message))
        return { kind: 'expired', code: name, message };
      return { kind: 'no-credentials', code: name, message };
    default:
      if (/security token included in the request is expired/i.test(message))
        return { kind: 'expired', code: name, message };
      if (/could not load credentials|no credentials|credential is missing/i.test(message))
        return { kind: 'no-credentials', code: name, message };
      return { kind: 'other', code: name, message };
  }
}

/** `ExpiredTokenException: The security token included in the request is expired` */
export function quote(c: ClassifiedError): string {
  return c.kind === 'network' ? c.message : `${c.code}: ${c.message}`;
}
