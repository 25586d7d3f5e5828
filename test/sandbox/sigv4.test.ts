import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { NodeSha256 } from '../helpers/node-sha256.js';
import { describe, expect, it } from 'vitest';
import type { CredentialRecord } from '../../main/sandbox/credentials.js';
import {
  buildCanonicalRequest,
  buildStringToSign,
  canonicalQueryString,
  canonicalUri,
  computeSignature,
  credentialScope,
  deriveSigningKey,
  formatAmzDate,
  parseAmzDate,
  parseAuthorization,
  sha256Hex,
  signRequest,
  SigV4Error,
  verifySigV4,
  type HeaderList,
  type VerifyOptions,
} from '../../main/sandbox/sigv4.js';

// The AWS SigV4 test suite's fixed inputs.
const SUITE_KEY = 'AKIDEXAMPLE';
const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SUITE_DATE = '20150830T123600Z';
const SUITE_NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const HOST: [string, string] = ['Host', 'example.amazonaws.com'];
const STAMP: [string, string] = ['X-Amz-Date', SUITE_DATE];

interface Vector {
  name: string;
  method: string;
  path: string;
  query: string;
  headers: HeaderList;
  body: string;
  signedHeaders: string[];
  signature: string;
}

const VECTORS: Vector[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    path: '/',
    query: '',
    headers: [HOST, STAMP],
    body: '',
    signedHeaders: ['host', 'x-amz-date'],
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla-query',
    method: 'POST',
    path: '/',
    query: 'Param1=value1',
    headers: [HOST, STAMP],
    body: '',
    signedHeaders: ['host', 'x-amz-date'],
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    path: '/',
    query: '',
    headers: [['Content-Type', 'application/x-www-form-urlencoded'], HOST, STAMP],
    body: 'Param1=value1',
    signedHeaders: ['content-type', 'host', 'x-amz-date'],
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    path: '/',
    query: '',
    headers: [HOST, ['My-Header1', ' value1'], ['My-Header2', ' "a   b   c"'], STAMP],
    body: '',
    signedHeaders: ['host', 'my-header1', 'my-header2', 'x-amz-date'],
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-header-key-duplicate',
    method: 'GET',
    path: '/',
    query: '',
    headers: [HOST, ['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1'], STAMP],
    body: '',
    signedHeaders: ['host', 'my-header1', 'x-amz-date'],
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
];

function suiteRecord(overrides: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    accessKeyId: SUITE_KEY,
    secretAccessKey: SUITE_SECRET,
    accountId: '123456789012',
    userName: 'suite',
    arn: 'arn:aws:iam::123456789012:user/suite',
    userId: 'AIDAEXAMPLE',
    ...overrides,
  };
}

function suiteOptions(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  const record = suiteRecord();
  return {
    lookup: (id) => (id === record.accessKeyId ? record : undefined),
    region: 'us-east-1',
    services: ['service'],
    now: SUITE_NOW,
    ...overrides,
  };
}

function authorizationFor(v: Vector): string {
  return `AWS4-HMAC-SHA256 Credential=${SUITE_KEY}/20150830/us-east-1/service/aws4_request, SignedHeaders=${v.signedHeaders.join(';')}, Signature=${v.signature}`;
}

function expectSigV4Error(fn: () => unknown, kind: SigV4Error['kind'], message?: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SigV4Error);
  expect((caught as SigV4Error).kind).toBe(kind);
  if (message !== undefined) expect((caught as SigV4Error).message).toMatch(message);
}

describe('SigV4 test suite vectors', () => {
  for (const v of VECTORS) {
    it(`${v.name}: computes the published signature`, () => {
      const canonical = buildCanonicalRequest({
        method: v.method,
        path: v.path,
        query: v.query,
        headers: v.headers,
        signedHeaders: v.signedHeaders,
        payloadHash: sha256Hex(v.body),
      });
      expect(computeSignature(SUITE_SECRET, SUITE_DATE, 'us-east-1', 'service', canonical)).toBe(v.signature);
    });

    it(`${v.name}: verifies as a request`, () => {
      const url = v.query ? `${v.path}?${v.query}` : v.path;
      const verified = verifySigV4(
        {
          method: v.method,
          url,
          headers: [...v.headers, ['Authorization', authorizationFor(v)]],
          body: Buffer.from(v.body),
        },
        suiteOptions(),
      );
      expect(verified.credentials.accessKeyId).toBe(SUITE_KEY);
      expect(verified.service).toBe('service');
    });
  }

  it('post-x-www-form-urlencoded: canonical request and string to sign match the suite', () => {
    const canonical = buildCanonicalRequest({
      method: 'POST',
      path: '/',
      query: '',
      headers: VECTORS[2]!.headers,
      signedHeaders: ['content-type', 'host', 'x-amz-date'],
      payloadHash: sha256Hex('Param1=value1'),
    });
    expect(canonical).toBe(
      'POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e',
    );
    const toSign = buildStringToSign(
      SUITE_DATE,
      credentialScope('20150830', 'us-east-1', 'service'),
      canonical,
    );
    expect(toSign.split('\n')[3]).toBe('42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281');
  });

  it('derives the signing key of the AWS documentation example', () => {
    // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4"
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    expect(key.toString('hex')).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });
});

