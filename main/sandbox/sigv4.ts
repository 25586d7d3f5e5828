/**
 * Server-side AWS Signature Version 4 verification (header-based), written from the
 * published algorithm so that requests signed by the AWS SDK for JavaScript v3 and by
 * the Go SDK v1 (used by the official session-manager-plugin) verify unmodified.
 *
 * Steps: parse `Authorization: AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=..., Signature=...`; look the key up; check the token, the scope and the
 * clock; rebuild the canonical request (method, normalized URI path, canonical query,
 * signed headers, payload hash), the string to sign and the derived key; compare in
 * constant time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CredentialRecord } from './credentials.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const SIGV4_TERMINATOR = 'aws4_request';
/** AWS refuses requests dated more than 5 minutes from its clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * What went wrong, independent of the protocol; the API layer turns a kind into the
 * service's own error code (e.g. InvalidSignatureException for SSM, AuthFailure for EC2).
 */
export type SigV4ErrorKind =
  | 'MissingAuthenticationToken'
  | 'IncompleteSignature'
  | 'UnrecognizedClient'
  | 'InvalidSignature'
  | 'SignatureExpired'
  | 'ExpiredToken';

export const SIGV4_MESSAGES = {
  MissingAuthenticationToken: 'Missing Authentication Token',
  UnrecognizedClient: 'The security token included in the request is invalid.',
  InvalidSignature:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  ExpiredToken: 'The security token included in the request is expired',
} as const;

export class SigV4Error extends Error {
  override readonly name = 'SigV4Error';
  constructor(
    readonly kind: SigV4ErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Uint8Array, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, SIGV4_TERMINATOR);
}

/** URI-encode as SigV4 requires: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper-case hex). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The canonical URI for every service but S3: the path as received (already URI-encoded
 * once by the client), with empty, "." and ".." segments resolved, each segment
 * URI-encoded again.
 */
export function canonicalUri(rawPath: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized =
    `${path.startsWith('/') ? '/' : ''}${segments.join('/')}` +
    (segments.length > 0 && path.endsWith('/') ? '/' : '');
  return (normalized === '' ? '/' : normalized)
    .split('/')
    .map((s) => uriEncode(s))
    .join('/');
}

/** The canonical query string: each name and value decoded, re-encoded, sorted by name then value. */
export function canonicalQueryString(rawQuery: string, exclude: readonly string[] = []): string {
  if (rawQuery === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = safeDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (exclude.includes(name)) continue;
    pairs.push([uriEncode(name), uriEncode(value)]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** A header's values as received, in order (a header sent twice has two entries). */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Node's `IncomingMessage.rawHeaders` (a flat name, value, name, value list) as pairs. */
export function headerListFromRaw(rawHeaders: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) out.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return out;
}

/** All values of a header (case-insensitive), trimmed, whitespace runs collapsed, joined by commas. */
export function canonicalHeaderValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const [n, v] of headers) {
    if (n.toLowerCase() === lower) values.push(v.trim().replace(/\s+/g, ' '));
  }
  return values.length === 0 ? undefined : values.join(',');
}

function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v.trim();
  return undefined;
}

export interface CanonicalRequestInput {
  method: string;
  /** The path as received on the wire (no query). */
  path: string;
  /** The raw query string, without the leading '?'. */
  query: string;
  headers: HeaderList;
  /** Lower-case header names, as listed in SignedHeaders. */
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the body (or the value the client signed in x-amz-content-sha256). */
  payloadHash: string;
}

