/**
 * End to end under Node: our protocol client against the sandbox on loopback, running
 * real commands in a real shell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SsmSession } from '../../main/core/ssm/session.js';
import { canStartSession } from '../../main/sandbox/fleet.js';
import { OutputCollector, startFixture, type Fixture } from '../helpers/sandbox.js';

function seqText(from: number, to: number): string {
  const parts: string[] = [];
  for (let i = from; i <= to; i++) parts.push(String(i));
  return parts.join('\r\n');
}

/** Run `cmd` between markers and return exactly the bytes it printed. */
async function runMarked(
  session: SsmSession,
  out: OutputCollector,
  cmd: string,
  timeoutMs = 60_000,
): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 8);
  const from = out.mark();
  session.write(`echo B${tag}""EGIN; ${cmd}; echo E${tag}""ND\r`);
  const text = await out.waitFor(`E${tag}ND\r\n`, timeoutMs, from);
  const start = text.indexOf(`B${tag}EGIN\r\n`);
  const end = text.lastIndexOf(`E${tag}ND\r\n`);
  return text.slice(start + `B${tag}EGIN\r\n`.length, end);
}

describe('shell sessions against the sandbox', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  it('opens a session, shows the instance prompt and runs a command', async () => {
    const s = await fx.open();
    const out = new OutputCollector(s);
    expect(s.state).toBe('open');
    expect(s.handshake?.sessionType).toBe('Standard_Stream');
    const inst = fx.sandbox.fleet.get(fx.instanceId)!;
    await out.waitFor(`[ssm-user@${inst.computerName}`);
    expect(await runMarked(s, out, 'echo hello $((6*7))')).toBe('hello 42\r\n');
    expect(s.sessionId).toMatch(/^sandbox-user-[0-9a-f]{17}$/);
    await s.terminate();
    expect(fx.sandbox.registry.get(s.sessionId)?.status).toBe('Terminated');
  });

  it('carries 10 MB of output exactly, in order', async () => {
    const s = await fx.open();
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    const got = await runMarked(s, out, 'seq 1 1300000', 120_000);
    const want = seqText(1, 1300000) + '\r\n';
    expect(got.length).toBeGreaterThan(10_000_000);
    expect(got.length).toBe(want.length);
    expect(got === want).toBe(true);
    await s.terminate();
  }, 180_000);

  it('sends the terminal size on open and on resize', async () => {
    const s = await fx.open({ cols: 100, rows: 30 });
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    expect(await runMarked(s, out, 'stty size')).toBe('30 100\r\n');
    s.resize(132, 43);
    expect(await runMarked(s, out, 'stty size')).toBe('43 132\r\n');
    await s.terminate();
  });

  it('a size changed while the connection is down reaches the terminal once it is back', async () => {
    const s = await fx.open({ cols: 100, rows: 30, reconnect: { baseDelayMs: 20, maxDelayMs: 200 } });
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    const back = new Promise<void>((r) => s.onStateChange((st) => st === 'open' && r()));
    fx.sandbox.faults.dropSockets(s.sessionId);
    s.resize(90, 25); // while reconnecting
    await back;
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    expect(await runMarked(s, out, 'stty size')).toBe('25 90\r\n');
    // And the same size again is not resent, while a new one is.
    s.resize(90, 25);
    s.resize(120, 35);
    expect(await runMarked(s, out, 'stty size')).toBe('35 120\r\n');
    await s.terminate();
  }, 60_000);

  it('ends when the shell exits, with the reason from channel_closed', async () => {
    const s = await fx.open();
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    const closed = new Promise((r) => s.onClosed(r));
    s.write('exit\r');
    await expect(closed).resolves.toMatchObject({ how: 'ended' });
    expect(fx.sandbox.registry.get(s.sessionId)?.status).toBe('Terminated');
  });

  it('passes Ctrl-C through to interrupt a running command', async () => {
    const s = await fx.open();
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    s.write('sleep 30; echo NOT""INTERRUPTED\r');
    await new Promise((r) => setTimeout(r, 300));
    s.write(Buffer.from([0x03]));
    expect(await runMarked(s, out, 'echo after')).toBe('after\r\n');
    expect(out.text).not.toContain('NOTINTERRUPTED');
    await s.terminate();
  });

  it('survives a dropped socket mid-output with no byte lost or repeated, and input runs once', async () => {
    const s = await fx.open({ reconnect: { baseDelayMs: 20, maxDelayMs: 200 } });
    const out = new OutputCollector(s);
    await out.waitFor('$ ');
    const tag = 'k' + Math.random().toString(36).slice(2, 7);
    const from = out.mark();
    // No tty echo while it runs, so input typed ahead does not interleave with the output.
    s.write(`stty -echo; echo BEG""IN; seq 1 300000; echo E""ND; stty echo\r`);
    await out.waitFor('\r\n150', 30_000, from);
    fx.sandbox.faults.dropSockets(s.sessionId);
    s.write(`echo ${tag}=$((40+2))\r`); // typed while the socket is down
    const text = await out.waitFor(`${tag}=42\r\n`, 60_000, from);
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    const body = text.slice(text.indexOf('BEGIN\r\n') + 7, text.indexOf('END\r\n'));
    const want = seqText(1, 300000) + '\r\n';
    if (body !== want) {
      let i = 0;
      while (i < body.length && body[i] === want[i]) i++;
      throw new Error(
        `output differs at byte ${i} of ${want.length} (got ${body.length}): got ${JSON.stringify(body.slice(i - 20, i + 80))}, want ${JSON.stringify(want.slice(i - 20, i + 80))}`,
      );
    }
    expect(text.split(`${tag}=42`).length - 1).toBe(1);
    await s.terminate();
  }, 120_000);

  it('opens a session that requires KMS encryption, encrypted; an unknown key is named', async () => {
    const inst = fx.sandbox.fleet.list().find((i) => i.instanceId !== fx.instanceId && canStartSession(i))!;
    fx.sandbox.fleet.update(inst.instanceId, { kmsKeyId: 'alias/sandbox-session' });
    try {
      const s = await fx.open({ target: inst.instanceId });
      expect(s.handshake?.encrypted).toBe(true);
      expect(await runMarked(s, new OutputCollector(s), 'echo encrypted')).toBe('encrypted\r\n');
      await s.terminate();
      fx.sandbox.fleet.update(inst.instanceId, { kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd' });
      await expect(fx.open({ target: inst.instanceId })).rejects.toThrow(
        /KMS key arn:aws:kms:us-east-1:123456789012:key\/abcd, which the Session Manager preferences require for encrypting sessions, was not found/,
      );
    } finally {
      fx.sandbox.fleet.update(inst.instanceId, { kmsKeyId: undefined });
    }
  });

  it('names the cause when the instance is offline', async () => {
    const offline = fx.sandbox.fleet.list().find((i) => i.pingStatus === 'ConnectionLost')!;
    await expect(fx.open({ target: offline.instanceId })).rejects.toThrow(
      /TargetNotConnected.*not connected to Systems Manager/s,
    );
  });
});

describe('lossy data channel (fast-check over fault settings)', () => {
  it('yields the exact output stream under random loss, duplication, reordering and corruption', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
          dropRate: fc.double({ min: 0, max: 0.15, noNaN: true }),
          duplicateRate: fc.double({ min: 0, max: 0.15, noNaN: true }),
          reorderRate: fc.double({ min: 0, max: 0.15, noNaN: true }),
          corruptRate: fc.double({ min: 0, max: 0.05, noNaN: true }),
          lines: fc.integer({ min: 1, max: 20000 }),
        }),
        async (p) => {
          const fx = await startFixture({ faultSeed: p.seed });
          try {
            const s = await fx.open();
            const out = new OutputCollector(s);
            await out.waitFor('$ ');
            fx.sandbox.faults.set({
              dataChannel: {
                dropRate: p.dropRate,
                duplicateRate: p.duplicateRate,
                reorderRate: p.reorderRate,
                corruptRate: p.corruptRate,
              },
            });
            const got = await runMarked(s, out, `seq 1 ${p.lines}`, 90_000);
            expect(got).toBe(seqText(1, p.lines) + '\r\n');
            fx.sandbox.faults.reset();
            await s.terminate();
          } finally {
            await fx.close();
          }
        },
      ),
      { numRuns: 6 },
    );
  }, 300_000);
});

