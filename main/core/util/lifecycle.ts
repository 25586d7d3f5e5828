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

  readonly event: Event<T> = (listener) => {
    if (this.disposed) return toDisposable(() => {});
    this.listeners.push(listener);
    return toDisposable(() => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    });
  };

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
