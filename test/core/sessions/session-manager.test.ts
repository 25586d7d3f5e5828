import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SessionLimitError,
  SessionManager,
  UnknownSessionError,
  type ManagedSessionInfo,
} from '../../../main/core/sessions/session-manager.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { startFixture, type Fixture } from '../../helpers/sandbox.js';

describe('SessionManager', () => {
  let fx: Fixture;
  let other: string;
  beforeAll(async () => {
    fx = await startFixture();
    other = fx.sandbox.fleet
      .list()
      .find((i) => i.instanceId !== fx.instanceId && canStartSession(i))!.instanceId;
  });
  afterAll(async () => {
    await fx.close();
  });

  const manager = (limits = {}) =>
    new SessionManager({
      controlPlaneFor: () => fx.cp,
      limits,
      reconnect: { baseDelayMs: 20, maxDelayMs: 100 },
    });
  const req = (target: string) => ({
    profile: 'sandbox',
    region: fx.sandbox.region,
    target,
    cols: 100,
    rows: 30,
  });

  it('opens sessions with stable ids, streams output with counters, and reports latency and closing', async () => {
    const m = manager();
    const events: string[] = [];
    const out = new Map<string, string>();
    m.onOpened((i) => events.push(`opened ${i.instanceId}`));
    m.onOutput(({ id, data }) => out.set(id, (out.get(id) ?? '') + data.toString()));
    const rtts: number[] = [];
    m.onLatencySample(({ rttMs }) => rtts.push(rttMs));
    const closed: ManagedSessionInfo[] = [];
    m.onClosed((i) => closed.push(i));

    const a = await m.open(req(fx.instanceId));
    expect(a).toMatchObject({ instanceId: fx.instanceId, profile: 'sandbox', state: 'open' });
    expect(a.awsSessionId).toMatch(/^sandbox-user-/);
    expect(a.openMs).toBeGreaterThan(0);
    m.write(a.id, 'echo managed-$((20+22))\r');
    await expect.poll(() => out.get(a.id) ?? '', { timeout: 10_000 }).toContain('managed-42');
    const info = m.get(a.id)!;
    expect(info.bytesOut).toBe('echo managed-$((20+22))\r'.length);
    expect(info.bytesIn).toBeGreaterThan(10);
    expect(rtts.length).toBeGreaterThan(0);
    expect(m.list().map((s) => s.id)).toEqual([a.id]);

    await m.terminate(a.id);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ id: a.id, state: 'closed', closed: { how: 'terminated' } });
    expect(m.size).toBe(0);
    expect(() => m.write(a.id, 'x')).toThrow(UnknownSessionError);
    expect(events).toEqual([`opened ${fx.instanceId}`]);
    await m.shutdown();
  });

  it('types the startup input once the shell has printed its prompt, before anything the user types', async () => {
    const m = manager();
    let out = '';
    m.onOutput(({ data }) => (out += data.toString()));
    const a = await m.open({ ...req(fx.instanceId), startupInput: 'export GREETING=from-profile\r' });
    m.write(a.id, 'echo "[$GREETING]"\r');
    await expect.poll(() => out, { timeout: 10_000 }).toContain('[from-profile]');
    expect(m.get(a.id)!.bytesOut).toBe(
      'export GREETING=from-profile\r'.length + 'echo "[$GREETING]"\r'.length,
    );
    await m.shutdown();
  });

  it('refuses sessions over the per-instance and total limits with a clear error, counting opens in flight', async () => {
    const m = manager({ maxSessionsPerInstance: 2, maxTotalSessions: 3 });
    // Three opens at once to the same instance: the third is refused, not queued.
    const results = await Promise.allSettled([
      m.open(req(fx.instanceId)),
      m.open(req(fx.instanceId)),
      m.open(req(fx.instanceId)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const err = (results[2] as PromiseRejectedResult).reason as SessionLimitError;
    expect(err).toBeInstanceOf(SessionLimitError);
    expect(err.message).toMatch(/already has 2 open sessions.*max_sessions_per_instance = 2/);
    await m.open(req(other));
    await expect(m.open(req(other))).rejects.toThrow(/3 sessions are open.*max_total_sessions = 3/);
    expect(m.size).toBe(3);
    await m.shutdown();
    expect(m.size).toBe(0);
    expect(fx.sandbox.registry.list('Active')).toHaveLength(0);
  });

  it('ends a session whose shell exits and frees its slot', async () => {
    const m = manager({ maxSessionsPerInstance: 1 });
    const closed = new Promise<ManagedSessionInfo>((r) => m.onClosed(r));
    const a = await m.open(req(fx.instanceId));
    m.write(a.id, 'exit\r');
    await expect(closed).resolves.toMatchObject({ id: a.id, closed: { how: 'ended' } });
    const b = await m.open(req(fx.instanceId));
    expect(b.id).not.toBe(a.id);
    await m.shutdown();
  });

  it('keeps a session through a dropped socket and reports the state changes', async () => {
    const m = manager();
    const states: string[] = [];
    m.onStateChanged(({ state }) => states.push(state));
    const causes: string[] = [];
    m.onConnectionEvent(({ kind }) => causes.push(kind));
    const a = await m.open(req(fx.instanceId));
    fx.sandbox.faults.dropSockets(a.awsSessionId);
    await expect.poll(() => m.get(a.id)?.reconnects ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(states).toEqual(['reconnecting', 'open']);
    expect(causes).toEqual(['network-lost', 'reconnected']);
    await m.shutdown();
    expect(states.at(-1)).toBe('closed');
  });
});

describe('SessionManager inactive timeout', () => {
  it('warns before closing an idle session, and activity postpones it', async () => {
    const fx = await startFixture();
    try {
      const m = new SessionManager({
        controlPlaneFor: () => fx.cp,
        inactiveTimeoutMs: 1_200,
        inactiveWarningMs: 500,
      });
      const warnings: number[] = [];
      const t0 = performance.now();
      m.onInactiveWarning(({ closesInMs }) => warnings.push(closesInMs));
      const closed = new Promise<ManagedSessionInfo>((r) => m.onClosed(r));
      const a = await m.open({ profile: 'sandbox', region: fx.sandbox.region, target: fx.instanceId });
      await new Promise((r) => setTimeout(r, 600));
      m.write(a.id, ' '); // activity: the clock starts again
      const info = await closed;
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeGreaterThan(1_700); // 600 ms + the full 1.2 s timeout after the keystroke
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBeLessThanOrEqual(500);
      expect(info.closed).toMatchObject({
        how: 'terminated',
        reason: expect.stringMatching(/without activity \(inactive_timeout\)/),
      });
      expect(fx.sandbox.registry.get(info.awsSessionId)?.status).toBe('Terminated');
      await m.shutdown();
    } finally {
      await fx.close();
    }
  });
});

describe('SessionManager flow control', () => {
  it('stops taking output for a consumer that does not keep up, then delivers every byte once it does', async () => {
    const fx = await startFixture({ agent: { outputHighWater: 256 } });
    try {
      const m = new SessionManager({
        controlPlaneFor: () => fx.cp,
        flowControl: { highWaterBytes: 256 * 1024, lowWaterBytes: 64 * 1024 },
      });
      const a = await m.open({ profile: 'sandbox', region: fx.sandbox.region, target: fx.instanceId });
      m.enableFlowControl(a.id);
      let text = '';
      let received = 0;
      m.onOutput(({ data }) => {
        received += data.length;
        text += data.toString('latin1');
      });
      await expect.poll(() => text).toContain('$ ');
      // ~7 MB of output; the consumer acknowledges nothing for a while.
      m.write(a.id, 'stty -echo; seq 1 1000000; echo FLOW""-END\r');
      await new Promise((r) => setTimeout(r, 1_500));
      const whilePaused = received;
      const agent = fx.sandbox.dataChannel.session(a.awsSessionId)!;
      // Bounded: the high-water mark plus what was in flight (socket buffers and the agent's window).
      expect(whilePaused).toBeLessThan(3 * 1024 * 1024);
      expect(agent.stats.unacked).toBeGreaterThan(0); // the agent is holding the rest back
      await new Promise((r) => setTimeout(r, 500));
      expect(received - whilePaused).toBeLessThan(64 * 1024); // nothing more flows while unacknowledged
      // The consumer catches up: acknowledge as it goes.
      const ack = setInterval(() => m.acknowledgeOutput(a.id, 1024 * 1024), 5);
      await expect.poll(() => text.includes('FLOW-END'), { timeout: 60_000 }).toBe(true);
      clearInterval(ack);
      const body = text
        .slice(text.indexOf('\r\n', text.indexOf('seq 1 1000000')) + 2, text.indexOf('FLOW-END'))
        // eslint-disable-next-line no-control-regex -- strips terminal escapes (bracketed paste) around the command
        .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
        .replace(/\r(?!\n)/g, '');
      const lines = body.split('\r\n').filter(Boolean);
      expect(lines.every((l, i) => l === String(i + 1))).toBe(true);
      expect(lines.length).toBe(1_000_000);
      expect(lines[0]).toBe('1');
      expect(lines[999_999]).toBe('1000000');
      await m.shutdown();
    } finally {
      await fx.close();
    }
  }, 90_000);
});

describe('SessionManager detach and attach', () => {
  it('keeps a detached session on the service and resumes its output with nothing lost', async () => {
    const fx = await startFixture();
    try {
      const m = new SessionManager({ controlPlaneFor: () => fx.cp });
      const a = await m.open({ profile: 'sandbox', region: fx.sandbox.region, target: fx.instanceId });
      let text = '';
      m.onOutput(({ data }) => (text += data.toString()));
      const states: string[] = [];
      m.onStateChanged(({ state }) => states.push(state));
      await expect.poll(() => text).toContain('$ ');
      m.write(
        a.id,
        'stty -echo; for i in $(seq 1 40); do echo tick-$i; sleep 0.02; done; echo TICKS""-DONE\r',
      );
      await expect.poll(() => text).toContain('tick-5\r\n');
      m.detach(a.id);
      const atDetach = text.length;
      await new Promise((r) => setTimeout(r, 1_200)); // the loop finishes while we are away
      expect(text.length).toBe(atDetach);
      expect(fx.sandbox.registry.get(a.awsSessionId)?.status).not.toBe('Terminated');
      await m.attach(a.id);
      await expect.poll(() => text, { timeout: 10_000 }).toContain('TICKS-DONE');
      const ticks = text.match(/tick-\d+/g)!;
      expect(ticks).toEqual(Array.from({ length: 40 }, (_, i) => `tick-${i + 1}`));
      expect(states).toEqual(['detached', 'reconnecting', 'open']);
      await m.shutdown();
    } finally {
      await fx.close();
    }
  });
});

describe('SessionManager network change and resume', () => {
  it('checks every session at once when the network changes, and recovers a dead one', async () => {
    const fx = await startFixture();
    let iface = '10.0.0.5';
    const provider = () => ({
      lo: [
        {
          address: '127.0.0.1',
          netmask: '255.0.0.0',
          family: 'IPv4' as const,
          mac: '00:00:00:00:00:00',
          internal: true,
          cidr: '127.0.0.1/8',
        },
      ],
      wlan0: [
        {
          address: iface,
          netmask: '255.255.255.0',
          family: 'IPv4' as const,
          mac: '02:00:00:00:00:01',
          internal: false,
          cidr: `${iface}/24`,
        },
      ],
    });
    try {
      const m = new SessionManager({
        controlPlaneFor: () => fx.cp,
        reconnect: { baseDelayMs: 20 },
        health: { healthCheckIntervalMs: 60_000 }, // only the network change can find the dead socket quickly
        watchNetwork: { intervalMs: 50, provider },
      });
      const a = await m.open({ profile: 'sandbox', region: fx.sandbox.region, target: fx.instanceId });
      fx.sandbox.faults.blackholeSockets(a.awsSessionId);
      const kinds: string[] = [];
      m.onConnectionEvent(({ kind }) => kinds.push(kind));
      const t0 = performance.now();
      iface = '192.0.2.44'; // the laptop joined another network
      await expect.poll(() => kinds, { timeout: 5_000 }).toContain('reconnected');
      expect(performance.now() - t0).toBeLessThan(1_500);
      expect(kinds[0]).toBe('network-lost');
      await m.shutdown();
    } finally {
      await fx.close();
    }
  });
});

describe('SessionManager activity time', () => {
  it('reports the last input or output as lastActivityAt', async () => {
    const fx = await startFixture();
    try {
      const m = new SessionManager({ controlPlaneFor: () => fx.cp });
      const a = await m.open({ profile: 'sandbox', region: fx.sandbox.region, target: fx.instanceId });
      await new Promise((r) => setTimeout(r, 400));
      const before = Date.parse(m.get(a.id)!.lastActivityAt);
      expect(Date.now() - before).toBeGreaterThanOrEqual(300);
      m.write(a.id, 'echo active\r');
      expect(Date.now() - Date.parse(m.get(a.id)!.lastActivityAt)).toBeLessThan(100);
      await m.shutdown();
    } finally {
      await fx.close();
    }
  });
});
