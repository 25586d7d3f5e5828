import { describe, expect, it } from 'vitest';
import {
  CredentialStore,
  defaultCredentials,
  SANDBOX_ACCESS_KEY_ID,
  SANDBOX_ACCOUNT_ID,
} from '../../main/sandbox/credentials.js';
import { createFaultController, mulberry32, noFaults } from '../../main/sandbox/faults.js';
import { callerNameFromArn, SandboxSessionRegistry } from '../../main/sandbox/session-registry.js';

describe('credentials', () => {
  it('has fixed, documented defaults', () => {
    const creds = defaultCredentials();
    expect(creds).toEqual({
      accessKeyId: 'AKIASANDBOXEXAMPLE01',
      secretAccessKey: 'sandbox/SecretAccessKey/EXAMPLEKEY000000',
      accountId: '123456789012',
      userName: 'sandbox-user',
      arn: 'arn:aws:iam::123456789012:user/sandbox-user',
    });
    expect(creds.accessKeyId).toHaveLength(20);
    expect(creds.secretAccessKey).toHaveLength(40);
  });

  it('looks keys up, including temporary ones with their token and expiry', () => {
    const store = new CredentialStore();
    expect(store.lookup(SANDBOX_ACCESS_KEY_ID)?.accountId).toBe(SANDBOX_ACCOUNT_ID);
    expect(store.lookup('AKIANOTAKEY000000000')).toBeUndefined();
    const expiration = new Date(Date.now() + 60_000);
    store.addTemporary({
      accessKeyId: 'ASIATEMPORARY0000001',
      secretAccessKey: 's',
      sessionToken: 't',
      expiration,
    });
    expect(store.lookup('ASIATEMPORARY0000001')).toMatchObject({
      sessionToken: 't',
      expiration,
      arn: 'arn:aws:iam::123456789012:user/sandbox-user',
    });
    expect(store.remove('ASIATEMPORARY0000001')).toBe(true);
    expect(() => store.remove(SANDBOX_ACCESS_KEY_ID)).toThrow(/cannot be removed/);
  });

  it('refuses malformed credentials with a clear message', () => {
    expect(() => new CredentialStore({ ...defaultCredentials(), accessKeyId: 'short' })).toThrow(
      /accessKeyId must be 16 to 128/,
    );
    expect(() => new CredentialStore({ ...defaultCredentials(), accountId: '42' })).toThrow(
      /accountId must be 12 digits/,
    );
    const store = new CredentialStore();
    expect(() =>
      store.addTemporary({
        accessKeyId: 'ASIATEMPORARY0000001',
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(NaN),
      }),
    ).toThrow(/expiration/);
  });
});

describe('fault controller', () => {
  it('starts with no faults and applies validated patches', () => {
    const faults = createFaultController(1);
    expect(faults.state).toEqual(noFaults());
    faults.set({ dataChannel: { dropRate: 0.25 }, controlPlane: { delayMs: 10 } });
    expect(faults.state.dataChannel.dropRate).toBe(0.25);
    expect(faults.state.controlPlane.delayMs).toBe(10);
    expect(faults.state.dataChannel.duplicateRate).toBe(0);
    faults.reset();
    expect(faults.state).toEqual(noFaults());
  });

  it('names the offending key when a patch is invalid, and changes nothing', () => {
    const faults = createFaultController(1);
    expect(() => faults.set({ dataChannel: { dropRate: 1.5 } })).toThrow(
      '"dataChannel.dropRate": expected a probability from 0 to 1, got 1.5',
    );
    expect(() => faults.set({ controlPlane: { delayMs: -1 } })).toThrow(
      /"controlPlane.delayMs": expected a delay/,
    );
    expect(() => faults.set({ controlPlane: { throttleRate: 0.5, bogus: 1 } as never })).toThrow(
      /Unknown fault setting "controlPlane.bogus"/,
    );
    expect(() => faults.set({ network: {} } as never)).toThrow(/Unknown fault group "network"/);
    expect(faults.state).toEqual(noFaults());
  });

  it('is deterministic for a seed', () => {
    const a = createFaultController(42);
    const b = createFaultController(42);
    const seqA = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
    expect(mulberry32(7)()).not.toBe(mulberry32(8)());
    expect(() => createFaultController(-1)).toThrow(/seed/);
  });

  it('emits dropSockets with the session id', () => {
    const faults = createFaultController();
    const seen: Array<string | undefined> = [];
    faults.on('dropSockets', (id?: string) => seen.push(id));
    faults.dropSockets('s-1');
    faults.dropSockets();
    expect(seen).toEqual(['s-1', undefined]);
  });
});

