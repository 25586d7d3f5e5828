/**
 * Fault injection for the sandbox: live settings read by the control plane (throttling,
 * latency) and the data-channel agent (drops, duplicates, reordering, corruption,
 * latency), with a seedable random source so a failing test can be replayed.
 *
 * Events: 'changed' (FaultState) after set/reset, 'dropSockets', 'blackholeSockets' and 'expireSessions' (sessionId | undefined),
 * and 'instanceChanged' (instanceId), which the sandbox server forwards from the fleet.
 */
import { EventEmitter } from 'node:events';
import type { ControlPlaneFaults, DataChannelFaults, FaultController, FaultState } from './types.js';

/** The most latency a fault may add to one message or call. */
export const MAX_FAULT_DELAY_MS = 60_000;

export type FaultPatch = {
  dataChannel?: Partial<DataChannelFaults>;
  controlPlane?: Partial<ControlPlaneFaults>;
};

type Range = { kind: 'rate' } | { kind: 'delay' };

const SETTINGS: {
  dataChannel: Record<keyof DataChannelFaults, Range>;
  controlPlane: Record<keyof ControlPlaneFaults, Range>;
} = {
  dataChannel: {
    dropRate: { kind: 'rate' },
    duplicateRate: { kind: 'rate' },
    reorderRate: { kind: 'rate' },
    corruptRate: { kind: 'rate' },
    delayMs: { kind: 'delay' },
  },
  controlPlane: {
    throttleRate: { kind: 'rate' },
    delayMs: { kind: 'delay' },
  },
};

/** Every setting as "group.key", for error messages. */
export const FAULT_SETTING_NAMES: readonly string[] = Object.entries(SETTINGS).flatMap(([group, keys]) =>
  Object.keys(keys).map((k) => `${group}.${k}`),
);

/** No faults at all. */
export function noFaults(): FaultState {
  return {
    dataChannel: { dropRate: 0, duplicateRate: 0, reorderRate: 0, corruptRate: 0, delayMs: 0 },
    controlPlane: { throttleRate: 0, delayMs: 0 },
  };
}

/** mulberry32: a tiny, fast, seedable PRNG with a 2^32 period; returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/**
 * Checks a fault patch (e.g. a JSON body from the admin API) and returns it typed.
 * Throws an Error naming the offending key and the accepted range.
 */
export function validateFaultPatch(patch: unknown): FaultPatch {
  if (!isRecord(patch)) {
    throw new Error(
      `Fault settings must be an object like {"dataChannel": {"dropRate": 0.1}}, got ${describe(patch)}.`,
    );
  }
  const out: FaultPatch = {};
  for (const [group, values] of Object.entries(patch)) {
    if (group !== 'dataChannel' && group !== 'controlPlane') {
      throw new Error(
        `Unknown fault group "${group}": expected "dataChannel" or "controlPlane" (settings: ${FAULT_SETTING_NAMES.join(', ')}).`,
      );
    }
    if (!isRecord(values)) {
      throw new Error(`Fault group "${group}" must be an object of settings, got ${describe(values)}.`);
    }
    const known: Record<string, Range> = SETTINGS[group];
    const groupOut: Record<string, number> = {};
    for (const [key, value] of Object.entries(values)) {
      const range = known[key];
      if (!range) {
        throw new Error(
          `Unknown fault setting "${group}.${key}": known settings are ${FAULT_SETTING_NAMES.join(', ')}.`,
        );
      }
      if (range.kind === 'rate') {
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
          throw new Error(
            `Invalid fault setting "${group}.${key}": expected a probability from 0 to 1, got ${describe(value)}.`,
          );
        }
      } else if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        value < 0 ||
        value > MAX_FAULT_DELAY_MS
      ) {
        throw new Error(
          `Invalid fault setting "${group}.${key}": expected a delay in milliseconds from 0 to ${MAX_FAULT_DELAY_MS}, got ${describe(value)}.`,
        );
      }
      groupOut[key] = value;
    }
    if (group === 'dataChannel') out.dataChannel = groupOut as Partial<DataChannelFaults>;
    else out.controlPlane = groupOut as Partial<ControlPlaneFaults>;
  }
  return out;
}

function freeze(state: FaultState): FaultState {
  return Object.freeze({
    dataChannel: Object.freeze({ ...state.dataChannel }),
    controlPlane: Object.freeze({ ...state.controlPlane }),
  });
}

class SandboxFaultController extends EventEmitter implements FaultController {
  private current: FaultState = freeze(noFaults());
  private readonly rng: () => number;

  constructor(readonly seed: number) {
    super();
    this.rng = mulberry32(seed);
  }

  /** A frozen snapshot; replaced (never mutated) on every change. */
  get state(): FaultState {
    return this.current;
  }

  set(patch: FaultPatch): void {
    const valid = validateFaultPatch(patch);
    this.current = freeze({
      dataChannel: { ...this.current.dataChannel, ...valid.dataChannel },
      controlPlane: { ...this.current.controlPlane, ...valid.controlPlane },
    });
    this.emit('changed', this.current);
  }

  reset(): void {
    this.current = freeze(noFaults());
    this.emit('changed', this.current);
  }

  blackholeSockets(sessionId?: string): void {
    this.emit('blackholeSockets', sessionId);
  }

  dropSockets(sessionId?: string): void {
    this.emit('dropSockets', sessionId);
  }

  expireSessions(sessionId?: string): void {
    this.emit('expireSessions', sessionId);
  }

  random(): number {
    return this.rng();
  }
}

/**
 * A fault controller with no faults set. `seed` makes {@link FaultController.random}
 * deterministic; without it a random seed is chosen (readable as `.seed`).
 */
export function createFaultController(seed?: number): FaultController & { readonly seed: number } {
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)) {
    throw new Error(`Fault seed must be an integer from 0 to 4294967295, got ${String(seed)}.`);
  }
  return new SandboxFaultController(seed ?? Math.floor(Math.random() * 0x100000000));
}
