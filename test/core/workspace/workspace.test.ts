/**
 * The workspace against the embedded sandbox: sessions through the contract handlers, output
 * batches with offsets, flow control, reconnects with attempt counts, cancel, limits,
 * notifications, replay, settings, and switching to a profile of the AWS config files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxHandle } from '../../../main/sandbox/server.js';
import { sandboxBehindProfile, type SandboxProfile } from '../../helpers/aws-profile.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { Workspace, type WorkspaceOptions } from '../../../main/core/workspace/workspace.js';
import { Recorder } from '../../helpers/workspace-recorder.js';

const workspaces: Workspace[] = [];
async function start(
  options: WorkspaceOptions = {},
): Promise<{ ws: Workspace; rec: Recorder; instanceId: string }> {
  const ws = await Workspace.start({ profile: 'sandbox', ...options });
  workspaces.push(ws);
  const rec = new Recorder(ws);
  const sandbox = ws.activeProfile()!.sandbox!;
  const online = sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!;
  return { ws, rec, instanceId: online.instanceId };
}

afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.close()));
});

describe('Workspace sessions', () => {
  it('opens a shell, streams batched output with contiguous offsets, takes input and closes', async () => {
    const { ws, rec, instanceId } = await start();
    const h = ws.handlers;
    const list = await h['instances.list'](undefined);
    expect(list.profile).toBe('sandbox');
    expect(list.instances.length).toBeGreaterThan(5);
    const name = list.instances.find((i) => i.instanceId === instanceId)!.name;

    const info = await h['sessions.open']({ instanceId, cols: 100, rows: 30 });
    expect(info).toMatchObject({ instanceId, instanceName: name, state: 'open', profile: 'sandbox' });
    expect(rec.counts).toEqual([1]);
    expect(ws.recentInstances()[0]).toMatchObject({ instanceId, name });
    await rec.until('the prompt', () => rec.text(info.id).includes('$ '));
    await h['sessions.write']({ sessionId: info.id, data: 'echo "sum=$((20+22))"\r' });
    await rec.until('the echo', () => rec.text(info.id).includes('sum=42'));

    let offset = 0;
    for (const o of rec.output(info.id)) {
      expect(o.offset).toBe(offset);
      offset += o.bytes;
    }
    expect((await h['sessions.list'](undefined)).map((s) => s.id)).toEqual([info.id]);

    await h['sessions.close']({ sessionId: info.id });
    const last = rec.updates(info.id).at(-1)!;
    expect(last.state).toBe('closed');
    expect(last.closed).toMatchObject({ how: 'terminated', reason: 'closed by the user' });
    expect(rec.counts).toEqual([1, 0]);
    expect(await h['sessions.list'](undefined)).toEqual([]);
    // Closing twice is harmless; writing to a closed session says it has ended.
    await h['sessions.close']({ sessionId: info.id });
    await expect(h['sessions.write']({ sessionId: info.id, data: 'x' })).rejects.toThrow(/has ended/);
    await expect(
      h['sessions.write']({ sessionId: '00000000-0000-4000-8000-000000000000', data: 'x' }),
    ).rejects.toThrow(/no open session/);
  });

  it('pauses a session whose output is not acknowledged, and loses nothing when acknowledgements resume', async () => {
    const { ws, rec, instanceId } = await start();
    const h = ws.handlers;
    const info = await h['sessions.open']({ instanceId, cols: 200, rows: 50 });
    await rec.until('the prompt', () => rec.text(info.id).includes('$ '));
    // About 2.3 MB of output, with an end marker.
    await h['sessions.write']({ sessionId: info.id, data: 'seq 1 400000; echo "END-$((6*7))"\r' });
    // Without acknowledgements the session stops near the 1 MiB high-water mark.
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = rec.bytes(info.id);
    expect(stalled).toBeGreaterThan(512 * 1024);
    expect(stalled).toBeLessThan(1.9 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 500));
    expect(rec.bytes(info.id)).toBeLessThan(1.9 * 1024 * 1024);
    expect(rec.text(info.id)).not.toContain('END-42');

    // Acknowledge as a terminal would, batch by batch.
    let acked = 0;
    await rec.until(
      'the end marker',
      () => {
        const total = rec.bytes(info.id);
        if (total > acked) {
          void h['sessions.ack']({ sessionId: info.id, bytes: total - acked });
          acked = total;
        }
        return rec.text(info.id).includes('END-42');
      },
      30_000,
    );
    // eslint-disable-next-line no-control-regex
    const text = rec.text(info.id).replace(/\r|\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const numbers = text.match(/^\d+$/gm)!.map(Number);
    expect(numbers.length).toBe(400000);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
  });

  it('replays recent output for a late attacher, ending where live output continues', async () => {
    const { ws, rec, instanceId } = await start();
    const h = ws.handlers;
    const info = await h['sessions.open']({ instanceId });
    await h['sessions.write']({ sessionId: info.id, data: 'echo replay-$((1+1))\r' });
    await rec.until('the echo', () => rec.text(info.id).includes('replay-2'));
    const replay = await h['sessions.replay']({ sessionId: info.id });
    expect(replay.data).toContain('replay-2');
    expect(replay.truncated).toBe(false);
    expect(replay.endOffset).toBe(rec.bytes(info.id));
    await h['sessions.write']({ sessionId: info.id, data: 'echo after-$((2+1))\r' });
    await rec.until('the second echo', () => rec.text(info.id).includes('after-3'));
    const later = rec.output(info.id).filter((o) => o.offset >= replay.endOffset);
    expect(later.map((o) => o.data).join('')).toContain('after-3');
    expect(replay.data + later.map((o) => o.data).join('')).toBe(rec.text(info.id));
  });
});

describe('Workspace connections', () => {
  it('shows reconnect attempts, notices and a notification, and keeps the session', async () => {
    const { ws, rec, instanceId } = await start({
      manager: { reconnect: { baseDelayMs: 100, maxDelayMs: 100, jitter: 0, maxAttempts: 3 } },
    });
    const h = ws.handlers;
    const info = await h['sessions.open']({ instanceId });
    await rec.until('the prompt', () => rec.text(info.id).includes('$ '));
    ws.activeProfile()!.sandbox!.faults.dropSockets(info.awsSessionId);
    const reconnecting = await rec.until('a reconnect attempt', () =>
      rec.updates(info.id).find((u) => u.state === 'reconnecting' && u.reconnect),
    );
    expect(reconnecting.reconnect).toMatchObject({ attempt: 1, maxAttempts: 3 });
    expect(Date.parse(reconnecting.reconnect!.nextAttemptAt)).toBeGreaterThan(Date.now() - 5_000);
    await rec.until('open again', () => rec.updates(info.id).at(-1)?.state === 'open');
    expect(rec.updates(info.id).at(-1)!.reconnect).toBeUndefined();
    expect(rec.updates(info.id).at(-1)!.reconnects).toBe(1);
    const kinds = rec.of('session.notice').map((n) => n.kind);
    expect(kinds).toEqual(expect.arrayContaining(['network-lost', 'reconnected']));
    expect(rec.notifications.map((n) => n.kind)).toEqual(['disconnect', 'reconnect']);
    await h['sessions.write']({ sessionId: info.id, data: 'echo back-$((3*3))\r' });
    await rec.until('output after the reconnect', () => rec.text(info.id).includes('back-9'));
  });

  it('cancels a reconnect on request and closes the session', async () => {
    const { ws, rec, instanceId } = await start({
      manager: { reconnect: { baseDelayMs: 3_000, maxDelayMs: 3_000, jitter: 0, maxAttempts: 3 } },
    });
    const h = ws.handlers;
    const info = await h['sessions.open']({ instanceId });
    await expect(h['sessions.cancelReconnect']({ sessionId: info.id })).rejects.toThrow(/not reconnecting/);
    ws.activeProfile()!.sandbox!.faults.dropSockets(info.awsSessionId);
    await rec.until('reconnecting', () => rec.updates(info.id).find((u) => u.state === 'reconnecting'));
    await h['sessions.cancelReconnect']({ sessionId: info.id });
    const last = rec.updates(info.id).at(-1)!;
    expect(last.state).toBe('closed');
    expect(last.closed?.reason).toBe('reconnect cancelled by the user');
    expect(ws.sessionCount()).toBe(0);
  });

  it('refuses sessions above a limit with a notice and a notification', async () => {
    const { ws, rec, instanceId } = await start({ manager: { limits: { maxSessionsPerInstance: 1 } } });
    const h = ws.handlers;
    await h['sessions.open']({ instanceId });
    await expect(h['sessions.open']({ instanceId })).rejects.toThrow(/max_sessions_per_instance = 1/);
    expect(rec.of('session.notice').at(-1)).toMatchObject({ kind: 'limit', sessionId: null });
    expect(rec.notifications.at(-1)?.kind).toBe('limit');
  });
});

describe('Workspace profiles and settings', () => {
  let other: SandboxHandle;
  let dir: string;
  let profile: SandboxProfile;

  beforeAll(async () => {
    profile = await sandboxBehindProfile('staging');
    other = profile.sandbox;
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-ws-'));
  });
  afterAll(async () => {
    await profile.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('switches to a profile of the AWS config, lists its instances, and keeps sessions of the old one', async () => {
    const { ws, rec, instanceId } = await start();
    const h = ws.handlers;
    const first = await h['sessions.open']({ instanceId });
    const profiles = await h['profiles.list'](undefined);
    expect(profiles.active).toEqual({ profile: 'sandbox', region: 'us-east-1' });
    expect(profiles.profiles.map((p) => `${p.name}:${p.kind}`)).toEqual([
      'sandbox:sandbox',
      'staging:static',
    ]);

    await expect(h['profiles.select']({ profile: 'nope' })).rejects.toThrow(
      /no profile named "nope".*staging/,
    );
    const info = await h['profiles.select']({ profile: 'staging' });
    expect(info).toMatchObject({ profile: 'staging', region: 'eu-west-1' });
    expect(rec.of('app.profileChanged').at(-1)).toEqual(info);
    const list = await h['instances.list']({ refresh: true });
    expect(list).toMatchObject({ profile: 'staging', region: 'eu-west-1' });
    expect(list.instances.length).toBeGreaterThan(5);

    const target = other.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!;
    const second = await h['sessions.open']({ instanceId: target.instanceId });
    expect(second.profile).toBe('staging');
    expect(other.registry.get(second.awsSessionId)).toBeDefined();
    await h['sessions.write']({ sessionId: second.id, data: 'echo staging-$((5+5))\r' });
    await rec.until('output on the staging sandbox', () => rec.text(second.id).includes('staging-10'));
    // The sandbox session is still alive after the switch.
    await h['sessions.write']({ sessionId: first.id, data: 'echo still-$((1+2))\r' });
    await rec.until('output on the first session', () => rec.text(first.id).includes('still-3'));
    // And back: the embedded sandbox is reused, not started again.
    const back = await h['profiles.select']({ profile: 'sandbox' });
    expect(back).toMatchObject({ profile: 'sandbox', region: 'us-east-1' });
  });

  it('saves settings (in the configuration file) and tells every window', async () => {
    const file = path.join(dir, 'config.json');
    const { ws, rec } = await start({ configFile: file });
    const next = await ws.handlers['settings.update']({ theme: 'dark', fontSize: 15 });
    expect(next).toMatchObject({ theme: 'dark', fontSize: 15 });
    expect(rec.of('settings.changed').at(-1)).toEqual(next);
    await ws.close();
    const again = await Workspace.start({ profile: 'sandbox', configFile: file });
    workspaces.push(again);
    expect(await again.handlers['settings.get'](undefined)).toEqual(next);
  });
});

describe('Workspace lifecycle', () => {
  it('releases every buffer, timer and handle of the sessions it closes', async () => {
    const { ws, rec, instanceId } = await start({ metricsIntervalMs: 50 });
    const h = ws.handlers;
    const handles = (): number => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    let baseline = 0;
    for (let round = 0; round < 4; round++) {
      const opened = await Promise.all(Array.from({ length: 8 }, () => h['sessions.open']({ instanceId })));
      await Promise.all(opened.map((s) => h['sessions.write']({ sessionId: s.id, data: 'seq 1 2000\r' })));
      await rec.until('output on every session', () => opened.every((s) => rec.text(s.id).includes('2000')));
      expect(ws.diagnostics()).toMatchObject({
        sessions: 8,
        outputBuffers: 8,
        metricsTracked: 8,
        metricsSampling: true,
      });
      // Close half by request and half by the shell exiting.
      await Promise.all(opened.slice(0, 4).map((s) => h['sessions.close']({ sessionId: s.id })));
      await Promise.all(opened.slice(4).map((s) => h['sessions.write']({ sessionId: s.id, data: 'exit\r' })));
      await rec.until('all closed', () => ws.sessionCount() === 0);
      // After the first round the HTTP keep-alive pool is warm (one socket per concurrent call,
      // reused): from then on nothing may grow with the number of sessions opened and closed.
      if (round === 0) {
        await new Promise((r) => setTimeout(r, 300));
        baseline = handles();
      }
    }
    expect(ws.diagnostics()).toMatchObject({
      sessions: 0,
      outputBuffers: 0,
      metricsTracked: 0,
      metricsSampling: false,
    });
    expect(ws.diagnostics().closedRemembered).toBeLessThanOrEqual(100);
    await rec.until('handles back to the warm baseline', () => handles() <= baseline, 5_000);
  });
});
