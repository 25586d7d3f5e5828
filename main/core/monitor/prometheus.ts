/**
 * Metrics in the Prometheus text exposition format (version 0.0.4): one `# HELP` and `# TYPE`
 * line per family, then `name{label="value",...} value [timestamp]`. Pure functions.
 *
 * Escaping per the spec: in label values backslash, double quote and line feed become `\\`, `\"`
 * and `\n`; in HELP text backslash and line feed. Names are validated, not mangled.
 */
import type { ProcessSample } from './process-sampler.js';

export type MetricType = 'gauge' | 'counter' | 'untyped';

export interface MetricPoint {
  labels?: Record<string, string | number>;
  value: number;
  /** Epoch ms; omitted by default (the scraper stamps it). */
  timestampMs?: number;
}

export interface MetricFamily {
  name: string;
  help?: string;
  type: MetricType;
  points: MetricPoint[];
}

/** The text format's media type, for an HTTP endpoint. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's float formatting as Prometheus expects it: NaN, +Inf, -Inf. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function renderLabels(labels: Record<string, string | number> | undefined): string {
  if (!labels) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const parts = entries.map(([k, v]) => {
    if (!LABEL_NAME.test(k) || k.startsWith('__'))
      throw new Error(`invalid Prometheus label name: ${JSON.stringify(k)}`);
    return `${k}="${escapeLabelValue(String(v))}"`;
  });
  return `{${parts.join(',')}}`;
}

/** Render families as exposition text (ends with a newline; empty string for no families). */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!METRIC_NAME.test(f.name))
      throw new Error(`invalid Prometheus metric name: ${JSON.stringify(f.name)}`);
    if (seen.has(f.name)) throw new Error(`duplicate Prometheus metric family: ${f.name}`);
    seen.add(f.name);
    if (f.help !== undefined) lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const p of f.points) {
      if (f.type === 'counter' && p.value < 0) throw new Error(`counter ${f.name} cannot be negative`);
      const ts = p.timestampMs === undefined ? '' : ` ${Math.round(p.timestampMs)}`;
      lines.push(`${f.name}${renderLabels(p.labels)} ${formatValue(p.value)}${ts}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** A process sample as metric families (prefix default `ec2connect_`). */
export function processSampleFamilies(sample: ProcessSample, prefix = 'ec2connect_'): MetricFamily[] {
  const labels = (p: { pid: number; role: string }) => ({ pid: String(p.pid), role: p.role });
  return [
    {
      name: `${prefix}process_cpu_percent`,
      help: 'CPU use over the last sampling interval, percent of one core.',
      type: 'gauge',
      points: sample.processes.map((p) => ({ labels: labels(p), value: p.cpuPercent })),
    },
    {
      name: `${prefix}process_resident_memory_bytes`,
      help: 'Resident set size.',
      type: 'gauge',
      points: sample.processes.map((p) => ({ labels: labels(p), value: p.memoryBytes })),
    },
    {
      name: `${prefix}main_heap_bytes`,
      help: 'V8 heap and buffers of the main process (process.memoryUsage()).',
      type: 'gauge',
      points: (['heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const).map((kind) => ({
        labels: { kind },
        value: sample.heap[kind],
      })),
    },
  ];
}
