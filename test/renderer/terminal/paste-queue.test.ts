/**
 * The input queue's pastes (renderer/terminal/input-queue.ts): bounded flight, progress,
 * cancel (with the bracketed-paste end marker owed), Ctrl-C ahead of queued paste data, and
 * keystrokes typed during a paste going after it.
 */
import { describe, expect, it } from 'vitest';
import {
  InputQueue,
  PASTE_END,
  PASTE_START,
  utf8Length,
  type InputKind,
  type InputQueueOptions,
  type PasteProgress,
} from '../../../renderer/terminal/input-queue.js';

interface Sent {
  data: string;
  kind: InputKind;
  resolve(): void;
  reject(err: Error): void;
}

/** A send whose writes the test completes by hand (as the agent's acknowledgements would). */
function manual() {
  const sent: Sent[] = [];
  const open: Sent[] = [];
  const send = (data: string, kind: InputKind): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const s: Sent = {
        data,
        kind,
        resolve: () => {
          open.splice(open.indexOf(s), 1);
          resolve();
        },
        reject: (err) => {
          open.splice(open.indexOf(s), 1);
          reject(err);
        },
      };
      sent.push(s);
      open.push(s);
    });
  /** Complete the oldest write in flight and let the queue react. */
  const ackOne = async (): Promise<void> => {
    open[0]?.resolve();
    await Promise.resolve();
    await Promise.resolve();
  };
  const ackAll = async (): Promise<void> => {
    while (open.length > 0) await ackOne();
  };
  return { sent, open, send, ackOne, ackAll, text: () => sent.map((s) => s.data).join('') };
}

/** A queue sending through `m.send`, and every paste progress it reports, in order. */
function queueWithProgress(
  m: ReturnType<typeof manual>,
  options: Omit<InputQueueOptions, 'send' | 'onPasteProgress'>,
  state?: { paused?: boolean },
): { q: InputQueue; progress: PasteProgress[] } {
  const progress: PasteProgress[] = [];
  const q = new InputQueue({ ...options, send: m.send, onPasteProgress: (p) => progress.push(p) }, state);
  return { q, progress };
}

