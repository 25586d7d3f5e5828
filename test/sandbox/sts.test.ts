/**
 * The sandbox's STS AssumeRole through the real SDK client: credentials registered with an
 * expiry, MFA (TOTP), ExternalId, DurationSeconds bounds, role chaining and AWS's errors.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_EXTERNAL_ID,
  SANDBOX_MFA_SECRET,
  SANDBOX_MFA_SERIAL,
  base32Decode,
  totp,
  verifyTotp,
} from '../../main/sandbox/credentials.js';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';

let sandbox: SandboxHandle;
const clients: STSClient[] = [];
const ROLE = (name: string): string => `arn:aws:iam::123456789012:role/${name}`;

function sts(credentials: AwsCredentialIdentity = sandbox.credentials): STSClient {
  const c = new STSClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials,
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

async function assume(input: Record<string, unknown>, creds?: AwsCredentialIdentity) {
  const out = await sts(creds).send(new AssumeRoleCommand({ RoleSessionName: 'tester', ...input } as never));
  const c = out.Credentials!;
  return {
    out,
    creds: {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      expiration: c.Expiration!,
    },
  };
}

async function failure(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

/** A 6-digit code that is not valid for the default device now (nor a step either side). */
function wrongCode(): string {
  for (let n = 0; ; n++) {
    const code = String((Number(totp(SANDBOX_MFA_SECRET)) + 500_000 + n) % 1_000_000).padStart(6, '0');
    if (!verifyTotp(SANDBOX_MFA_SECRET, code)) return code;
  }
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, sts: { minDurationSeconds: 1 } });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await sandbox.close();
});

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC test vector and decodes base32', () => {
    // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", T = 59 s -> 94287082 (8 digits).
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(base32Decode(secret).toString()).toBe('12345678901234567890');
    expect(totp(secret, 59_000, 30, 8)).toBe('94287082');
    expect(totp(secret, 1_111_111_109_000, 30, 8)).toBe('07081804');
    expect(verifyTotp(secret, totp(secret, 1000_000 - 30_000), 1000_000)).toBe(true);
    expect(verifyTotp(secret, totp(secret, 1000_000 - 90_000), 1000_000)).toBe(false);
  });
});

