/**
 * A KMS-encrypted session says so: the session manager's info carries the key from the open
 * (and keeps it through a reconnect and the close), a plain session carries none, the history
 * records it beside `opened` (where `ec2-connect sessions` finds it), and the workspace hands it
 * to the UI in a SessionInfo the contract accepts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionInfoSchema } from '../../../preload/api.js';
import { recordedEncryption } from '../../../main/cli/history.js';
import { SessionManager, type ManagedSessionInfo } from '../../../main/core/sessions/session-manager.js';
import { openHistoryStore, type SqliteHistoryStore } from '../../../main/core/store/sqlite-store.js';
import { SessionRecorder } from '../../../main/core/workspace/session-recorder.js';
import { Workspace } from '../../../main/core/workspace/workspace.js';
import { DEFAULT_KMS_ALIAS } from '../../../main/sandbox/api/kms-keys.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { startFixture, type Fixture } from '../../helpers/sandbox.js';

describe('SessionManager: encryption in the session info', () => {
  let fx: Fixture;
  let plain: string;
  let dir: string;
  let store: SqliteHistoryStore;
  const managers: SessionManager[] = [];

  beforeAll(async () => {
    fx = await startFixture();
    plain = fx.sandbox.fleet
      .list()
      .find(
        (i) => i.instanceId !== fx.instanceId && canStartSession(i) && i.platformType === 'Linux',
      )!.instanceId;
    fx.sandbox.fleet.update(fx.instanceId, { kmsKeyId: DEFAULT_KMS_ALIAS });
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-enc-'));
    store = openHistoryStore({ file: path.join(dir, 'sessions.db'), flushIntervalMs: 20 });
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  });
  afterAll(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
    await fx.close();
  });

  function manager(): SessionManager {
    const m = new SessionManager({
      controlPlaneFor: () => fx.cp,
      reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
    });
    managers.push(m);
    return m;
  }
  const req = (target: string) => ({
    profile: 'sandbox',
    region: fx.sandbox.region,
    target,
    cols: 80,
    rows: 24,
  });

  it('carries the KMS key from the open, through a reconnect, to the close', async () => {
    const m = manager();
    const opened: ManagedSessionInfo[] = [];
    const closed: ManagedSessionInfo[] = [];
    m.onOpened((i) => opened.push(i));
    m.onClosed((i) => closed.push(i));

    const info = await m.open(req(fx.instanceId));
    expect(info.encryption).toEqual({ kmsKeyId: DEFAULT_KMS_ALIAS });
    expect(opened[0]?.encryption).toEqual({ kmsKeyId: DEFAULT_KMS_ALIAS });
    expect(m.get(info.id)?.encryption).toEqual({ kmsKeyId: DEFAULT_KMS_ALIAS });
    expect(m.list().find((s) => s.id === info.id)?.encryption).toEqual({ kmsKeyId: DEFAULT_KMS_ALIAS });

    fx.sandbox.faults.dropSockets(info.awsSessionId);
    await expect.poll(() => m.get(info.id)?.reconnects ?? 0, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => m.get(info.id)?.state, { timeout: 20_000 }).toBe('open');
    expect(m.get(info.id)?.encryption).toEqual({ kmsKeyId: DEFAULT_KMS_ALIAS });

    await m.terminate(info.id);
    expect(closed.map((c) => [c.id, c.encryption])).toEqual([[info.id, { kmsKeyId: DEFAULT_KMS_ALIAS }]]);
  }, 60_000);

  it('leaves it out for a session that is not encrypted', async () => {
    const m = manager();
    const info = await m.open(req(plain));
    expect(info.state).toBe('open');
    expect('encryption' in info).toBe(false);
    expect(m.get(info.id)).not.toHaveProperty('encryption');
  }, 30_000);

  it('records the key in the history beside `opened`, where the CLI finds it by AWS session id', async () => {
    const m = manager();
    const recorder = new SessionRecorder({ store, manager: m, source: 'cli', nameOf: (id) => id });
    try {
      const since = new Date(Date.now() - 60_000);
      const secure = await m.open(req(fx.instanceId));
      const open = await m.open(req(plain));
      store.flush();
      const events = store.getSession(secure.id)?.events ?? [];
      expect(events.map((e) => e.kind).slice(0, 2)).toEqual(['opened', 'encrypted']);
      expect(events[1]?.detail).toBe(`KMS key ${DEFAULT_KMS_ALIAS}`);
      expect(store.getSession(open.id)?.events.map((e) => e.kind)).not.toContain('encrypted');

      const keys = recordedEncryption(
        store,
        [secure.awsSessionId, open.awsSessionId, 'sandbox-user-unknown'],
        since,
      );
      expect([...keys]).toEqual([[secure.awsSessionId, DEFAULT_KMS_ALIAS]]);
      // Sessions recorded before `since` are not looked at.
      expect(recordedEncryption(store, [secure.awsSessionId], new Date(Date.now() + 60_000)).size).toBe(0);
    } finally {
      recorder.dispose();
    }
  }, 30_000);
});

describe('Workspace: encryption in the SessionInfo of the contract', () => {
  let ws: Workspace | undefined;
  afterAll(async () => {
    await ws?.close();
  });

  it('hands the key to the UI in sessions.open, sessions.list and session.updated', async () => {
    ws = await Workspace.start({ profile: 'sandbox' });
    const updates: unknown[] = [];
    ws.onEvent((e) => {
      if (e.name === 'session.updated') updates.push(e.payload);
    });
    const sandbox = ws.activeProfile()!.sandbox!;
    const [secure, plain] = sandbox.fleet
      .list()
      .filter((i) => canStartSession(i) && i.platformType === 'Linux');
    // The key as an ARN this time: the info carries it as the preferences name it.
    const keyArn = sandbox.kms.resolveArn(DEFAULT_KMS_ALIAS);
    sandbox.fleet.update(secure!.instanceId, { kmsKeyId: keyArn });

    const s = await ws.handlers['sessions.open']({ instanceId: secure!.instanceId });
    expect(SessionInfoSchema.parse(s).encryption).toEqual({ kmsKeyId: keyArn });
    const listed = (await ws.handlers['sessions.list'](undefined)).find((i) => i.id === s.id);
    expect(listed?.encryption).toEqual({ kmsKeyId: keyArn });

    const p = await ws.handlers['sessions.open']({ instanceId: plain!.instanceId });
    expect(SessionInfoSchema.parse(p)).not.toHaveProperty('encryption');

    await ws.handlers['sessions.close']({ sessionId: s.id });
    const last = SessionInfoSchema.parse(updates.filter((u) => (u as { id: string }).id === s.id).at(-1));
    expect(last).toMatchObject({ state: 'closed', encryption: { kmsKeyId: keyArn } });
  }, 60_000);
});
