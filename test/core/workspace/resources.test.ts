/**
 * The resource governor in the workspace, against the embedded sandbox and real load: limits
 * reached by this process's own memory and CPU (a worker thread spinning, buffers held), the
 * graded actions the workspace takes (slower batches, trimmed replay rings, refused sessions with
 * a reason, notifications), open sessions never harmed, low-power mode, endpoint probes, the
 * metrics export and the Prometheus endpoint.
 */
import http from 'node:http';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceSnapshotSchema, type GovernorState } from '../../../preload/api.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openHistoryStore } from '../../../main/core/store/index.js';
import { Workspace, type WorkspaceOptions } from '../../../main/core/workspace/workspace.js';
import { Recorder } from '../../helpers/workspace-recorder.js';

const workspaces: Workspace[] = [];
afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.close()));
});

async function start(options: WorkspaceOptions = {}) {
  const ws = await Workspace.start({ profile: 'sandbox', ...options });
  workspaces.push(ws);
  const rec = new Recorder(ws);
  const sandbox = ws.activeProfile()!.sandbox!;
  const online = sandbox.fleet.list().filter((i) => canStartSession(i) && i.platformType === 'Linux');
  return { ws, rec, sandbox, instanceId: online[0]!.instanceId, second: online[1]!.instanceId };
}

const level = (ws: Workspace): GovernorState['level'] => ws.governorState().level;

