/**
 * The connection metrics of a session sample or of a downsampled point, as one shape for JSON and
 * as one set of CSV columns, shared by the live export (metrics.export), the history store's reads
 * and `ec2-connect metrics`.
 */
export interface MetricFields {
  latencyP50: number | null;
  latencyP95: number | null;
  latencyP99: number | null;
  inBytesPerSec: number;
  outBytesPerSec: number;
  retransmissions: number;
  reconnects: number;
}

/** Just the metric fields (and the time) of a wider record. */
export function pickMetricFields<T extends MetricFields & { t: number }>(p: T): MetricFields & { t: number } {
  return {
    t: p.t,
    latencyP50: p.latencyP50,
    latencyP95: p.latencyP95,
    latencyP99: p.latencyP99,
    inBytesPerSec: p.inBytesPerSec,
    outBytesPerSec: p.outBytesPerSec,
    retransmissions: p.retransmissions,
    reconnects: p.reconnects,
  };
}

export const METRIC_CSV_COLUMNS = [
  'latency_p50_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'in_bytes_per_sec',
  'out_bytes_per_sec',
  'retransmissions',
  'reconnects',
] as const;

export type MetricCsvColumn = (typeof METRIC_CSV_COLUMNS)[number];

export function metricCsvFields(p: MetricFields): Record<MetricCsvColumn, number | null> {
  return {
    latency_p50_ms: p.latencyP50,
    latency_p95_ms: p.latencyP95,
    latency_p99_ms: p.latencyP99,
    in_bytes_per_sec: p.inBytesPerSec,
    out_bytes_per_sec: p.outBytesPerSec,
    retransmissions: p.retransmissions,
    reconnects: p.reconnects,
  };
}
