/**
 * The bridge for this page, chosen at run time: the Electron preload's `window.ec2connect`
 * when present, otherwise (web mode) a WebSocket client speaking the same contract.
 */
import {
  BridgeError,
  type Channel,
  type Ec2ConnectBridge,
  type InvokeArgs,
  type ResponseOf,
} from '../../preload/api.js';
import { createWebSocketBridge, webSocketUrlFromLocation } from './websocket.js';

let bridge: Ec2ConnectBridge | undefined;

/** Errors crossing Electron's context bridge keep only their message; give them their code back. */
function wrapIpcBridge(ipc: Ec2ConnectBridge): Ec2ConnectBridge {
  return {
    transport: 'ipc',
    async invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>> {
      try {
        return await ipc.invoke(channel, ...args);
      } catch (err) {
        throw BridgeError.from(err);
      }
    },
    on: (event, listener) => ipc.on(event, listener),
  };
}

export function getBridge(): Ec2ConnectBridge {
  bridge ??= window.ec2connect
    ? wrapIpcBridge(window.ec2connect)
    : createWebSocketBridge({ url: webSocketUrlFromLocation(window.location) });
  return bridge;
}

export { BridgeError };
