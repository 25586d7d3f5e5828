/**
 * The workspace records its sessions into the history store and serves them back: the row,
 * events and metrics of each session, history.changed events, re-open, and the saved instance
 * list for a fast start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../../preload/api.js';
import { openHistoryStore } from '../../../main/core/store/index.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { Workspace } from '../../../main/core/workspace/workspace.js';
import { until } from '../../helpers/workspace-recorder.js';

describe('Workspace history', () => {
  let dir: string;
  let db: string;
  const open: Workspace[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-hist-'));
    db = path.join(dir, 'sessions.db');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((w) => w.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function start(): Promise<{ ws: Workspace; events: BridgeEvent[]; instanceId: string }> {
    const ws = await Workspace.start({
      profile: 'sandbox',
      metricsIntervalMs: 100,
      history: openHistoryStore({ file: db, flushIntervalMs: 50 }),
      historySource: 'web',
    });
    open.push(ws);
    const events: BridgeEvent[] = [];
    ws.onEvent((e) => events.push(e));
    const sandbox = ws.activeProfile()!.sandbox!;
    const online = sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!;
    return { ws, events, instanceId: online.instanceId };
  }

  it('records each session with its events and metrics, and re-opens it', async () => {
    const { ws, events, instanceId } = await start();
    const h = ws.handlers;
    const list = await h['instances.list'](undefined);
    const name = list.instances.find((i) => i.instanceId === instanceId)!.name;
    const s = await h['sessions.open']({ instanceId });
    const text = (): string =>
      events
        .filter((e): e is Extract<BridgeEvent, { name: 'session.output' }> => e.name === 'session.output')
        .filter((e) => e.payload.sessionId === s.id)
        .map((e) => e.payload.data)
        .join('');
    await h['sessions.write']({ sessionId: s.id, data: 'seq 1 3000\r' });
    await until('output', () => text().includes('3000'));
    await new Promise((r) => setTimeout(r, 300)); // a few metrics ticks
    await h['sessions.close']({ sessionId: s.id });
    expect(events.filter((e) => e.name === 'history.changed').map((e) => e.payload)).toEqual([
      { sessionId: s.id },
      { sessionId: s.id },
    ]);

    await new Promise((r) => setTimeout(r, 150)); // one flush interval
    const history = await h['history.list'](undefined);
    expect(history.status.available).toBe(true);
    expect(history.sessions).toHaveLength(1);
    const row = history.sessions[0]!;
    expect(row).toMatchObject({
      id: s.id,
      awsSessionId: s.awsSessionId,
      instanceId,
      instanceName: name,
      profile: 'sandbox',
      source: 'web',
      outcome: 'terminated',
      endReason: 'closed by the user',
    });
    expect(row.user).toMatch(/ \(arn:aws:(iam|sts)::\d{12}:.+\)$/);
    expect(row.bytesIn).toBeGreaterThan(14_000);
    expect(row.bytesOut).toBeGreaterThan(5);
    expect(Date.parse(row.endedAt!)).toBeGreaterThanOrEqual(Date.parse(row.startedAt));

    const detail = await h['history.get']({ sessionId: s.id });
    const kinds = detail.events.map((e) => e.kind);
    expect(kinds[0]).toBe('opened');
    expect(kinds).toContain('closed');
    expect(detail.metrics.points.length).toBeGreaterThan(0);
    expect(detail.metrics.points.some((p) => p.inBytesPerSec > 0)).toBe(true);

    expect((await h['history.list']({ instance: name.slice(0, 3).toUpperCase() })).sessions).toHaveLength(1);
    expect((await h['history.list']({ outcome: 'failed' })).sessions).toHaveLength(0);
    await expect(h['history.get']({ sessionId: 'nope' })).rejects.toThrow(/No recorded session/);

    const again = await h['history.reopen']({ sessionId: s.id });
    expect(again).toMatchObject({ instanceId, profile: 'sandbox', state: 'open' });
    expect(again.id).not.toBe(s.id);
    await new Promise((r) => setTimeout(r, 150));
    const both = await h['history.list'](undefined);
    expect(both.sessions.map((x) => x.id)).toEqual([again.id, s.id]);
    expect(both.sessions[0]!.outcome).toBe('open');
  });

  it('serves the instance list an earlier run saved, then the fresh one', async () => {
    const first = await start();
    const fresh = await first.ws.handlers['instances.list'](undefined);
    expect(fresh.cached).toBeUndefined();
    await first.ws.close();
    open.splice(0);

    const second = await start();
    const served = await second.ws.handlers['instances.list'](undefined);
    expect(served.cached).toBe(true);
    expect(served.instances.map((i) => i.instanceId).sort()).toEqual(
      fresh.instances.map((i) => i.instanceId).sort(),
    );
    const updated = await until('instances.updated', () =>
      second.events.find((e) => e.name === 'instances.updated'),
    );
    expect((updated.payload as { cached?: boolean }).cached).toBeUndefined();
  });

  it('says why when history is off, and keeps working', async () => {
    const ws = await Workspace.start({ profile: 'sandbox' });
    open.push(ws);
    const list = await ws.handlers['history.list'](undefined);
    expect(list).toEqual({ status: expect.objectContaining({ available: false }), sessions: [] });
  });
});
