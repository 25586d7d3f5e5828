/**
 * Persistent sessions (main/core/sessions/persistent.ts): names and attach commands, then against
 * the sandbox (real shells, real tmux and screen): a drop that outlasts the service's reconnect
 * window, a re-attach that finds the same tmux/screen session with its running loop and its
 * shell variables, a fresh shell with persistence off, the message when tmux is missing, the
 * automatic re-attach with its bounded tries, and no tmux or screen left behind by the sandbox.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionManager, type ManagedSessionInfo } from '../../../main/core/sessions/session-manager.js';
import {
  InvalidPersistentNameError,
  NotReattachableError,
  PERSISTENT_NAME_PATTERN,
  SessionPersistence,
  attachCommand,
  checkPersistentName,
  newPersistentName,
  startupInputFor,
  type LostSession,
  type ReattachedEvent,
  type SessionPersistenceOptions,
} from '../../../main/core/sessions/persistent.js';
import { startFixture, type Fixture } from '../../helpers/sandbox.js';
import { until } from '../../helpers/workspace-recorder.js';
import { haveTool, processesNamed } from '../../helpers/processes.js';

const FAST_RECONNECT = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 100, jitter: 0 };

describe('names and commands', () => {
  it('makes names of "ec2c-" and 8 lower-case letters or digits, and refuses anything else', () => {
    for (let i = 0; i < 50; i++) expect(newPersistentName()).toMatch(PERSISTENT_NAME_PATTERN);
    expect(newPersistentName(() => Buffer.from([0, 1, 25, 26, 35, 36, 255, 71]))).toBe('ec2c-abz09ad9');
    expect(checkPersistentName('ec2c-0a1b2c3d')).toBe('ec2c-0a1b2c3d');
    for (const bad of ['ec2c-0a1b2c3', 'ec2c-0A1B2C3D', 'work', 'ec2c-0a1b2c3d; rm -rf ~', 'ec2c-$(id)xx'])
      expect(() => checkPersistentName(bad)).toThrow(InvalidPersistentNameError);
    expect(() => attachCommand({ tool: 'tmux', name: 'x; reboot' })).toThrow(/not a persistent session name/);
  });

  it('starts or joins the named session when the tool is there, and says so when it is not', () => {
    const tmux = attachCommand({ tool: 'tmux', name: 'ec2c-0a1b2c3d' });
    expect(tmux).toBe(
      ' command -v tmux >/dev/null 2>&1 && { tmux new-session -A -s ec2c-0a1b2c3d && exit; } ||' +
        ' echo "ec2-connect: tmux is not installed on this instance (or did not start); this is a plain shell"\r',
    );
    expect(attachCommand({ tool: 'screen', name: 'ec2c-0a1b2c3d' })).toContain(
      'screen -xRR -S ec2c-0a1b2c3d',
    );
    // A preset's own startup input comes first, then the attach command.
    expect(startupInputFor('exec sudo -iu alice\r', { tool: 'tmux', name: 'ec2c-0a1b2c3d' })).toBe(
      `exec sudo -iu alice\r${tmux}`,
    );
    expect(startupInputFor('cd /srv', { tool: 'tmux', name: 'ec2c-0a1b2c3d' })).toBe(`cd /srv\r${tmux}`);
    expect(startupInputFor('cd /srv\r', null)).toBe('cd /srv\r');
    expect(startupInputFor(undefined, null)).toBeUndefined();
  });
});

/** A manager and its persistence on a sandbox, with output per session and the persistence events. */
class Rig {
  readonly manager: SessionManager;
  readonly persistence: SessionPersistence;
  readonly out = new Map<string, string>();
  readonly lost: LostSession[] = [];
  readonly auto: LostSession[] = [];
  readonly reattached: ReattachedEvent[] = [];
  readonly closed: ManagedSessionInfo[] = [];

  constructor(
    readonly fx: Fixture,
    options: Partial<Omit<SessionPersistenceOptions, 'manager'>> = {},
  ) {
    this.manager = new SessionManager({
      controlPlaneFor: () => fx.cp,
      reconnect: FAST_RECONNECT,
    });
    this.manager.onOutput(({ id, data }) =>
      this.out.set(id, (this.out.get(id) ?? '') + data.toString('utf8')),
    );
    this.manager.onClosed((info) => this.closed.push(info));
    this.persistence = new SessionPersistence({
      manager: this.manager,
      autoReattach: () => false,
      networkWatch: false,
      ...options,
    });
    this.persistence.onLost((l) => this.lost.push(l));
    this.persistence.onAutoProgress((l) => this.auto.push(l));
    this.persistence.onReattached((e) => this.reattached.push(e));
  }

