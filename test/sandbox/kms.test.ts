/**
 * The sandbox's KMS through the real SDK client (@aws-sdk/client-kms): GenerateDataKey by key
 * id, key ARN, alias and alias ARN; Decrypt bound to the encryption context; AWS's errors for
 * denied, disabled, pending-deletion and unknown keys; DescribeKey; keys from the admin API and
 * from a fleet file.
 */
import {
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KMS_ALIAS, DEFAULT_KMS_KEY_ID } from '../../main/sandbox/api/kms-keys.js';
import { parseFleetDocument } from '../../main/sandbox/fleet.js';
import { ADMIN_TOKEN_HEADER } from '../../main/sandbox/http-server.js';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';

let sandbox: SandboxHandle;
let kms: KMSClient;
const DENIED_KEY = '11111111-2222-4333-8444-555555555555';
const context = {
  'aws:ssm:SessionId': 'sandbox-user-0123456789abcdef0',
  'aws:ssm:TargetId': 'i-0b5bb7865829a72f8',
};

function client(config: Partial<KMSClientConfig> = {}): KMSClient {
  return new KMSClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: sandbox.credentials,
    maxAttempts: 1,
    ...config,
  });
}

async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { name: string; message: string };
  }
  throw new Error('expected the call to fail');
}

