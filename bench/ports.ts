/**
 * Port forwarding (issue 9), each figure beside a direct loopback baseline measured in the same
 * run against the same target server (in this process), through the bench peer's sandbox (its
 * agent, in the peer process, dials the target on 127.0.0.1):
 *   - throughput through a forward, upload and download (MB/s), vs a direct loopback copy;
 *   - connection set-up: connect to the first echoed byte, through an open forward vs direct;
 *   - forward open time: PortForward.open until the local port serves;
 *   - 100 parallel TCP connections through one multiplexed session: success rate and the time
 *     until every one has echoed 16 KiB.
 */
import net from 'node:net';
import type { ControlPlane } from '../main/core/ssm/control-plane.js';
import { PortForward } from '../main/core/ssm/port/port-forward.js';
import { summarize, type Summary } from './lib/stats.js';

export interface PortsFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

/** A target server: `sink` counts bytes and answers "done" after `expect`; `source` sends N bytes; echo otherwise. */
async function targetServer(): Promise<{ port: number; close(): void }> {
  const server = net.createServer({ noDelay: true }, (s) => {
    s.on('error', () => undefined);
    s.once('data', (first: Buffer) => {
      const line = first.toString('latin1', 0, Math.min(first.length, 64));
      const sink = /^SINK (\d+)\n/.exec(line);
      const source = /^SOURCE (\d+)\n/.exec(line);
      if (sink) {
        const want = Number(sink[1]);
        let got = first.length - sink[0].length;
        const check = (): void => {
          if (got >= want) s.end('done');
        };
        s.on('data', (d: Buffer) => {
          got += d.length;
          check();
        });
        check();
      } else if (source) {
        const total = Number(source[1]);
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            const n = Math.min(chunk.length, total - sent);
            sent += n;
            if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              s.once('drain', pump);
              return;
            }
          }
          s.end();
        };
        pump();
      } else {
        s.write(first);
        s.pipe(s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Upload `bytes` and wait for the server's "done": MB/s. */
async function upload(port: number, bytes: number): Promise<number> {
  const s = await connect(port);
  const t0 = performance.now();
  const done = new Promise<void>((r) => s.on('data', (d: Buffer) => d.includes('done') && r()));
  s.write(`SINK ${bytes}\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!s.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent))))
      await new Promise((r) => s.once('drain', r));
  }
  await done;
  s.destroy();
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}

/** Ask for `bytes` and read them all: MB/s. */
async function download(port: number, bytes: number): Promise<number> {
  const s = await connect(port);
  const t0 = performance.now();
  let got = 0;
  await new Promise<void>((r) => {
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= bytes) r();
    });
    s.write(`SOURCE ${bytes}\n`);
  });
  s.destroy();
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}

/** Connect, send 16 KiB, wait until it all came back: ms. */
async function echo(port: number, size = 16 * 1024): Promise<number> {
  const t0 = performance.now();
  const s = await connect(port);
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= size) resolve();
    });
    s.on('error', reject);
    s.write(Buffer.alloc(size, 0x63));
  });
  s.destroy();
  return performance.now() - t0;
}

export async function runPortsBench(
  cp: ControlPlane,
  instanceId: string,
  quick: boolean,
): Promise<PortsFigure[]> {
  const target = await targetServer();
  const mb = quick ? 16 : 64;
  const runs = quick ? 2 : 5;
  const figures: PortsFigure[] = [];
  const openMs: number[] = [];
  try {
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      const t0 = performance.now();
      const f = await PortForward.open({ controlPlane: cp, target: instanceId, remotePort: target.port });
      await echo(f.localPort, 1);
      openMs.push(performance.now() - t0);
      await f.close();
    }
    const f = await PortForward.open({ controlPlane: cp, target: instanceId, remotePort: target.port });
    try {
      const up = { fwd: [] as number[], direct: [] as number[] };
      const down = { fwd: [] as number[], direct: [] as number[] };
      // Interleaved, so that machine noise falls on both alike.
      for (let i = 0; i < runs; i++) {
        up.direct.push(await upload(target.port, mb * 2 ** 20));
        up.fwd.push(await upload(f.localPort, mb * 2 ** 20));
        down.direct.push(await download(target.port, mb * 2 ** 20));
        down.fwd.push(await download(f.localPort, mb * 2 ** 20));
      }
      const setup = { fwd: [] as number[], direct: [] as number[] };
      for (let i = 0; i < (quick ? 20 : 100); i++) {
        setup.direct.push(await echo(target.port, 1));
        setup.fwd.push(await echo(f.localPort, 1));
      }
      const parallel = quick ? 30 : 100;
      const t0 = performance.now();
      const results = await Promise.allSettled(Array.from({ length: parallel }, () => echo(f.localPort)));
      const wallMs = performance.now() - t0;
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const perConn = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      figures.push(
        {
          name: 'ports: upload through a forward',
          unit: 'MB/s',
          better: 'higher',
          summary: summarize(up.fwd),
        },
        {
          name: 'ports: upload, direct loopback (baseline)',
          unit: 'MB/s',
          better: 'higher',
          summary: summarize(up.direct),
        },
        {
          name: 'ports: download through a forward',
          unit: 'MB/s',
          better: 'higher',
          summary: summarize(down.fwd),
        },
        {
          name: 'ports: download, direct loopback (baseline)',
          unit: 'MB/s',
          better: 'higher',
          summary: summarize(down.direct),
        },
        {
          name: 'ports: connection set-up to first echoed byte (open forward)',
          unit: 'ms',
          better: 'lower',
          summary: summarize(setup.fwd),
        },
        {
          name: 'ports: connection set-up, direct loopback (baseline)',
          unit: 'ms',
          better: 'lower',
          summary: summarize(setup.direct),
        },
        {
          name: 'ports: forward open (StartSession to first echoed byte)',
          unit: 'ms',
          better: 'lower',
          summary: summarize(openMs),
        },
        {
          name: `ports: ${parallel} parallel connections, each echoing 16 KiB (per connection)`,
          unit: 'ms',
          better: 'lower',
          summary: summarize(perConn),
        },
        {
          name: `ports: ${parallel} parallel connections, all done (wall)`,
          unit: 'ms',
          better: 'lower',
          summary: summarize([wallMs]),
        },
        {
          name: `ports: ${parallel} parallel connections, success rate`,
          unit: '%',
          better: 'higher',
          summary: summarize([(ok / parallel) * 100]),
          target: '100 %',
        },
      );
    } finally {
      await f.close();
    }
  } finally {
    target.close();
  }
  return figures;
}
