/**
 * Port forwards of the workspace against the embedded sandbox (whose agent dials real local
 * servers): open, list and close through the contract handlers; traffic updates at most once a
 * second; a forward whose session is ended by the service fails with the reason and a native
 * notification (as the settings allow); saved forwards across a restart, a damaged file set
 * aside, a saved forward of another profile opened on that profile; everything closed and
 * released when the workspace closes.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PortForwardInfo } from '../../../preload/api.js';
import { PortForwardInfoSchema, PortListSchema } from '../../../preload/api.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import type { SandboxHandle } from '../../../main/sandbox/server.js';
import { Workspace, type WorkspaceOptions } from '../../../main/core/workspace/workspace.js';
import { CLOSING_REASON } from '../../../main/core/workspace/ports.js';
import { startStatusServer } from '../../../main/core/monitor/status-server.js';
import { getJson, postJson } from '../../../main/core/monitor/status-client.js';
import { sandboxBehindProfile, type SandboxProfile } from '../../helpers/aws-profile.js';
import { Recorder, until } from '../../helpers/workspace-recorder.js';

const workspaces: Workspace[] = [];
const servers: net.Server[] = [];
const tmpDirs: string[] = [];

function onlineInstance(sandbox: SandboxHandle): string {
  return sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!.instanceId;
}

async function start(
  options: WorkspaceOptions = {},
): Promise<{ ws: Workspace; rec: Recorder; instanceId: string }> {
  const ws = await Workspace.start({ profile: 'sandbox', ...options });
  workspaces.push(ws);
  const rec = new Recorder(ws);
  return { ws, rec, instanceId: onlineInstance(ws.activeProfile()!.sandbox!) };
}

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-ports-'));
  tmpDirs.push(dir);
  return dir;
}

/** A TCP echo server on 127.0.0.1. */
async function echoServer(): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

/** Send `text` on a new connection to the local port and resolve with what came back. */
function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(text));
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

