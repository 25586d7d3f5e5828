/**
 * What goes to the history store is downsampled: the 1 s session samples and the 5 s process
 * samples are folded into buckets (default 10 s and 30 s) before they are written, so a day of
 * twenty sessions is tens of thousands of rows, not millions. Per session bucket: p50 averaged,
 * p95 and p99 the maximum, throughput averaged, retransmissions and reconnects summed. Per
 * process role: CPU averaged, memory averaged, process count the maximum.
 */
import type { ResourceSample } from '../../../preload/api.js';
import type { MetricsRecord, ProcessMetricsRecord } from '../store/types.js';
import type { MetricsSample } from './session-metrics.js';

interface SessionBucket {
  start: number;
  last: number;
  n: number;
  p50Sum: number;
  p50N: number;
  p95: number | null;
  p99: number | null;
  inSum: number;
  outSum: number;
  retransmissions: number;
  reconnects: number;
}

interface RoleAcc {
  cpuSum: number;
  memSum: number;
  processes: number;
}

interface ProcessBucket {
  start: number;
  last: number;
  n: number;
  roles: Map<string, RoleAcc>;
  cpuSum: number;
  memSum: number;
}

const maxOrNull = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);
const round2 = (n: number): number => Math.round(n * 100) / 100;

export class MetricsDownsampler {
  private readonly sessions = new Map<string, SessionBucket>();
  private processBucket: ProcessBucket | undefined;

  constructor(
    private readonly sink: {
      metrics(records: MetricsRecord[]): void;
      processes(records: ProcessMetricsRecord[]): void;
    },
    private readonly sessionBucketMs = 10_000,
    private readonly processBucketMs = 30_000,
  ) {}

  addSession(sessionId: string, s: MetricsSample): void {
    let b = this.sessions.get(sessionId);
    if (b && s.t - b.start >= this.sessionBucketMs) {
      this.flushSession(sessionId);
      b = undefined;
    }
    if (!b) {
      b = {
        start: s.t,
        last: s.t,
        n: 0,
        p50Sum: 0,
        p50N: 0,
        p95: null,
        p99: null,
        inSum: 0,
        outSum: 0,
        retransmissions: 0,
        reconnects: 0,
      };
      this.sessions.set(sessionId, b);
    }
    b.last = s.t;
    b.n++;
    if (s.latencyP50 !== null) {
      b.p50Sum += s.latencyP50;
      b.p50N++;
    }
    b.p95 = maxOrNull(b.p95, s.latencyP95);
    b.p99 = maxOrNull(b.p99, s.latencyP99);
    b.inSum += s.inBytesPerSec;
    b.outSum += s.outBytesPerSec;
    b.retransmissions += s.retransmissions;
    b.reconnects += s.reconnects;
  }

  /** Write a session's partial bucket (when it closes). */
  flushSession(sessionId: string): void {
    const b = this.sessions.get(sessionId);
    if (!b) return;
    this.sessions.delete(sessionId);
    if (b.n === 0) return;
    this.sink.metrics([
      {
        sessionId,
        t: b.last,
        latencyP50: b.p50N ? round2(b.p50Sum / b.p50N) : null,
        latencyP95: b.p95,
        latencyP99: b.p99,
        inBytesPerSec: Math.round(b.inSum / b.n),
        outBytesPerSec: Math.round(b.outSum / b.n),
        retransmissions: b.retransmissions,
        reconnects: b.reconnects,
      },
    ]);
  }

  addProcesses(sample: ResourceSample): void {
    let b = this.processBucket;
    if (b && sample.t - b.start >= this.processBucketMs) {
      this.flushProcesses();
      b = undefined;
    }
    if (!b) {
      b = { start: sample.t, last: sample.t, n: 0, roles: new Map(), cpuSum: 0, memSum: 0 };
      this.processBucket = b;
    }
    b.last = sample.t;
    b.n++;
    b.cpuSum += sample.cpuPercent;
    b.memSum += sample.memoryBytes;
    const perRole = new Map<string, RoleAcc>();
    for (const p of sample.processes) {
      const r = perRole.get(p.role) ?? { cpuSum: 0, memSum: 0, processes: 0 };
      r.cpuSum += p.cpuPercent;
      r.memSum += p.memoryBytes;
      r.processes++;
      perRole.set(p.role, r);
    }
    for (const [role, r] of perRole) {
      const acc = b.roles.get(role) ?? { cpuSum: 0, memSum: 0, processes: 0 };
      acc.cpuSum += r.cpuSum;
      acc.memSum += r.memSum;
      acc.processes = Math.max(acc.processes, r.processes);
      b.roles.set(role, acc);
    }
  }

  flushProcesses(): void {
    const b = this.processBucket;
    this.processBucket = undefined;
    if (!b || b.n === 0) return;
    // Process-wide totals go with the session metrics (session_seq 0), by role to their own table.
    this.sink.metrics([
      {
        sessionId: null,
        t: b.last,
        latencyP50: null,
        latencyP99: null,
        inBytesPerSec: 0,
        outBytesPerSec: 0,
        cpuPercent: round2(b.cpuSum / b.n),
        memoryBytes: Math.round(b.memSum / b.n),
      },
    ]);
    this.sink.processes(
      [...b.roles].map(([role, r]) => ({
        t: b.last,
        role,
        processes: r.processes,
        cpuPercent: round2(r.cpuSum / b.n),
        memoryBytes: Math.round(r.memSum / b.n),
      })),
    );
  }

  /** Write every partial bucket (shutdown). */
  flushAll(): void {
    for (const id of [...this.sessions.keys()]) this.flushSession(id);
    this.flushProcesses();
  }
}
