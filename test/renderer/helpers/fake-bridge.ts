/**
 * A scriptable Ec2ConnectBridge for renderer tests: `handle(channel, fn)` answers requests
 * (return a value, a promise, or throw), `emit(event, payload)` pushes events, `calls`
 * records every request.
 *
 * Use it with the bridge module mocked:
 *
 *   vi.mock('../../../renderer/bridge/index.js', async () =>
 *     (await import('../helpers/fake-bridge.js')).bridgeModule());
 *   let bridge: FakeBridge;
 *   beforeEach(() => { bridge = resetFakeBridge(); });
 */
import {
  BridgeError,
  type Channel,
  type Ec2ConnectBridge,
  type EventListener,
  type EventName,
  type EventPayload,
  type InvokeArgs,
  type RequestInput,
  type ResponseOf,
} from '../../../preload/api.js';

type Handler<C extends Channel> = (request: RequestInput<C>) => ResponseOf<C> | Promise<ResponseOf<C>>;

export class FakeBridge implements Ec2ConnectBridge {
  readonly transport: 'ipc' | 'websocket';
  readonly calls: Array<{ channel: Channel; request: unknown }> = [];
  private readonly handlers = new Map<Channel, (request: unknown) => unknown>();
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  constructor(transport: 'ipc' | 'websocket' = 'websocket') {
    this.transport = transport;
  }

  handle<C extends Channel>(channel: C, handler: Handler<C> | ResponseOf<C>): this {
    this.handlers.set(
      channel,
      typeof handler === 'function' ? (handler as (r: unknown) => unknown) : () => structuredClone(handler),
    );
    return this;
  }

  /** Make a channel fail like a handler that threw (`errorName: message`). */
  fail(channel: Channel, message: string, name?: string): this {
    return this.handle(channel, () => {
      throw new BridgeError({ code: 'HANDLER_FAILED', message, ...(name ? { name } : {}) });
    });
  }

  async invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>> {
    const request = args[0];
    this.calls.push({ channel, request });
    const handler = this.handlers.get(channel);
    if (!handler) throw new BridgeError({ code: 'UNAVAILABLE', message: `no fake handler for ${channel}` });
    await Promise.resolve();
    return (await handler(request)) as ResponseOf<C>;
  }

  on<E extends EventName>(event: E, listener: EventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) l(payload);
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  callsTo(channel: Channel): unknown[] {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.request);
  }
}

let current = new FakeBridge();

export function resetFakeBridge(transport: 'ipc' | 'websocket' = 'websocket'): FakeBridge {
  current = new FakeBridge(transport);
  return current;
}

export function currentFakeBridge(): FakeBridge {
  return current;
}

/** The replacement for renderer/bridge/index.js. */
export function bridgeModule(): { getBridge: () => Ec2ConnectBridge; BridgeError: typeof BridgeError } {
  return { getBridge: () => current, BridgeError };
}

/** A promise with its resolve/reject outside (to hold an answer back in race tests). */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let queued promise callbacks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}
