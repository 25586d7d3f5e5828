// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { useClock } from '../../../renderer/components/clock.js';

describe('useClock', () => {
  beforeEach(() => vi.useFakeTimers({ now: 10_000 }));
  afterEach(() => vi.useRealTimers());

  it('ticks only while running, starts over on a new value, and stops with its scope', async () => {
    const scope = effectScope();
    const running = ref<string | null>(null);
    const now = scope.run(() => useClock(() => running.value, 500))!;
    expect(now.value).toBe(10_000);
    vi.advanceTimersByTime(2_000);
    expect(now.value).toBe(10_000); // not running: no timer
    expect(vi.getTimerCount()).toBe(0);

    running.value = 'a';
    await nextTick();
    expect(now.value).toBe(12_000); // the time it started
    vi.advanceTimersByTime(499);
    expect(now.value).toBe(12_000);
    vi.advanceTimersByTime(1);
    expect(now.value).toBe(12_500);

    vi.advanceTimersByTime(200);
    running.value = 'b'; // another countdown: from now, on its own period
    await nextTick();
    expect(now.value).toBe(12_700);
    vi.advanceTimersByTime(499);
    expect(now.value).toBe(12_700);
    vi.advanceTimersByTime(1);
    expect(now.value).toBe(13_200);
    expect(vi.getTimerCount()).toBe(1);

    running.value = null;
    await nextTick();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(now.value).toBe(13_200);

    running.value = 'c';
    await nextTick();
    expect(vi.getTimerCount()).toBe(1);
    scope.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
