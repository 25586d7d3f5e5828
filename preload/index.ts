/**
 * Sandboxed preload: exposes `window.ec2connect` (the `Ec2ConnectBridge` of preload/api.ts).
 *
 * Only the typed `invoke`/`on` functions cross the context bridge, never `ipcRenderer` itself.
 * Requests are validated before they are sent and responses after they arrive; the main side
 * validates requests again, since it must not trust the renderer.
 *
 * Built as CommonJS (sandboxed preloads cannot be ES modules) with zod bundled in, since a
 * sandboxed preload can only `require` a few Electron and Node built-ins.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { z } from 'zod';
import {
  BridgeError,
  IPC_EVENT,
  IPC_INVOKE,
  isEventName,
  parseEvent,
  unwrapEnvelope,
  validateRequest,
  type Channel,
  type Ec2ConnectBridge,
  type EventListener,
  type EventName,
  type InvokeArgs,
  type ResponseOf,
} from './api.js';

// No eval in the renderer's world (CSP): keep zod from probing for it.
z.config({ jitless: true });

const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

ipcRenderer.on(IPC_EVENT, (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
  const parsed = parseEvent(name, payload);
  if (!parsed) return;
  for (const listener of listeners.get(parsed.name) ?? []) listener(parsed.payload);
});

const bridge: Ec2ConnectBridge = {
  transport: 'ipc',

  async invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>> {
    const checked = validateRequest(channel, args[0]);
    if (!checked.ok) throw new BridgeError(checked.error);
    let reply: unknown;
    try {
      reply = await ipcRenderer.invoke(IPC_INVOKE, channel, checked.value.request);
    } catch (err) {
      throw new BridgeError({ code: 'UNAVAILABLE', message: `IPC failed: ${(err as Error).message}` });
    }
    return unwrapEnvelope(channel, reply);
  },

  on<E extends EventName>(event: E, listener: EventListener<E>): () => void {
    if (!isEventName(event))
      throw new BridgeError({ code: 'UNKNOWN_CHANNEL', message: `Unknown event ${String(event)}` });
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const wrapped = listener as (payload: unknown) => void;
    set.add(wrapped);
    return () => set.delete(wrapped);
  },
};

contextBridge.exposeInMainWorld('ec2connect', bridge);
