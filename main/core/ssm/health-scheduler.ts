/**
 * One timer for the health checks of every data channel with the same period, instead of one
 * timer per channel: dozens of idle sessions then wake the process a few times a second, all
 * pings go out in one turn and their pongs come back together.
 */
import { toDisposable, type Disposable } from '../util/lifecycle.js';

const groups = new Map<number, { timer: NodeJS.Timeout; checks: Set<() => void> }>();

export function scheduleHealthCheck(periodMs: number, check: () => void): Disposable {
  let group = groups.get(periodMs);
  if (!group) {
    const checks = new Set<() => void>();
    const timer = setInterval(() => {
      for (const c of checks) c();
    }, periodMs);
    timer.unref?.();
    group = { timer, checks };
    groups.set(periodMs, group);
  }
  group.checks.add(check);
  const g = group;
  return toDisposable(() => {
    g.checks.delete(check);
    if (g.checks.size === 0) {
      clearInterval(g.timer);
      groups.delete(periodMs);
    }
  });
}