describe('session registry', () => {
  const owner = 'arn:aws:iam::123456789012:user/sandbox-user';
  function registry(
    now: () => number = Date.now,
    extra: { historyLimit?: number; tokenTtlMs?: number } = {},
  ) {
    return new SandboxSessionRegistry({ streamUrlBase: 'ws://127.0.0.1:1234', now, ...extra });
  }

  it('creates sessions with AWS-shaped ids, unguessable tokens and stream URLs', () => {
    const r = registry();
    const a = r.create({ target: 'i-0123456789abcdef0', owner });
    const b = r.create({ target: 'i-0123456789abcdef0', owner });
    expect(a.session.sessionId).toMatch(/^sandbox-user-[0-9a-f]{17}$/);
    expect(a.session.sessionId).not.toBe(b.session.sessionId);
    expect(a.tokenValue).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(a.tokenValue).not.toBe(b.tokenValue);
    expect(a.streamUrl).toBe(
      `ws://127.0.0.1:1234/v1/data-channel/${a.session.sessionId}?role=publish_subscribe`,
    );
    expect(a.session).toMatchObject({
      documentName: 'SSM-SessionManagerRunShell',
      status: 'Connecting',
      owner,
    });
  });

  it('derives the caller name from the owner ARN', () => {
    expect(callerNameFromArn(owner)).toBe('sandbox-user');
    expect(callerNameFromArn('arn:aws:sts::123456789012:assumed-role/Admin/alice')).toBe('alice');
  });

  it('tokens are valid for their session within the TTL, for any number of reconnects', () => {
    let now = 0;
    const r = registry(() => now, { tokenTtlMs: 1000 });
    const { session, tokenValue } = r.create({ target: 'i-0123456789abcdef0', owner });
    const other = r.create({ target: 'i-0123456789abcdef0', owner });
    expect(r.validateToken(session.sessionId, tokenValue)).toBe(true);
    expect(r.validateToken(session.sessionId, tokenValue)).toBe(true);
    expect(r.validateToken(other.session.sessionId, tokenValue)).toBe(false);
    expect(r.validateToken(session.sessionId, 'guess')).toBe(false);
    now = 999;
    const resumed = r.resume(session.sessionId)!;
    expect(resumed.tokenValue).not.toBe(tokenValue);
    now = 1000;
    expect(r.validateToken(session.sessionId, tokenValue)).toBe(false);
    expect(r.validateToken(session.sessionId, resumed.tokenValue)).toBe(true);
    now = 2000;
    expect(r.validateToken(session.sessionId, resumed.tokenValue)).toBe(false);
  });

  it('terminate ends the session once, emits terminate, and invalidates tokens', () => {
    const r = registry();
    const events: Array<[string, string]> = [];
    r.on('terminate', (id: string, reason: string) => events.push([id, reason]));
    const { session, tokenValue } = r.create({ target: 'i-0123456789abcdef0', owner, reason: 'debugging' });
    r.terminate(session.sessionId, 'done');
    r.terminate(session.sessionId, 'again');
    expect(events).toEqual([[session.sessionId, 'done']]);
    expect(r.get(session.sessionId)).toMatchObject({
      status: 'Terminated',
      details: 'done',
      reason: 'debugging',
    });
    expect(r.get(session.sessionId)!.endDate).toBeInstanceOf(Date);
    expect(r.validateToken(session.sessionId, tokenValue)).toBe(false);
    expect(r.resume(session.sessionId)).toBeUndefined();
    r.setStatus(session.sessionId, 'Connected');
    expect(r.get(session.sessionId)!.status).toBe('Terminated');
  });

  it('lists Active and History, and keeps a bounded history', () => {
    const r = registry(Date.now, { historyLimit: 2 });
    const ids = Array.from(
      { length: 4 },
      () => r.create({ target: 'i-0123456789abcdef0', owner }).session.sessionId,
    );
    r.setStatus(ids[0]!, 'Connected');
    expect(r.list('Active')).toHaveLength(4);
    for (const id of ids.slice(0, 3)) r.terminate(id, 'x');
    expect(r.list('Active').map((s) => s.sessionId)).toEqual([ids[3]]);
    expect(r.list('History')).toHaveLength(2);
    expect(r.get(ids[0]!)).toBeUndefined();
    r.setStatus(ids[3]!, 'Failed', 'agent crashed');
    expect(
      r
        .list('History')
        .map((s) => s.sessionId)
        .sort(),
    ).toEqual([ids[2], ids[3]].sort());
  });

  it('returns copies', () => {
    const r = registry();
    const { session } = r.create({
      target: 'i-0123456789abcdef0',
      owner,
      parameters: { portNumber: ['22'] },
    });
    const copy = r.get(session.sessionId)!;
    copy.status = 'Failed';
    copy.parameters.portNumber!.push('23');
    expect(r.get(session.sessionId)).toMatchObject({
      status: 'Connecting',
      parameters: { portNumber: ['22'] },
    });
  });
});
