/**
 * A FrameTransport over a `ws` WebSocket that coalesces every frame sent in one
 * event-loop turn into a single socket write (cork now, uncork on the next tick).
 * Output arrives in bursts of 1 KiB messages, each answered by an acknowledgement;
 * without this every frame costs its own write system call.
 *
 * Deferred frames (the client's acknowledgements of output, `sendDeferred`) wait up to
 * ACK_COALESCE_MS for more, so that a flood of output is acknowledged in a few writes rather
 * than one per socket read; any ordinary frame (a keystroke) flushes them at once with itself.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { FrameTransport } from './stream-endpoint.js';

/** Longest a deferred frame waits for company before it is written. */
export const ACK_COALESCE_MS = 2;

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
  /** An uncork is due on the next tick (ordinary frames). */
  let tickDue = false;
  /** An uncork is due when this timer fires (deferred frames only so far). */
  let timer: NodeJS.Timeout | undefined;
  const uncork = (): void => {
    tickDue = false;
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!corked) return;
    corked = false;
    socket?.uncork();
  };
  const cork = (): void => {
    if (corked || !socket) return;
    corked = true;
    socket.cork();
  };
  // The socket is gone: nothing is left to write, and no timer may outlive it.
  ws.once('close', uncork);
  return {
    send(frame: Buffer): void {
      if (ws.readyState !== WebSocket.OPEN) return;
      cork();
      if (socket && !tickDue) {
        tickDue = true;
        process.nextTick(uncork);
      }
      ws.send(frame);
    },
    sendDeferred(frame: Buffer): void {
      if (ws.readyState !== WebSocket.OPEN) return;
      cork();
      if (socket && !tickDue && !timer) {
        timer = setTimeout(uncork, ACK_COALESCE_MS);
        timer.unref?.();
      }
      ws.send(frame);
    },
    get bufferedAmount(): number {
      return ws.bufferedAmount;
    },
  };
}
