import { describe, expect, it } from 'vitest';
import {
  describeError,
  formatAgo,
  formatBytes,
  formatMs,
  formatRate,
} from '../../../renderer/components/format.js';
import { BridgeError } from '../../../preload/api.js';

describe('format', () => {
  it('formats bytes and rates in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 KiB'); // never four digits
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatRate(3 * 1024 * 1024 * 1024)).toBe('3.0 GiB/s');
  });

  it('formats latency', () => {
    expect(formatMs(null)).toBe('–');
    expect(formatMs(0.456)).toBe('0.46 ms');
    expect(formatMs(12.34)).toBe('12.3 ms');
    expect(formatMs(250.4)).toBe('250 ms');
  });

  it('formats ages', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(formatAgo('2026-11-25T11:59:58Z', now)).toBe('just now');
    expect(formatAgo('2026-11-25T11:59:30Z', now)).toBe('30 s ago');
    expect(formatAgo('2026-11-25T11:30:00Z', now)).toBe('30 min ago');
  });

  it('describes bridge errors as errorName: detail', () => {
    expect(
      describeError(new BridgeError({ code: 'HANDLER_FAILED', message: 'nope', name: 'AccessDenied' })),
    ).toBe('AccessDenied: nope');
    expect(describeError(new Error('Error invoking remote method: TIMEOUT: too slow'))).toBe('too slow');
  });
});
