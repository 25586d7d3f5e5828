/**
 * Persistent sessions through the workspace's contract (what the app and web mode serve):
 * session.persistence and session.auto_reattach from the configuration, a lost session reported
 * reattachable, sessions.reattach and the session.reattached event, the history's link between
 * the two sessions, closing a lost tab, and the automatic re-attach with its notices.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../../preload/api.js';
import { Workspace, type WorkspaceOptions } from '../../../main/core/workspace/workspace.js';
import { openHistoryStore } from '../../../main/core/store/index.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { Recorder } from '../../helpers/workspace-recorder.js';
import { haveTool } from '../../helpers/processes.js';

let home: string;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ec2c-persist-ws-'));
});
afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function start(
  values: Record<string, string | boolean>,
  options: WorkspaceOptions = {},
): Promise<{ ws: Workspace; rec: Recorder; instanceId: string }> {
  const ws = await Workspace.start({
    profile: 'sandbox',
    history: openHistoryStore({
      file: path.join(home, `history-${workspaces.length}.db`),
      flushIntervalMs: 50,
    }),
    manager: { reconnect: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 100, jitter: 0 } },
    persistence: { networkWatch: false },
    ...options,
  });
  workspaces.push(ws);
  await ws.handlers['config.update']({ values });
  const rec = new Recorder(ws);
  const sandbox = ws.activeProfile()!.sandbox!;
  const online = sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!;
  return { ws, rec, instanceId: online.instanceId };
}

/** The drop outlasts the service's reconnect window; resolves with the closed, reattachable session. */
async function loseForGood(ws: Workspace, rec: Recorder, info: SessionInfo): Promise<SessionInfo> {
  ws.activeProfile()!.sandbox!.faults.expireSessions(info.awsSessionId);
  return rec.until('the session reported reattachable', () =>
    rec.updates(info.id).find((u) => u.state === 'closed' && u.reattachable),
  );
}

/** Wait for `needle` in a session's output after `from` characters. */
function waitText(rec: Recorder, id: string, needle: string, from = 0): Promise<string> {
  return rec.until(`${needle} in ${id}`, () => rec.text(id).slice(from).includes(needle) && rec.text(id));
}

