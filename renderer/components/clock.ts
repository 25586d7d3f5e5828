/**
 * The time now for a countdown on screen ("next try in 3 s", "expires in 9:59"): refreshed every
 * `periodMs` while `running()` gives something truthy, with no timer at all otherwise. When it
 * gives another truthy value (the next SSO prompt), the count starts again from that moment.
 * The timer ends with the component (or effect scope) that made it.
 */
import { getCurrentScope, onScopeDispose, ref, watch, type Ref } from 'vue';

export function useClock(running: () => unknown, periodMs: number): Ref<number> {
  const now = ref(Date.now());
  let timer: ReturnType<typeof setInterval> | undefined;

  function stop(): void {
    clearInterval(timer);
    timer = undefined;
  }

  watch(
    running,
    (on) => {
      stop();
      if (!on) return;
      now.value = Date.now();
      timer = setInterval(() => (now.value = Date.now()), periodMs);
    },
    { immediate: true },
  );

  if (getCurrentScope()) onScopeDispose(stop);
  return now;
}
