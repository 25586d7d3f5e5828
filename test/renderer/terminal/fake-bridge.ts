/**
 * A small Ec2ConnectBridge for the terminal workbench's tests: a map of channel handlers and
 * `emit(event, payload)`. Requests, responses and event payloads are checked against the
 * contract's schemas (preload/api.ts), so a test cannot pass what the real bridge would refuse.
 *
 * Inject it as the preload would: `window.ec2connect = fake` before anything calls getBridge()
 * (renderer/bridge/index.ts caches the bridge per module instance, so keep one fake per test
 * file and `reset()` it between tests).
 */
import {
  BridgeError,
  DEFAULT_SETTINGS,
  parseEvent,
  validateRequest,
  validateResponse,
  type Channel,
  type Ec2ConnectBridge,
  type EventListener,
  type EventName,
  type EventPayload,
  type InvokeArgs,
  type RequestOf,
  type ResponseOf,
  type SessionInfo,
} from '../../../preload/api.js';

export type FakeHandler<C extends Channel> = (
  request: RequestOf<C>,
) => ResponseOf<C> | Promise<ResponseOf<C>>;

export class FakeTerminalBridge implements Ec2ConnectBridge {
  readonly transport = 'ipc' as const;
  readonly calls: Array<{ channel: Channel; request: unknown }> = [];
  private handlers = new Map<Channel, (request: unknown) => unknown>();
  private listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  constructor() {
    this.reset();
  }

  /** Forget handlers, calls and listeners; install the defaults (no sessions, default settings). */
  reset(): void {
    this.calls.length = 0;
    this.handlers = new Map();
    this.listeners = new Map();
    this.handle('sessions.list', () => []);
    this.handle('settings.get', () => structuredClone(DEFAULT_SETTINGS));
    this.handle('sessions.write', () => null);
    this.handle('sessions.ack', () => null);
    this.handle('sessions.resize', () => null);
    this.handle('sessions.close', () => null);
    this.handle('sessions.cancelReconnect', () => null);
  }

  handle<C extends Channel>(channel: C, handler: FakeHandler<C>): this {
    this.handlers.set(channel, handler as (request: unknown) => unknown);
    return this;
  }

  fail(channel: Channel, message: string, name = 'TargetNotConnected'): this {
    this.handlers.set(channel, () => {
      throw new BridgeError({ code: 'HANDLER_FAILED', message, name });
    });
    return this;
  }

  async invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>> {
    const checked = validateRequest(channel, args[0]);
    this.calls.push({ channel, request: args[0] });
    if (!checked.ok) throw new BridgeError(checked.error);
    const handler = this.handlers.get(channel);
    if (!handler) throw new BridgeError({ code: 'UNAVAILABLE', message: `no fake handler for ${channel}` });
    await Promise.resolve();
    const value = await handler(checked.value.request);
    const response = validateResponse(channel, value);
    if (!response.ok)
      throw new Error(`fake handler for ${channel} answered off-contract: ${response.error.message}`);
    return response.value;
  }

  on<E extends EventName>(event: E, listener: EventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (payload: unknown) => void;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const parsed = parseEvent(event, payload);
    if (!parsed) throw new Error(`off-contract ${event} payload: ${JSON.stringify(payload)}`);
    for (const l of [...(this.listeners.get(event) ?? [])]) l(parsed.payload);
  }

  listenerCount(event?: EventName): number {
    if (event) return this.listeners.get(event)?.size ?? 0;
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  callsTo<C extends Channel>(channel: C): Array<RequestOf<C>> {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.request as RequestOf<C>);
  }
}

let sessionCounter = 0;

/** A session id (UUID) that differs per call. */
export function nextSessionId(): string {
  sessionCounter++;
  return `00000000-0000-4000-8000-${sessionCounter.toString(16).padStart(12, '0')}`;
}

export function sessionInfo(partial: Partial<SessionInfo> & { id: string }): SessionInfo {
  const now = new Date(0).toISOString();
  return {
    awsSessionId: `user-${partial.id.slice(-6)}`,
    instanceId: 'i-0123456789abcdef0',
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    state: 'open',
    bytesIn: 0,
    bytesOut: 0,
    reconnects: 0,
    openedAt: now,
    openMs: 12,
    lastActivityAt: now,
    ...partial,
  };
}

export const WEB1 = { instanceId: 'i-0123456789abcdef0', name: 'web-1' };
export const DB1 = { instanceId: 'i-0fedcba9876543210', name: 'db-1' };

/** Let promise callbacks and zero-delay timers run. */
export async function settle(times = 4): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}

export function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Install `fake` as the page's bridge (what the Electron preload does), once per test file.
 * Call before importing anything that calls getBridge().
 */
export function installBridge(fake: FakeTerminalBridge): void {
  (window as unknown as { ec2connect?: Ec2ConnectBridge }).ec2connect = fake;
}
