/**
 * In-app toasts: every 'session.notice' from the main side, and the UI's own messages
 * (a refused connection, a failed switch). At most MAX_VISIBLE at once (the oldest goes);
 * each dismisses itself after a while unless the pointer is over the stack. A connection notice
 * replaces the previous one about the same session (no "reconnecting" left once it reconnected).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ConnectionNoticeKind } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';

export const MAX_VISIBLE = 4;

export type ToastTone = 'ok' | 'warn' | 'bad' | 'info';
export type ToastKind = ConnectionNoticeKind | 'info' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  tone: ToastTone;
  title: string;
  message: string;
  sessionId: string | null;
  at: string;
}

const TITLES: Record<ToastKind, string> = {
  'network-lost': 'Connection lost',
  'agent-unreachable': 'Agent unreachable',
  'agent-back': 'Agent back',
  'token-expired': 'Token expired',
  reconnected: 'Reconnected',
  'ended-elsewhere': 'Session ended',
  'inactive-warning': 'Inactive session',
  limit: 'Limit reached',
  resources: 'Resources',
  info: 'Note',
  error: 'Error',
};

/** Notices about a session's connection: a newer one about the same session replaces the older. */
const CONNECTION_KINDS: ReadonlySet<ToastKind> = new Set<ToastKind>([
  'network-lost',
  'agent-unreachable',
  'agent-back',
  'token-expired',
  'reconnected',
  'ended-elsewhere',
]);

/** A resources notice that says things got better (under the limits again, easing off, low power off). */
const BETTER = /\b(back under|back to normal|recovered|easing off|low-power mode is off)\b/i;

/** The title of a resources notice: what it is about (a limit, a recovery, low power, the leak watch). */
export function resourcesTitle(message: string): string {
  if (/\b(back under|back to normal|recovered)\b/i.test(message)) return 'Back to normal';
  if (/\beasing off\b/i.test(message)) return 'Easing off';
  if (/\blow-power mode\b/i.test(message)) return 'Low-power mode';
  if (/\b(leak|heap|memory keeps growing)\b/i.test(message)) return 'Memory leak watch';
  if (/\blimit\b/i.test(message)) return 'Resource limit';
  return 'Resources';
}

export function toneOf(kind: ToastKind, message = ''): ToastTone {
  switch (kind) {
    case 'resources':
      return BETTER.test(message) ? 'ok' : 'warn';
    case 'reconnected':
    case 'agent-back':
      return 'ok';
    case 'network-lost':
    case 'agent-unreachable':
    case 'token-expired':
    case 'error':
      return 'bad';
    case 'ended-elsewhere':
    case 'inactive-warning':
    case 'limit':
      return 'warn';
    default:
      return 'info';
  }
}

/** How long a toast stays, by tone (problems stay longer). */
export function lifetimeMs(tone: ToastTone): number {
  return tone === 'bad' ? 10_000 : tone === 'warn' ? 8_000 : 5_000;
}

export const useNoticesStore = defineStore('notices', () => {
  const toasts = ref<Toast[]>([]);
  let nextId = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  let paused = false;
  let started = false;
  const unsubscribers: Array<() => void> = [];

  function arm(toast: Toast): void {
    clearTimeout(timers.get(toast.id));
    timers.set(
      toast.id,
      setTimeout(() => dismiss(toast.id), lifetimeMs(toast.tone)),
    );
  }

  function push(input: {
    kind: ToastKind;
    message: string;
    title?: string;
    sessionId?: string | null;
    at?: string;
  }): Toast {
    const tone = toneOf(input.kind, input.message);
    const toast: Toast = {
      id: nextId++,
      kind: input.kind,
      tone,
      title: input.title ?? (input.kind === 'resources' ? resourcesTitle(input.message) : TITLES[input.kind]),
      message: input.message,
      sessionId: input.sessionId ?? null,
      at: input.at ?? new Date().toISOString(),
    };
    // "Reconnecting" is stale once the session reconnected or was lost for good: one toast per
    // session tells its connection's latest state.
    const supersedes = (t: Toast): boolean =>
      toast.sessionId !== null &&
      t.sessionId === toast.sessionId &&
      CONNECTION_KINDS.has(t.kind) &&
      CONNECTION_KINDS.has(toast.kind);
    for (const old of toasts.value.filter(supersedes)) {
      clearTimeout(timers.get(old.id));
      timers.delete(old.id);
    }
    const next = [...toasts.value.filter((t) => !supersedes(t)), toast];
    while (next.length > MAX_VISIBLE) {
      const gone = next.shift()!;
      clearTimeout(timers.get(gone.id));
      timers.delete(gone.id);
    }
    toasts.value = next;
    if (!paused) arm(toast);
    return toast;
  }

  function dismiss(id: number): void {
    clearTimeout(timers.get(id));
    timers.delete(id);
    toasts.value = toasts.value.filter((t) => t.id !== id);
  }

  /** Hovering the stack keeps the toasts; leaving it restarts their clocks. */
  function pause(): void {
    paused = true;
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  }

  function resume(): void {
    paused = false;
    for (const t of toasts.value) arm(t);
  }

  function init(): void {
    if (started) return;
    started = true;
    unsubscribers.push(
      getBridge().on('session.notice', (n) =>
        push({ kind: n.kind, message: n.message, sessionId: n.sessionId, at: n.at }),
      ),
    );
  }

  function dispose(): void {
    for (const off of unsubscribers.splice(0)) off();
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    started = false;
  }

  return { toasts, push, dismiss, pause, resume, init, dispose };
});
