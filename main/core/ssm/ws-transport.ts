/**
 * A FrameTransport over a `ws` WebSocket that coalesces every frame sent in one
 * event-loop turn into a single socket write (cork now, uncork on the next tick).
 * Output arrives in bursts of 1 KiB messages, each answered by an acknowledgement;
 * without this every frame costs its own write system call.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { FrameTransport } from './stream-endpoint.js';

/**
 * The net.Socket under a `ws` WebSocket (private in `ws`): pausing it stops reading frames, which
 * holds the peer back through TCP (flow control); corking it batches writes.
 */
export function socketOf(ws: WebSocket | undefined): Socket | undefined {
  return (ws as unknown as { _socket?: Socket } | undefined)?._socket;
}

export function createWsTransport(ws: WebSocket): FrameTransport {
  const socket = socketOf(ws);
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
