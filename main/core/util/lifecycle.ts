/**
 * Ownership of resources, as VS Code does it: everything that holds a socket,
 * timer, listener, child process or buffer is a Disposable owned by something
 * that disposes it.
 */
export interface Disposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/** Disposes what it holds, once, in reverse order of addition; later additions are disposed at once. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      item.dispose();
    } else {
      this.items.push(item);
    }
    return item;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  get size(): number {
    return this.items.length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    while (this.items.length) {
      try {
        this.items.pop()!.dispose();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'errors while disposing');
  }
}

export type Listener<T> = (value: T) => void;
export type Event<T> = (listener: Listener<T>) => Disposable;

/** A typed event source. `emitter.event` is what consumers subscribe to. */
export class Emitter<T> implements Disposable {
  private listeners: Array<Listener<T>> = [];
  private disposed = false;

  readonly event: Event<T> = (listener) => this.subscribe(listener);

  protected subscribe(listener: Listener<T>): Disposable {
    if (this.disposed) return toDisposable(() => {});
    this.listeners.push(listener);
    return toDisposable(() => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    });
  }

  fire(value: T): void {
    if (this.disposed) return;
    // Copy: a listener may unsubscribe while we iterate.
    for (const l of this.listeners.length === 1 ? this.listeners : [...this.listeners]) l(value);
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  dispose(): void {
    this.disposed = true;
    this.listeners = [];
  }
}

/** Resolve once with the next value of an event (or reject after timeoutMs). */
export function nextEvent<T>(event: Event<T>, timeoutMs?: number, what = 'event'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const sub = event((v) => {
      if (timer) clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        sub.dispose();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
    }
  });
}

/**
 * An Emitter that keeps what is fired while nobody listens and hands it, in order, to the
 * first listener (on a microtask, so `const d = event(fn)` is assigned before fn runs).
 * For streams whose first values can arrive before the consumer subscribes, such as the
 * output that comes with a session's handshake. The backlog is bounded (`maxItems`); beyond
 * it the oldest values are dropped and counted in `dropped`.
 */
export class BufferedEmitter<T> extends Emitter<T> {
  private backlog: T[] = [];
  private flushing = false;
  dropped = 0;

  constructor(private readonly maxItems = 65_536) {
    super();
  }

  protected override subscribe(listener: Listener<T>): Disposable {
    const sub = super.subscribe(listener);
    if (this.backlog.length && !this.flushing) {
      this.flushing = true;
      queueMicrotask(() => {
        this.flushing = false;
        if (this.listenerCount === 0) return; // unsubscribed already: keep the backlog for the next one
        const items = this.backlog;
        this.backlog = [];
        for (const v of items) super.fire(v);
      });
    }
    return sub;
  }

  override fire(value: T): void {
    if (this.listenerCount === 0 || this.flushing) {
      this.backlog.push(value);
      if (this.backlog.length > this.maxItems) {
        this.backlog.shift();
        this.dropped++;
      }
      return;
    }
    super.fire(value);
  }

  override dispose(): void {
    this.backlog = [];
    super.dispose();
  }
}

/**
 * An Emitter for a one-time event (closed, exited): fired once, and every listener that
 * subscribes afterwards still gets the value (on a microtask).
 */
export class LatchedEmitter<T> extends Emitter<T> {
  private value: { v: T } | undefined;

  protected override subscribe(listener: Listener<T>): Disposable {
    if (this.value) {
      const latched = this.value;
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) listener(latched.v);
      });
      return toDisposable(() => (cancelled = true));
    }
    return super.subscribe(listener);
  }

  override fire(value: T): void {
    if (this.value) return;
    this.value = { v: value };
    super.fire(value);
  }

  get fired(): boolean {
    return this.value !== undefined;
  }
}