describe('canonicalization', () => {
  it('normalizes URI paths as AWS does for non-S3 services (double encoding)', () => {
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('//example//')).toBe('/example/');
    expect(canonicalUri('/example1/example2/../..')).toBe('/');
    expect(canonicalUri('/./example')).toBe('/example');
    expect(canonicalUri('/documents%20and%20settings/')).toBe('/documents%2520and%2520settings/');
  });

  it('sorts and re-encodes the query string', () => {
    expect(canonicalQueryString('b=2&a=1&a=0')).toBe('a=0&a=1&b=2');
    expect(canonicalQueryString('Param1=value%201&p')).toBe('Param1=value%201&p=');
    expect(canonicalQueryString("x=a!b*c'(d)")).toBe('x=a%21b%2Ac%27%28d%29');
    expect(canonicalQueryString('-._~=unreserved')).toBe('-._~=unreserved');
  });

  it('parses and formats ISO 8601 basic dates strictly', () => {
    expect(parseAmzDate(SUITE_DATE)?.getTime()).toBe(SUITE_NOW);
    expect(formatAmzDate(new Date(SUITE_NOW))).toBe(SUITE_DATE);
    expect(parseAmzDate('20150230T000000Z')).toBeUndefined();
    expect(parseAmzDate('2015-08-30T12:36:00Z')).toBeUndefined();
  });

  it('parses the Authorization header', () => {
    const parsed = parseAuthorization(authorizationFor(VECTORS[0]!));
    expect(parsed).toEqual({
      accessKeyId: SUITE_KEY,
      date: '20150830',
      region: 'us-east-1',
      service: 'service',
      terminator: 'aws4_request',
      signedHeaders: ['host', 'x-amz-date'],
      signature: VECTORS[0]!.signature,
    });
  });
});

describe('verifySigV4 failures', () => {
  const vanilla = VECTORS[0]!;
  const request = (auth: string | undefined, headers: HeaderList = vanilla.headers) => ({
    method: 'GET',
    url: '/',
    headers: auth === undefined ? headers : [...headers, ['Authorization', auth] as [string, string]],
    body: Buffer.alloc(0),
  });

  it('missing Authorization -> MissingAuthenticationToken', () => {
    expectSigV4Error(
      () => verifySigV4(request(undefined), suiteOptions()),
      'MissingAuthenticationToken',
      'Missing Authentication Token',
    );
  });

  it('incomplete Authorization -> IncompleteSignature naming what is missing', () => {
    expectSigV4Error(
      () =>
        verifySigV4(
          request(`AWS4-HMAC-SHA256 Credential=${SUITE_KEY}/20150830/us-east-1/service/aws4_request`),
          suiteOptions(),
        ),
      'IncompleteSignature',
      /requires 'Signature' parameter.*requires 'SignedHeaders' parameter/,
    );
    expectSigV4Error(
      () => verifySigV4(request('AWS3 foo'), suiteOptions()),
      'IncompleteSignature',
      /AWS4-HMAC-SHA256/,
    );
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla), [HOST]), suiteOptions()),
      'IncompleteSignature',
      /X-Amz-Date/,
    );
  });

  it('host must be signed', () => {
    const auth = authorizationFor({ ...vanilla, signedHeaders: ['x-amz-date'] });
    expectSigV4Error(() => verifySigV4(request(auth), suiteOptions()), 'IncompleteSignature', /Host/);
  });

  it('unknown access key -> UnrecognizedClient', () => {
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla)), suiteOptions({ lookup: () => undefined })),
      'UnrecognizedClient',
      'The security token included in the request is invalid.',
    );
  });

  it('wrong secret -> InvalidSignature with AWS message', () => {
    const record = suiteRecord({ secretAccessKey: 'not-the-secret' });
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla)), suiteOptions({ lookup: () => record })),
      'InvalidSignature',
      /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\./,
    );
  });

  it('a request more than 5 minutes old -> SignatureExpired with the AWS text', () => {
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla)), suiteOptions({ now: SUITE_NOW + 10 * 60_000 })),
      'SignatureExpired',
      'Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T124600Z - 5 min.)',
    );
  });

  it('a request more than 5 minutes in the future -> not yet current', () => {
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla)), suiteOptions({ now: SUITE_NOW - 10 * 60_000 })),
      'SignatureExpired',
      'Signature not yet current: 20150830T123600Z is still later than 20150830T123100Z (20150830T122600Z + 5 min.)',
    );
  });

  it('accepts a request exactly within the skew window', () => {
    expect(() =>
      verifySigV4(request(authorizationFor(vanilla)), suiteOptions({ now: SUITE_NOW + 5 * 60_000 })),
    ).not.toThrow();
  });

  it('expired temporary credentials -> ExpiredToken', () => {
    const record = suiteRecord({ sessionToken: 'tok', expiration: new Date(SUITE_NOW - 1000) });
    const signed = signRequest({
      method: 'GET',
      url: '/',
      headers: { host: 'example.amazonaws.com' },
      accessKeyId: SUITE_KEY,
      secretAccessKey: SUITE_SECRET,
      sessionToken: 'tok',
      region: 'us-east-1',
      service: 'service',
      date: new Date(SUITE_NOW),
    });
    expectSigV4Error(
      () =>
        verifySigV4(
          { method: 'GET', url: '/', headers: Object.entries(signed), body: Buffer.alloc(0) },
          suiteOptions({ lookup: () => record }),
        ),
      'ExpiredToken',
      'The security token included in the request is expired',
    );
  });

  it('temporary credentials need their session token; long-term ones must not carry one', () => {
    const temp = suiteRecord({ sessionToken: 'tok', expiration: new Date(SUITE_NOW + 3600_000) });
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla)), suiteOptions({ lookup: () => temp })),
      'UnrecognizedClient',
    );
    expectSigV4Error(
      () =>
        verifySigV4(
          request(authorizationFor(vanilla), [...vanilla.headers, ['X-Amz-Security-Token', 'x']]),
          suiteOptions(),
        ),
      'UnrecognizedClient',
    );
  });

  it('checks the credential scope: date, region, service, terminator', () => {
    const scoped = (scope: string) =>
      `AWS4-HMAC-SHA256 Credential=${SUITE_KEY}/${scope}, SignedHeaders=host;x-amz-date, Signature=${vanilla.signature}`;
    expectSigV4Error(
      () => verifySigV4(request(scoped('20150831/us-east-1/service/aws4_request')), suiteOptions()),
      'InvalidSignature',
      /Date in Credential scope does not match/,
    );
    expectSigV4Error(
      () => verifySigV4(request(scoped('20150830/eu-west-1/service/aws4_request')), suiteOptions()),
      'InvalidSignature',
      /valid region, not 'eu-west-1'.*'us-east-1'/,
    );
    expectSigV4Error(
      () => verifySigV4(request(scoped('20150830/us-east-1/lambda/aws4_request')), suiteOptions()),
      'InvalidSignature',
      /correct service/,
    );
    expectSigV4Error(
      () =>
        verifySigV4(
          request(authorizationFor(vanilla)),
          suiteOptions({ services: ['service', 'ssm'], expectedService: 'ssm' }),
        ),
      'InvalidSignature',
      /correct service: 'ssm'/,
    );
    expectSigV4Error(
      () => verifySigV4(request(scoped('20150830/us-east-1/service/aws5_request')), suiteOptions()),
      'InvalidSignature',
      /terminator/,
    );
  });

  it('a body that does not match x-amz-content-sha256 is refused', () => {
    const headers: HeaderList = [...vanilla.headers, ['X-Amz-Content-Sha256', sha256Hex('other')]];
    expectSigV4Error(
      () => verifySigV4(request(authorizationFor(vanilla), headers), suiteOptions()),
      'InvalidSignature',
      /x-amz-content-sha256/,
    );
  });

  it('a malformed signature is a mismatch, not a crash', () => {
    const auth = authorizationFor({ ...vanilla, signature: 'zz' });
    expectSigV4Error(() => verifySigV4(request(auth), suiteOptions()), 'InvalidSignature');
  });
});