  open(mode: 'off' | 'tmux' | 'screen') {
    return this.persistence.open(
      { profile: 'sandbox', region: this.fx.sandbox.region, target: this.fx.instanceId, cols: 100, rows: 30 },
      mode,
    );
  }

  text(id: string): string {
    return this.out.get(id) ?? '';
  }

  /** Wait until the output of `id` after `from` characters matches. */
  async waitFor(id: string, pattern: RegExp | string, from = 0, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.text(id).slice(from);
      if (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)) return t;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${String(pattern)} in the output of ${id}; it ends: ${JSON.stringify(t.slice(-400))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Wait until tmux or screen has taken the screen (the alternate screen) and its shell prompts. */
  async multiplexerUp(id: string): Promise<void> {
    await this.waitFor(id, '\x1b[?1049h');
    await this.waitFor(id, '$ ', this.text(id).indexOf('\x1b[?1049h'));
  }

  /** The drop outlasts the service's reconnect window: the session ends on the service side. */
  async loseForGood(info: ManagedSessionInfo): Promise<LostSession> {
    this.fx.sandbox.faults.expireSessions(info.awsSessionId);
    return until('the lost session', () => this.lost.find((l) => l.id === info.id), 15_000);
  }

  async dispose(): Promise<void> {
    this.persistence.dispose();
    await this.manager.shutdown();
  }
}

/** The highest tick-N printed so far after `from`. */
function lastTick(text: string): number {
  const all = [...text.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]));
  return all.length ? Math.max(...all) : 0;
}