async function typeAndSee(ws: Workspace, rec: Recorder, sessionId: string, marker: string): Promise<void> {
  await ws.handlers['sessions.write']({ sessionId, data: `echo ${marker}-$((40+2))\r` });
  await rec.until(`${marker} echoed`, () => rec.text(sessionId).includes(`${marker}-42`));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('Workspace resource governor', () => {
  it('over max_memory_mb: slows batches, trims replay, refuses new sessions with the reason, never touches open ones', async () => {
    const { ws, rec, instanceId, second } = await start();
    const h = ws.handlers;
    const s1 = await h['sessions.open']({ instanceId, cols: 100, rows: 30 });
    await typeAndSee(ws, rec, s1.id, 'before');
    // Output that fills more than the trimmed replay ring (64 KiB).
    await h['sessions.write']({
      sessionId: s1.id,
      data: "head -c 300000 /dev/zero | tr '\\0' x; echo; echo fill-$((1+1))\r",
    });
    await rec.until('filled', () => rec.text(s1.id).includes('fill-2'));
    expect(ws.diagnostics().replayBytes).toBeGreaterThan(256 * 1024);

    // The limit is far below what this process uses: the governor goes to refuse at once.
    await h['settings.update']({ resources: { maxMemoryMb: 1 } });
    await rec.until('refuse', () => level(ws) === 'refuse');
    const state = ws.governorState();
    expect(state.reason).toMatch(/its limit is 1 MiB \(max_memory_mb = 1\)/);
    expect(state.lowPower).toEqual({ active: true, mode: 'auto', reasons: ['limits'] });
    expect(state.ui).toMatchObject({ backgroundScrollback: 1000, economy: true });
    const d = ws.diagnostics();
    expect(d.batchIntervalMs).toBe(50);
    expect(d.replayLimitBytes).toBe(64 * 1024);
    expect(d.replayBytes).toBeLessThanOrEqual(2 * 64 * 1024);
    expect(d.metricsIntervalMs).toBeGreaterThanOrEqual(2000);

    const changed = rec.of('governor.changed');
    expect(changed.at(-1)!.state.level).toBe('refuse');
    expect(changed.some((c) => c.change?.to === 'refuse')).toBe(true);
    // One native notification for the limit, with the reason.
    const native = rec.notifications.filter((n) => n.kind === 'resources');
    expect(native).toHaveLength(1);
    expect(native[0]!.body).toMatch(/max_memory_mb = 1/);

    // New sessions are refused, saying why and what to do.
    const refused = h['sessions.open']({ instanceId: second });
    await expect(refused).rejects.toThrow(
      /New sessions are refused.*max_memory_mb = 1.*raise max_memory_mb in Settings > Resources/,
    );
    await expect(refused).rejects.toMatchObject({ name: 'ResourceLimitError' });
    expect(rec.of('session.notice').some((n) => n.kind === 'limit' && /refused/.test(n.message))).toBe(true);

    // The open session keeps working, and replays from the trimmed ring.
    await typeAndSee(ws, rec, s1.id, 'during');
    const replay = await h['sessions.replay']({ sessionId: s1.id });
    expect(replay.truncated).toBe(true);
    expect(replay.data.length).toBeLessThanOrEqual(130 * 1024);
    expect(replay.data).toContain('during-42');
    expect((await h['sessions.list'](undefined)).map((s) => s.state)).toEqual(['open']);

    // Raising the limit ends the refusal right away, and restores everything.
    await h['settings.update']({ resources: { maxMemoryMb: 0 } });
    await rec.until('normal', () => level(ws) === 'normal');
    expect(ws.diagnostics()).toMatchObject({
      batchIntervalMs: 16,
      replayLimitBytes: 512 * 1024,
      metricsIntervalMs: 1000,
    });
    const s2 = await h['sessions.open']({ instanceId: second });
    await typeAndSee(ws, rec, s2.id, 'after');
    expect(
      rec
        .of('session.notice')
        .filter((n) => n.kind === 'resources')
        .map((n) => n.message)
        .at(-1),
    ).toMatch(/Back under the resource limits/);
  }, 60_000);

  it('a real CPU load (a spinning worker thread) trips max_cpu_percent; it recovers when the load stops', async () => {
    const { ws, rec } = await start({
      env: {
        EC2_CONNECT_MONITORING_INTERVAL: '250ms',
        EC2_CONNECT_MAX_CPU_PERCENT: '10',
        EC2_CONNECT_MAX_MEMORY_MB: '0',
      },
    });
    expect(ws.governorState().sources).toMatchObject({ maxCpuPercent: 'env', monitoringIntervalMs: 'env' });
    await rec.until('a first sample', () => rec.of('resources.tick').length > 0);
    const worker = new Worker('const end = Date.now() + 60000; while (Date.now() < end) {}', { eval: true });
    try {
      await rec.until('CPU over the limit', () => ['slow-ui', 'trim', 'refuse'].includes(level(ws)), 20_000);
      expect(ws.governorState().reason).toMatch(
        /% of the machine's CPU; its limit is 10 % \(max_cpu_percent = 10\)/,
      );
    } finally {
      await worker.terminate();
    }
    // Averaged over three samples, then two clear ones: back to normal within a few seconds.
    await rec.until('back to normal', () => level(ws) === 'normal', 20_000);
    const levels = rec.of('governor.changed').flatMap((c) => (c.change ? [c.change.to] : []));
    expect(levels[0]).not.toBe('normal');
    expect(levels.at(-1)).toBe('normal');
  }, 60_000);

  it('real memory held by the process trips max_memory_mb, and freeing it brings the level down', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { ws, rec } = await start({
      env: { EC2_CONNECT_MONITORING_INTERVAL: '250ms', EC2_CONNECT_MAX_CPU_PERCENT: '0' },
    });
    const first = await rec.until('a first sample', () => rec.of('resources.tick')[0]);
    const baseMb = Math.ceil(first.memoryBytes / 2 ** 20);
    await ws.handlers['settings.update']({ resources: { maxMemoryMb: baseMb + 120 } });
    const held: Buffer[] = [];
    for (let i = 0; i < 8; i++) held.push(Buffer.allocUnsafeSlow(32 * 2 ** 20).fill(i + 1)); // 256 MiB, resident
    await rec.until('memory over the limit', () => ['slow-ui', 'trim', 'refuse'].includes(level(ws)), 20_000);
    expect(ws.governorState().memory.usedBytes).toBeGreaterThan((baseMb + 120) * 2 ** 20);
    expect(held.length).toBe(8);
    held.length = 0;
    gc();
    await rec.until('memory back under', () => level(ws) === 'normal', 20_000);
  }, 60_000);

  it('low-power mode: from the environment, and automatically on battery; it lengthens intervals', async () => {
    const envOn = await start({ env: { EC2_CONNECT_LOW_POWER_MODE: 'on' } });
    expect(envOn.ws.governorState().lowPower).toEqual({ active: true, mode: 'on', reasons: ['env'] });
    expect(envOn.ws.diagnostics()).toMatchObject({ batchIntervalMs: 16 }); // applied at the first governor event
    await envOn.ws.handlers['settings.update']({ resources: { monitoringIntervalMs: 2000 } });
    expect(envOn.ws.diagnostics()).toMatchObject({ batchIntervalMs: 50, metricsIntervalMs: 3000 });
    const snap = await envOn.ws.handlers['resources.get'](undefined);
    expect(snap.governor.ui.economy).toBe(true);

    const auto = await start();
    expect(auto.ws.governorState().lowPower.active).toBe(false);
    auto.ws.setOnBattery(true);
    expect(auto.ws.governorState().lowPower).toEqual({ active: true, mode: 'auto', reasons: ['battery'] });
    expect(auto.ws.diagnostics()).toMatchObject({ batchIntervalMs: 50, metricsIntervalMs: 3000 });
    const notices = auto.rec.of('session.notice').filter((n) => n.kind === 'resources');
    expect(notices.at(-1)!.message).toMatch(/Low-power mode is on \(battery\)/);
    auto.ws.setOnBattery(false);
    expect(auto.ws.governorState().lowPower.active).toBe(false);
    expect(auto.ws.diagnostics()).toMatchObject({ batchIntervalMs: 16, metricsIntervalMs: 1000 });
    // Low power by setting 'off' wins over the battery.
    await auto.ws.handlers['settings.update']({ resources: { lowPower: 'off' } });
    auto.ws.setOnBattery(true);
    expect(auto.ws.governorState().lowPower.active).toBe(false);
  }, 60_000);

  it('reports processes (sandbox shells shown, not governed), probes endpoints, and exports metrics', async () => {
    const { ws, rec, sandbox, instanceId } = await start({
      metricsIntervalMs: 200,
      env: { EC2_CONNECT_MONITORING_INTERVAL: '500ms' },
    });
    const h = ws.handlers;
    const s = await h['sessions.open']({ instanceId });
    await typeAndSee(ws, rec, s.id, 'x');
    const probes = await h['resources.probe'](undefined);
    expect(probes.map((p) => [p.service, p.ok])).toEqual([
      ['ssm', true],
      ['ssmmessages', true],
    ]);
    expect(probes[0]!.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(rec.of('probes.updated').length).toBeGreaterThan(0);

    // The shell shows up from the next sample on.
    await rec.until('the shell in a sample', () =>
      rec.of('resources.tick').some((t) => t.processes.some((p) => p.role === 'pty')),
    );
    const snap = await h['resources.get'](undefined);
    expect(ResourceSnapshotSchema.parse(snap)).toEqual(snap);
    const shell = snap.history.at(-1)!.processes.find((p) => p.role === 'pty')!;
    expect(shell.governed).toBe(false);
    expect(snap.sample!.processes[0]).toMatchObject({ pid: process.pid, role: 'main', governed: true });
    expect(snap.probes).toHaveLength(2);

    // Per-session metrics: p95, and a reconnect after the sandbox drops the socket.
    sandbox.faults.dropSockets();
    await rec.until('reconnected', () => rec.updates(s.id).some((u) => u.state === 'reconnecting'));
    await rec.until('open again', () => rec.updates(s.id).at(-1)?.state === 'open');
    await typeAndSee(ws, rec, s.id, 'y');
    await rec.until('a tick counting the reconnect', () =>
      rec.of('metrics.tick').some((t) => t.samples.some((x) => x.sessionId === s.id && x.reconnects === 1)),
    );
    const ticks = rec.of('metrics.tick').flatMap((t) => t.samples);
    expect(
      ticks.some(
        (x) => x.latencyP95 !== null && x.latencyP99! >= x.latencyP95 && x.latencyP95 >= x.latencyP50!,
      ),
    ).toBe(true);

    const csv = await h['metrics.export']({ format: 'csv', sessionId: s.id });
    expect(csv.filename).toMatch(/^ec2-connect-session-[0-9a-f]{8}-.*\.csv$/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe(
      'time,session,instance,name,latency_p50_ms,latency_p95_ms,latency_p99_ms,in_bytes_per_sec,out_bytes_per_sec,retransmissions,reconnects',
    );
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(1).every((l) => l.includes(s.id) && l.includes(instanceId))).toBe(true);
    expect(lines.slice(1).some((l) => l.endsWith(',1'))).toBe(true);
    await expect(
      h['metrics.export']({ format: 'csv', sessionId: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toThrow(/is not open/);

    const prom = await h['metrics.export']({ format: 'prometheus' });
    expect(prom.contentType).toMatch(/version=0\.0\.4/);
    expect(prom.text).toMatch(
      new RegExp(
        `ec2connect_session_reconnects_total\\{session="${s.id}",instance="${instanceId}",name="[^"]*"\\} 1`,
      ),
    );
    expect(prom.text).toMatch(
      /ec2connect_process_resident_memory_bytes\{pid="\d+",role="pty",governed="false"\} \d+/,
    );
    expect(prom.text).toMatch(
      /ec2connect_endpoint_up\{service="ssmmessages",endpoint="127\.0\.0\.1:\d+",region="[a-z0-9-]+"\} 1/,
    );
  }, 60_000);

  it('serves Prometheus text on the opt-in port, follows the setting, and releases it on close', async () => {
    const { ws } = await start();
    expect(await ws.prometheusReady()).toBeNull();
    const port = await freePort();
    await ws.handlers['settings.update']({ resources: { prometheusPort: port } });
    const url = await ws.prometheusReady();
    expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
    expect((await ws.handlers['resources.get'](undefined)).prometheus).toBe(url);
    const r = await get(url!);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^ec2connect_sessions_open 0$/m);
    expect(r.body).toMatch(/^ec2connect_governor_level\{level="normal"\} 0$/m);
    await ws.handlers['settings.update']({ resources: { prometheusPort: 0 } });
    expect(await ws.prometheusReady()).toBeNull();
    await expect(get(url!)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('says so when the Prometheus port is taken or an environment value is invalid, and keeps running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { ws, rec } = await start({
        env: { EC2_CONNECT_PROMETHEUS_PORT: String(port), EC2_CONNECT_MAX_MEMORY_MB: '-5' },
      });
      expect(await ws.prometheusReady()).toBeNull();
      // Problems found at start-up are in the snapshot (a window that opens later sees them).
      const problems = (await ws.handlers['resources.get'](undefined)).problems ?? [];
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(
        /EC2_CONNECT_MAX_MEMORY_MB="-5" \(resources.max_memory_mb\) is out of range; allowed: a whole number from 0 to 1048576/,
      );
      expect(problems[1]).toMatch(new RegExp(`port ${port} is in use`));
      expect(ws.governorState().memory.limitBytes).toBe(1536 * 2 ** 20);
      // ...and a problem found later is a notice too.
      await ws.handlers['settings.update']({ resources: { maxCpuPercent: 90 } });
      expect(rec.of('governor.changed').length).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('records metrics into the history store, downsampled: session rows with p95, counts, and process roles', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-res-'));
    const file = path.join(dir, 'sessions.db');
    try {
      const { ws, rec, sandbox, instanceId } = await start({
        metricsIntervalMs: 100,
        history: openHistoryStore({ file, flushIntervalMs: 50 }),
        env: { EC2_CONNECT_MONITORING_INTERVAL: '250ms' },
      });
      const s = await ws.handlers['sessions.open']({ instanceId });
      await typeAndSee(ws, rec, s.id, 'a');
      sandbox.faults.dropSockets();
      await rec.until('reconnected', () => rec.updates(s.id).some((u) => u.state === 'reconnecting'));
      await rec.until('open again', () => rec.updates(s.id).at(-1)?.state === 'open');
      await typeAndSee(ws, rec, s.id, 'b');
      await rec.until('the shell in a sample', () =>
        rec.of('resources.tick').some((t) => t.processes.some((p) => p.role === 'pty')),
      );
      await ws.handlers['sessions.close']({ sessionId: s.id });
      const ticks = rec.of('metrics.tick').length;
      await ws.close(); // writes the partial buckets
      workspaces.splice(workspaces.indexOf(ws), 1);

      const store = openHistoryStore({ file, cleanupIntervalHours: 0 });
      try {
        const detail = store.getSession(s.id, 1000)!;
        const points = detail.metrics.points;
        // 1 s samples (here 100 ms) folded into 10 s rows: far fewer rows than ticks.
        expect(points.length).toBeGreaterThan(0);
        expect(points.length).toBeLessThan(ticks);
        expect(points.reduce((n, p) => n + (p.reconnects ?? 0), 0)).toBe(1);
        expect(points.some((p) => p.latencyP95 !== null)).toBe(true);
        const roles = store
          .processMetrics()
          .series.map((x) => x.role)
          .sort();
        expect(roles).toEqual(['main', 'pty']);
        const summary = store.metricsSummary().find((m) => m.sessionId === s.id)!;
        expect(summary).toMatchObject({ instanceId, reconnects: 1 });
      } finally {
        store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