describe('agreement with @smithy/signature-v4 (the SDK for JavaScript v3 signer)', () => {
  const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
  const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).filter((v) => v.trim().length > 0);
  const pathSegment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((s) => s !== '.' && s !== '..');

  it('verifies whatever it signs (random paths, queries, headers, bodies)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST'),
        fc.array(pathSegment, { maxLength: 4 }),
        fc.dictionary(token, fc.string({ maxLength: 20 }), { maxKeys: 4 }),
        fc.dictionary(
          token.map((t) => `x-test-${t}`),
          headerValue,
          { maxKeys: 4 },
        ),
        fc.string({ maxLength: 200 }),
        fc.boolean(),
        async (method, segments, query, extraHeaders, body, withContentLength) => {
          const path = `/${segments.join('/')}`;
          const signer = new SignatureV4({
            credentials: { accessKeyId: SUITE_KEY, secretAccessKey: SUITE_SECRET },
            region: 'us-east-1',
            service: 'ssm',
            sha256: NodeSha256,
            applyChecksum: false,
          });
          const headers: Record<string, string> = { host: '127.0.0.1:4566', ...extraHeaders };
          // Go SDK v1 signs content-length and sends no x-amz-content-sha256.
          if (withContentLength) headers['content-length'] = String(Buffer.byteLength(body));
          const signed = await signer.sign(
            { method, protocol: 'http:', hostname: '127.0.0.1', port: 4566, path, query, headers, body },
            { signingDate: new Date(SUITE_NOW) },
          );
          const qs = Object.entries(query)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join('&');
          const verified = verifySigV4(
            {
              method,
              url: qs ? `${path}?${qs}` : path,
              headers: Object.entries(signed.headers as Record<string, string>),
              body: Buffer.from(body),
            },
            suiteOptions({ services: ['ssm'] }),
          );
          expect(verified.service).toBe('ssm');
        },
      ),
      { numRuns: 150 },
    );
  });
});
