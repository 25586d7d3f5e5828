/**
 * The sandbox's network between agent and client: it carries binary frames both
 * ways and applies the fault controller's live settings to each one (drop,
 * duplicate, reorder, corrupt, delay). With no faults set it is a direct pass-through.
 */
import type WebSocket from 'ws';
import { createWsTransport } from '../../core/ssm/ws-transport.js';
import { PAYLOAD_OFFSET } from '../../core/ssm/codec.js';
import type { FrameTransport } from '../../core/ssm/stream-endpoint.js';
import type { FaultController } from '../types.js';

/** A held-back (reordered) frame is released after this long if no later frame overtakes it. */
const REORDER_HOLD_MS = 20;

/** No fault is set on the data channel: frames pass straight through. */
function passThrough(faults: FaultController): boolean {
  const f = faults.state.dataChannel;
  return (
    f.dropRate === 0 && f.duplicateRate === 0 && f.reorderRate === 0 && f.corruptRate === 0 && f.delayMs === 0
  );
}

class Direction {
  private held: Buffer | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly faults: FaultController,
    private readonly deliver: (frame: Buffer, deferred?: boolean) => void,
  ) {}

  /** `deferred`: bulk output that may share a write with what follows (only without faults). */
  push(frame: Buffer, deferred = false): void {
    const f = this.faults.state.dataChannel;
    if (passThrough(this.faults)) {
      this.flushHeld();
      this.deliver(frame, deferred);
      return;
    }
    if (f.dropRate > 0 && this.faults.random() < f.dropRate) return;
    let out = frame;
    if (f.corruptRate > 0 && frame.length > PAYLOAD_OFFSET && this.faults.random() < f.corruptRate) {
      out = Buffer.from(frame);
      const i = PAYLOAD_OFFSET + Math.floor(this.faults.random() * (frame.length - PAYLOAD_OFFSET));
      out[i] = out[i]! ^ 0xff;
    }
    const copies = f.duplicateRate > 0 && this.faults.random() < f.duplicateRate ? 2 : 1;
    if (f.reorderRate > 0 && !this.held && this.faults.random() < f.reorderRate) {
      this.held = out;
      this.holdTimer = setTimeout(() => this.flushHeld(), REORDER_HOLD_MS + f.delayMs);
      return;
    }
    for (let i = 0; i < copies; i++) this.later(out, f.delayMs);
    this.flushHeld(f.delayMs);
  }

  private flushHeld(delayMs = 0): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const held = this.held;
    this.held = undefined;
    if (held) this.later(held, delayMs);
  }

  private later(frame: Buffer, delayMs: number): void {
    if (delayMs <= 0) {
      this.deliver(frame);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.deliver(frame);
    }, delayMs);
    this.timers.add(t);
  }

  dispose(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.held = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export class FaultyLink implements FrameTransport {
  private readonly outbound: Direction;
  private readonly inbound: Direction;
  private disposed = false;

  constructor(
    private readonly ws: WebSocket,
    faults: FaultController,
    onFrame: (frame: Buffer) => void,
  ) {
    const transport = createWsTransport(ws);
    this.outbound = new Direction(faults, (frame, deferred) => {
      if (this.disposed) return;
      if (deferred && transport.sendDeferred) transport.sendDeferred(frame);
      else transport.send(frame);
    });
    this.inbound = new Direction(faults, (frame) => {
      if (!this.disposed) onFrame(frame);
    });
  }

  send(frame: Buffer): void {
    this.outbound.push(frame);
  }

  /** Bulk output: coalesced with what follows when no fault is set, else as `send`. */
  sendDeferred(frame: Buffer): void {
    this.outbound.push(frame, true);
  }

  receive(frame: Buffer): void {
    this.inbound.push(frame);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  dispose(): void {
    this.disposed = true;
    this.outbound.dispose();
    this.inbound.dispose();
  }
}
