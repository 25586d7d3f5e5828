/**
 * The write queue: records wait in memory and are committed together, in one transaction, every
 * `flushIntervalMs` or as soon as `batchSize` of them wait (on a setImmediate, never on the
 * caller's stack). The queue is bounded: past `maxQueue` the oldest metric samples are dropped
 * (counted, logged at most once a minute); session and event records are never dropped. Counter
 * updates of one session and instance-cache entries of one profile/region are coalesced while
 * they wait. The timer is unref'd and only armed while something waits.
 */
import type { Logger } from '../log/logger.js';
import { classifyError } from './errors.js';
import type { EventRecord, SessionCounters, SessionEndRecord, SessionStartRecord } from './types.js';

export type WriteOp =
  | { kind: 'start'; record: SessionStartRecord }
  | { kind: 'counters'; id: string; counters: SessionCounters }
  | { kind: 'end'; id: string; record: SessionEndRecord }
  | { kind: 'event'; record: EventRecord }
  | { kind: 'cache'; profile: string; region: string; data: string; fetchedAt: number };

/** A metric sample as queued (copied from the caller's record, numbers already sanitized). */
export interface QueuedMetric {
  sessionId: string | null;
  t: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  inBps: number;
  outBps: number;
  retransmits: number;
  reconnects: number;
  cpu: number | null;
  mem: number | null;
}

/** A process-role sample as queued (a row of process_metrics). */
export interface QueuedProcessMetric {
  role: string;
  t: number;
  processes: number;
  cpu: number;
  mem: number;
}

/**
 * Samples share one queue (and its bound): when it is full the oldest of either kind go first.
 * Process-role samples are told apart by their `role`.
 */
export type QueuedSample = QueuedMetric | QueuedProcessMetric;

export function isProcessSample(m: QueuedSample): m is QueuedProcessMetric {
  return 'role' in m;
}

export interface WriteSink {
  /** Write everything in one transaction; throws when the transaction failed (and was rolled back). */
  commit(ops: WriteOp[], metrics: QueuedSample[], metricsFrom: number): void;
  /** A fatal error (disk full, read-only, ...): the sink turns history off. */
  fatal(err: unknown, lost: number): void;
}

export interface WriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  maxQueue: number;
  logger: Logger;
  now: () => number;
}

export interface WriterStats {
  /** Records waiting now. */
  pending: number;
  /** Committed transactions and the records in them. */
  transactions: number;
  recordsWritten: number;
  /** Metric samples dropped because the queue was full. */
  droppedMetrics: number;
  /** Records refused by the database one by one (bad values); the rest of their batch was written. */
  rejected: number;
  /** Flushes that found the database locked by another process for longer than the busy timeout (retried). */
  busyRetries: number;
  /** Records discarded when history was turned off. */
  discarded: number;
  /** CPU time spent committing (user + system, microseconds) and wall time (ms). */
  flushCpuMicros: number;
  flushWallMs: number;
}

const DROP_LOG_INTERVAL_MS = 60_000;

export class WriteQueue {
  private ops: WriteOp[] = [];
  private metrics: QueuedSample[] = [];
  private head = 0;
  private readonly countersById = new Map<string, Extract<WriteOp, { kind: 'counters' }>>();
  private readonly cacheByKey = new Map<string, Extract<WriteOp, { kind: 'cache' }>>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private flushing = false;
  private off = false;
  private droppedSinceLog = 0;
  private lastDropLog = -Infinity;
  readonly stats: WriterStats = {
    pending: 0,
    transactions: 0,
    recordsWritten: 0,
    droppedMetrics: 0,
    rejected: 0,
    busyRetries: 0,
    discarded: 0,
    flushCpuMicros: 0,
    flushWallMs: 0,
  };

  constructor(
    private readonly sink: WriteSink,
    private readonly options: WriterOptions,
  ) {}

  get pending(): number {
    return this.ops.length + this.metrics.length - this.head;
  }

  /** True while a flush timer or immediate is armed. */
  get scheduled(): boolean {
    return this.timer !== undefined || this.immediate !== undefined;
  }

  push(op: WriteOp): void {
    if (this.off) return;
    if (this.enqueue(op)) this.afterPush();
  }

  /**
   * Append an op to the queue, or fold it into the waiting one it replaces: a session's
   * counters and a profile's instance cache only need their latest values. False when folded.
   */
  private enqueue(op: WriteOp): boolean {
    if (op.kind === 'counters') {
      const waiting = this.countersById.get(op.id);
      if (waiting) {
        waiting.counters = op.counters;
        return false;
      }
      this.countersById.set(op.id, op);
    } else if (op.kind === 'cache') {
      const key = `${op.profile}\0${op.region}`;
      const waiting = this.cacheByKey.get(key);
      if (waiting) {
        waiting.data = op.data;
        waiting.fetchedAt = op.fetchedAt;
        return false;
      }
      this.cacheByKey.set(key, op);
    }
    this.ops.push(op);
    return true;
  }

