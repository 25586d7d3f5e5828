/** Words and tones for the resource governor (pure; shared by the Performance view and the status bar). */
import type { GovernorLevel, GovernorState, LowPowerReason } from '../../../preload/api.js';
import { formatBytes } from '../format.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'info';

const LEVEL_LABELS: Record<GovernorLevel, string> = {
  normal: 'Normal',
  warn: 'Warning',
  'slow-ui': 'Slowing UI',
  trim: 'Trimming',
  refuse: 'Refusing sessions',
};

export function levelLabel(level: GovernorLevel): string {
  return LEVEL_LABELS[level];
}

export function levelTone(level: GovernorLevel): Tone {
  switch (level) {
    case 'normal':
      return 'ok';
    case 'warn':
    case 'slow-ui':
      return 'warn';
    default:
      return 'bad';
  }
}

const REASONS: Record<LowPowerReason, string> = {
  config: 'turned on in Settings',
  env: 'turned on by an environment variable',
  battery: 'running on battery',
  limits: 'a resource limit was reached',
};

export function lowPowerReasonText(reason: LowPowerReason): string {
  return REASONS[reason];
}

/** "Low power: running on battery; a resource limit was reached." */
export function lowPowerSummary(lowPower: GovernorState['lowPower']): string {
  if (!lowPower.active) return lowPower.mode === 'off' ? 'Low power is off' : 'Low power is off (automatic)';
  const why = lowPower.reasons.map(lowPowerReasonText);
  return why.length > 0 ? `Low power: ${why.join('; ')}` : 'Low power is on';
}

/** Seconds, for redraw intervals: 1000 -> "1 s", 2500 -> "2.5 s". */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : +s.toFixed(1)} s`;
}

/** The UI redraws at this rate when nothing slows it. */
export const NORMAL_UPDATE_INTERVAL_MS = 1000;

/** What the governor (and low-power mode) are doing now, in words; empty when nothing. */
export function governorActions(state: GovernorState): string[] {
  const actions: string[] = [];
  if (state.level !== 'normal') actions.push('Warns that a limit is near or passed');
  if (state.ui.updateIntervalMs > NORMAL_UPDATE_INTERVAL_MS)
    actions.push(`Charts and figures redraw every ${formatSeconds(state.ui.updateIntervalMs)}`);
  if (state.ui.economy) actions.push('Terminals draw without WebGL; cursor blink is off');
  if (state.ui.backgroundScrollback !== null)
    actions.push(
      `Background terminals keep ${state.ui.backgroundScrollback.toLocaleString('en-US')} lines of scrollback`,
    );
  if (state.level === 'refuse') actions.push('New sessions are refused; open sessions keep running');
  return actions;
}

export interface Gauge {
  /** 0..1 of the bar filled (capped at 1). */
  fill: number;
  /** use / limit (may exceed 1); null without a limit. */
  ratio: number | null;
  tone: Tone;
  text: string;
}

function toneFor(ratio: number | null): Tone {
  if (ratio === null) return 'info';
  return ratio >= 1 ? 'bad' : ratio >= 0.8 ? 'warn' : 'ok';
}

export function memoryGauge(usedBytes: number, limitBytes: number | null): Gauge {
  const ratio = limitBytes ? usedBytes / limitBytes : null;
  return {
    fill: ratio === null ? 0 : Math.min(1, ratio),
    ratio,
    tone: toneFor(ratio),
    text: limitBytes
      ? `${formatBytes(usedBytes)} of ${formatBytes(limitBytes)}`
      : `${formatBytes(usedBytes)} · no limit`,
  };
}

/** "12%", "2.5%", "0.3%". */
export function formatPercent(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return `${v >= 10 ? Math.round(v) : +v.toFixed(1)}%`;
}

export function cpuGauge(percent: number, limitPercent: number | null): Gauge {
  const ratio = limitPercent ? percent / limitPercent : null;
  return {
    fill: ratio === null ? 0 : Math.min(1, ratio),
    ratio,
    tone: toneFor(ratio),
    text: limitPercent
      ? `${formatPercent(percent)} of ${formatPercent(limitPercent)}`
      : `${formatPercent(percent)} · no limit`,
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "14:05:30" in local time. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
