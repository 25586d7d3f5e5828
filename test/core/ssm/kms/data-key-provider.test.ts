/**
 * Data keys from KMS through the control plane's KMS client (same credentials, endpoint and
 * handler as SSM), against the sandbox's KMS: the 64-byte key with the session's context, and
 * KMS's refusals as messages naming the key, the permission and the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../../../main/core/ssm/control-plane.js';
import { sessionEncryptionContext } from '../../../../main/core/ssm/kms/data-key-provider.js';
import { KmsError, describeKmsError } from '../../../../main/core/ssm/kms/kms-errors.js';
import { DEFAULT_KMS_ALIAS } from '../../../../main/sandbox/api/kms-keys.js';
import { startSandbox, type SandboxHandle } from '../../../../main/sandbox/server.js';

let sandbox: SandboxHandle;
let cp: ControlPlane;
const context = sessionEncryptionContext('sandbox-user-0123456789abcdef0', 'i-0b5bb7865829a72f8');
const user = { arn: 'arn:aws:iam::123456789012:user/sandbox-user' };

function controlPlane(endpoints: { endpoint?: string; kms?: string }): ControlPlane {
  return new ControlPlane({
    region: sandbox.region,
    ...(endpoints.endpoint ? { endpoint: endpoints.endpoint } : {}),
    ...(endpoints.kms ? { endpoints: { kms: endpoints.kms } } : {}),
    credentials: sandbox.credentials,
    maxAttempts: 1,
    connectionTimeoutMs: 2000,
  });
}

async function failure(keyId: string): Promise<KmsError> {
  const err = await cp.kmsDataKeys.generateDataKey(keyId, context).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(KmsError);
  return err as KmsError;
}

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    kmsKeys: [
      { aliases: ['alias/locked'], deny: ['kms:GenerateDataKey'] },
      { aliases: ['alias/off'], keyState: 'Disabled' },
      { aliases: ['alias/going'], keyState: 'PendingDeletion' },
    ],
  });
  cp = controlPlane({ endpoint: sandbox.endpoint });
});
afterAll(async () => {
  cp.dispose();
  await sandbox.close();
});

describe('KmsDataKeyProvider', () => {
  it('generates a 64-byte data key under the key, sealed with the session context', async () => {
    const key = await cp.kmsDataKeys.generateDataKey(DEFAULT_KMS_ALIAS, context);
    expect(key.keyArn).toBe(sandbox.kms.resolveArn(DEFAULT_KMS_ALIAS));
    expect(key.plaintext).toHaveLength(64);
    // Only that context opens it: what the agent decrypts is what the client got.
    expect(sandbox.kms.decrypt(key.ciphertext, { ...context }, user).plaintext.equals(key.plaintext)).toBe(
      true,
    );
    expect(() =>
      sandbox.kms.decrypt(key.ciphertext, { ...context, 'aws:ssm:TargetId': 'i-other' }, user),
    ).toThrow(/encryption context differs/);
  });

  it('says who was denied which permission on which key, and what to do', async () => {
    const err = await failure('alias/locked');
    const arn = sandbox.kms.resolveArn('alias/locked');
    expect(err.code).toBe('AccessDeniedException');
    expect(err.message).toBe(
      `KMS denied kms:GenerateDataKey on key ${arn} for arn:aws:iam::123456789012:user/sandbox-user: ` +
        "allow kms:GenerateDataKey on that key for this identity (Session Manager's KMS encryption needs it), " +
        'or turn off KMS encryption in the Session Manager preferences.',
    );
  });

  it('still names the key and the permission when the denial text is not the usual one', () => {
    const denied = Object.assign(new Error('Access denied by an SCP'), { name: 'AccessDeniedException' });
    expect(describeKmsError(denied, 'GenerateDataKey', 'alias/team', 'eu-west-1').message).toBe(
      "KMS denied kms:GenerateDataKey on key alias/team for this identity: allow kms:GenerateDataKey on that key for this identity (Session Manager's KMS encryption needs it), or turn off KMS encryption in the Session Manager preferences.",
    );
  });

  it('names a missing, disabled or deleted key with the fix', async () => {
    const missing = await failure('alias/nope');
    expect(missing.code).toBe('NotFoundException');
    expect(missing.message).toMatch(
      /^KMS key alias\/nope, which the Session Manager preferences require for encrypting sessions, was not found in us-east-1 \(Alias arn:aws:kms:us-east-1:123456789012:alias\/nope is not found\): set an existing key/,
    );
    const off = await failure('alias/off');
    expect(off.code).toBe('DisabledException');
    expect(off.message).toMatch(
      /^KMS key alias\/off, .* is disabled \(arn:aws:kms:.* is disabled\): enable it in KMS/,
    );
    const going = await failure('alias/going');
    expect(going.code).toBe('KMSInvalidStateException');
    expect(going.message).toMatch(
      /cannot be used in its current state \(.* is pending deletion\): if it is pending deletion, cancel the deletion/,
    );
  });

  it("uses the profile's KMS endpoint, and names an unreachable one", async () => {
    const perService = controlPlane({ endpoint: 'http://127.0.0.1:9', kms: sandbox.endpoint });
    try {
      await expect(perService.kmsDataKeys.generateDataKey(DEFAULT_KMS_ALIAS, context)).resolves.toMatchObject(
        {
          keyArn: expect.stringMatching(/^arn:aws:kms:us-east-1:123456789012:key\//),
        },
      );
    } finally {
      perService.dispose();
    }
    const unreachable = controlPlane({ endpoint: sandbox.endpoint, kms: 'http://127.0.0.1:9' });
    try {
      const err = (await unreachable.kmsDataKeys
        .generateDataKey(DEFAULT_KMS_ALIAS, context)
        .catch((e: unknown) => e)) as KmsError;
      expect(err).toBeInstanceOf(KmsError);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(
        /^Session Manager's KMS encryption with key alias\/sandbox-session: GenerateDataKey failed: cannot reach the AWS endpoint for us-east-1 \(ECONNREFUSED/,
      );
    } finally {
      unreachable.dispose();
    }
  });
});
