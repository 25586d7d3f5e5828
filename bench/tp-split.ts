import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ControlPlane } from '../main/core/ssm/control-plane.js';
import { SsmSession } from '../main/core/ssm/session.js';
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/peer.ts'], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env, BENCH_BIG_MB: '40' },
});
const info = JSON.parse(
  await new Promise<string>((r) => createInterface({ input: child.stdout! }).once('line', r)),
);
const cp = new ControlPlane({
  region: info.region,
  endpoint: info.endpoint,
  credentials: info.credentials,
  maxAttempts: 1,
});
for (let i = 0; i < Number(process.env.PRE ?? 0); i++) {
  const x = await SsmSession.open({ controlPlane: cp, target: info.instanceId });
  await x.terminate();
}
const s = await SsmSession.open({ controlPlane: cp, target: info.instanceId, cols: 120, rows: 40 });
await new Promise((r) => setTimeout(r, 300));
let bytes = 0,
  n = 0;
let tail = '';
let done!: () => void;
const p = new Promise<void>((r) => (done = r));
s.onOutput((b) => {
  bytes += b.length;
  n++;
  const t = tail + b.toString('latin1');
  if (t.includes('END-OF-X')) done();
  tail = t.slice(-20);
});
const t0 = performance.now();
s.write(`cat ${info.bigFile}; echo END-OF""-X\r`);
await p;
const sec = (performance.now() - t0) / 1000;
console.log('MB/s', (bytes / 1048576 / sec).toFixed(1), 'msgs', n, 'client', JSON.stringify(s.channel.stats));
await s.terminate();
cp.dispose();
child.stdin!.end();
