/**
 * The history store (main/core/store): metric rows per second through its queue and batched
 * transactions, beside raw better-sqlite3 prepared inserts of the same rows in transactions of the
 * same size (no queue, no copying); and the CPU the store costs at 20 busy sessions (per second:
 * 20 metric samples, 20 counter updates, a few events and a process-wide sample), measured as the
 * CPU time spent inside the store's calls and its flushes, in % of one core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openHistoryStore, type SqliteHistoryStore } from '../main/core/store/sqlite-store.js';
import type { MetricsRecord } from '../main/core/store/types.js';
import { summarize, type Summary } from './lib/stats.js';

export interface StoreFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

const SESSIONS = 20;
const gc = (globalThis as { gc?: () => void }).gc;

function tempFile(): { file: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-bench-store-'));
  return {
    file: path.join(dir, 'sessions.db'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function startSessions(store: SqliteHistoryStore, t0: number): string[] {
  const ids = Array.from(
    { length: SESSIONS },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );
  for (const id of ids)
    store.recordSessionStart({
      id,
      awsSessionId: `bench-${id}`,
      instanceId: 'i-0123456789abcdef0',
      instanceName: 'bench',
      profile: 'sandbox',
      region: 'us-east-1',
      source: 'app',
      user: 'bench',
      startedAt: t0,
      openMs: 10,
    });
  store.flush();
  return ids;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Rows/s through the store: 20 sessions' samples pushed as the app would, yielding so batches commit. */
async function ingestThroughStore(
  rows: number,
): Promise<{ rowsPerSec: number; dropped: number; transactions: number }> {
  const tmp = tempFile();
  const store = openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false });
  try {
    if (!store.status.available) throw new Error(store.status.problem ?? 'store unavailable');
    const t0 = Date.now();
    const ids = startSessions(store, t0);
    const before = store.writerStats.transactions;
    gc?.();
    const start = performance.now();
    for (let i = 0; i < rows; i += SESSIONS) {
      const batch: MetricsRecord[] = new Array(SESSIONS);
      for (let s = 0; s < SESSIONS; s++)
        batch[s] = {
          sessionId: ids[s]!,
          t: t0 + i * 50,
          latencyP50: 1.5,
          latencyP99: 3.2,
          inBytesPerSec: 1000 + s,
          outBytesPerSec: 200,
        };
      store.recordMetrics(batch);
      if (i % 1000 === 1000 - SESSIONS) await tick();
    }
    store.flush();
    const s = (performance.now() - start) / 1000;
    const stats = store.writerStats;
    return { rowsPerSec: rows / s, dropped: stats.droppedMetrics, transactions: stats.transactions - before };
  } finally {
    store.close();
    tmp.remove();
  }
}

/**
 * Rows/s of raw prepared inserts into the same schema, 1000 rows per transaction: into a database
 * file as the store's (WAL, synchronous NORMAL), or into an in-memory database (SQLite alone, no
 * file I/O: the ceiling).
 */
