/**
 * Turn AWS SDK and network errors into messages that say what went wrong and what to do.
 * The original error stays attached as `cause`; `code` is the AWS error name.
 */
import { isCertificateError } from '../diagnostics/net-errors.js';
import { NetworkConfigError, ProxyError } from '../net/errors.js';

export class AwsCallError extends Error {
  constructor(
    readonly code: string,
    readonly action: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AwsCallError';
  }
}

const HINTS: Record<string, { hint: string; retryable?: boolean }> = {
  TargetNotConnected: {
    hint: 'The instance is not connected to Systems Manager: it may be stopped, its SSM agent may be offline, or it has no route to the SSM endpoints. Check its SSM ping status with `ec2-connect list`.',
  },
  InvalidDocument: { hint: 'The session document does not exist or is not a Session Manager document.' },
  InvalidParameters: { hint: 'The session document parameters are invalid.' },
  DoesNotExistException: { hint: 'The session no longer exists (it ended or timed out).' },
  AccessDeniedException: {
    hint: 'Your credentials are not allowed to do this. Check the IAM policy for ssm:StartSession and related actions.',
  },
  UnrecognizedClientException: {
    hint: 'The access key is not valid for this endpoint. Check the profile or the environment credentials.',
  },
  InvalidClientTokenId: {
    hint: 'The access key is not valid for this endpoint. Check the profile or the environment credentials.',
  },
  AuthFailure: { hint: 'AWS could not validate the credentials. Check the access key, secret and clock.' },
  InvalidSignatureException: {
    hint: 'The request signature was rejected: the secret key is wrong, or this computer clock is off by more than 5 minutes.',
  },
  SignatureDoesNotMatch: {
    hint: 'The request signature was rejected: the secret key is wrong, or this computer clock is off by more than 5 minutes.',
  },
  ExpiredTokenException: {
    hint: 'The credentials have expired. Log in again (for SSO: `aws sso login --profile <name>`) or refresh them.',
  },
  ExpiredToken: {
    hint: 'The credentials have expired. Log in again (for SSO: `aws sso login --profile <name>`) or refresh them.',
  },
  ThrottlingException: { hint: 'AWS is throttling requests; try again in a moment.', retryable: true },
  RequestLimitExceeded: { hint: 'AWS is throttling requests; try again in a moment.', retryable: true },
  ValidationException: { hint: 'The request was invalid.' },
  CredentialsProviderError: {
    hint: 'No AWS credentials were found for this profile. Check that it exists in ~/.aws/config or ~/.aws/credentials (for SSO profiles, log in with `aws sso login --profile <name>`), or use the built-in sandbox profile.',
  },
};

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function describeAwsError(err: unknown, action: string, region: string): AwsCallError {
  if (err instanceof AwsCallError) return err;
  // The proxy's own errors already name it, its setting and the fix.
  if (err instanceof ProxyError || err instanceof NetworkConfigError) {
    const retryable = err instanceof ProxyError && err.retryable;
    const code = err instanceof ProxyError ? err.code : err.name;
    return new AwsCallError(
      code,
      action,
      `${action} failed: ${err.message.replace(/[.\s]+$/, '')}.`,
      retryable,
      {
        cause: err,
      },
    );
  }
  const e = (err ?? {}) as ErrorLike;
  const code = e.code && /^E[A-Z]+$/.test(e.code) ? e.code : (e.name ?? 'Error');
  const message = (e.message ?? String(err)).replace(/[.\s]+$/, '');
  const known = HINTS[code];
  if (known) {
    return new AwsCallError(
      code,
      action,
      `${action} failed (${code}): ${message}. ${known.hint}`,
      known.retryable ?? false,
      {
        cause: err,
      },
    );
  }
  if (isCertificateError(e.code)) {
    return new AwsCallError(
      e.code!,
      action,
      `${action} failed: the TLS certificate of the AWS endpoint for ${region} is not trusted (${e.code}: ${message}). If a proxy or firewall inspects TLS traffic, set connection.ca_bundle to a PEM file with its CA certificate.`,
      false,
      { cause: err },
    );
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'ETIMEDOUT' ||
    code === 'ECONNRESET' ||
    code === 'TimeoutError'
  ) {
    return new AwsCallError(
      code,
      action,
      `${action} failed: cannot reach the AWS endpoint for ${region} (${code}: ${message}). Check the network, proxy settings and the endpoint URL.`,
      true,
      { cause: err },
    );
  }
  return new AwsCallError(code, action, `${action} failed (${code}): ${message}`, Boolean(e.$retryable), {
    cause: err,
  });
}
