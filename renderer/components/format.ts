/** Small formatting helpers shared by the views (pure, no DOM). */
import { BridgeError } from '../../preload/api.js';

/** A rejection from the bridge as one line: `errorName: detail` when a handler threw, else the detail. */
export function describeError(err: unknown): string {
  const e = BridgeError.from(err);
  return e.errorName ? `${e.errorName}: ${e.detail}` : e.detail;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB" (powers of 1024, at most one decimal, none for bytes; at most three digits). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  // Switch units at 1000 so figures keep at most three digits (1000 B -> 1.0 KiB).
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`;
}

/** Milliseconds for latency figures: "0.42 ms", "12.3 ms", "250 ms"; null -> "–". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** True when the user is on macOS (Cmd instead of Ctrl in shortcut labels). */
export function isMacPlatform(platform: string | undefined): boolean {
  if (platform) return platform === 'darwin';
  return (
    typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)
  );
}
