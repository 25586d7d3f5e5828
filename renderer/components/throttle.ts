/**
 * A number that follows `source` at most once per `intervalMs()`: the first change shows at
 * once, later ones within the interval wait for its end (the last value wins). Charts watch it
 * instead of the source, so the governor's `ui.updateIntervalMs` bounds their redraw rate.
 */
import { getCurrentScope, onScopeDispose, ref, watch, type Ref } from 'vue';

export function useThrottled(source: () => number, intervalMs: () => number): Ref<number> {
  const out = ref(source());
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function publish(): void {
    timer = undefined;
    last = Date.now();
    out.value = source();
  }

  watch(source, () => {
    if (timer !== undefined) return;
    const wait = last + intervalMs() - Date.now();
    if (wait <= 0) publish();
    else timer = setTimeout(publish, wait);
  });

  if (getCurrentScope())
    onScopeDispose(() => {
      clearTimeout(timer);
      timer = undefined;
    });
  return out;
}