describe('InputQueue pastes', () => {
  it('counts UTF-8 bytes as TextEncoder does', () => {
    for (const s of ['', 'abc', 'é', '日本', '😀x', 'a\ud800b', '\udc00']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
    expect(utf8Length('a😀b', 1, 3)).toBe(4);
  });

  it('keeps at most the paste window in flight, each piece waiting for its delivery', async () => {
    const m = manual();
    const q = new InputQueue({ send: m.send, maxChars: 10, pasteWindow: 2 });
    q.pushPaste('p'.repeat(95));
    expect(m.open.map((s) => s.kind)).toEqual(['paste', 'paste']);
    expect(m.text()).toBe('p'.repeat(20));
    await m.ackOne();
    expect(m.open).toHaveLength(2);
    expect(m.text()).toBe('p'.repeat(30));
    await m.ackAll();
    await q.idle();
    expect(m.text()).toBe('p'.repeat(95));
    expect(Math.max(...m.sent.map((s) => s.data.length))).toBe(10);
  });

  it('reports progress in UTF-8 bytes handed over, then done when all is delivered', async () => {
    const m = manual();
    const { q, progress } = queueWithProgress(m, { maxChars: 4, pasteWindow: 1 });
    const text = 'ab😀cdé'; // 1+1+4+1+1+2 = 10 bytes, 7 UTF-16 units
    q.pushPaste(text);
    expect(progress[0]).toEqual({ sentBytes: 0, totalBytes: 10, state: 'sending' });
    expect(progress.at(-1)).toEqual({ sentBytes: 6, totalBytes: 10, state: 'sending' }); // 'ab😀'
    expect(q.pasting).toBe(true);
    await m.ackAll();
    await q.idle();
    expect(m.sent.map((s) => s.data)).toEqual(['ab😀', 'cdé']);
    expect(progress.at(-1)).toEqual({ sentBytes: 10, totalBytes: 10, state: 'done' });
    expect(q.pasting).toBe(false);
  });

  it('a paste pasted during another joins its progress', async () => {
    const m = manual();
    const { q, progress } = queueWithProgress(m, { maxChars: 10 });
    q.pushPaste('a'.repeat(30));
    q.pushPaste('b'.repeat(30));
    expect(progress.at(-1)?.totalBytes).toBe(60);
    await m.ackAll();
    await q.idle();
    expect(m.text()).toBe('a'.repeat(30) + 'b'.repeat(30));
    expect(progress.filter((p) => p.state === 'done')).toEqual([
      { sentBytes: 60, totalBytes: 60, state: 'done' },
    ]);
  });

  it('keystrokes typed during a paste go after all of it, never into it', async () => {
    const m = manual();
    const q = new InputQueue({ send: m.send, maxChars: 10 });
    q.pushPaste('p'.repeat(50));
    q.push('l');
    q.push('s');
    q.push('\r');
    await m.ackAll();
    await q.idle();
    expect(m.text()).toBe(`${'p'.repeat(50)}ls\r`);
    expect(m.sent.at(-1)).toMatchObject({ data: 'ls\r', kind: 'keys' });
  });

  it('cancel drops what was not handed over and says how much was', async () => {
    const m = manual();
    const { q, progress } = queueWithProgress(m, { maxChars: 10, pasteWindow: 2 });
    q.pushPaste('p'.repeat(100));
    q.push('x');
    await m.ackOne();
    const cancelled = q.cancelPaste();
    expect(cancelled).toEqual({ sentBytes: 30, totalBytes: 100, state: 'cancelled' });
    expect(progress.at(-1)).toEqual(cancelled);
    await m.ackAll();
    await q.idle();
    // The pieces in flight were delivered; then what was typed; nothing more of the paste.
    expect(m.text()).toBe(`${'p'.repeat(30)}x`);
    expect(q.cancelPaste()).toBeNull();
  });

  it('a bracketed paste cut short gets its end marker, so the remote leaves paste mode', async () => {
    const m = manual();
    const q = new InputQueue({ send: m.send, maxChars: 10, pasteWindow: 1 });
    q.pushPaste(`${PASTE_START}${'q'.repeat(40)}${PASTE_END}`);
    q.cancelPaste();
    await m.ackAll();
    await q.idle();
    expect(m.text()).toBe(`${PASTE_START}qqqq${PASTE_END}`);
    expect(m.sent.at(-1)).toMatchObject({ data: PASTE_END, kind: 'keys' });
  });

  it('a bracketed paste cut inside its end marker gets the rest of it; one not started gets nothing', async () => {
    const m = manual();
    const q = new InputQueue({ send: m.send, maxChars: 10, pasteWindow: 1 });
    const paste = `${PASTE_START}ab${PASTE_END}`; // 6 + 2 + 6 units: pieces of 10 end inside the end marker
    q.pushPaste(paste);
    q.pushPaste(`${PASTE_START}never${PASTE_END}`);
    q.cancelPaste();
    await m.ackAll();
    await q.idle();
    expect(m.text()).toBe(paste);
  });

  it('Ctrl-C cancels the paste and goes out at once, ahead of the queued paste data', async () => {
    const m = manual();
    const { q, progress } = queueWithProgress(m, { maxChars: 10, pasteWindow: 2 });
    q.pushPaste('p'.repeat(1000));
    expect(m.open).toHaveLength(2); // the window is full
    q.interrupt('\x03');
    expect(m.sent.at(-1)).toMatchObject({ data: '\x03', kind: 'keys' }); // without waiting for the window
    expect(progress.at(-1)).toEqual({ sentBytes: 20, totalBytes: 1000, state: 'cancelled' });
    await m.ackAll();
    await q.idle();
    expect(m.text()).toBe(`${'p'.repeat(20)}\x03`);
  });

  it('Ctrl-C takes what was typed before it along, in order', async () => {
    const m = manual();
    const q = new InputQueue({ send: m.send });
    q.push('a'); // in flight
    q.push('b'); // waits for it
    q.interrupt('\x03');
    expect(m.sent.map((s) => s.data)).toEqual(['a', 'b\x03']);
    await m.ackAll();
    await q.idle();
  });

  it('a failed piece ends the paste as failed, not counting that piece, and reports once', async () => {
    const m = manual();
    const errors: number[] = [];
    const { q, progress } = queueWithProgress(m, {
      maxChars: 10,
      pasteWindow: 2,
      onError: (_e, dropped) => errors.push(dropped),
    });
    q.pushPaste('p'.repeat(100));
    m.open[0]!.reject(new Error('session closed'));
    m.open[0]!.reject(new Error('session closed'));
    await q.idle();
    expect(errors).toEqual([10 + 80]);
    expect(progress.at(-1)).toEqual({ sentBytes: 10, totalBytes: 100, state: 'failed' });
    q.push('y');
    await m.ackAll();
    await q.idle();
    expect(m.sent.at(-1)?.data).toBe('y');
  });

  it('holds a paste while paused and sends it on resume; clear ends it as cancelled', async () => {
    const m = manual();
    const { q, progress } = queueWithProgress(m, { maxChars: 10 }, { paused: true });
    q.pushPaste('p'.repeat(25));
    expect(m.sent).toHaveLength(0);
    q.resume();
    expect(m.sent).toHaveLength(2);
    expect(q.clear()).toBe(5);
    expect(progress.at(-1)?.state).toBe('cancelled');
    await m.ackAll();
    await q.idle();
  });
});
