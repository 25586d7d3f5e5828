/** Presentation helpers of the History view (pure, no DOM): durations, times, outcome and event styles. */
import type { SessionOutcome } from '../../../preload/api.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

/** 1_900 -> "1.9 s", 42_000 -> "42 s", "3 min 20 s", "2 h 5 min", "3 d 4 h"; negative or NaN -> "–". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 10_000) return `${Math.floor(ms / 100) / 10} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** How long a session ran (or has been running, for an open one). */
export function sessionDuration(
  s: { startedAt: string; endedAt: string | null; outcome: SessionOutcome },
  now: number = Date.now(),
): number | null {
  const start = Date.parse(s.startedAt);
  if (Number.isNaN(start)) return null;
  if (s.endedAt) return Date.parse(s.endedAt) - start;
  return s.outcome === 'open' ? Math.max(0, now - start) : null;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** An open session's running time at minute precision (the view ticks twice a minute): "running 5 min". */
export function formatRunning(ms: number): string {
  if (!Number.isFinite(ms) || ms < 60_000) return 'running';
  return `running ${formatDuration(Math.floor(ms / 60_000) * 60_000)}`;
}

/** Local "2026-11-25 14:05:30". */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

/** Local "14:05:30". */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local "Nov 25" for an event on another day than the session's start. */
export function formatDay(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function sameLocalDay(a: string, b: string): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

export const OUTCOMES: readonly SessionOutcome[] = ['open', 'ended', 'terminated', 'failed', 'unknown'];

export function outcomeTone(outcome: SessionOutcome): Tone {
  switch (outcome) {
    case 'open':
      return 'ok';
    case 'ended':
      return 'info';
    case 'terminated':
      return 'muted';
    case 'failed':
      return 'bad';
    default:
      return 'warn';
  }
}

/** What each outcome means, for tooltips. */
export function outcomeHint(outcome: SessionOutcome): string {
  switch (outcome) {
    case 'open':
      return 'Still running';
    case 'ended':
      return 'Ended by the shell or the service';
    case 'terminated':
      return 'Ended from EC2 Connect';
    case 'failed':
      return 'Failed: could not open, or the connection was lost for good';
    default:
      return 'EC2 Connect stopped without recording how it ended';
  }
}

/** Stroke paths (24x24) for the event timeline. */
const PATHS = {
  plug: ['M9 2v6', 'M15 2v6', 'M6 8h12v3a6 6 0 0 1-12 0z', 'M12 17v5'],
  stop: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M9 9l6 6', 'M15 9l-6 6'],
  retry: ['M20 11a8 8 0 1 0-2.34 5.66', 'M20 4v7h-7'],
  check: ['M5 12l5 5 9-10'],
  cut: ['M4 12h5', 'M15 12h5', 'M10 8l4 8'],
  warning: ['M12 3l10 18H2z', 'M12 10v5', 'M12 18h.01'],
  key: ['M15 7a4 4 0 1 1-3.87 5H4v3', 'M7 12v3'],
  clock: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 7v5l3 2'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 11v5', 'M12 8h.01'],
  exit: ['M14 4h5v16h-5', 'M10 8l-4 4 4 4', 'M6 12h9'],
} as const;

export interface EventStyle {
  label: string;
  icon: readonly string[];
  tone: Tone;
}

const EVENT_STYLES: Record<string, EventStyle> = {
  opened: { label: 'opened', icon: PATHS.plug, tone: 'ok' },
  closed: { label: 'closed', icon: PATHS.stop, tone: 'muted' },
  state: { label: 'state', icon: PATHS.info, tone: 'info' },
  'reconnect-attempt': { label: 'reconnect attempt', icon: PATHS.retry, tone: 'warn' },
  reconnected: { label: 'reconnected', icon: PATHS.check, tone: 'ok' },
  'network-lost': { label: 'network lost', icon: PATHS.cut, tone: 'bad' },
  'agent-unreachable': { label: 'agent unreachable', icon: PATHS.warning, tone: 'warn' },
  'agent-back': { label: 'agent back', icon: PATHS.check, tone: 'ok' },
  'token-expired': { label: 'token expired', icon: PATHS.key, tone: 'warn' },
  'ended-elsewhere': { label: 'ended elsewhere', icon: PATHS.exit, tone: 'warn' },
  'inactive-warning': { label: 'inactivity warning', icon: PATHS.clock, tone: 'warn' },
  limit: { label: 'limit', icon: PATHS.warning, tone: 'bad' },
  error: { label: 'error', icon: PATHS.warning, tone: 'bad' },
};

export function eventStyle(kind: string): EventStyle {
  return EVENT_STYLES[kind] ?? { label: kind.replace(/-/g, ' '), icon: PATHS.info, tone: 'info' };
}

const STATE_TONES: Record<string, Tone> = {
  connecting: 'info',
  open: 'ok',
  reconnecting: 'warn',
  detached: 'info',
  closed: 'muted',
};

/**
 * An event as the timeline shows it: a state change reads "state → reconnecting" in the
 * state's colour (its detail is the state); the others keep their detail.
 */
export function eventView(e: { kind: string; detail: string }): EventStyle & { detail: string } {
  if (e.kind === 'state' && /^[a-z-]+$/.test(e.detail)) {
    return {
      label: `state → ${e.detail}`,
      icon: PATHS.info,
      tone: STATE_TONES[e.detail] ?? 'info',
      detail: '',
    };
  }
  return { ...eventStyle(e.kind), detail: e.detail };
}

/** Back arrow and other chrome of the view. */
export const HISTORY_ICONS = {
  back: ['M19 12H5', 'M11 6l-6 6 6 6'],
  clock: PATHS.clock,
  retry: PATHS.retry,
  app: ['M3 4h18v12H3z', 'M8 20h8', 'M12 16v4'],
  web: [
    'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z',
    'M3 12h18',
    'M12 3a14 14 0 0 1 0 18',
    'M12 3a14 14 0 0 0 0 18',
  ],
  cli: ['M4 17l6-5-6-5', 'M12 19h8'],
  user: ['M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M4 21a8 8 0 0 1 16 0'],
  down: ['M12 5v14', 'M6 13l6 6 6-6'],
  up: ['M12 19V5', 'M6 11l6-6 6 6'],
} as const;
