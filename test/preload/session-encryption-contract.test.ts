/**
 * The contract's side of KMS-encrypted sessions (preload/api.ts): SessionInfo carries the key
 * when a session is encrypted, parses without it (older data, plain sessions), and refuses a
 * malformed one by name.
 */
import { describe, expect, it } from 'vitest';
import { SessionInfoSchema, validateResponse } from '../../preload/api.js';

const base = {
  id: '00000000-0000-4000-8000-00000000000a',
  awsSessionId: 'sandbox-user-0123456789abcdef0',
  instanceId: 'i-0b5bb7865829a72f8',
  instanceName: 'web-1',
  profile: 'sandbox',
  region: 'us-east-1',
  state: 'open',
  bytesIn: 0,
  bytesOut: 0,
  reconnects: 0,
  openedAt: '2025-01-01T00:00:00.000Z',
  openMs: 120,
  lastActivityAt: '2025-01-01T00:00:00.000Z',
};

describe('SessionInfo.encryption', () => {
  it('carries the KMS key of an encrypted session (alias or ARN)', () => {
    for (const kmsKeyId of [
      'alias/sandbox-session',
      'arn:aws:kms:us-east-1:123456789012:key/5a9b3c1e-7d2f-4e8a-9b6c-0d1e2f3a4b5c',
    ]) {
      expect(SessionInfoSchema.parse({ ...base, encryption: { kmsKeyId } }).encryption).toEqual({ kmsKeyId });
    }
    const r = validateResponse('sessions.open', { ...base, encryption: { kmsKeyId: 'alias/k' } });
    expect(r.ok).toBe(true);
  });

  it('is optional: a plain session, or data from before it existed, still parses', () => {
    const parsed = SessionInfoSchema.parse(base);
    expect(parsed).not.toHaveProperty('encryption');
  });

  it('refuses an encryption without a key, naming the field', () => {
    const r = validateResponse('sessions.open', { ...base, encryption: { kmsKeyId: '' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/encryption\.kmsKeyId/);
    expect(SessionInfoSchema.safeParse({ ...base, encryption: {} }).success).toBe(false);
  });
});
