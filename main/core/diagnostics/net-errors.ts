/**
 * Network error codes in words, for diagnostics and for the errors of real connections alike
 * (the control plane's, the data channel's, the proxy tunnel's): what a code usually means.
 */
import { formatMs } from './format.js';

const CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isCertificateError(code: string | null | undefined): boolean {
  return !!code && (CERT_CODES.has(code) || code.startsWith('CERT_'));
}

/** The code of a Node network error, or null. */
export function errorCode(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.code === 'string' ? e.code : null;
}

/** A network error code in words (what it usually means). */
export function describeNetError(
  code: string | null,
  message: string,
  endpoint: string,
  timeoutMs?: number,
): string {
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${endpoint}: nothing listens there, or a firewall rejects the connection`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name ${endpoint.replace(/:\d+$/, '')} does not resolve (DNS ${code})`;
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return `no answer from ${endpoint}${timeoutMs ? ` within ${formatMs(timeoutMs)}` : ''}: a firewall or a missing route drops the packets`;
    case 'ECONNRESET':
      return `${endpoint} reset the connection (a firewall or proxy cut it)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${endpoint} (${code})`;
    case 'EPIPE':
      return `${endpoint} closed the connection`;
    default:
      if (isCertificateError(code))
        return `the TLS certificate of ${endpoint} is not trusted (${code}): something between here and AWS (a TLS-inspecting proxy or firewall) re-signs HTTPS traffic`;
      return `${endpoint}: ${code ? `${code}: ` : ''}${message}`;
  }
}
