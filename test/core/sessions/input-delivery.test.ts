/**
 * Terminal input through the session manager into a real shell of the sandbox: large pastes
 * arrive byte-exact, a cancelled paste really stops (only what was in flight still arrives),
 * and a size changed while the connection is down reaches the shell when it is back.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WRITE_CHARS } from '../../../preload/api.js';
import { SessionManager } from '../../../main/core/sessions/session-manager.js';
import {
  InputQueue,
  PASTE_WINDOW,
  utf8Length,
  type PasteProgress,
} from '../../../renderer/terminal/input-queue.js';
import { startFixture, type Fixture } from '../../helpers/sandbox.js';

describe('terminal input through the session manager', () => {
  let fx: Fixture;
  let dir: string;
  beforeAll(async () => {
    fx = await startFixture();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-input-'));
  });
  afterAll(async () => {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(m: SessionManager) {
    let out = '';
    m.onOutput(({ data }) => (out += data.toString('utf8')));
    const info = await m.open({
      profile: 'sandbox',
      region: fx.sandbox.region,
      target: fx.instanceId,
      cols: 100,
      rows: 30,
    });
    await expect.poll(() => out, { timeout: 10_000 }).toContain('$ ');
    return { id: info.id, out: () => out };
  }

  /** An InputQueue writing into session `id` as the renderer does (paste pieces wait for delivery). */
  function queueFor(m: SessionManager, id: string, progress: PasteProgress[] = []): InputQueue {
    return new InputQueue({
      send: async (data, kind) => {
        m.write(id, data);
        if (kind === 'paste') await m.whenInputDelivered(id);
      },
      onPasteProgress: (p) => progress.push(p),
    });
  }

  /** Multi-line text with 2-, 3- and 4-byte UTF-8 characters and control characters. */
  function mixedText(bytes: number): string {
    const words = ['alpha', 'é', 'ñandú', '日本語', '😀', 'x'.repeat(40), '\t', '\x7f', '$HOME', '\r'];
    const parts: string[] = [];
    let n = 0;
    for (let i = 0; n < bytes; i++) {
      const w = i % 13 === 12 ? '\n' : `${words[(i * 7) % words.length]} `;
      parts.push(w);
      n += utf8Length(w);
    }
    return parts.join('');
  }

  const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

  it('a 2 MiB paste (multi-line, multi-byte UTF-8) arrives byte-exact and in order', async () => {
    const m = new SessionManager({ controlPlaneFor: () => fx.cp });
    const s = await open(m);
    const text = mixedText(2 * 1024 * 1024);
    const bytes = utf8Length(text);
    expect(bytes).toBe(Buffer.byteLength(text));
    const file = path.join(dir, 'paste.bin');
    // Raw mode, so the terminal driver hands every byte to head as it is (no line editing, no signals).
    m.write(
      s.id,
      `stty raw -echo -iexten; echo RE""ADY; head -c ${bytes} > ${file}; stty sane; sha256sum ${file}\r`,
    );
    await expect.poll(s.out, { timeout: 10_000 }).toContain('READY');
    const progress: PasteProgress[] = [];
    const q = queueFor(m, s.id, progress);
    q.pushPaste(text);
    await q.idle();
    expect(progress.at(-1)).toEqual({ sentBytes: bytes, totalBytes: bytes, state: 'done' });
    await expect.poll(s.out, { timeout: 20_000 }).toContain(`${sha256(text)}  ${file}`);
    await m.shutdown();
  }, 60_000);
  it('a cancelled paste really stops: only the pieces in flight still arrive', async () => {
    // 20 ms each way between client and agent, as over a real network: the paste takes seconds.
    fx.sandbox.faults.set({ dataChannel: { delayMs: 20 } });
    const m = new SessionManager({ controlPlaneFor: () => fx.cp });
    try {
      const s = await open(m);
      const file = path.join(dir, 'cancelled.bin');
      const total = 8 * 1024 * 1024;
      m.write(s.id, `stty raw -echo -iexten; echo RE""ADY; cat > ${file}\r`);
      await expect.poll(s.out, { timeout: 10_000 }).toContain('READY');
      const progress: PasteProgress[] = [];
      const q = queueFor(m, s.id, progress);
      // Input the sandbox's agent has taken in (in order) and written to the shell.
      const agentIn = () => fx.sandbox.dataChannel.session(m.get(s.id)!.awsSessionId)!.stats.payloadBytesIn;
      const beforePaste = agentIn();
      q.pushPaste('p'.repeat(total));
      await expect
        .poll(() => progress.at(-1)?.sentBytes ?? 0, { timeout: 10_000 })
        .toBeGreaterThan(256 * 1024);
      const cancelled = q.cancelPaste()!;
      const atAgentAtCancel = agentIn() - beforePaste;
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.sentBytes).toBeLessThan(total);
      await q.idle();
      // What was handed over arrives, all of it, and nothing more: the file stops growing there.
      await expect.poll(async () => (await stat(file)).size, { timeout: 10_000 }).toBe(cancelled.sentBytes);
      await new Promise((r) => setTimeout(r, 300));
      expect((await stat(file)).size).toBe(cancelled.sentBytes);
      // What came after the cancel is at most the paste window: the pieces in flight, not yet at
      // the agent. (Measured at the agent, not in the file: the agent acknowledges input on
      // receipt, so how far the shell lags behind it depends on the machine's load.)
      expect(cancelled.sentBytes - atAgentAtCancel).toBeLessThanOrEqual(PASTE_WINDOW * MAX_WRITE_CHARS);
      expect(m.get(s.id)!.bytesOut).toBeLessThan(total / 2);
    } finally {
      fx.sandbox.faults.reset();
      await m.shutdown();
    }
  }, 60_000);

  it('Ctrl-C during a paste cancels it and interrupts the program at once', async () => {
    fx.sandbox.faults.set({ dataChannel: { delayMs: 20 } });
    const m = new SessionManager({ controlPlaneFor: () => fx.cp });
    try {
      const s = await open(m);
      const file = path.join(dir, 'interrupted.txt');
      m.write(s.id, `stty -echo; cat > ${file}; stty echo\r`);
      const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i} ${'é'.repeat(10)}`).join('\n');
      const progress: PasteProgress[] = [];
      const q = queueFor(m, s.id, progress);
      q.pushPaste(lines);
      await expect
        .poll(() => progress.at(-1)?.sentBytes ?? 0, { timeout: 10_000 })
        .toBeGreaterThan(128 * 1024);
      const mark = s.out().length;
      q.interrupt('\x03');
      expect(progress.at(-1)?.state).toBe('cancelled');
      // The prompt comes back: cat was interrupted. Only then type, as a person does: the tty
      // discards input still queued when it handles ^C, so keys sent in the same instant can
      // be dropped by the kernel (seen once in CI), whatever the client does.
      await expect.poll(() => s.out().slice(mark), { timeout: 10_000 }).toMatch(/\$ $/);
      q.push('echo after-$((1+1))\r');
      await expect.poll(() => s.out().slice(mark), { timeout: 10_000 }).toContain('after-2');
      await q.idle();
      expect(m.get(s.id)!.bytesOut).toBeLessThan(Buffer.byteLength(lines) / 2);
    } finally {
      fx.sandbox.faults.reset();
      await m.shutdown();
    }
  }, 60_000);

  it('whenInputDelivered: true once the agent has it, false after its wait or when the session closes', async () => {
    const m = new SessionManager({ controlPlaneFor: () => fx.cp });
    try {
      const s = await open(m);
      expect(await m.whenInputDelivered(s.id)).toBe(true); // nothing outstanding
      fx.sandbox.faults.set({ dataChannel: { dropRate: 1 } }); // the network loses everything
      m.write(s.id, 'echo lost-for-now\r');
      expect(await m.whenInputDelivered(s.id, 300)).toBe(false);
      fx.sandbox.faults.reset(); // resent, acknowledged at last
      expect(await m.whenInputDelivered(s.id, 10_000)).toBe(true);
      await expect.poll(s.out, { timeout: 10_000 }).toContain('lost-for-now');
      fx.sandbox.faults.set({ dataChannel: { dropRate: 1 } });
      m.write(s.id, 'echo never\r');
      const waiting = m.whenInputDelivered(s.id, 30_000);
      await m.terminate(s.id);
      expect(await waiting).toBe(false);
    } finally {
      fx.sandbox.faults.reset();
      await m.shutdown();
    }
  }, 60_000);

  it('a size changed while the connection is down reaches the shell once it is back', async () => {
    const m = new SessionManager({
      controlPlaneFor: () => fx.cp,
      reconnect: { baseDelayMs: 200, maxDelayMs: 400, jitter: 0 },
    });
    const s = await open(m);
    const states: string[] = [];
    m.onStateChanged(({ state }) => states.push(state));
    fx.sandbox.faults.dropSockets(m.get(s.id)!.awsSessionId);
    await expect.poll(() => states).toContain('reconnecting');
    m.resize(s.id, 91, 26);
    await expect.poll(() => m.get(s.id)!.state, { timeout: 10_000 }).toBe('open');
    m.write(s.id, 'echo "sz=$(stty size)"\r');
    await expect.poll(s.out, { timeout: 10_000 }).toContain('sz=26 91');
    await m.shutdown();
  });
});
