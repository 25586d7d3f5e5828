import { describe, expect, it } from 'vitest';
import {
  escapeLabelValue,
  processSampleFamilies,
  renderPrometheus,
  type MetricFamily,
} from '../../../main/core/monitor/prometheus.js';

interface Parsed {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

/** A strict little parser for the text format's sample lines (enough to check what we write). */
function parse(text: string): {
  help: Record<string, string>;
  type: Record<string, string>;
  samples: Parsed[];
} {
  const help: Record<string, string> = {};
  const type: Record<string, string> = {};
  const samples: Parsed[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      help[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      type[m[1]!] = m[2]!;
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest.length) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      if (!lm) throw new Error(`bad labels: ${rest}`);
      labels[lm[1]!] = lm[2]!.replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm[0].length);
    }
    const v = m[3]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    samples.push({ name: m[1]!, labels, value, ...(m[4] ? { timestamp: Number(m[4]) } : {}) });
  }
  return { help, type, samples };
}

describe('renderPrometheus', () => {
  it('escapes backslash, double quote and newline in label values', () => {
    expect(escapeLabelValue('C:\\path')).toBe('C:\\\\path');
    expect(escapeLabelValue('say "hi"')).toBe('say \\"hi\\"');
    expect(escapeLabelValue('a\nb')).toBe('a\\nb');
    const text = renderPrometheus([
      {
        name: 'ec2c_sessions',
        help: 'Open sessions.',
        type: 'gauge',
        points: [{ labels: { host: 'a\\b "q"\nz' }, value: 3 }],
      },
    ]);
    expect(text).toBe(
      '# HELP ec2c_sessions Open sessions.\n' +
        '# TYPE ec2c_sessions gauge\n' +
        'ec2c_sessions{host="a\\\\b \\"q\\"\\nz"} 3\n',
    );
  });

  it('renders gauges and counters that parse back to the same values', () => {
    const tricky = ['plain', 'back\\slash', 'quo"te', 'new\nline', 'all \\" \n\\n', 'ünïcödé, {braces}', ''];
    const families: MetricFamily[] = [
      {
        name: 'ec2c_bytes_sent_total',
        help: 'Bytes sent.\nSecond line with a \\ backslash and "quotes".',
        type: 'counter',
        points: tricky.map((s, i) => ({ labels: { session: s, idx: i }, value: i * 1000 + 0.5 })),
      },
      {
        name: 'ec2c_latency_ms',
        type: 'gauge',
        points: [
          { value: NaN },
          { labels: { q: 'max' }, value: Infinity },
          { labels: { q: 'min' }, value: -Infinity, timestampMs: 1_700_000_000_123 },
          { labels: {}, value: -2.5e-7 },
        ],
      },
    ];
    const parsed = parse(renderPrometheus(families));
    expect(parsed.type).toEqual({ ec2c_bytes_sent_total: 'counter', ec2c_latency_ms: 'gauge' });
    expect(parsed.help.ec2c_bytes_sent_total).toBe(families[0]!.help);
    expect(parsed.help.ec2c_latency_ms).toBeUndefined();
    const counters = parsed.samples.filter((s) => s.name === 'ec2c_bytes_sent_total');
    expect(counters.map((s) => s.labels.session)).toEqual(tricky);
    expect(counters.map((s) => s.value)).toEqual(tricky.map((_, i) => i * 1000 + 0.5));
    expect(counters[2]!.labels).toEqual({ session: 'quo"te', idx: '2' });
    const gauges = parsed.samples.filter((s) => s.name === 'ec2c_latency_ms');
    expect(gauges[0]!.value).toBeNaN();
    expect(gauges[0]!.labels).toEqual({});
    expect(gauges.slice(1).map((g) => g.value)).toEqual([Infinity, -Infinity, -2.5e-7]);
    expect(gauges[2]!.timestamp).toBe(1_700_000_000_123);
  });

  it('rejects invalid names, duplicate families and negative counters', () => {
    const g = (name: string, labels?: Record<string, string>): MetricFamily => ({
      name,
      type: 'gauge',
      points: [{ labels, value: 1 }],
    });
    expect(() => renderPrometheus([g('1bad')])).toThrow(/metric name/);
    expect(() => renderPrometheus([g('has-dash')])).toThrow(/metric name/);
    expect(() => renderPrometheus([g('ok', { 'bad-label': 'x' })])).toThrow(/label name/);
    expect(() => renderPrometheus([g('ok', { __reserved: 'x' })])).toThrow(/label name/);
    expect(() => renderPrometheus([g('ok'), g('ok')])).toThrow(/duplicate/);
    expect(() => renderPrometheus([{ name: 'c_total', type: 'counter', points: [{ value: -1 }] }])).toThrow(
      /negative/,
    );
    expect(renderPrometheus([])).toBe('');
  });

  it('turns a process sample into families', () => {
    const text = renderPrometheus(
      processSampleFamilies({
        t: 1,
        intervalMs: 5000,
        processes: [
          { pid: 10, role: 'main', cpuPercent: 3.5, memoryBytes: 1000 },
          { pid: 11, role: 'pty', cpuPercent: 0, memoryBytes: 200 },
        ],
        heap: { rss: 1000, heapUsed: 50, heapTotal: 80, external: 5, arrayBuffers: 2 },
      }),
    );
    const parsed = parse(text);
    expect(parsed.samples).toContainEqual({
      name: 'ec2connect_process_cpu_percent',
      labels: { pid: '10', role: 'main' },
      value: 3.5,
    });
    expect(parsed.samples).toContainEqual({
      name: 'ec2connect_process_resident_memory_bytes',
      labels: { pid: '11', role: 'pty' },
      value: 200,
    });
    expect(parsed.samples).toContainEqual({
      name: 'ec2connect_main_heap_bytes',
      labels: { kind: 'heapUsed' },
      value: 50,
    });
    expect(Object.values(parsed.type)).toEqual(['gauge', 'gauge', 'gauge']);
  });
});
