/**
 * Words and figures for diagnostics: durations, sizes, and the text form of a report (one line
 * per check with a status symbol, title and figure; the detail and fix indented below a warning,
 * failure or skip; a summary line).
 */
import type { CheckStatus, DiagnosticReport } from '../../../preload/api.js';
import { formatBytes } from '../util/format-bytes.js';

/** 10000 -> "10 s", 1500 -> "1.5 s", 250 -> "0.25 s". */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  const text = s >= 10 ? String(Math.round(s)) : String(Math.round(s * 100) / 100);
  return `${text} s`;
}

/** 0.42 -> "0.4 ms", 12.3 -> "12 ms", 1234 -> "1.23 s". */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 10) / 10} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return formatSeconds(ms);
}

/** A span for people: "45 s", "6 min 2 s", "3 h 5 min", "2 days". */
export function formatSpan(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.round(s / 86_400);
  return `${d} day${d === 1 ? '' : 's'}`;
}

export { formatBytes };

export const STATUS_SYMBOLS: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };

const COLORS: Record<CheckStatus, string> = { pass: '32', warn: '33', fail: '31', skip: '2' };

export interface TextOptions {
  /** ANSI colours for the status symbols (default false). */
  color?: boolean;
}

/** The summary line: "5 passed, 1 warning, 1 failed, 1 skipped in 2.3 s". */
export function summaryLine(report: DiagnosticReport): string {
  const { pass, warn, fail, skip } = report.summary;
  const parts = [
    `${pass} passed`,
    `${warn} warning${warn === 1 ? '' : 's'}`,
    `${fail} failed`,
    ...(skip ? [`${skip} skipped`] : []),
  ];
  return `${parts.join(', ')} in ${formatSeconds(report.durationMs)}`;
}

/** The report as text, for a terminal or a log. Ends with a newline. */
export function formatReportText(report: DiagnosticReport, options: TextOptions = {}): string {
  const paint = (status: CheckStatus, s: string): string =>
    options.color ? `\x1b[${COLORS[status]}m${s}\x1b[0m` : s;
  const width = Math.max(...report.checks.map((c) => c.title.length), 10);
  const lines: string[] = [];
  const target = report.instanceId ? `, instance ${report.instanceId}` : '';
  lines.push(`Diagnostics (${report.kind}) for profile ${report.profile}, region ${report.region}${target}`);
  lines.push('');
  for (const c of report.checks) {
    const figure = c.figure ? `  ${c.figure}` : '';
    lines.push(`${paint(c.status, STATUS_SYMBOLS[c.status])} ${c.title.padEnd(width)}${figure}`.trimEnd());
    if (c.status !== 'pass') {
      lines.push(...indent(c.detail, '    '));
      if (c.fix) lines.push(...indent(`Fix: ${c.fix}`, '    '));
    }
  }
  if (report.regions && report.regions.length > 0) {
    lines.push('');
    lines.push('Regions by latency:');
    report.regions.forEach((r, i) => {
      const figure =
        r.ok && r.latencyMs !== null ? formatMs(r.latencyMs) : `unreachable (${r.error ?? 'no answer'})`;
      lines.push(`  ${String(i + 1).padStart(2)}. ${r.region.padEnd(16)} ${figure}  ${r.endpoint}`);
    });
  }
  lines.push('');
  const worst: CheckStatus = report.summary.fail ? 'fail' : report.summary.warn ? 'warn' : 'pass';
  lines.push(paint(worst, summaryLine(report)));
  return lines.join('\n') + '\n';
}

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((l) => prefix + l);
}