/** Whether something accepts connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const updates = (rec: Recorder, id: string): PortForwardInfo[] =>
  rec.of('ports.updated').filter((u) => u.id === id);

afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.close()));
  for (const s of servers.splice(0)) s.close();
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('Workspace port forwards', { timeout: 60_000 }, () => {
  it('opens a forward named from the instance list, lists it, carries data and closes it', async () => {
    const { ws, rec, instanceId } = await start();
    const h = ws.handlers;
    const port = await echoServer();
    const list = await h['instances.list'](undefined);
    const name = list.instances.find((i) => i.instanceId === instanceId)!.name;

    const info = await h['ports.open']({ instanceId, remotePort: port, label: 'echo' });
    expect(PortForwardInfoSchema.parse(info)).toEqual(info);
    expect(info).toMatchObject({
      instanceId,
      instanceName: name,
      profile: 'sandbox',
      region: 'us-east-1',
      remotePort: port,
      host: null,
      label: 'echo',
      mode: 'multiplexed',
      state: 'open',
      reason: null,
      endedAt: null,
      savedId: null,
    });
    expect(info.localAddress).toBe(`127.0.0.1:${info.localPort}`);
    expect(info.sessionId).toBeTruthy();
    // Reported while starting (no address yet), then open.
    expect(updates(rec, info.id).map((u) => [u.state, u.localAddress === ''])).toEqual([
      ['starting', true],
      ['open', false],
    ]);

    expect(await echo(info.localPort, 'hello through the forward')).toBe('hello through the forward');
    const listed = PortListSchema.parse(await h['ports.list'](undefined));
    expect(listed.forwards.map((f) => [f.id, f.state])).toEqual([[info.id, 'open']]);
    expect(listed).toMatchObject({ saved: [], savedProblem: null });

    await h['ports.close']({ id: info.id });
    const last = updates(rec, info.id).at(-1)!;
    expect(last).toMatchObject({ state: 'closed', reason: 'closed by the user', activeConnections: 0 });
    expect(last.endedAt).toBeGreaterThanOrEqual(last.startedAt);
    expect(last.bytesIn).toBeGreaterThan(0);
    expect(await accepts(info.localPort)).toBe(false);
    // Still listed, as ended; closing again is harmless; an unknown id is an error.
    const after = await h['ports.list'](undefined);
    expect(after.forwards.map((f) => [f.id, f.state, f.reason])).toEqual([
      [info.id, 'closed', 'closed by the user'],
    ]);
    await h['ports.close']({ id: info.id });
    await expect(h['ports.close']({ id: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(
      /No port forward has the id/,
    );
    expect(ws.diagnostics()).toMatchObject({ portForwards: 0, portForwardsEnded: 1, portsTimer: false });
    // The sandbox's session ended with it.
    const sandbox = ws.activeProfile()!.sandbox!;
    expect(sandbox.registry.list('Active').filter((s) => s.sessionId === info.sessionId)).toEqual([]);
  });

  it('a local port in use is refused by name, and listed as failed', async () => {
    const { ws, instanceId } = await start();
    const busy = net.createServer();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    await expect(
      ws.handlers['ports.open']({ instanceId, remotePort: 22, localPort: busyPort }),
    ).rejects.toThrow(`Local port ${busyPort} on 127.0.0.1 is already in use`);
    const { forwards } = await ws.handlers['ports.list'](undefined);
    expect(forwards).toHaveLength(1);
    expect(forwards[0]).toMatchObject({ state: 'failed', localPort: busyPort, sessionId: null });
    expect(forwards[0]!.reason).toContain('already in use');
  });

  it('reports traffic at most once a second per forward, and nothing once it stops', async () => {
    const { ws, rec, instanceId } = await start();
    const port = await echoServer();
    const stamped: Array<{ at: number; info: PortForwardInfo }> = [];
    ws.onEvent((e) => {
      if (e.name === 'ports.updated') stamped.push({ at: Date.now(), info: e.payload });
    });
    const info = await ws.handlers['ports.open']({ instanceId, remotePort: port });
    expect(ws.diagnostics().portsTimer).toBe(true);
    const s = net.connect({ host: '127.0.0.1', port: info.localPort });
    s.on('data', () => undefined);
    await new Promise((r) => s.once('connect', r));
    const until3s = Date.now() + 3200;
    while (Date.now() < until3s) {
      s.write(Buffer.alloc(4096, 7));
      await new Promise((r) => setTimeout(r, 50));
    }
    const traffic = updates(rec, info.id)
      .filter((u) => u.state === 'open')
      .slice(1); // after the "open" one
    expect(traffic.length).toBeGreaterThanOrEqual(2);
    expect(traffic.length).toBeLessThanOrEqual(4);
    // At most one a second (the timer's interval, give or take its scheduling).
    const at = stamped
      .filter((u) => u.info.id === info.id && u.info.state === 'open')
      .slice(1)
      .map((u) => u.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(900);
    // Figures grow from one report to the next; the connection is listed while open.
    for (let i = 1; i < traffic.length; i++)
      expect(traffic[i]!.bytesOut).toBeGreaterThan(traffic[i - 1]!.bytesOut);
    expect(traffic.at(-1)).toMatchObject({ activeConnections: 1, totalConnections: 1 });
    expect(traffic.at(-1)!.connections).toEqual([
      expect.objectContaining({ id: 1, client: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }),
    ]);
    // Quiet: at most the last partial second is reported, then nothing.
    await new Promise((r) => setTimeout(r, 1500));
    const settled = updates(rec, info.id).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(updates(rec, info.id).length).toBe(settled);
    s.destroy();
    await ws.handlers['ports.close']({ id: info.id });
    expect(ws.diagnostics().portsTimer).toBe(false);
  });

  it('a forward whose session the service ends fails with the reason and a native notification', async () => {
    const { ws, rec, instanceId } = await start();
    const h = ws.handlers;
    await h['settings.update']({ notifications: { minIntervalSeconds: 0 } });
    await h['instances.list'](undefined);
    const name = (await h['instances.list'](undefined)).instances.find(
      (i) => i.instanceId === instanceId,
    )!.name;
    const port = await echoServer();
    const info = await h['ports.open']({ instanceId, remotePort: port });
    const conn = net.connect({ host: '127.0.0.1', port: info.localPort });
    conn.on('error', () => undefined);
    await new Promise((r) => conn.once('connect', r));
    const closed = new Promise((r) => conn.once('close', r));
    const sandbox = ws.activeProfile()!.sandbox!;
    sandbox.registry.terminate(info.sessionId!, 'terminated by an administrator');
    const failed = await until('the forward failed', () =>
      updates(rec, info.id).find((u) => u.state === 'failed'),
    );
    expect(failed.reason).toMatch(/terminated by an administrator/);
    expect(failed.endedAt).not.toBeNull();
    await closed; // its connection was reset
    expect(await accepts(info.localPort)).toBe(false);
    expect(rec.notifications).toEqual([
      {
        kind: 'forward-failed',
        title: 'Port forward broke',
        body: `Port forward to ${port} on ${name} broke: ${failed.reason}`,
        sessionId: null,
      },
    ]);
    expect((await h['ports.list'](undefined)).forwards[0]).toMatchObject({ id: info.id, state: 'failed' });

    // With disconnect notifications off, a broken forward is reported but not notified.
    await h['settings.update']({ notifications: { disconnects: false } });
    const second = await h['ports.open']({ instanceId, remotePort: port });
    sandbox.registry.terminate(second.sessionId!, 'terminated again');
    await until('the second failed', () => updates(rec, second.id).find((u) => u.state === 'failed'));
    expect(rec.notifications).toHaveLength(1);
    // Closing by the user is not a failure.
    const third = await h['ports.open']({ instanceId, remotePort: port });
    await h['ports.close']({ id: third.id });
    expect(updates(rec, third.id).at(-1)!.state).toBe('closed');
  });

  it('forwards and shells count against the same session limits', async () => {
    const port = await echoServer();
    const { ws, instanceId } = await start({
      manager: { limits: { maxSessionsPerInstance: 1, maxTotalSessions: 2 } },
    });
    const fw = await ws.handlers['ports.open']({ instanceId, remotePort: port });
    // A shell to the same instance is refused: the forward is its one session.
    await expect(ws.handlers['sessions.open']({ instanceId })).rejects.toThrow(
      /already has 1 open sessions \(shells and port forwards count alike\).*max_sessions_per_instance = 1/,
    );
    // A second forward to it too; to another instance it is fine, and then the total is reached.
    await expect(ws.handlers['ports.open']({ instanceId, remotePort: port })).rejects.toMatchObject({
      name: 'SessionLimitError',
    });
    const sandbox = ws.activeProfile()!.sandbox!;
    const other = sandbox.fleet.list().filter((i) => canStartSession(i) && i.platformType === 'Linux')[1]!
      .instanceId;
    await ws.handlers['ports.open']({ instanceId: other, remotePort: port });
    const third = sandbox.fleet.list().filter((i) => canStartSession(i) && i.platformType === 'Linux')[2]!
      .instanceId;
    await expect(ws.handlers['sessions.open']({ instanceId: third })).rejects.toThrow(
      /max_total_sessions = 2/,
    );
    // Closing the forward frees its place.
    await ws.handlers['ports.close']({ id: fw.id });
    const shell = await ws.handlers['sessions.open']({ instanceId });
    expect(shell.instanceId).toBe(instanceId);
  }, 60_000);

  it('refuses a new forward while the resource governor refuses sessions', async () => {
    const { ws, rec, instanceId } = await start();
    // The limit is far below what this process uses: the governor refuses at once.
    await ws.handlers['settings.update']({ resources: { maxMemoryMb: 1 } });
    await until('the governor refuses', () => ws.governorState().level === 'refuse', 20_000);
    const refused = ws.handlers['ports.open']({ instanceId, remotePort: 22 });
    await expect(refused).rejects.toThrow(/New sessions are refused/);
    await expect(refused).rejects.toMatchObject({ name: 'ResourceLimitError' });
    expect((await ws.handlers['ports.list'](undefined)).forwards).toEqual([]);
    expect(rec.of('session.notice').some((n) => n.kind === 'limit')).toBe(true);
  });

  it('serves its forwards on the status socket: GET /v1/ports, POST /v1/ports/<id>/close', async () => {
    const { ws, rec, instanceId } = await start();
    const port = await echoServer();
    const info = await ws.handlers['ports.open']({ instanceId, remotePort: port });
    const status = await startStatusServer({
      dir: path.join(tmpDir(), 'run'),
      kind: 'desktop',
      handlers: ws.handlers,
    });
    try {
      const list = PortListSchema.parse(await getJson(status.socketPath, '/v1/ports'));
      expect(list.forwards.map((f) => [f.id, f.state])).toEqual([[info.id, 'open']]);
      expect(await postJson(status.socketPath, `/v1/ports/${info.id}/close`)).toEqual({ closed: info.id });
      expect(updates(rec, info.id).at(-1)).toMatchObject({ state: 'closed', reason: 'closed by the user' });
    } finally {
      await status.dispose();
    }
  });

  it('closes every forward when the workspace closes, leaving no handles behind', async () => {
    const port = await echoServer();
    const handles = (): number => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    await new Promise((r) => setTimeout(r, 100));
    const baseline = handles();
    const { ws, rec, instanceId } = await start();
    const opened = await Promise.all(
      [0, 1, 2].map(() => ws.handlers['ports.open']({ instanceId, remotePort: port })),
    );
    const conns = opened.map((f) => {
      const s = net.connect({ host: '127.0.0.1', port: f.localPort });
      s.on('error', () => undefined);
      return s;
    });
    await Promise.all(opened.map((f) => echo(f.localPort, 'x')));
    expect(ws.diagnostics()).toMatchObject({ portForwards: 3, portsTimer: true });
    await ws.close();
    for (const f of opened) {
      expect(updates(rec, f.id).at(-1)).toMatchObject({ state: 'closed', reason: CLOSING_REASON });
      expect(await accepts(f.localPort)).toBe(false);
    }
    for (const s of conns) s.destroy();
    expect(ws.diagnostics()).toMatchObject({ portForwards: 0, portsTimer: false });
    await until('handles back to the baseline', () => handles() <= baseline, 5_000);
  });
});

describe('Saved port forwards', { timeout: 60_000 }, () => {
  it('persist across a restart in forwards.json (0600) beside the configuration; openSaved records the use', async () => {
    const dir = tmpDir();
    const configFile = path.join(dir, 'config.json');
    const port = await echoServer();
    const first = await start({ configFile });
    const opened = await first.ws.handlers['ports.open']({
      instanceId: first.instanceId,
      remotePort: port,
      label: 'echo',
      save: true,
    });
    expect(opened.savedId).toBeTruthy();
    const saved = first.rec.of('ports.savedChanged').at(-1)!.saved;
    expect(saved).toEqual([
      expect.objectContaining({
        id: opened.savedId,
        label: 'echo',
        instanceId: first.instanceId,
        profile: 'sandbox',
        region: 'us-east-1',
        remotePort: port,
        host: null,
        localPort: 0,
        lastUsedAt: expect.any(Number),
      }),
    ]);
    // Saving the same forward again updates it, not a copy.
    await first.ws.handlers['ports.save']({
      instanceId: first.instanceId,
      remotePort: port,
      label: 'echo 2',
    });
    const file = path.join(dir, 'forwards.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; forwards: unknown[] };
    expect(onDisk.version).toBe(1);
    expect(onDisk.forwards).toEqual([expect.objectContaining({ id: opened.savedId, label: 'echo 2' })]);
    await first.ws.close();

    const again = await start({ configFile });
    const list = await again.ws.handlers['ports.list'](undefined);
    expect(list.forwards).toEqual([]);
    expect(list.savedProblem).toBeNull();
    expect(list.saved.map((s) => [s.id, s.label])).toEqual([[opened.savedId, 'echo 2']]);
    const before = list.saved[0]!.lastUsedAt!;
    await new Promise((r) => setTimeout(r, 5));
    const reopened = await again.ws.handlers['ports.openSaved']({ id: opened.savedId! });
    expect(reopened).toMatchObject({
      state: 'open',
      savedId: opened.savedId,
      label: 'echo 2',
      remotePort: port,
    });
    expect(await echo(reopened.localPort, 'again')).toBe('again');
    const used = (await again.ws.handlers['ports.list'](undefined)).saved[0]!;
    expect(used.lastUsedAt).toBeGreaterThan(before);
    expect(again.rec.of('ports.savedChanged').length).toBeGreaterThanOrEqual(1);
    // Forgotten: gone from the list and the file.
    await again.ws.handlers['ports.unsave']({ id: opened.savedId! });
    expect((await again.ws.handlers['ports.list'](undefined)).saved).toEqual([]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ version: 1, forwards: [] });
    await expect(again.ws.handlers['ports.openSaved']({ id: opened.savedId! })).rejects.toThrow(
      /No saved port forward has the id/,
    );
  });

  it('a damaged file is set aside (never dropped) and reported; saving starts a new one', async () => {
    const dir = tmpDir();
    const configFile = path.join(dir, 'config.json');
    const file = path.join(dir, 'forwards.json');
    fs.writeFileSync(file, '{ "version": 1, "forwards": [ { "id": "not-a-uuid" } ] }');
    const { ws, instanceId } = await start({ configFile });
    const list = await ws.handlers['ports.list'](undefined);
    expect(list.saved).toEqual([]);
    const aside = fs.readdirSync(dir).filter((n) => n.startsWith('forwards.json.damaged-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, aside[0]!), 'utf8')).toContain('not-a-uuid');
    expect(fs.existsSync(file)).toBe(false);
    expect(list.savedProblem).toContain(`The saved port forwards in ${file} could not be read`);
    expect(list.savedProblem).toContain(path.join(dir, aside[0]!));
    const saved = await ws.handlers['ports.save']({ instanceId, remotePort: 5432, localPort: 15432 });
    expect(saved).toMatchObject({ label: `${saved.instanceName}:5432`, localPort: 15432, lastUsedAt: null });
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).forwards).toHaveLength(1);
    // Not JSON at all: set aside too.
    await ws.close();
    fs.writeFileSync(file, 'garbage');
    const again = await start({ configFile });
    const second = await again.ws.handlers['ports.list'](undefined);
    expect(second.savedProblem).toMatch(/not valid JSON/);
    expect(
      fs.readdirSync(dir).filter((n) => n.startsWith('forwards.json.damaged-')).length,
    ).toBeGreaterThanOrEqual(1);
  });

  it('without a configuration file the saved forwards live in memory', async () => {
    const { ws, instanceId } = await start();
    await ws.handlers['ports.save']({ instanceId, remotePort: 80 });
    expect((await ws.handlers['ports.list'](undefined)).saved).toHaveLength(1);
  });

  describe('on another profile', () => {
    let profile: SandboxProfile;
    beforeAll(async () => {
      profile = await sandboxBehindProfile('staging');
    });
    afterAll(async () => {
      await profile.close();
    });

    it('a saved forward opens on its own profile and region, not the active one, and keeps working after a switch', async () => {
      const { ws, instanceId: sandboxInstance } = await start({ forwardsFile: null });
      const h = ws.handlers;
      const port = await echoServer();
      await h['profiles.select']({ profile: 'staging' });
      const other = profile.sandbox;
      const stagingInstance = onlineInstance(other);
      await h['instances.list'](undefined);
      const saved = await h['ports.save']({
        instanceId: stagingInstance,
        remotePort: port,
        label: 'staging echo',
      });
      expect(saved).toMatchObject({ profile: 'staging', region: 'eu-west-1' });
      expect(saved.instanceName).not.toBe(stagingInstance); // named from the staging instance list

      // Back on the sandbox: the saved forward still opens on staging.
      await h['profiles.select']({ profile: 'sandbox' });
      const info = await h['ports.openSaved']({ id: saved.id });
      expect(info).toMatchObject({ profile: 'staging', region: 'eu-west-1', instanceId: stagingInstance });
      expect(other.registry.list('Active').some((s) => s.sessionId === info.sessionId)).toBe(true);
      expect(
        ws
          .activeProfile()!
          .sandbox!.registry.list('Active')
          .some((s) => s.sessionId === info.sessionId),
      ).toBe(false);
      expect((await h['app.info'](undefined)).profile).toBe('sandbox');
      // A forward on the active profile at the same time.
      const local = await h['ports.open']({ instanceId: sandboxInstance, remotePort: port });
      expect(local).toMatchObject({ profile: 'sandbox', region: 'us-east-1' });
      expect(await echo(info.localPort, 'staging')).toBe('staging');
      expect(await echo(local.localPort, 'sandbox')).toBe('sandbox');
    });
  });
});