describe.skipIf(!haveTool('tmux'))('persistent sessions in the workspace', () => {
  it('reports a lost tmux session as reattachable, re-attaches it, and links the two in the history', async () => {
    const { ws, rec, instanceId } = await start({ 'session.persistence': 'tmux' });
    const h = ws.handlers;
    const info = await h['sessions.open']({ instanceId, cols: 100, rows: 30 });
    expect(info.persistence).toEqual({ tool: 'tmux', name: expect.stringMatching(/^ec2c-[a-z0-9]{8}$/) });
    const name = info.persistence!.name;
    // Every window learns it too (an update after the open).
    expect(rec.updates(info.id).at(-1)?.persistence).toEqual(info.persistence);
    await waitText(rec, info.id, '\x1b[?1049h');
    await waitText(rec, info.id, '$ ', rec.text(info.id).indexOf('\x1b[?1049h'));
    await h['sessions.write']({ sessionId: info.id, data: 'export MARK=ws\r' });
    await waitText(rec, info.id, 'MARK=ws');
    await expect(h['sessions.reattach']({ sessionId: info.id })).rejects.toThrow(/still open/);

    const closed = await loseForGood(ws, rec, info);
    expect(closed).toMatchObject({
      persistence: { tool: 'tmux', name },
      closed: { how: expect.stringMatching(/ended|failed/) },
      reattachable: { reason: expect.any(String) },
    });
    expect(closed.reattachable!.auto).toBeUndefined();
    // A reloaded window finds it among the lost sessions (and not among the open ones).
    expect((await h['sessions.lost'](undefined)).map((s) => s.id)).toEqual([info.id]);
    expect(await h['sessions.list'](undefined)).toEqual([]);
    const notice = rec
      .of('session.notice')
      .find((n) => n.sessionId === info.id && /longer than/.test(n.message));
    expect(notice?.kind).toBe('network-lost');
    expect(notice?.message).toContain(`tmux session ${name} keeps running there`);

    const next = await h['sessions.reattach']({ sessionId: info.id, cols: 110, rows: 32 });
    expect(next).toMatchObject({
      state: 'open',
      reattachedFrom: info.id,
      persistence: { tool: 'tmux', name },
    });
    expect(rec.of('session.reattached')).toEqual([
      { previousId: info.id, session: expect.objectContaining({ id: next.id }) },
    ]);
    // The old session is no longer offered for a re-attach.
    expect(rec.updates(info.id).at(-1)?.reattachable).toBeUndefined();
    await expect(h['sessions.reattach']({ sessionId: info.id })).rejects.toThrow(/cannot be re-attached/);
    expect(await h['sessions.lost'](undefined)).toEqual([]);

    await waitText(rec, next.id, '\x1b[?1049h');
    const mark = rec.text(next.id).length;
    await h['sessions.write']({ sessionId: next.id, data: 'echo "mark=$MARK-$((1+1))"\r' });
    await waitText(rec, next.id, 'mark=ws-2', mark);

    // The history links them, both ways.
    const events = async (id: string) => (await h['history.get']({ sessionId: id })).events;
    for (const deadline = Date.now() + 10_000; ;) {
      const [a, b] = await Promise.all([events(next.id), events(info.id)]);
      if (a.some((e) => e.kind === 'reattached') && b.some((e) => e.kind === 'reattached-as')) break;
      if (Date.now() > deadline) throw new Error('the history never recorded the re-attach');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await events(next.id)).find((e) => e.kind === 'reattached')?.detail).toBe(
      `re-attached from ${info.id} (tmux session ${name})`,
    );
    expect((await events(info.id)).find((e) => e.kind === 'reattached-as')?.detail).toBe(
      `re-attached as ${next.id} (tmux session ${name})`,
    );
  });

  it('closing the tab of a lost session withdraws the re-attach', async () => {
    const { ws, rec, instanceId } = await start({ 'session.persistence': 'off' });
    const h = ws.handlers;
    const info = await h['sessions.open']({ instanceId });
    expect(info.persistence).toBeUndefined();
    await waitText(rec, info.id, '$ ');
    await loseForGood(ws, rec, info);
    await h['sessions.close']({ sessionId: info.id });
    expect(rec.updates(info.id).at(-1)).toMatchObject({ state: 'closed' });
    expect(rec.updates(info.id).at(-1)?.reattachable).toBeUndefined();
    await expect(h['sessions.reattach']({ sessionId: info.id })).rejects.toThrow(/cannot be re-attached/);
  });

  it('auto re-attach: a new session takes the lost one’s place by itself, with a notice', async () => {
    const { ws, rec, instanceId } = await start(
      { 'session.persistence': 'off', 'session.auto_reattach': true },
      { persistence: { networkWatch: false, autoDelaysMs: [100, 60_000] } },
    );
    const h = ws.handlers;
    const sandbox = ws.activeProfile()!.sandbox!;
    const info = await h['sessions.open']({ instanceId });
    await waitText(rec, info.id, '$ ');
    // The instance is unreachable at first: the first try fails, the next waits a minute...
    sandbox.fleet.update(instanceId, { pingStatus: 'ConnectionLost' });
    try {
      const closed = await loseForGood(ws, rec, info);
      expect(closed.reattachable?.auto).toMatchObject({ attempt: 0, maxAttempts: 2, phase: 'waiting' });
      const waiting = await rec.until('a failed try', () =>
        rec
          .updates(info.id)
          .find((u) => u.reattachable?.auto?.attempt === 1 && u.reattachable.auto.phase === 'waiting'),
      );
      expect(waiting.reattachable!.auto!.lastError).toMatch(/not connected/);
      expect(Date.parse(waiting.reattachable!.auto!.nextAttemptAt!) - Date.now()).toBeGreaterThan(30_000);
      expect(
        rec.of('session.notice').find((n) => n.sessionId === info.id && /by itself/.test(n.message)),
      ).toBeTruthy();
    } finally {
      sandbox.fleet.update(instanceId, { pingStatus: 'Online' });
    }
    // ...until the machine wakes (or the network changes): then at once.
    ws.onSystemResume();
    const [done] = await rec.until('the automatic re-attach', () => {
      const all = rec.of('session.reattached');
      return all.length > 0 && all;
    });
    expect(done).toMatchObject({ previousId: info.id, session: { reattachedFrom: info.id, state: 'open' } });
    const notice = rec.of('session.notice').find((n) => n.sessionId === done!.session.id);
    expect(notice).toMatchObject({ kind: 'reconnected' });
    expect(notice!.message).toMatch(/new shell .*nothing was kept running/);
    await waitText(rec, done!.session.id, '$ ');
    await h['sessions.write']({ sessionId: done!.session.id, data: 'echo "fresh-$((2+5))"\r' });
    await waitText(rec, done!.session.id, 'fresh-7');
  });
});