describe('STS AssumeRole', () => {
  it('returns temporary credentials the sandbox accepts, for the assumed-role identity', async () => {
    const before = Date.now();
    const { out, creds } = await assume({ RoleArn: ROLE('SandboxAdmin'), DurationSeconds: 900 });
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/SandboxAdmin/tester');
    expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:tester$/);
    const exp = creds.expiration.getTime();
    expect(exp).toBeGreaterThan(before + 899_000);
    expect(exp).toBeLessThan(Date.now() + 901_000);
    expect(sandbox.credentialStore.lookup(creds.accessKeyId)?.expiration?.getTime()).toBe(exp);
    const id = await sts(creds).send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toBe('arn:aws:sts::123456789012:assumed-role/SandboxAdmin/tester');
    expect(id.UserId).toBe(out.AssumedRoleUser?.AssumedRoleId);
  });

  it('chains roles, limited to one hour as AWS limits role chaining', async () => {
    const first = await assume({ RoleArn: ROLE('SandboxAdmin'), DurationSeconds: 7200 });
    const second = await assume({ RoleArn: ROLE('SandboxReadOnly'), RoleSessionName: 'hop2' }, first.creds);
    expect(second.out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::123456789012:assumed-role/SandboxReadOnly/hop2',
    );
    const err = await failure(assume({ RoleArn: ROLE('SandboxAdmin'), DurationSeconds: 7200 }, second.creds));
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  });

  it('expired role credentials get ExpiredToken', async () => {
    const { creds } = await assume({ RoleArn: ROLE('SandboxReadOnly'), DurationSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_300));
    const err = await failure(sts(creds).send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('ExpiredToken');
    expect(err.message).toBe('The security token included in the request is expired');
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it('checks MFA: the right code works, a wrong one is AccessDenied with AWS message, a missing one is refused', async () => {
    const ok = await assume({
      RoleArn: ROLE('SandboxMfa'),
      SerialNumber: SANDBOX_MFA_SERIAL,
      TokenCode: totp(SANDBOX_MFA_SECRET),
    });
    expect(ok.out.AssumedRoleUser?.Arn).toContain('assumed-role/SandboxMfa/');

    const wrong = await failure(
      assume({ RoleArn: ROLE('SandboxMfa'), SerialNumber: SANDBOX_MFA_SERIAL, TokenCode: wrongCode() }),
    );
    expect(wrong.name).toBe('AccessDenied');
    expect(wrong.message).toBe('MultiFactorAuthentication failed with invalid MFA one time pass code.');
    expect(wrong.$metadata?.httpStatusCode).toBe(403);

    const missing = await failure(assume({ RoleArn: ROLE('SandboxMfa') }));
    expect(missing.name).toBe('AccessDenied');
    expect(missing.message).toBe(
      `User: arn:aws:iam::123456789012:user/sandbox-user is not authorized to perform: sts:AssumeRole on resource: ${ROLE('SandboxMfa')}`,
    );

    const unknownDevice = await failure(
      assume({
        RoleArn: ROLE('SandboxMfa'),
        SerialNumber: 'arn:aws:iam::123456789012:mfa/nobody',
        TokenCode: '123456',
      }),
    );
    expect(unknownDevice.message).toMatch(/unable to validate MFA code/);

    const half = await failure(assume({ RoleArn: ROLE('SandboxAdmin'), SerialNumber: SANDBOX_MFA_SERIAL }));
    expect(half.message).toMatch(/must provide both MFA serial number and one time pass code/);
  });

  it('requires the ExternalId the role names', async () => {
    const ok = await assume({ RoleArn: ROLE('SandboxPartner'), ExternalId: SANDBOX_EXTERNAL_ID });
    expect(ok.out.AssumedRoleUser?.Arn).toContain('SandboxPartner');
    const err = await failure(assume({ RoleArn: ROLE('SandboxPartner'), ExternalId: 'someone-else' }));
    expect(err.name).toBe('AccessDenied');
  });

  it('validates parameters as AWS does, and refuses unknown roles', async () => {
    const unknown = await failure(assume({ RoleArn: ROLE('Nope') }));
    expect(unknown.name).toBe('AccessDenied');
    expect(unknown.message).toContain(`on resource: ${ROLE('Nope')}`);

    const short = await failure(assume({ RoleArn: ROLE('SandboxAdmin'), RoleSessionName: 'x' }));
    expect(short.name).toBe('ValidationError');
    expect(short.message).toMatch(/^1 validation error detected: Value 'x' at 'roleSessionName'/);

    const long = await failure(assume({ RoleArn: ROLE('SandboxReadOnly'), DurationSeconds: 7200 }));
    expect(long.message).toBe(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );

    const badCode = await failure(
      assume({ RoleArn: ROLE('SandboxMfa'), SerialNumber: SANDBOX_MFA_SERIAL, TokenCode: '12ab56' }),
    );
    expect(badCode.name).toBe('ValidationError');
    expect(badCode.message).toContain("at 'tokenCode'");
  });

  it('keeps AWS bounds by default (DurationSeconds >= 900)', async () => {
    const strict = await startSandbox({ port: 0 });
    try {
      const c = new STSClient({
        endpoint: strict.endpoint,
        region: strict.region,
        credentials: strict.credentials,
        maxAttempts: 1,
      });
      clients.push(c);
      const err = await failure(
        c.send(
          new AssumeRoleCommand({
            RoleArn: ROLE('SandboxAdmin'),
            RoleSessionName: 'x1',
            DurationSeconds: 60,
          }),
        ),
      );
      expect(err.message).toBe(
        "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      );
    } finally {
      await strict.close();
    }
  });

  it('admin API: current MFA codes and roles added at run time', async () => {
    const headers = { 'x-sandbox-admin-token': sandbox.adminToken, 'content-type': 'application/json' };
    const mfa = (await (await fetch(`${sandbox.endpoint}/__sandbox/mfa`, { headers })).json()) as {
      devices: Array<{ serialNumber: string; code: string }>;
    };
    expect(mfa.devices[0]!.serialNumber).toBe(SANDBOX_MFA_SERIAL);
    expect(verifyTotp(SANDBOX_MFA_SECRET, mfa.devices[0]!.code)).toBe(true);

    const added = await fetch(`${sandbox.endpoint}/__sandbox/roles`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        arn: 'arn:aws:iam::210987654321:role/CrossAccount',
        maxSessionDurationSeconds: 7200,
      }),
    });
    expect(added.status).toBe(200);
    const { out } = await assume({
      RoleArn: 'arn:aws:iam::210987654321:role/CrossAccount',
      DurationSeconds: 7200,
    });
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::210987654321:assumed-role/CrossAccount/tester');
    const bad = await fetch(`${sandbox.endpoint}/__sandbox/roles`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ arn: 'not-an-arn' }),
    });
    expect(bad.status).toBe(400);
  });
});
