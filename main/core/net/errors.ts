/**
 * Errors of the network layer. Both say which setting is at fault (`connection.proxy`,
 * `HTTPS_PROXY`, `connection.ca_bundle`, ...) and what to do. Neither ever carries a proxy
 * password: messages show proxy URLs redacted, and no field holds the raw URL (loggers
 * serialise an error's own fields).
 */

/** A network setting that cannot be used (a proxy URL that does not parse, an unreadable CA bundle). */
export class NetworkConfigError extends Error {
  override readonly name = 'NetworkConfigError';
  constructor(
    /** The configuration key or environment variable at fault. */
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The proxy could not be reached, or would not open a tunnel. `code` is the network error code
 * (ECONNREFUSED, ETIMEDOUT, ...: the AWS SDK retries those) or `EPROXY` when the proxy answered
 * with a refusal (407, 403, 502, ...: retrying does not help, except for 502-504).
 */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  constructor(
    readonly code: string,
    /** The proxy, password redacted. */
    readonly proxy: string,
    /** Where the proxy setting came from (`connection.proxy`, `HTTPS_PROXY`, ...). */
    readonly source: string,
    message: string,
    /** The proxy's HTTP status for CONNECT, when it answered. */
    readonly status: number | null,
    readonly retryable: boolean,
    /** The reason phrase of that answer (`Forbidden`, ...), when it gave one. */
    readonly statusText: string | null = null,
  ) {
    super(message);
  }
}

/** The reason an AbortSignal was aborted with, as an Error (what aborted work rejects with). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}
