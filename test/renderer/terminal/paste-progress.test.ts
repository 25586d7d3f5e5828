import { describe, expect, it } from 'vitest';
import {
  PASTE_PROGRESS_MIN_BYTES,
  PasteStatus,
  percentOf,
  stripView,
  type PasteStripView,
} from '../../../renderer/terminal/paste-progress.js';

function timers() {
  const pending = new Map<number, () => void>();
  let next = 1;
  return {
    setTimer: (fn: () => void) => {
      pending.set(next, fn);
      return next++;
    },
    clearTimer: (h: unknown) => void pending.delete(h as number),
    fireAll: () => {
      const fns = [...pending.values()];
      pending.clear();
      for (const fn of fns) fn();
    },
    count: () => pending.size,
  };
}

const MiB = 1024 * 1024;

describe('paste progress strip', () => {
  it('percent: floor, 100 only when all was sent', () => {
    expect(percentOf(0, 10)).toBe(0);
    expect(percentOf(999, 1000)).toBe(99);
    expect(percentOf(1000, 1000)).toBe(100);
    expect(percentOf(0, 0)).toBe(100);
  });

  it('says what is being sent, what a cancel left, and nothing once done', () => {
    expect(stripView({ sentBytes: 1.2 * MiB, totalBytes: 4 * MiB, state: 'sending' })).toMatchObject({
      state: 'sending',
      percent: 30,
      text: 'Pasting 1.2 MiB of 4.0 MiB (30 %)',
    });
    expect(stripView({ sentBytes: 384 * 1024, totalBytes: 4 * MiB, state: 'cancelled' })?.text).toBe(
      'Paste cancelled: 384 KiB of 4.0 MiB sent',
    );
    expect(stripView({ sentBytes: 10, totalBytes: 4 * MiB, state: 'failed' })?.text).toBe(
      'Paste failed: 10 B of 4.0 MiB sent',
    );
    expect(stripView({ sentBytes: MiB, totalBytes: MiB, state: 'done' })).toBeNull();
  });

  it('shows large pastes only, goes when done, and keeps a cancel result for a while', () => {
    const t = timers();
    const status = new PasteStatus(t);
    const seen: Array<PasteStripView | null> = [];
    const off = status.onChange((v) => seen.push(v));
    status.update({ sentBytes: 0, totalBytes: PASTE_PROGRESS_MIN_BYTES - 1, state: 'sending' });
    expect(status.view).toBeNull();
    expect(seen).toEqual([]);

    status.update({ sentBytes: 0, totalBytes: MiB, state: 'sending' });
    status.update({ sentBytes: MiB / 2, totalBytes: MiB, state: 'sending' });
    expect(status.showingProgress).toBe(true);
    expect(status.view?.percent).toBe(50);
    status.update({ sentBytes: MiB, totalBytes: MiB, state: 'done' });
    expect(status.view).toBeNull();
    expect(seen.map((v) => v?.state ?? null)).toEqual(['sending', 'sending', null]);

    status.update({ sentBytes: 0, totalBytes: MiB, state: 'sending' });
    status.update({ sentBytes: MiB / 4, totalBytes: MiB, state: 'cancelled' });
    expect(status.view?.state).toBe('cancelled');
    expect(status.showingProgress).toBe(false);
    expect(t.count()).toBe(1);
    t.fireAll();
    expect(status.view).toBeNull();

    // A new paste replaces a lingering result at once (and its timer).
    status.update({ sentBytes: 1, totalBytes: MiB, state: 'failed' });
    status.update({ sentBytes: 0, totalBytes: MiB, state: 'sending' });
    expect(t.count()).toBe(0);
    expect(status.view?.state).toBe('sending');
    status.dismiss(); // not while sending
    expect(status.view?.state).toBe('sending');
    status.update({ sentBytes: 2, totalBytes: MiB, state: 'cancelled' });
    status.dismiss();
    expect(status.view).toBeNull();
    expect(t.count()).toBe(0);
    off();
    status.dispose();
  });
});