describe.skipIf(!haveTool('tmux') || !haveTool('screen'))('re-attach against the sandbox', () => {
  let fx: Fixture;
  const rigs: Rig[] = [];
  const names: string[] = [];

  beforeAll(async () => {
    fx = await startFixture();
  });
  afterEach(async () => {
    await Promise.all(rigs.splice(0).map((r) => r.dispose()));
  });
  afterAll(async () => {
    await fx.close();
    // The sandbox took its tmux servers and screen sessions with it.
    for (const name of names) expect(processesNamed(name)).toEqual([]);
  });

  function rig(options?: Partial<Omit<SessionPersistenceOptions, 'manager'>>): Rig {
    const r = new Rig(fx, options);
    rigs.push(r);
    return r;
  }

  it('tmux: after a drop the service did not outlast, the new session is in the same tmux session', async () => {
    const r = rig();
    const { info, persistence } = await r.open('tmux');
    expect(persistence).toEqual({ tool: 'tmux', name: expect.stringMatching(PERSISTENT_NAME_PATTERN) });
    names.push(persistence!.name);
    await r.multiplexerUp(info.id);
    r.manager.write(info.id, 'export MARK=before\r');
    r.manager.write(info.id, 'for i in $(seq 1 2000); do echo tick-$i; sleep 0.05; done\r');
    await r.waitFor(info.id, /tick-5\b/);

    const lost = await r.loseForGood(info);
    expect(lost).toMatchObject({ id: info.id, persistence, auto: null });
    const closed = r.closed.find((c) => c.id === info.id)!;
    expect(closed.lostConnection).toBe(true);
    expect(closed.closed?.how).not.toBe('terminated');
    expect(r.persistence.lost(info.id)?.reason).toMatch(/no longer exists|timed out|could not reconnect/);
    const before = lastTick(r.text(info.id));
    // The service really ended it.
    expect(fx.sandbox.registry.get(info.awsSessionId)?.status).toBe('Terminated');

    const done = await r.persistence.reattach(info.id, { cols: 120, rows: 35 });
    expect(done).toMatchObject({ previousId: info.id, persistence, automatic: false });
    expect(done.info.id).not.toBe(info.id);
    expect(r.persistence.reattachedFrom(done.info.id)).toBe(info.id);
    expect(r.persistence.persistenceOf(done.info.id)).toEqual(persistence);
    expect(r.persistence.lost(info.id)).toBeUndefined();
    // The loop kept running in tmux while nobody was attached: later ticks arrive in the new session.
    await until('ticks well after the drop', () => lastTick(r.text(done.info.id)) > before + 10, 20_000);
    r.manager.write(done.info.id, '\x03');
    const mark = r.text(done.info.id).length;
    r.manager.write(done.info.id, 'echo "mark=$MARK-$((1+1))"\r');
    await r.waitFor(done.info.id, 'mark=before-2', mark);
    // One tmux session of that name, still one server.
    const listed = execFileSync('tmux', ['-S', tmuxSocket(fx), 'list-sessions', '-F', '#S'], {
      encoding: 'utf8',
    });
    expect(listed.trim().split('\n')).toEqual([persistence!.name]);
    // Its server is a process this check can see (so the check after the sandbox closed means something).
    expect(processesNamed(persistence!.name).some((l) => /tmux/.test(l))).toBe(true);
    // A second re-attach of the same lost session is refused: it was replaced.
    await expect(r.persistence.reattach(info.id)).rejects.toThrow(NotReattachableError);
  });

  it('screen: the new session joins the same screen session', async () => {
    const r = rig();
    const { info, persistence } = await r.open('screen');
    expect(persistence?.tool).toBe('screen');
    names.push(persistence!.name);
    await r.multiplexerUp(info.id);
    r.manager.write(info.id, 'export MARK=kept; for i in $(seq 1 2000); do echo tick-$i; sleep 0.05; done\r');
    await r.waitFor(info.id, /tick-5\b/);
    await r.loseForGood(info);
    const before = lastTick(r.text(info.id));
    const done = await r.persistence.reattach(info.id);
    await until('ticks well after the drop', () => lastTick(r.text(done.info.id)) > before + 10, 20_000);
    r.manager.write(done.info.id, '\x03');
    const mark = r.text(done.info.id).length;
    r.manager.write(done.info.id, 'echo "mark=$MARK-$((2+2))"\r');
    await r.waitFor(done.info.id, 'mark=kept-4', mark);
    expect(processesNamed(persistence!.name).some((l) => /SCREEN/.test(l))).toBe(true);
  });

  it('persistence off: a re-attach is a fresh shell (nothing kept running)', async () => {
    const r = rig();
    const { info, persistence } = await r.open('off');
    expect(persistence).toBeNull();
    await r.waitFor(info.id, '$ ');
    r.manager.write(info.id, 'export MARK=lost\r');
    await r.loseForGood(info);
    const done = await r.persistence.reattach(info.id);
    expect(done.persistence).toBeNull();
    await r.waitFor(done.info.id, '$ ');
    r.manager.write(done.info.id, 'echo "mark=${MARK:-none}-$((3+3))"\r');
    await r.waitFor(done.info.id, 'mark=none-6');
    // No startup input was typed: the first thing after the prompt is what we typed.
    expect(r.text(done.info.id)).not.toContain('tmux');
  });

  it('a session closed by the user, or still open, is not re-attachable', async () => {
    const r = rig();
    const { info } = await r.open('off');
    await expect(r.persistence.reattach(info.id)).rejects.toThrow(/cannot be re-attached/);
    // Reconnect cancelled by the user: terminated, not lost.
    fx.sandbox.faults.dropSockets(info.awsSessionId);
    await until('reconnecting', () => r.manager.get(info.id)?.state === 'reconnecting', 5_000);
    await r.manager.terminate(info.id, 'reconnect cancelled by the user');
    expect(r.closed.find((c) => c.id === info.id)?.lostConnection).toBeUndefined();
    expect(r.lost).toEqual([]);
    await expect(r.persistence.reattach(info.id)).rejects.toThrow(NotReattachableError);
  });

  it('auto re-attach: tries by itself, bounded, and sooner when told the network is back', async () => {
    const r = rig({ autoReattach: () => true, autoDelaysMs: [200, 60_000, 60_000] });
    const { info, persistence } = await r.open('tmux');
    names.push(persistence!.name);
    await r.multiplexerUp(info.id);
    r.manager.write(info.id, 'export MARK=auto\r');
    await r.waitFor(info.id, 'MARK=auto');
    // The instance's agent is unreachable too: the first automatic attempt fails.
    fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'ConnectionLost' });
    try {
      const lost = await r.loseForGood(info);
      expect(lost.auto).toMatchObject({ attempt: 0, maxAttempts: 3, phase: 'waiting' });
      expect(r.persistence.diagnostics()).toMatchObject({ lost: 1, timers: 1 });
      const failed = await until(
        'a failed automatic attempt',
        () => r.auto.find((a) => a.auto?.phase === 'waiting' && a.auto.attempt === 1),
        10_000,
      );
      expect(failed.auto?.lastError).toMatch(/not connected|TargetNotConnected|offline|agent/i);
      expect(failed.auto!.nextAttemptAt! - Date.now()).toBeGreaterThan(30_000);
    } finally {
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'Online' });
    }
    // The network is back: the attempt waiting a minute is made now.
    r.persistence.retryNow();
    const done = await until('the automatic re-attach', () => r.reattached[0], 15_000);
    expect(done).toMatchObject({ previousId: info.id, automatic: true, persistence });
    await r.multiplexerUp(done.info.id);
    const mark = r.text(done.info.id).length;
    r.manager.write(done.info.id, 'echo "mark=$MARK-$((4+4))"\r');
    await r.waitFor(done.info.id, 'mark=auto-8', mark);
    expect(r.persistence.diagnostics()).toMatchObject({ lost: 0, timers: 0, watching: false });
  });

  it('auto re-attach gives up after its tries, and a manual re-attach still works', async () => {
    const r = rig({ autoReattach: () => true, autoDelaysMs: [50, 50] });
    const { info } = await r.open('off');
    await r.waitFor(info.id, '$ ');
    fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'ConnectionLost' });
    try {
      await r.loseForGood(info);
      const gaveUp = await until('giving up', () => r.auto.find((a) => a.auto?.phase === 'gave-up'), 10_000);
      expect(gaveUp.auto).toMatchObject({ attempt: 2, maxAttempts: 2, nextAttemptAt: null });
      expect(r.persistence.diagnostics()).toMatchObject({ lost: 1, timers: 0 });
      // Nothing more is tried, even when told the network is back.
      r.persistence.retryNow();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.auto.filter((a) => a.auto?.phase === 'trying')).toHaveLength(2);
    } finally {
      fx.sandbox.fleet.update(fx.instanceId, { pingStatus: 'Online' });
    }
    const done = await r.persistence.reattach(info.id);
    await r.waitFor(done.info.id, '$ ');
  });
});