  pushMetrics(items: QueuedSample[]): void {
    if (this.off) return;
    for (const m of items) this.metrics.push(m);
    this.afterPush();
  }

  private afterPush(): void {
    const over = this.pending - this.options.maxQueue;
    if (over > 0) {
      const droppable = Math.min(over, this.metrics.length - this.head);
      if (droppable > 0) {
        this.head += droppable;
        this.stats.droppedMetrics += droppable;
        this.droppedSinceLog += droppable;
        if (this.head > 4096 && this.head * 2 > this.metrics.length) {
          this.metrics = this.metrics.slice(this.head);
          this.head = 0;
        }
        const now = this.options.now();
        if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
          this.options.logger.warn(
            {
              dropped: this.droppedSinceLog,
              total: this.stats.droppedMetrics,
              maxQueue: this.options.maxQueue,
            },
            'history write queue full: dropped the oldest metric samples (sessions and events are kept)',
          );
          this.lastDropLog = now;
          this.droppedSinceLog = 0;
        }
      }
    }
    this.stats.pending = this.pending;
    if (this.pending >= this.options.batchSize) {
      if (!this.immediate && !this.flushing) {
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          this.flush();
        });
        this.immediate.unref();
      }
    } else if (!this.timer) {
      this.armTimer();
    }
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /** Commit everything waiting, now, in one transaction. Never throws. */
  flush(): void {
    if (this.flushing || this.off) return;
    this.disarm();
    const count = this.pending;
    if (count === 0) return;
    const ops = this.ops;
    const metrics = this.metrics;
    const from = this.head;
    this.ops = [];
    this.metrics = [];
    this.head = 0;
    this.countersById.clear();
    this.cacheByKey.clear();
    this.stats.pending = 0;
    this.flushing = true;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      this.sink.commit(ops, metrics, from);
      this.stats.transactions++;
      this.stats.recordsWritten += count;
    } catch (err) {
      const kind = classifyError(err);
      if (kind === 'busy') {
        // Another process held the lock past the busy timeout: put the batch back, in front, and retry.
        this.stats.busyRetries++;
        this.options.logger.warn({ err, pending: count }, 'history database busy; will retry the write');
        this.requeue(ops, metrics.slice(from));
      } else {
        // Fatal (the sink turns history off), or a failure that is not about one record: the batch is lost.
        this.off = kind === 'fatal';
        if (kind !== 'fatal')
          this.options.logger.error({ err, lost: count }, 'history write failed; the batch was dropped');
        const lost = count + (this.off ? this.discardAll() : 0);
        this.stats.discarded += lost;
        if (this.off) this.sink.fatal(err, lost);
      }
    } finally {
      this.flushing = false;
      const cpu = process.cpuUsage(cpu0);
      this.stats.flushCpuMicros += cpu.user + cpu.system;
      this.stats.flushWallMs += performance.now() - t0;
    }
    this.stats.pending = this.pending;
    // Records made during the commit (by a listener) or put back after SQLITE_BUSY wait for the next one.
    if (!this.off && this.pending > 0 && !this.timer && !this.immediate) this.armTimer();
  }

  private requeue(ops: WriteOp[], metrics: QueuedSample[]): void {
    const newer = this.ops;
    this.ops = [];
    this.countersById.clear();
    this.cacheByKey.clear();
    // Re-coalesce: a newer counters/cache entry replaces the requeued one's values in its place.
    for (const op of [...ops, ...newer]) this.enqueue(op);
    this.metrics = metrics.concat(this.metrics.slice(this.head));
    this.head = 0;
    const over = this.pending - this.options.maxQueue;
    if (over > 0) {
      const drop = Math.min(over, this.metrics.length);
      this.head = drop;
      this.stats.droppedMetrics += drop;
    }
  }

  /** Forget everything waiting (history turned off); returns how many records that was. */
  discardAll(): number {
    const n = this.pending;
    this.ops = [];
    this.metrics = [];
    this.head = 0;
    this.countersById.clear();
    this.cacheByKey.clear();
    this.stats.pending = 0;
    this.disarm();
    return n;
  }

  /** Stop accepting records (history off, or closed); what waits is discarded and counted. */
  stop(): number {
    this.off = true;
    const n = this.discardAll();
    this.stats.discarded += n;
    return n;
  }

  recordRejected(): void {
    this.stats.rejected++;
  }
}