async function admin(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sandbox.endpoint}/__sandbox${path}`, {
    method,
    headers: { [ADMIN_TOKEN_HEADER]: sandbox.adminToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    kmsKeys: [{ keyId: DENIED_KEY, aliases: ['alias/locked'], deny: ['kms:GenerateDataKey'] }],
  });
  kms = client();
});
afterAll(async () => {
  kms.destroy();
  await sandbox.close();
});

describe('sandbox KMS', () => {
  const arn = `arn:aws:kms:us-east-1:123456789012:key/${DEFAULT_KMS_KEY_ID}`;

  it('generates a data key for a key id, key ARN, alias and alias ARN, and decrypts it with the same context', async () => {
    for (const keyId of [
      DEFAULT_KMS_KEY_ID,
      arn,
      DEFAULT_KMS_ALIAS,
      `arn:aws:kms:us-east-1:123456789012:${DEFAULT_KMS_ALIAS}`,
    ]) {
      const out = await kms.send(
        new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 64, EncryptionContext: context }),
      );
      expect(out.KeyId, keyId).toBe(arn);
      expect(out.Plaintext).toHaveLength(64);
      const back = await kms.send(
        new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { ...context } }),
      );
      expect(back.KeyId).toBe(arn);
      expect(Buffer.from(back.Plaintext!).equals(Buffer.from(out.Plaintext!))).toBe(true);
    }
    const spec = await kms.send(new GenerateDataKeyCommand({ KeyId: DEFAULT_KMS_ALIAS, KeySpec: 'AES_256' }));
    expect(spec.Plaintext).toHaveLength(32);
  });

  it('decrypts only with the encryption context the key was generated with', async () => {
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: DEFAULT_KMS_ALIAS, NumberOfBytes: 64, EncryptionContext: context }),
    );
    const reordered = {
      'aws:ssm:TargetId': context['aws:ssm:TargetId'],
      'aws:ssm:SessionId': context['aws:ssm:SessionId'],
    };
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: reordered })),
    ).resolves.toMatchObject({ KeyId: arn });
    for (const other of [
      {},
      { ...context, 'aws:ssm:TargetId': 'i-0a03534fd537d6397' },
      { ...context, extra: 'x' },
    ]) {
      const err = await rejection(
        kms.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: other })),
      );
      expect(err.name).toBe('InvalidCiphertextException');
    }
    const tampered = Buffer.from(out.CiphertextBlob!);
    tampered[tampered.length - 3]! ^= 0x40;
    expect(
      (
        await rejection(
          kms.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })),
        )
      ).name,
    ).toBe('InvalidCiphertextException');
    const wrongKey = await rejection(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: out.CiphertextBlob,
          EncryptionContext: context,
          KeyId: 'alias/locked',
        }),
      ),
    );
    expect(wrongKey.name).toBe('IncorrectKeyException');
  });

  it('answers a denied caller with AWS AccessDeniedException text naming the caller, the action and the key', async () => {
    const err = await rejection(
      kms.send(
        new GenerateDataKeyCommand({ KeyId: 'alias/locked', NumberOfBytes: 64, EncryptionContext: context }),
      ),
    );
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(
      `User: arn:aws:iam::123456789012:user/sandbox-user is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:123456789012:key/${DENIED_KEY} because no identity-based policy allows the kms:GenerateDataKey action`,
    );
  });

  it('names unknown keys and aliases, disabled keys and keys pending deletion', async () => {
    const gen = (KeyId: string) =>
      rejection(kms.send(new GenerateDataKeyCommand({ KeyId, NumberOfBytes: 64 })));
    expect(await gen('alias/nope')).toMatchObject({
      name: 'NotFoundException',
      message: 'Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found.',
    });
    expect(await gen('99999999-9999-4999-8999-999999999999')).toMatchObject({
      name: 'NotFoundException',
      message:
        "Key 'arn:aws:kms:us-east-1:123456789012:key/99999999-9999-4999-8999-999999999999' does not exist",
    });
    expect((await gen(`arn:aws:kms:eu-west-1:123456789012:key/${DEFAULT_KMS_KEY_ID}`)).name).toBe(
      'NotFoundException',
    );
    expect((await gen('not-a-key')).name).toBe('NotFoundException');

    const made = await admin('POST', '/kms/keys', { aliases: ['alias/off'], keyState: 'Disabled' });
    expect(made.status).toBe(200);
    const offArn = (made.json.key as { arn: string }).arn;
    expect(await gen('alias/off')).toMatchObject({
      name: 'DisabledException',
      message: `${offArn} is disabled.`,
    });
    expect(
      (await admin('POST', `/kms/keys/${encodeURIComponent('alias/off')}`, { keyState: 'PendingDeletion' }))
        .status,
    ).toBe(200);
    expect(await gen('alias/off')).toMatchObject({
      name: 'KMSInvalidStateException',
      message: `${offArn} is pending deletion.`,
    });
    expect(
      (await admin('POST', `/kms/keys/${encodeURIComponent('alias/off')}`, { keyState: 'Enabled' })).status,
    ).toBe(200);
    await expect(
      kms.send(new GenerateDataKeyCommand({ KeyId: 'alias/off', NumberOfBytes: 16 })),
    ).resolves.toMatchObject({
      KeyId: offArn,
    });
  });

  it('validates GenerateDataKey as KMS does', async () => {
    const err = (input: Record<string, unknown>) =>
      rejection(kms.send(new GenerateDataKeyCommand({ KeyId: DEFAULT_KMS_ALIAS, ...input })));
    expect(await err({})).toMatchObject({
      name: 'ValidationException',
      message: 'Please specify either number of bytes or key spec.',
    });
    expect((await err({ NumberOfBytes: 64, KeySpec: 'AES_256' })).name).toBe('ValidationException');
    expect((await err({ NumberOfBytes: 2048 })).message).toMatch(
      /numberOfBytes' failed to satisfy constraint/,
    );
    expect((await err({ KeySpec: 'AES_512' as never })).message).toMatch(
      /keySpec' failed to satisfy constraint/,
    );
  });

  it('describes a key, and refuses a request signed for another service', async () => {
    const out = await kms.send(new DescribeKeyCommand({ KeyId: DEFAULT_KMS_ALIAS }));
    expect(out.KeyMetadata).toMatchObject({
      KeyId: DEFAULT_KMS_KEY_ID,
      Arn: arn,
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      AWSAccountId: '123456789012',
    });
    const wrongScope = client({ signingName: 'ssm' } as Partial<KMSClientConfig>);
    try {
      const err = await rejection(wrongScope.send(new DescribeKeyCommand({ KeyId: DEFAULT_KMS_ALIAS })));
      expect(err.message).toMatch(/Credential should be scoped to correct service: 'kms'/);
    } finally {
      wrongScope.destroy();
    }
  });

  it('manages keys through the admin API, and says what is wrong with a bad one', async () => {
    const listed = await admin('GET', '/kms/keys');
    const aliases = (listed.json.keys as Array<{ aliases: string[] }>).flatMap((k) => k.aliases);
    expect(aliases).toEqual(expect.arrayContaining([DEFAULT_KMS_ALIAS, 'alias/locked']));
    expect(JSON.stringify(listed.json)).not.toMatch(/material/);
    const bad = await admin('POST', '/kms/keys', { aliases: ['nope'], color: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/unknown key\(s\) "color"/);
    const taken = await admin('POST', '/kms/keys', { aliases: [DEFAULT_KMS_ALIAS] });
    expect(taken.status).toBe(400);
    expect(taken.json.error).toMatch(/alias alias\/sandbox-session already names key/);
    const missing = await admin('POST', `/kms/keys/${encodeURIComponent('alias/ghost')}`, {
      keyState: 'Disabled',
    });
    expect(missing.status).toBe(404);
    const state = await admin('GET', '/state');
    expect((state.json.kms as { keys: unknown[] }).keys.length).toBeGreaterThanOrEqual(2);
  });
});

describe('fleet files with KMS keys', () => {
  it('reads kmsKeys beside the instances, and names a bad key by its path', () => {
    const doc = parseFleetDocument({
      instances: [{ instanceId: 'i-0123456789abcdef0', name: 'secure', kmsKeyId: 'alias/team' }],
      kmsKeys: [{ aliases: ['alias/team'], deny: ['kms:Decrypt'] }],
    });
    expect(doc.instances[0]!.kmsKeyId).toBe('alias/team');
    expect(doc.kmsKeys).toEqual([{ aliases: ['alias/team'], deny: ['kms:Decrypt'] }]);
    expect(() =>
      parseFleetDocument(
        { instances: [], kmsKeys: [{ aliases: ['alias/x'], deny: ['kms:Encrypt'] }] },
        'my-fleet.json',
      ),
    ).toThrow(/my-fleet\.json[\s\S]*\$\.kmsKeys\[0\]\.deny\[0\]/);
  });
});
