/**
 * Measures the ProcessSampler's own CPU cost: 1 s interval, 5 child pids, 20 s.
 * Run: npx tsx bench/sampler-cost.ts [seconds]
 * Reports the CPU time spent between the start of each tick and its sample (process.cpuUsage
 * deltas, which include libuv's threadpool reads of /proc), and the whole process over the run.
 */
import { spawn } from 'node:child_process';
import { ProcessSampler } from '../main/core/monitor/process-sampler.js';

const seconds = Number(process.argv[2] ?? 20);
const children = Array.from({ length: 5 }, () => spawn('sleep', [String(seconds + 10)], { stdio: 'ignore' }));
const sampler = new ProcessSampler({ intervalMs: 1000 });
for (const c of children) sampler.addPid(c.pid!, 'child');

let tickCpuMicros = 0;
let ticks = 0;
const wallStart = performance.now();
const processStart = process.cpuUsage();
// Wrap each tick: start timing when the timer fires, stop when the sample is emitted.
let tickStart: NodeJS.CpuUsage | undefined;
const realSampleNow = sampler.sampleNow.bind(sampler);
sampler.sampleNow = () => {
  tickStart = process.cpuUsage();
  return realSampleNow();
};
const sub = sampler.onSample((s) => {
  if (!tickStart) return;
  const d = process.cpuUsage(tickStart);
  tickCpuMicros += d.user + d.system;
  ticks++;
  if (s.processes.length !== 6) console.error(`expected 6 processes, got ${s.processes.length}`);
});
const keepAlive = setInterval(() => {}, 1000);

setTimeout(() => {
  const wallMs = performance.now() - wallStart;
  const whole = process.cpuUsage(processStart);
  sub.dispose();
  sampler.dispose();
  clearInterval(keepAlive);
  for (const c of children) c.kill();
  const pct = (micros: number) => ((micros / 1000 / wallMs) * 100).toFixed(3);
  console.log(
    JSON.stringify({
      ticks,
      wallMs: Math.round(wallMs),
      perTickCpuMs: +(tickCpuMicros / 1000 / ticks).toFixed(3),
      tickCpuPercentOfCore: pct(tickCpuMicros),
      wholeProcessCpuPercentOfCore: pct(whole.user + whole.system),
    }),
  );
}, seconds * 1000);