export function buildCanonicalRequest(input: CanonicalRequestInput): string {
  const headerLines = input.signedHeaders.map(
    (h) => `${h}:${canonicalHeaderValue(input.headers, h) ?? ''}\n`,
  );
  return [
    input.method.toUpperCase(),
    canonicalUri(input.path),
    canonicalQueryString(input.query),
    headerLines.join(''),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/${SIGV4_TERMINATOR}`;
}

export function buildStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
}

export function computeSignature(
  secretAccessKey: string,
  amzDate: string,
  region: string,
  service: string,
  canonicalRequest: string,
): string {
  const date = amzDate.slice(0, 8);
  const key = deriveSigningKey(secretAccessKey, date, region, service);
  const toSign = buildStringToSign(amzDate, credentialScope(date, region, service), canonicalRequest);
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/** 2015-08-30T12:36:00.000Z -> 20150830T123600Z */
export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses 20150830T123600Z; undefined when malformed. */
export function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const date = new Date(ms);
  return formatAmzDate(date) === value ? date : undefined;
}

// ---------------------------------------------------------------------------
// Authorization header
// ---------------------------------------------------------------------------

export interface ParsedAuthorization {
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header. */
export function parseAuthorization(value: string): ParsedAuthorization {
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    throw new SigV4Error(
      'IncompleteSignature',
      `Unsupported Authorization algorithm '${algorithm.slice(0, 40)}': the sandbox accepts only ${SIGV4_ALGORITHM} (Signature Version 4) signed in the Authorization header.`,
    );
  }
  const params = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((p) => !params.get(p));
  if (missing.length > 0) {
    throw new SigV4Error(
      'IncompleteSignature',
      missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' '),
    );
  }
  const credential = params.get('Credential')!;
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw new SigV4Error(
      'IncompleteSignature',
      `Authorization header's Credential must be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request; got one with ${parts.length} part(s).`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    terminator,
    signedHeaders: params
      .get('SignedHeaders')!
      .split(';')
      .map((h) => h.trim().toLowerCase()),
    signature: params.get('Signature')!,
  };
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

export interface SigV4RequestInput {
  method: string;
  /** The request target as received (`req.url`): path plus optional query. */
  url: string;
  headers: HeaderList;
  body: Uint8Array;
}

export interface VerifyOptions {
  lookup: (accessKeyId: string) => CredentialRecord | undefined;
  /** The region this endpoint serves; the credential scope must name it. */
  region: string;
  /** Services the scope may name (e.g. ['ssm', 'ec2', 'sts']). */
  services: readonly string[];
  /** When set, the scope must name exactly this service (the one the request was routed to). */
  expectedService?: string;
  /** Current time in ms (default Date.now()). */
  now?: number;
  maxSkewMs?: number;
}

export interface VerifiedRequest {
  credentials: CredentialRecord;
  region: string;
  service: string;
  requestDate: Date;
}

function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

function skewMessage(requestDate: Date, now: number, maxSkewMs: number): string {
  const minutes = Math.round(maxSkewMs / 60_000);
  const req = formatAmzDate(requestDate);
  const nowText = formatAmzDate(new Date(now));
  if (requestDate.getTime() < now) {
    const bound = formatAmzDate(new Date(now - maxSkewMs));
    return `Signature expired: ${req} is now earlier than ${bound} (${nowText} - ${minutes} min.)`;
  }
  const bound = formatAmzDate(new Date(now + maxSkewMs));
  return `Signature not yet current: ${req} is still later than ${bound} (${nowText} + ${minutes} min.)`;
}

const HEX64_RE = /^[0-9a-f]{64}$/;

/** The request's date: x-amz-date (ISO 8601 basic) or else the Date header (RFC 1123). */
function requestDateOf(headers: HeaderList): { date: Date; amzDate: string } {
  const amz = headerValue(headers, 'x-amz-date');
  if (amz !== undefined) {
    const date = parseAmzDate(amz);
    if (!date) {
      throw new SigV4Error(
        'IncompleteSignature',
        `Date must be in ISO-8601 'basic format'. Got '${amz.slice(0, 40)}'. Expected something like '20150830T123600Z'.`,
      );
    }
    return { date, amzDate: amz };
  }
  const http = headerValue(headers, 'date');
  if (http !== undefined) {
    const ms = Date.parse(http);
    if (Number.isNaN(ms)) {
      throw new SigV4Error(
        'IncompleteSignature',
        `Date header is not a valid HTTP date: '${http.slice(0, 40)}'.`,
      );
    }
    const date = new Date(Math.floor(ms / 1000) * 1000);
    return { date, amzDate: formatAmzDate(date) };
  }
  throw new SigV4Error(
    'IncompleteSignature',
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  );
}

/**
 * Verifies a header-signed SigV4 request. Returns the caller's credentials, or throws
 * a {@link SigV4Error} whose message is the one AWS gives.
 */
export function verifySigV4(request: SigV4RequestInput, options: VerifyOptions): VerifiedRequest {
  const now = options.now ?? Date.now();
  const maxSkewMs = options.maxSkewMs ?? MAX_CLOCK_SKEW_MS;
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined || authorization === '') {
    throw new SigV4Error('MissingAuthenticationToken', SIGV4_MESSAGES.MissingAuthenticationToken);
  }
  const auth = parseAuthorization(authorization);
  const { date: requestDate, amzDate } = requestDateOf(request.headers);

  if (!auth.signedHeaders.includes('host')) {
    throw new SigV4Error(
      'IncompleteSignature',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }

  const credentials = options.lookup(auth.accessKeyId);
  if (!credentials) throw new SigV4Error('UnrecognizedClient', SIGV4_MESSAGES.UnrecognizedClient);
  const token = headerValue(request.headers, 'x-amz-security-token');
  if (credentials.sessionToken === undefined ? token !== undefined : token !== credentials.sessionToken) {
    throw new SigV4Error('UnrecognizedClient', SIGV4_MESSAGES.UnrecognizedClient);
  }

  if (auth.terminator !== SIGV4_TERMINATOR) {
    throw new SigV4Error(
      'InvalidSignature',
      `Credential should be scoped with a valid terminator: '${SIGV4_TERMINATOR}', not '${auth.terminator.slice(0, 40)}'.`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw new SigV4Error(
      'InvalidSignature',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date.slice(0, 20)}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.region !== options.region) {
    throw new SigV4Error(
      'InvalidSignature',
      `Credential should be scoped to a valid region, not '${auth.region.slice(0, 40)}'. This endpoint serves '${options.region}': configure the client with that region.`,
    );
  }
  const service = options.expectedService ?? auth.service;
  if (auth.service !== service || !options.services.includes(service)) {
    throw new SigV4Error(
      'InvalidSignature',
      `Credential should be scoped to correct service: '${options.expectedService ?? options.services.join("' or '")}'.`,
    );
  }

  if (Math.abs(requestDate.getTime() - now) > maxSkewMs) {
    throw new SigV4Error('SignatureExpired', skewMessage(requestDate, now, maxSkewMs));
  }
  if (credentials.expiration !== undefined && credentials.expiration.getTime() <= now) {
    throw new SigV4Error('ExpiredToken', SIGV4_MESSAGES.ExpiredToken);
  }

  const bodyHash = sha256Hex(request.body);
  const declared = headerValue(request.headers, 'x-amz-content-sha256');
  if (
    declared !== undefined &&
    HEX64_RE.test(declared.toLowerCase()) &&
    declared.toLowerCase() !== bodyHash
  ) {
    throw new SigV4Error(
      'InvalidSignature',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  const { path, query } = splitUrl(request.url);
  const canonical = buildCanonicalRequest({
    method: request.method,
    path,
    query,
    headers: request.headers,
    signedHeaders: auth.signedHeaders,
    payloadHash: bodyHash,
  });
  const expected = computeSignature(
    credentials.secretAccessKey,
    amzDate,
    auth.region,
    auth.service,
    canonical,
  );
  const provided = auth.signature.toLowerCase();
  if (
    !HEX64_RE.test(provided) ||
    !timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(provided, 'hex'))
  ) {
    throw new SigV4Error('InvalidSignature', SIGV4_MESSAGES.InvalidSignature);
  }
  return { credentials, region: auth.region, service: auth.service, requestDate };
}

// ---------------------------------------------------------------------------
// Signing (for tests and tools that talk to the sandbox without an SDK)
// ---------------------------------------------------------------------------

export interface SignRequestInput {
  method: string;
  url: string;
  /** Headers to send and sign; must include host. */
  headers: Record<string, string>;
  body?: string | Uint8Array;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  service: string;
  date?: Date;
}

/** Returns the headers to send: the input plus x-amz-date, the token (if any) and Authorization. */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const amzDate = formatAmzDate(input.date ?? new Date());
  const headers: Record<string, string> = { ...input.headers, 'x-amz-date': amzDate };
  if (input.sessionToken) headers['x-amz-security-token'] = input.sessionToken;
  const list: Array<[string, string]> = Object.entries(headers);
  const signedHeaders = [...new Set(list.map(([n]) => n.toLowerCase()))].sort();
  const { path, query } = splitUrl(input.url);
  const canonical = buildCanonicalRequest({
    method: input.method,
    path,
    query,
    headers: list,
    signedHeaders,
    payloadHash: sha256Hex(input.body ?? ''),
  });
  const signature = computeSignature(input.secretAccessKey, amzDate, input.region, input.service, canonical);
  const scope = credentialScope(amzDate.slice(0, 8), input.region, input.service);
  headers.authorization = `${SIGV4_ALGORITHM} Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}
