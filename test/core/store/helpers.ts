/** Shared helpers of the store tests: temp folders, records, a dead pid, a log capture. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../../main/core/log/logger.js';
import type { MetricsRecord, SessionEndRecord, SessionStartRecord } from '../../../main/core/store/types.js';

export function tempDir(prefix = 'ec2c-store-'): { dir: string; file: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: path.join(dir, 'sessions.db'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export const T0 = Date.parse('2026-01-10T12:00:00.000Z');

export function start(id: string, over: Partial<SessionStartRecord> = {}): SessionStartRecord {
  return {
    id,
    awsSessionId: `aws-${id}`,
    instanceId: 'i-0123456789abcdef0',
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    source: 'app',
    user: 'alice',
    startedAt: T0,
    openMs: 42,
    ...over,
  };
}

export function end(over: Partial<SessionEndRecord> = {}): SessionEndRecord {
  return {
    endedAt: T0 + 60_000,
    outcome: 'ended',
    endReason: 'the shell exited',
    exitCode: 0,
    bytesIn: 1000,
    bytesOut: 100,
    reconnects: 0,
    ...over,
  };
}

export function metric(
  sessionId: string | null,
  t: number,
  over: Partial<MetricsRecord> = {},
): MetricsRecord {
  return { sessionId, t, latencyP50: 2, latencyP99: 5, inBytesPerSec: 100, outBytesPerSec: 10, ...over };
}

/** A pid that belonged to a process that has exited (so nothing runs under it now). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  const pid = Number(r.stdout);
  try {
    process.kill(pid, 0);
    throw new Error(`pid ${pid} was reused already`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  return pid;
}

/** A logger whose records (parsed JSON) land in `lines`. */
export function captureLogger(): {
  logger: Logger;
  lines: Array<{ level: number; msg: string } & Record<string, unknown>>;
} {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export function fileMode(f: string): number {
  return fs.statSync(f).mode & 0o777;
}