describe('commands', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  it('runs a non-interactive command with stdout and stderr apart and its exit code', async () => {
    const s = await fx.open({
      documentName: 'AWS-StartNonInteractiveCommand',
      parameters: { command: ['echo out-é✓; echo err >&2; exit 3'] },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    s.onOutput((b) => out.push(b));
    s.onStderr((b) => err.push(b));
    const closed = await new Promise<import('../../main/core/ssm/session.js').SessionClosed>((r) =>
      s.onClosed(r),
    );
    expect(s.handshake?.sessionType).toBe('NonInteractiveCommands');
    expect(Buffer.concat(out).toString()).toBe('out-é✓\n');
    expect(Buffer.concat(err).toString()).toBe('err\n');
    expect(closed).toMatchObject({ how: 'ended', exitCode: 3 });
  });

  it('runs an interactive command in a terminal', async () => {
    const s = await fx.open({
      documentName: 'AWS-StartInteractiveCommand',
      parameters: { command: ['tty; echo cols=$(tput cols)'] },
    });
    const out = new OutputCollector(s);
    const closed = new Promise((r) => s.onClosed(r));
    await out.waitFor(/cols=120/);
    expect(out.text).toMatch(/\/dev\/pts\//);
    await expect(closed).resolves.toMatchObject({ how: 'ended' });
  });
});

describe('service behaviours', () => {
  it('pauses publication while the agent is offline and resumes without losing input or output', async () => {
    const fx = await startFixture();
    try {
      const s = await fx.open();
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'ConnectionLost' });
      await new Promise((r) => setTimeout(r, 200));
      const from = out.mark();
      s.write('echo while-offline-$((3*3))\r');
      await new Promise((r) => setTimeout(r, 500));
      expect(out.text.slice(from)).not.toContain('while-offline-9');
      expect(s.channel.publicationPaused).toBe(true);
      expect(s.channel.stats.unacked).toBeGreaterThan(0); // held, not lost
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'Online' });
      const after = await out.waitFor('while-offline-9\r\n', 10_000, from);
      expect(after.split('while-offline-9\r\n').length - 1).toBe(1); // ran exactly once
      expect(s.channel.publicationPaused).toBe(false);
      expect(s.state).toBe('open');
      await s.terminate();
    } finally {
      await fx.close();
    }
  });

  it('does not hold input forever when the agent came back while the socket was down', async () => {
    // The start_publication for the old socket went nowhere: a pause must not outlive its connection.
    const fx = await startFixture();
    try {
      const s = await fx.open({
        reconnect: { baseDelayMs: 300, maxDelayMs: 300, jitter: 0, maxAttempts: 5 },
      });
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'ConnectionLost' });
      fx.sandbox.faults.dropSockets(s.sessionId);
      await new Promise((r) => setTimeout(r, 100));
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'Online' });
      await new Promise((r) => setTimeout(r, 800));
      expect(s.state).toBe('open');
      expect(s.channel.publicationPaused).toBe(false);
      const from = out.mark();
      s.write('echo came-back-$((4*4))\r');
      const after = await out.waitFor('came-back-16\r\n', 10_000, from);
      expect(after.split('came-back-16\r\n').length - 1).toBe(1);
      await s.terminate();
    } finally {
      await fx.close();
    }
  });

  it('closes an idle session after the idle timeout with the service message', async () => {
    const fx = await startFixture({ agent: { timeouts: { idleTimeoutMs: 800 } } });
    try {
      const s = await fx.open();
      const closed = await new Promise<import('../../main/core/ssm/session.js').SessionClosed>((r) =>
        s.onClosed(r),
      );
      expect(closed.how).toBe('ended');
      expect(closed.reason).toMatch(/timed out due to inactivity/);
      expect(fx.sandbox.registry.get(s.sessionId)?.status).toBe('Terminated');
    } finally {
      await fx.close();
    }
  });

  it('ends a session at its maximum duration even while it is busy', async () => {
    const fx = await startFixture({ agent: { timeouts: { maxSessionDurationMs: 1000 } } });
    try {
      const s = await fx.open();
      s.write('while true; do echo busy; sleep 0.1; done\r');
      const closed = await new Promise<import('../../main/core/ssm/session.js').SessionClosed>((r) =>
        s.onClosed(r),
      );
      expect(closed.reason).toMatch(/maximum session duration/);
    } finally {
      await fx.close();
    }
  });

  it('takes faults from its start options and rejects invalid ones with the key named', async () => {
    await expect(startFixture({ faults: { dataChannel: { dropRate: 1.5 } } })).rejects.toThrow(
      /dataChannel\.dropRate/,
    );
    const fx = await startFixture({
      faults: { dataChannel: { dropRate: 0.1, reorderRate: 0.1 } },
      faultSeed: 7,
    });
    try {
      const s = await fx.open();
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      expect(await runMarked(s, out, 'seq 1 3000')).toBe(seqText(1, 3000) + '\r\n');
      expect(
        s.channel.stats.retransmissions + fx.sandbox.dataChannel.session(s.sessionId)!.stats.retransmissions,
      ).toBeGreaterThan(0);
      await s.terminate();
    } finally {
      await fx.close();
    }
  });
});

