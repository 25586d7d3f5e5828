/**
 * API errors and their wire shapes, per protocol:
 * - json (SSM, AWS JSON 1.1): HTTP 4xx, header `x-amzn-ErrorType: <Code>`, body `{"__type", "message"}`;
 * - ec2 (EC2 Query): `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`;
 * - query (STS, AWS Query): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
 * Also the translation of signature failures into each service's own error codes, and the
 * opaque NextToken format the paginated actions share.
 */
import { createHash } from 'node:crypto';
import { SIGV4_MESSAGES, type SigV4Error, type SigV4ErrorKind } from '../sigv4.js';

export type Protocol = 'json' | 'ec2' | 'query';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** The AWS error code, e.g. 'TargetNotConnected'. */
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
export const XML_CONTENT_TYPE = 'text/xml;charset=UTF-8';

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text for XML element content and attribute values; drops characters XML 1.0 cannot carry. */
export function xmlEscape(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

export function jsonResponse(requestId: string, payload: unknown, status = 200): ApiResponse {
  return {
    status,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'x-amzn-RequestId': requestId },
    body: JSON.stringify(payload),
  };
}

export function xmlResponse(requestId: string, xml: string, status = 200): ApiResponse {
  return {
    status,
    headers: { 'content-type': XML_CONTENT_TYPE, 'x-amzn-RequestId': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`,
  };
}

/** Serializes an error in the protocol's shape. */
export function renderError(protocol: Protocol, error: ApiError, requestId: string): ApiResponse {
  if (protocol === 'json') {
    const response = jsonResponse(requestId, { __type: error.code, message: error.message }, error.status);
    response.headers['x-amzn-ErrorType'] = error.code;
    return response;
  }
  const code = xmlEscape(error.code);
  const message = xmlEscape(error.message);
  if (protocol === 'ec2') {
    return xmlResponse(
      requestId,
      `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      error.status,
    );
  }
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return xmlResponse(
    requestId,
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    error.status,
  );
}

type AuthCodes = Record<SigV4ErrorKind, { code: string; status: number; message?: string }>;

const EC2_AUTH_FAILURE = 'AWS was not able to validate the provided access credentials';

/** How each service reports a signature failure (the codes its SDK clients throw). */
const AUTH_CODES: Record<Protocol, AuthCodes> = {
  json: {
    MissingAuthenticationToken: { code: 'MissingAuthenticationTokenException', status: 400 },
    IncompleteSignature: { code: 'IncompleteSignatureException', status: 400 },
    UnrecognizedClient: { code: 'UnrecognizedClientException', status: 400 },
    InvalidSignature: { code: 'InvalidSignatureException', status: 400 },
    SignatureExpired: { code: 'InvalidSignatureException', status: 400 },
    ExpiredToken: { code: 'ExpiredTokenException', status: 400 },
  },
  ec2: {
    MissingAuthenticationToken: {
      code: 'MissingAuthenticationToken',
      status: 401,
      message: 'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
    },
    IncompleteSignature: { code: 'IncompleteSignature', status: 400 },
    UnrecognizedClient: { code: 'AuthFailure', status: 401, message: EC2_AUTH_FAILURE },
    InvalidSignature: { code: 'AuthFailure', status: 401 },
    SignatureExpired: { code: 'RequestExpired', status: 400 },
    ExpiredToken: { code: 'RequestExpired', status: 400, message: 'Request has expired.' },
  },
  query: {
    MissingAuthenticationToken: {
      code: 'MissingAuthenticationToken',
      status: 403,
      message: 'Request is missing Authentication Token',
    },
    IncompleteSignature: { code: 'IncompleteSignature', status: 400 },
    UnrecognizedClient: { code: 'InvalidClientTokenId', status: 403 },
    InvalidSignature: { code: 'SignatureDoesNotMatch', status: 403 },
    SignatureExpired: { code: 'SignatureDoesNotMatch', status: 403 },
    ExpiredToken: { code: 'ExpiredToken', status: 403 },
  },
};

/** The service's error for a failed signature check. */
export function authError(protocol: Protocol, error: SigV4Error): ApiError {
  const entry = AUTH_CODES[protocol][error.kind];
  let message = entry.message ?? error.message;
  // EC2 answers a plain signature mismatch with its generic AuthFailure text.
  if (
    protocol === 'ec2' &&
    error.kind === 'InvalidSignature' &&
    error.message === SIGV4_MESSAGES.InvalidSignature
  ) {
    message = EC2_AUTH_FAILURE;
  }
  // EC2 says only "Request has expired."; the clock detail after it tells the user why.
  if (protocol === 'ec2' && error.kind === 'SignatureExpired')
    message = `Request has expired. ${error.message}`;
  return new ApiError(entry.code, message, entry.status);
}

/** The service's throttling error: RequestLimitExceeded (503) for EC2, ThrottlingException otherwise. */
export function throttlingError(protocol: Protocol): ApiError {
  if (protocol === 'ec2') return new ApiError('RequestLimitExceeded', 'Request limit exceeded.', 503);
  return new ApiError('ThrottlingException', 'Rate exceeded', 400);
}

/**
 * AWS's constraint-violation error: "1 validation error detected: Value '100' at
 * 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50".
 */
export function validationError(problems: readonly string[]): ApiError {
  const n = problems.length;
  return new ApiError(
    'ValidationException',
    `${n} validation error${n === 1 ? '' : 's'} detected: ${problems.join('; ')}`,
  );
}

/** One problem for {@link validationError}. */
export function constraint(value: unknown, member: string, rule: string): string {
  const shown = value === undefined || value === null ? 'null' : `'${String(value).slice(0, 200)}'`;
  return `Value ${shown} at '${member}' failed to satisfy constraint: ${rule}`;
}

// ---------------------------------------------------------------------------
// Pagination tokens: opaque, and only valid for the query that produced them.
// ---------------------------------------------------------------------------

/** A short fingerprint of a query (everything but the page size and token). */
export function queryKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function encodePageToken(offset: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offset, k: key })).toString('base64url');
}

/** The offset a token stands for, or undefined when it is malformed or belongs to another query. */
export function decodePageToken(token: string, key: string): number | undefined {
  try {
    const data = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof data !== 'object' || data === null) return undefined;
    const { v, o, k } = data as Record<string, unknown>;
    if (v !== 1 || k !== key || typeof o !== 'number' || !Number.isInteger(o) || o < 0) return undefined;
    return o;
  } catch {
    return undefined;
  }
}