function ingestRaw(rows: number, where: 'file' | 'memory'): number {
  const tmp = tempFile();
  openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false }).close();
  let db = new Database(tmp.file);
  try {
    if (where === 'memory') {
      // The store's schema (tables and indexes, as its migrations made them), in memory.
      const schema = db
        .prepare(
          `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`,
        )
        .all() as Array<{ sql: string }>;
      db.close();
      db = new Database(':memory:');
      for (const { sql } of schema) db.exec(sql);
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    const insert = db.prepare(
      `INSERT INTO metrics (session_seq, t, latency_p50, latency_p99, in_bps, out_bps, cpu_percent, memory_bytes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const t0 = Date.now();
    const tx = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++)
        insert.run((i % SESSIONS) + 1, t0 + i * 50, 1.5, 3.2, 1000, 200, null, null);
    });
    gc?.();
    const start = performance.now();
    for (let i = 0; i < rows; i += 1000) tx(i, Math.min(rows, i + 1000));
    return rows / ((performance.now() - start) / 1000);
  } finally {
    db.close();
    tmp.remove();
  }
}

/** CPU (% of one core) spent in the store over `seconds` of the load of 20 busy sessions. */
async function cpuAtBusySessions(seconds: number): Promise<{ storePercent: number; processPercent: number }> {
  const tmp = tempFile();
  const store = openHistoryStore({ file: tmp.file, cleanupIntervalHours: 0, closeOnExit: false });
  try {
    const t0 = Date.now();
    const ids = startSessions(store, t0);
    const counters = ids.map(() => ({ bytesIn: 0, bytesOut: 0, reconnects: 0 }));
    let inCalls = 0;
    const flush0 = store.writerStats.flushCpuMicros;
    const proc0 = process.cpuUsage();
    const wall0 = performance.now();
    let n = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        const c0 = process.cpuUsage();
        const samples: MetricsRecord[] = ids.map((id, s) => ({
          sessionId: id,
          t: now,
          latencyP50: 2 + (s % 3),
          latencyP99: 9,
          inBytesPerSec: 2_000_000,
          outBytesPerSec: 40,
        }));
        samples.push({
          sessionId: null,
          t: now,
          latencyP50: null,
          latencyP99: null,
          inBytesPerSec: 4e7,
          outBytesPerSec: 800,
          cpuPercent: 12,
          memoryBytes: 2e8,
        });
        store.recordMetrics(samples);
        ids.forEach((id, s) => {
          const c = counters[s]!;
          c.bytesIn += 2_000_000;
          c.bytesOut += 40;
          store.recordSessionCounters(id, c);
        });
        for (let e = 0; e < 3; e++)
          store.recordEvent({
            sessionId: ids[(n * 3 + e) % SESSIONS]!,
            at: now,
            kind: 'state',
            detail: 'busy',
          });
        const c = process.cpuUsage(c0);
        inCalls += c.user + c.system;
        if (++n >= seconds) {
          clearInterval(timer);
          resolve();
        }
      }, 1000);
    });
    // The last second's records are committed by the timer one interval later: wait for it.
    await new Promise((r) => setTimeout(r, 1100));
    const wallMicros = (performance.now() - wall0) * 1000;
    const proc = process.cpuUsage(proc0);
    const flushMicros = store.writerStats.flushCpuMicros - flush0;
    return {
      storePercent: (100 * (inCalls + flushMicros)) / wallMicros,
      processPercent: (100 * (proc.user + proc.system)) / wallMicros,
    };
  } finally {
    store.close();
    tmp.remove();
  }
}

export async function runStoreBench(options: { quick: boolean }): Promise<StoreFigure[]> {
  const rows = options.quick ? 200_000 : 500_000;
  const runs = options.quick ? 2 : 3;
  const ours: number[] = [];
  const raw: number[] = [];
  const memory: number[] = [];
  let dropped = 0;
  for (let i = 0; i < runs; i++) {
    const r = await ingestThroughStore(rows);
    ours.push(r.rowsPerSec);
    dropped += r.dropped;
    raw.push(ingestRaw(rows, 'file'));
    memory.push(ingestRaw(rows, 'memory'));
  }
  if (dropped) process.stderr.write(`store bench: the queue dropped ${dropped} samples during ingest\n`);
  const cpu = await cpuAtBusySessions(options.quick ? 5 : 20);
  const ratio = ours.map((r, i) => r / raw[i]!);
  return [
    {
      name: 'history store ingest (metric rows through queue + batched transactions)',
      unit: 'rows/s',
      better: 'higher',
      summary: summarize(ours),
      target: '>= 200000 rows/s',
    },
    {
      name: '  baseline: raw better-sqlite3 prepared inserts, 1000 per transaction',
      unit: 'rows/s',
      better: 'higher',
      summary: summarize(raw),
    },
    { name: '  store ingest / raw inserts', unit: 'ratio', better: 'higher', summary: summarize(ratio) },
    {
      name: '  baseline: the same inserts into an in-memory SQLite database (no file I/O)',
      unit: 'rows/s',
      better: 'higher',
      summary: summarize(memory),
    },
    {
      name: '  store ingest / in-memory inserts',
      unit: 'ratio',
      better: 'higher',
      summary: summarize(ours.map((r, i) => r / memory[i]!)),
    },
    {
      name: 'history store CPU at 20 busy sessions (store calls + flushes)',
      unit: '% core',
      better: 'lower',
      summary: summarize([cpu.storePercent]),
      target: '< 2 %',
    },
    {
      name: '  whole bench process over the same window',
      unit: '% core',
      better: 'lower',
      summary: summarize([cpu.processPercent]),
    },
  ];
}