describe.skipIf(!haveTool('tmux'))('tmux missing on the instance', () => {
  let fx: Fixture;
  let dir: string;

  beforeAll(async () => {
    // The instance's shell runs with a PATH that has no tmux (only shell builtins are needed).
    dir = mkdtempSync(path.join(os.tmpdir(), 'ec2c-no-tmux-'));
    const shell = path.join(dir, 'no-tmux-bash');
    writeFileSync(shell, `#!/bin/bash\nPATH=${path.join(dir, 'empty')} exec /bin/bash "$@"\n`);
    chmodSync(shell, 0o755);
    fx = await startFixture({ agent: { shell } });
  });
  afterAll(async () => {
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says tmux is not installed and leaves a plain shell that works', async () => {
    const r = new Rig(fx);
    try {
      const { info, persistence } = await r.open('tmux');
      await r.waitFor(info.id, 'ec2-connect: tmux is not installed on this instance');
      // The message is printed, not only echoed as typed.
      await until(
        'the message printed',
        () => r.text(info.id).split('ec2-connect: tmux is not installed').length === 3,
      );
      r.manager.write(info.id, 'echo "plain-$((5+5))"\r');
      await r.waitFor(info.id, 'plain-10');
      expect(processesNamed(persistence!.name)).toEqual([]);
    } finally {
      await r.dispose();
    }
  });
});

/** The tmux socket of the fixture's instance (the sandbox's own TMUX_TMPDIR). */
function tmuxSocket(fx: Fixture): string {
  const root = fx.sandbox.dataChannel.multiplexerDir;
  if (!root) throw new Error('the sandbox has not started a shell yet');
  return path.join(root, fx.instanceId, `tmux-${process.getuid!()}`, 'default');
}
