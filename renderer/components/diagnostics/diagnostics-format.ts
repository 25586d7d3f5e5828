/** Words, tones and icons for the Diagnostics view (pure). */
import type { CheckStatus, DiagnosticReport, RegionLatency } from '../../../preload/api.js';
import { formatMs } from '../format.js';
import { icons } from '../icons.js';

export type RowStatus = CheckStatus | 'pending';

export const STATUS_LABELS: Record<RowStatus, string> = {
  pass: 'Passed',
  warn: 'Warning',
  fail: 'Failed',
  skip: 'Skipped',
  pending: 'Running',
};

export function statusTone(status: RowStatus): 'ok' | 'warn' | 'bad' | 'muted' | 'info' {
  switch (status) {
    case 'pass':
      return 'ok';
    case 'warn':
      return 'warn';
    case 'fail':
      return 'bad';
    case 'skip':
      return 'muted';
    default:
      return 'info';
  }
}

export function statusIcon(status: CheckStatus): readonly string[] {
  switch (status) {
    case 'pass':
      return icons.passCircle;
    case 'warn':
      return icons.warning;
    case 'fail':
      return icons.failCircle;
    default:
      return icons.skipCircle;
  }
}

/** "All 8 checks passed", "1 failed, 1 warning, 6 passed". */
export function summaryText(summary: DiagnosticReport['summary']): string {
  const total = summary.pass + summary.warn + summary.fail + summary.skip;
  if (total === 0) return 'No checks ran';
  if (summary.pass === total) return `All ${total} ${total === 1 ? 'check' : 'checks'} passed`;
  const parts: string[] = [];
  if (summary.fail) parts.push(`${summary.fail} failed`);
  if (summary.warn) parts.push(`${summary.warn} ${summary.warn === 1 ? 'warning' : 'warnings'}`);
  if (summary.pass) parts.push(`${summary.pass} passed`);
  if (summary.skip) parts.push(`${summary.skip} skipped`);
  return parts.join(', ');
}

/** The overall tone of a report: its worst check. */
export function overallTone(summary: DiagnosticReport['summary']): 'ok' | 'warn' | 'bad' | 'muted' {
  if (summary.fail > 0) return 'bad';
  if (summary.warn > 0) return 'warn';
  if (summary.pass > 0) return 'ok';
  return 'muted';
}

/** Reachable regions fastest first, then the unreachable ones (by name). */
export function rankRegions(regions: readonly RegionLatency[]): RegionLatency[] {
  return [...regions].sort((a, b) => {
    const la = a.ok && a.latencyMs !== null ? a.latencyMs : Infinity;
    const lb = b.ok && b.latencyMs !== null ? b.latencyMs : Infinity;
    return la - lb || a.region.localeCompare(b.region);
  });
}

/** The bar width (0..100) of a region's latency against the slowest reachable one. */
export function latencyBar(region: RegionLatency, regions: readonly RegionLatency[]): number {
  if (!region.ok || region.latencyMs === null) return 0;
  const max = Math.max(...regions.filter((r) => r.ok && r.latencyMs !== null).map((r) => r.latencyMs!));
  if (!Number.isFinite(max) || max <= 0) return 100;
  return Math.max(4, Math.round((region.latencyMs / max) * 100));
}

export function formatLatency(region: RegionLatency): string {
  return region.ok ? formatMs(region.latencyMs) : 'unreachable';
}

/** "1.2 s", "850 ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Text with `backticked` commands split out, to show them as code. */
export function withCode(text: string): Array<{ text: string; code: boolean }> {
  const parts: Array<{ text: string; code: boolean }> = [];
  const re = /`([^`]+)`/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > at) parts.push({ text: text.slice(at, m.index), code: false });
    parts.push({ text: m[1]!, code: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), code: false });
  return parts;
}