describe('dead channel detection', () => {
  it('notices a silent socket within the health-check deadline and recovers with no byte lost', async () => {
    const fx = await startFixture();
    try {
      const s = await fx.open({
        dataChannel: { healthCheckIntervalMs: 500, deadAfterMs: 1500 },
        reconnect: { baseDelayMs: 20 },
      });
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      let detectedAt = 0;
      s.onStateChange((st) => {
        if (st === 'reconnecting' && !detectedAt) detectedAt = performance.now();
      });
      const t0 = performance.now();
      fx.sandbox.faults.blackholeSockets(s.sessionId);
      s.write('echo through-the-hole-$((5*5))\r'); // lost with the silent socket, resent after reconnecting
      await out.waitFor('through-the-hole-25\r\n', 10_000);
      expect(detectedAt).toBeGreaterThan(0);
      const detectMs = detectedAt - t0;
      expect(detectMs).toBeGreaterThanOrEqual(1000);
      expect(detectMs).toBeLessThan(2500);
      expect(s.reconnects).toBe(1);
      expect(out.text.split('through-the-hole-25').length - 1).toBe(1);
      await s.terminate();
    } finally {
      await fx.close();
    }
  });

  it('checks at once when asked (laptop resume) instead of waiting for the interval', async () => {
    const fx = await startFixture();
    try {
      const s = await fx.open({
        dataChannel: { healthCheckIntervalMs: 60_000 },
        reconnect: { baseDelayMs: 20 },
      });
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      fx.sandbox.faults.blackholeSockets(s.sessionId);
      const t0 = performance.now();
      const reconnecting = new Promise<number>((r) =>
        s.onStateChange((st) => st === 'reconnecting' && r(performance.now())),
      );
      s.checkHealthNow(300);
      expect((await reconnecting) - t0).toBeLessThan(1000);
      s.write('echo resumed-ok\r');
      await out.waitFor('resumed-ok\r\n', 10_000);
      await s.terminate();
    } finally {
      await fx.close();
    }
  });
});

