/**
 * A FrameTransport over a `ws` WebSocket that coalesces every frame sent in one
 * event-loop turn into a single socket write (cork now, uncork on the next tick).
 * Output arrives in bursts of 1 KiB messages, each answered by an acknowledgement;
 * without this every frame costs its own write system call.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { FrameTransport } from './stream-endpoint.js';

export function createWsTransport(ws: WebSocket): FrameTransport {
  // `ws` keeps its net.Socket private; corking it is the documented Node way to batch writes.
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket?.uncork();
  };
  return {
    send(frame: Buffer): void {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (socket && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      ws.send(frame);
    },
    get bufferedAmount(): number {
      return ws.bufferedAmount;
    },
  };
}
