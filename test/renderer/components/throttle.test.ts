// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { useThrottled } from '../../../renderer/components/throttle.js';

describe('useThrottled', () => {
  beforeEach(() => vi.useFakeTimers({ now: 10_000 }));
  afterEach(() => vi.useRealTimers());

  it('follows at once, then at most once per interval (the last value wins), at the current interval', async () => {
    const scope = effectScope();
    const source = ref(0);
    const interval = ref(1000);
    const out = scope.run(() =>
      useThrottled(
        () => source.value,
        () => interval.value,
      ),
    )!;
    expect(out.value).toBe(0);
    source.value = 1;
    await nextTick();
    expect(out.value).toBe(1);
    source.value = 2;
    await nextTick();
    source.value = 3;
    await nextTick();
    expect(out.value).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(out.value).toBe(3);

    interval.value = 5000;
    source.value = 4;
    await nextTick();
    vi.advanceTimersByTime(4000);
    expect(out.value).toBe(3);
    vi.advanceTimersByTime(1000);
    expect(out.value).toBe(4);

    // Disposed: a pending update never lands.
    source.value = 5;
    await nextTick();
    scope.stop();
    vi.advanceTimersByTime(10_000);
    expect(out.value).toBe(4);
  });
});