describe('connection events by cause', () => {
  it('gets a fresh token from ResumeSession when the data channel refuses the old one', async () => {
    const fx = await startFixture({ tokenTtlMs: 1_000 });
    try {
      const s = await fx.open({ reconnect: { baseDelayMs: 20 } });
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      const kinds: string[] = [];
      s.onConnectionEvent((e) => kinds.push(e.kind));
      await new Promise((r) => setTimeout(r, 1_300)); // the token expires
      fx.sandbox.faults.dropSockets(s.sessionId);
      s.write('echo fresh-token-$((8*8))\r');
      await out.waitFor('fresh-token-64\r\n', 15_000);
      expect(kinds[0]).toBe('network-lost');
      expect(kinds).toContain('token-expired');
      expect(kinds.at(-1)).toBe('reconnected');
      await s.terminate();
    } finally {
      await fx.close();
    }
  });

  it('reports the agent going away and coming back, and a session ended elsewhere', async () => {
    const fx = await startFixture();
    try {
      const s = await fx.open();
      const events: Array<{ kind: string; detail: string }> = [];
      s.onConnectionEvent((e) => events.push(e));
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'ConnectionLost' });
      await expect.poll(() => events.map((e) => e.kind)).toContain('agent-unreachable');
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'Online' });
      await expect.poll(() => events.map((e) => e.kind)).toContain('agent-back');
      await fx.cp.terminateSession(s.sessionId);
      await expect.poll(() => events.map((e) => e.kind)).toContain('ended-elsewhere');
      expect(events.find((e) => e.kind === 'ended-elsewhere')?.detail).toMatch(/terminated/);
      expect(s.closed?.how).toBe('ended');
    } finally {
      await fx.close();
    }
  });
});

