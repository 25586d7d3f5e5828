/**
 * The KMS actions an encrypted Session Manager session needs (AWS JSON 1.1,
 * `x-amz-target: TrentService.<Action>`, SigV4 service `kms`): GenerateDataKey (the client),
 * Decrypt (the agent; in the sandbox it calls SandboxKmsKeys directly) and DescribeKey.
 * Blobs (CiphertextBlob, Plaintext) are base64 in JSON; timestamps epoch seconds.
 */
import { z } from 'zod';
import type { CallerIdentity } from '../credentials.js';
import { ApiError, constraint, validationError } from './errors.js';
import { parseJsonBody } from './json-body.js';
import type { EncryptionContext, SandboxKmsKeys } from './kms-keys.js';

export const KMS_TARGET_PREFIX = 'TrentService.';
export const KMS_ACTIONS = ['GenerateDataKey', 'Decrypt', 'DescribeKey'] as const;

const KEY_SPEC_BYTES: Record<string, number> = { AES_256: 32, AES_128: 16 };

const contextSchema = z.record(z.string(), z.string()).optional();
const generateDataKeyInput = z.object({
  KeyId: z.string().optional(),
  NumberOfBytes: z.number().optional(),
  KeySpec: z.string().optional(),
  EncryptionContext: contextSchema,
  GrantTokens: z.array(z.string()).optional(),
});
const decryptInput = z.object({
  CiphertextBlob: z.string().optional(),
  EncryptionContext: contextSchema,
  KeyId: z.string().optional(),
  EncryptionAlgorithm: z.string().optional(),
  GrantTokens: z.array(z.string()).optional(),
});
const describeKeyInput = z.object({ KeyId: z.string().optional() });

function requireKeyId(keyId: string | undefined): string {
  if (keyId === undefined) throw validationError([constraint(undefined, 'keyId', 'Member must not be null')]);
  if (keyId.length < 1 || keyId.length > 2048) {
    throw validationError([
      constraint(keyId, 'keyId', 'Member must have length between 1 and 2048 inclusive'),
    ]);
  }
  return keyId;
}

function context(value: EncryptionContext | undefined): EncryptionContext {
  return value ?? {};
}

function generateDataKey(body: string, caller: CallerIdentity, keys: SandboxKmsKeys): unknown {
  const input = parseJsonBody(generateDataKeyInput, body);
  const keyId = requireKeyId(input.KeyId);
  const problems: string[] = [];
  if (
    input.NumberOfBytes !== undefined &&
    (!Number.isInteger(input.NumberOfBytes) || input.NumberOfBytes < 1)
  ) {
    problems.push(
      constraint(input.NumberOfBytes, 'numberOfBytes', 'Member must have value greater than or equal to 1'),
    );
  } else if (input.NumberOfBytes !== undefined && input.NumberOfBytes > 1024) {
    problems.push(
      constraint(input.NumberOfBytes, 'numberOfBytes', 'Member must have value less than or equal to 1024'),
    );
  }
  if (input.KeySpec !== undefined && KEY_SPEC_BYTES[input.KeySpec] === undefined) {
    problems.push(
      constraint(
        input.KeySpec,
        'keySpec',
        `Member must satisfy enum value set: [${Object.keys(KEY_SPEC_BYTES).join(', ')}]`,
      ),
    );
  }
  if (problems.length > 0) throw validationError(problems);
  if ((input.NumberOfBytes === undefined) === (input.KeySpec === undefined)) {
    throw new ApiError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  const bytes = input.NumberOfBytes ?? KEY_SPEC_BYTES[input.KeySpec!]!;
  const out = keys.generateDataKey(keyId, bytes, context(input.EncryptionContext), caller);
  const response = {
    CiphertextBlob: out.ciphertext.toString('base64'),
    Plaintext: out.plaintext.toString('base64'),
    KeyId: out.keyArn,
  };
  out.plaintext.fill(0);
  return response;
}

function decrypt(body: string, caller: CallerIdentity, keys: SandboxKmsKeys): unknown {
  const input = parseJsonBody(decryptInput, body);
  if (input.CiphertextBlob === undefined) {
    throw validationError([constraint(undefined, 'ciphertextBlob', 'Member must not be null')]);
  }
  const blob = Buffer.from(input.CiphertextBlob, 'base64');
  if (blob.length < 1 || blob.length > 6144) {
    throw validationError([
      constraint('[binary]', 'ciphertextBlob', 'Member must have length between 1 and 6144 inclusive'),
    ]);
  }
  if (input.EncryptionAlgorithm !== undefined && input.EncryptionAlgorithm !== 'SYMMETRIC_DEFAULT') {
    throw new ApiError(
      'InvalidKeyUsageException',
      `The sandbox's keys are symmetric: EncryptionAlgorithm must be SYMMETRIC_DEFAULT, not ${input.EncryptionAlgorithm.slice(0, 50)}.`,
    );
  }
  const out = keys.decrypt(blob, context(input.EncryptionContext), caller, input.KeyId);
  const response = {
    KeyId: out.keyArn,
    Plaintext: out.plaintext.toString('base64'),
    EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
  };
  out.plaintext.fill(0);
  return response;
}

function describeKey(body: string, caller: CallerIdentity, keys: SandboxKmsKeys): unknown {
  const input = parseJsonBody(describeKeyInput, body);
  const key = keys.describe(requireKeyId(input.KeyId), caller);
  return {
    KeyMetadata: {
      AWSAccountId: keys.accountId,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: Date.parse(key.creationDate) / 1000,
      Enabled: key.keyState === 'Enabled',
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.keyState,
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    },
  };
}

/** One KMS action; throws ApiError with KMS's error codes. */
export function handleKmsAction(
  action: string,
  body: string,
  caller: CallerIdentity,
  keys: SandboxKmsKeys,
): unknown {
  switch (action) {
    case 'GenerateDataKey':
      return generateDataKey(body, caller, keys);
    case 'Decrypt':
      return decrypt(body, caller, keys);
    case 'DescribeKey':
      return describeKey(body, caller, keys);
    default:
      throw new ApiError(
        'UnknownOperationException',
        `Unknown operation ${KMS_TARGET_PREFIX}${action.slice(0, 100)}. The sandbox's KMS implements: ${KMS_ACTIONS.join(', ')}.`,
      );
  }
}
