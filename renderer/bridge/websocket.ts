/**
 * Web mode: the bridge contract over a WebSocket to main/core/web/server.ts. Same interface,
 * same validation as the Electron preload: requests are checked before they are sent,
 * responses after they arrive.
 */
import {
  BridgeError,
  WS_PATH,
  WsServerMessageSchema,
  parseEvent,
  isEventName,
  unwrapEnvelope,
  validateRequest,
  type Channel,
  type Ec2ConnectBridge,
  type EventListener,
  type EventName,
  type InvokeArgs,
  type ResponseOf,
  type WsRequest,
} from '../../preload/api.js';

/** The part of the WebSocket API used here (the browser's, or `ws` in Node tests). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface WebSocketBridgeOptions {
  /** ws://127.0.0.1:PORT/bridge?token=... (see `webSocketUrlFromLocation`). */
  url: string;
  /** Defaults to the browser's WebSocket. */
  createSocket?: WebSocketFactory;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

export interface WebSocketBridge extends Ec2ConnectBridge {
  close(): void;
}

const OPEN = 1;

/** The bridge URL for the page the renderer was loaded from (the token comes from `?token=`). */
export function webSocketUrlFromLocation(location: {
  protocol: string;
  host: string;
  search: string;
}): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

export function createWebSocketBridge(options: WebSocketBridgeOptions): WebSocketBridge {
  const createSocket: WebSocketFactory =
    options.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pending = new Map<
    number,
    {
      channel: Channel;
      resolve: (v: unknown) => void;
      reject: (e: unknown) => void;
      timer: ReturnType<typeof setTimeout>;
    }
  >();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocketLike | undefined;
  let opening: Promise<WebSocketLike> | undefined;
  let closed = false;

  const failAll = (error: BridgeError): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(error);
    }
  };

  const onMessage = (data: unknown): void => {
    if (typeof data !== 'string') return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = WsServerMessageSchema.safeParse(json);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === 'response') {
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      clearTimeout(p.timer);
      try {
        p.resolve(unwrapEnvelope(p.channel, message.result));
      } catch (err) {
        p.reject(err);
      }
    } else if (message.type === 'event') {
      const event = parseEvent(message.event, message.payload);
      if (!event) return;
      for (const listener of listeners.get(event.name) ?? []) listener(event.payload);
    } else {
      console.warn(`ec2-connect bridge: ${message.error.code}: ${message.error.message}`);
    }
  };

  const connect = (): Promise<WebSocketLike> => {
    if (closed)
      return Promise.reject(new BridgeError({ code: 'UNAVAILABLE', message: 'The bridge is closed' }));
    if (socket && socket.readyState === OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    const attempt = new Promise<WebSocketLike>((resolve, reject) => {
      const ws = createSocket(options.url);
      ws.onopen = () => {
        socket = ws;
        opening = undefined;
        resolve(ws);
      };
      ws.onerror = () => undefined; // a close event always follows
      ws.onmessage = (event) => onMessage(event.data);
      ws.onclose = (event) => {
        const error = new BridgeError({
          code: 'UNAVAILABLE',
          message:
            event.code === 1006 && opening
              ? 'Cannot reach the EC2 Connect web server (is `ec2-connect web` still running, and is the URL token right?)'
              : `Connection to the EC2 Connect web server closed (code ${event.code})`,
        });
        if (opening === attempt) {
          opening = undefined;
          reject(error);
        }
        if (socket === ws) socket = undefined;
        failAll(error);
      };
    });
    opening = attempt;
    return attempt;
  };

  return {
    transport: 'websocket',

    async invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>> {
      const checked = validateRequest(channel, args[0]);
      if (!checked.ok) throw new BridgeError(checked.error);
      const ws = await connect();
      const id = nextId++;
      const message: WsRequest = { type: 'request', id, channel, request: checked.value.request };
      return new Promise<ResponseOf<C>>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new BridgeError({ code: 'TIMEOUT', message: `${channel} took longer than ${timeoutMs} ms` }),
          );
        }, timeoutMs);
        pending.set(id, { channel, resolve: resolve as (v: unknown) => void, reject, timer });
        try {
          ws.send(JSON.stringify(message));
        } catch (err) {
          clearTimeout(timer);
          pending.delete(id);
          reject(BridgeError.from(err));
        }
      });
    },

    on<E extends EventName>(event: E, listener: EventListener<E>): () => void {
      if (!isEventName(event))
        throw new BridgeError({ code: 'UNKNOWN_CHANNEL', message: `Unknown event ${String(event)}` });
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      // Events only flow on an open socket.
      void connect().catch(() => undefined);
      return () => set.delete(wrapped);
    },

    close() {
      closed = true;
      failAll(new BridgeError({ code: 'UNAVAILABLE', message: 'The bridge is closed' }));
      socket?.close(1000, 'closed');
      socket = undefined;
    },
  };
}