describe('drops during the handshake', () => {
  it('completes the handshake after the socket is lost in the middle of it', async () => {
    const fx = await startFixture();
    try {
      // Everything the agent sends is lost at first (the handshake request included), then the socket drops.
      fx.sandbox.faults.set({ dataChannel: { dropRate: 1 } });
      const opening = fx.open({ reconnect: { baseDelayMs: 20 } });
      await new Promise((r) => setTimeout(r, 300));
      fx.sandbox.faults.reset();
      fx.sandbox.faults.dropSockets();
      const s = await opening;
      expect(s.state).toBe('open');
      expect(s.reconnects).toBeGreaterThanOrEqual(1);
      const out = new OutputCollector(s);
      expect(await runMarked(s, out, 'echo after-handshake-drop')).toBe('after-handshake-drop\r\n');
      await s.terminate();
    } finally {
      await fx.close();
    }
  });
});

describe('reconnecting through a throttled control plane', () => {
  it('keeps asking ResumeSession until it gets through, with the output exact and input run once', async () => {
    const fx = await startFixture({ tokenTtlMs: 800, faultSeed: 11 });
    try {
      const s = await fx.open({ reconnect: { baseDelayMs: 30, maxDelayMs: 120, maxAttempts: 30 } });
      const out = new OutputCollector(s);
      await out.waitFor('$ ');
      const from = out.mark();
      s.write('stty -echo; echo BEG""IN; seq 1 50000; echo E""ND; stty echo\r');
      await out.waitFor('\r\n20', 20_000, from);
      await new Promise((r) => setTimeout(r, 900)); // the token expires: only ResumeSession can help
      fx.sandbox.faults.set({ controlPlane: { throttleRate: 0.6 } });
      fx.sandbox.faults.dropSockets(s.sessionId);
      s.write('echo once-$((9*9))\r');
      const text = await out.waitFor('once-81\r\n', 60_000, from);
      fx.sandbox.faults.reset();
      const body = text.slice(text.indexOf('BEGIN\r\n') + 7, text.indexOf('END\r\n'));
      expect(body === seqText(1, 50000) + '\r\n').toBe(true);
      expect(text.split('once-81').length - 1).toBe(1);
      expect(s.reconnects).toBeGreaterThanOrEqual(1);
      await s.terminate();
    } finally {
      await fx.close();
    }
  });
});
