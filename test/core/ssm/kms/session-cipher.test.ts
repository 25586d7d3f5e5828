/** The AES-256-GCM cipher of KMS-encrypted sessions: layout, both ends, tampering, wrong keys, key hygiene. */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CipherError,
  NONCE_BYTES,
  SEAL_OVERHEAD,
  SessionCipher,
  TAG_BYTES,
  open,
  seal,
} from '../../../../main/core/ssm/kms/session-cipher.js';

describe('seal / open', () => {
  it('round-trips any payload, from empty to 64 KiB', () => {
    const key = randomBytes(32);
    for (const size of [0, 1, 15, 16, 17, 1024, 65536]) {
      const plain = randomBytes(size);
      const sealed = seal(key, plain);
      expect(sealed.length).toBe(size + SEAL_OVERHEAD);
      expect(open(key, sealed)).toEqual(plain);
    }
  });

  it('lays a message out as the reference plugin does: nonce, then ciphertext and tag, no additional data', () => {
    const key = randomBytes(32);
    const plain = Buffer.from('ls -la\r');
    const sealed = seal(key, plain);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const out = Buffer.concat([
      decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
    expect(out.toString()).toBe('ls -la\r');
  });

  it('uses a fresh nonce every time, so equal plaintexts seal differently', () => {
    const key = randomBytes(32);
    const a = seal(key, Buffer.from('same'));
    const b = seal(key, Buffer.from('same'));
    expect(a.subarray(0, NONCE_BYTES).equals(b.subarray(0, NONCE_BYTES))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('detects a changed byte anywhere: nonce, ciphertext or tag', () => {
    const key = randomBytes(32);
    const sealed = seal(key, Buffer.from('echo secret'));
    for (const at of [0, NONCE_BYTES - 1, NONCE_BYTES, NONCE_BYTES + 5, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      expect(() => open(key, bad), `byte ${at}`).toThrow(/failed authentication/);
    }
  });

  it('refuses another key, a truncated message and a key of the wrong size', () => {
    const sealed = seal(randomBytes(32), Buffer.from('x'));
    expect(() => open(randomBytes(32), sealed)).toThrow(CipherError);
    expect(() => open(randomBytes(32), sealed.subarray(0, SEAL_OVERHEAD - 1))).toThrow(/at least 28 bytes/);
    expect(() => seal(randomBytes(16), Buffer.from('x'))).toThrow(/32 bytes, got 16/);
  });
});

describe('SessionCipher', () => {
  it('splits the data key: the agent seals with the first half, the client with the second', () => {
    const dataKey = randomBytes(64);
    const first = Buffer.from(dataKey.subarray(0, 32));
    const second = Buffer.from(dataKey.subarray(32));
    const client = SessionCipher.fromDataKey(Buffer.from(dataKey), 'client');
    const agent = SessionCipher.fromDataKey(Buffer.from(dataKey), 'agent');

    const keystrokes = client.encrypt(Buffer.from('whoami\r'));
    expect(open(second, keystrokes).toString()).toBe('whoami\r');
    expect(agent.decrypt(keystrokes).toString()).toBe('whoami\r');

    const output = agent.encrypt(Buffer.from('ssm-user\r\n'));
    expect(open(first, output).toString()).toBe('ssm-user\r\n');
    expect(client.decrypt(output).toString()).toBe('ssm-user\r\n');

    // Each end opens only what the other end sealed.
    expect(() => client.decrypt(keystrokes)).toThrow(CipherError);
    expect(() => agent.decrypt(output)).toThrow(CipherError);
  });

  it('refuses a data key of the wrong size, and wipes the caller copy either way', () => {
    const short = randomBytes(32);
    expect(() => SessionCipher.fromDataKey(short, 'client')).toThrow(/64 bytes .* got 32/);
    expect(short.every((b) => b === 0)).toBe(true);
    const dataKey = randomBytes(64);
    SessionCipher.fromDataKey(dataKey, 'client').dispose();
    expect(dataKey.every((b) => b === 0)).toBe(true);
  });

  it('never shows its keys, and cannot be used once disposed', () => {
    const dataKey = randomBytes(64);
    const hex = dataKey.toString('hex');
    const cipher = SessionCipher.fromDataKey(Buffer.from(dataKey), 'client');
    expect(JSON.stringify({ cipher })).toBe('{"cipher":"[SessionCipher]"}');
    expect(inspect(cipher, { depth: 5, showHidden: true })).not.toContain(hex.slice(0, 16));
    expect(inspect(cipher)).toBe('[SessionCipher]');
    cipher.dispose();
    expect(cipher.isDisposed).toBe(true);
    expect(() => cipher.encrypt(Buffer.from('x'))).toThrow(/disposed/);
    expect(() => cipher.decrypt(Buffer.alloc(40))).toThrow(/disposed/);
  });
});
