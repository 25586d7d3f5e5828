/**
 * One animation frame for every chart redraw: callbacks scheduled under the same key run once,
 * in the next frame, however many times they were scheduled (a chart redraws at most once per
 * frame, and all charts in the same frame).
 */
type Callback = () => void;

const pending = new Map<object, Callback>();
let handle: number | null = null;

const request: (cb: () => void) => number =
  typeof requestAnimationFrame === 'function'
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16) as unknown as number;

function flush(): void {
  handle = null;
  const callbacks = [...pending.values()];
  pending.clear();
  for (const cb of callbacks) {
    try {
      cb();
    } catch (err) {
      console.error('chart redraw failed', err);
    }
  }
}

export function scheduleFrame(key: object, cb: Callback): void {
  pending.set(key, cb);
  handle ??= request(flush);
}

export function cancelFrame(key: object): void {
  pending.delete(key);
}

/** For tests: how many callbacks wait for the next frame. */
export function pendingFrames(): number {
  return pending.size;
}
