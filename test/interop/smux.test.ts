/**
 * Interop: our smux (main/core/ssm/port/smux.ts) against the real xtaci/smux, the copy that
 * session-manager-plugin vendors (test/interop/smux/xtaci-smux, unmodified), over TCP, in
 * both roles. The Go peer (test/interop/smux/main.go) is built offline (GOPROXY=off; the
 * module replaces github.com/xtaci/smux with the local copy) and cached by source hash under
 * node_modules/.cache. Skipped, with a message, when `go` is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmuxSession, type SmuxOptions, type SmuxStream } from '../../main/core/ssm/port/smux/index.js';
import { Emitter } from '../../main/core/util/lifecycle.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const goSource = join(repo, 'test/interop/smux');
const goExe = process.env.GO ?? 'go';
const goVersion = spawnSync(goExe, ['version'], { encoding: 'utf8' });
const haveGo = goVersion.status === 0;
if (!haveGo) console.warn(`smux interop tests skipped: \`${goExe} version\` failed (is Go installed?)`);

/** Builds the Go peer once per source hash; returns the binary's path. */
function buildGoPeer(): string {
  const files = [
    'go.mod',
    'main.go',
    ...readdirSync(join(goSource, 'xtaci-smux')).map((f) => `xtaci-smux/${f}`),
  ].sort();
  const hash = createHash('sha256').update(goVersion.stdout);
  for (const f of files) hash.update(f).update(readFileSync(join(goSource, f)));
  const cacheRoot = join(repo, 'node_modules/.cache/ec2c-smux-interop');
  const dir = join(cacheRoot, hash.digest('hex').slice(0, 16));
  const bin = join(dir, process.platform === 'win32' ? 'smux-peer.exe' : 'smux-peer');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const built = spawnSync(goExe, ['build', '-o', tmp, '.'], {
    cwd: goSource,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      GOFLAGS: '-mod=mod',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
      GOWORK: 'off',
      GOCACHE: process.env.GOCACHE ?? join(cacheRoot, 'go-build'),
      GOPATH: process.env.GOPATH ?? join(cacheRoot, 'gopath'),
    },
  });
  if (built.status !== 0)
    throw new Error(`go build failed (${built.status}): ${built.stderr}${built.error ?? ''}`);
  renameSync(tmp, bin);
  return bin;
}

/** A running Go peer and the lines it printed. */
class GoPeer {
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const w of [...this.waiters]) w();
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  }

  waitFor(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const line of this.lines) {
          const m = re.exec(line);
          if (m) {
            cleanup();
            resolve(m);
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `Go peer: no line matching ${re} in ${timeoutMs} ms; got ${JSON.stringify(this.lines.slice(-20))} ${this.stderr}`,
          ),
        );
      }, timeoutMs);
      const waiter = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  matching(re: RegExp): RegExpExecArray[] {
    return this.lines.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}

/** An SmuxSession on a TCP socket, wired as the port forwarder wires it on a data channel. */
function attach(socket: net.Socket, options: SmuxOptions, counters = { pauses: 0 }): SmuxSession {
  const writable = new Emitter<void>();
  socket.on('drain', () => writable.fire());
  const session = new SmuxSession(
    {
      write: (chunk) => socket.write(chunk),
      onWritable: writable.event,
      pause: () => {
        counters.pauses++;
        socket.pause();
      },
      resume: () => socket.resume(),
    },
    options,
  );
  socket.on('data', (d: Buffer) => session.feed(d));
  socket.on('error', () => {});
  socket.on('close', () => session.close('connection closed'));
  session.onClose(() => socket.destroy());
  return session;
}

/**
 * Opens a stream, sends payload and resolves with what came back before the peer's FIN. With
 * halfClose our FIN goes right after the payload; without, only once the whole echo is back:
 * in v2 a Go writer waiting for window gives up when the FIN arrives (stream.go writeV2), since
 * for Go a FIN means the peer no longer reads.
 */
async function roundTrip(
  session: SmuxSession,
  payload: Buffer,
  halfClose = true,
): Promise<{ id: number; echoed: Buffer }> {
  const s = session.openStream();
  const chunks: Buffer[] = [];
  let received = 0;
  s.on('data', (d: Buffer) => {
    chunks.push(d);
    received += d.length;
    if (!halfClose && received >= payload.length) s.end();
  });
  const ended = new Promise<void>((res, rej) => {
    s.on('end', res);
    s.on('error', rej);
  });
  if (halfClose || payload.length === 0) s.end(payload);
  else s.write(payload);
  await ended;
  return { id: s.id, echoed: Buffer.concat(chunks) };
}

function echo(s: SmuxStream): void {
  s.on('error', () => {});
  s.pipe(s);
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe.skipIf(!haveGo)('smux interop with xtaci/smux (Go)', () => {
  let bin: string;
  beforeAll(() => {
    bin = buildGoPeer();
  }, 120_000);

  function startGo(args: string[]): GoPeer {
    const peer = new GoPeer(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    cleanups.push(() => peer.kill());
    return peer;
  }

  async function connectToGoServer(goArgs: string[], options: Omit<SmuxOptions, 'role'>) {
    const go = startGo(['-mode', 'server', ...goArgs]);
    const [, port] = await go.waitFor(/^LISTEN (\d+)$/);
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    const session = attach(socket, { role: 'client', ...options });
    cleanups.push(() => session.close('test over'));
    return { go, session, socket };
  }

  async function serveGoClient(
    goArgs: string[],
    options: Omit<SmuxOptions, 'role'>,
    onSession: (s: SmuxSession) => void,
    counters = { pauses: 0 },
  ) {
    const server = net.createServer((socket) => {
      const session = attach(socket, { role: 'server', ...options }, counters);
      cleanups.push(() => session.close('test over'));
      onSession(session);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());
    const { port } = server.address() as net.AddressInfo;
    return startGo(['-mode', 'client', '-addr', `127.0.0.1:${port}`, ...goArgs]);
  }

  it('our client (keep-alive off, as session-manager-plugin) to a Go smux.Server(DefaultConfig): 50 parallel echo streams', async () => {
    const { go, session } = await connectToGoServer([], { keepAliveIntervalMs: 0 });
    const payloads = Array.from({ length: 50 }, (_, i) =>
      randomBytes(i === 0 ? 0 : Math.floor(Math.random() * 300_000)),
    );
    const results = await Promise.all(payloads.map((p) => roundTrip(session, p)));
    for (const [i, r] of results.entries())
      expect(r.echoed.equals(payloads[i]!), `stream ${r.id}`).toBe(true);
    const ids = Array.from({ length: 50 }, (_, i) => 3 + 2 * i);
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(
      go
        .matching(/^STREAM (\d+)$/)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b),
    ).toEqual(ids);
    expect(session.closed).toBe(false);
  });

  it('a Go smux.Client to our server (DefaultConfig): 50 Go streams echoed by us, 20 of ours echoed by Go', async () => {
    let session: SmuxSession | undefined;
    const go = await serveGoClient(
      ['-n', '50', '-size', '200000', '-keepalive-ms', '0', '-accept'],
      {},
      (s) => {
        session = s;
        s.onStream(echo);
      },
    );
    await go.waitFor(/^DONE$/, 20_000);
    expect(go.matching(/^FAIL/)).toEqual([]);
    expect(
      go
        .matching(/^OK (\d+) 200000$/)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 50 }, (_, i) => 3 + 2 * i));
    // The other direction on the same session: we open, Go's acceptLoop echoes.
    const payloads = Array.from({ length: 20 }, () => randomBytes(Math.floor(Math.random() * 200_000)));
    const results = await Promise.all(payloads.map((p) => roundTrip(session!, p)));
    for (const [i, r] of results.entries())
      expect(r.echoed.equals(payloads[i]!), `stream ${r.id}`).toBe(true);
    expect(results.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => 2 + 2 * i));
    session!.close('done');
    expect(await go.exited).toBe(0);
  });

  it('our server with a small receive budget pauses the socket and still echoes Go exactly', async () => {
    let accepted = 0;
    const counters = { pauses: 0 };
    const go = await serveGoClient(
      ['-n', '20', '-size', '1000000', '-keepalive-ms', '0'],
      { maxReceiveBuffer: 64 * 1024, maxStreamBuffer: 64 * 1024, maxFrameSize: 4096 },
      (s) => {
        s.onStream((stream) => {
          // A slow consumer: take 16 KiB every few ms.
          stream.on('error', () => {});
          stream.pause();
          const pump = setInterval(() => {
            let chunk: Buffer | null;
            let n = 0;
            while (n < 64 * 1024 && (chunk = stream.read() as Buffer | null)) {
              n += chunk.length;
              stream.write(chunk);
            }
            if (stream.readableEnded || stream.destroyed) clearInterval(pump);
          }, 2);
          stream.on('end', () => {
            clearInterval(pump);
            stream.end();
          });
          cleanups.push(() => clearInterval(pump));
          accepted++;
        });
      },
      counters,
    );
    expect(await go.exited).toBe(0);
    expect(go.matching(/^OK \d+ 1000000$/)).toHaveLength(20);
    expect(accepted).toBe(20);
    expect(counters.pauses).toBeGreaterThan(0); // the budget ran out and the socket was paused
  }, 30_000);

  it('keep-alive both ways: NOPs keep an idle session alive past both timeouts', async () => {
    const { go, session } = await connectToGoServer(['-keepalive-ms', '100', '-timeout-ms', '500'], {
      keepAliveIntervalMs: 100,
      keepAliveTimeoutMs: 500,
    });
    await new Promise((r) => setTimeout(r, 1500)); // three timeouts on either side
    expect(session.closed).toBe(false);
    const r = await roundTrip(session, Buffer.from('still here'));
    expect(r.echoed.toString()).toBe('still here');
    expect(go.matching(/^CLOSED/)).toEqual([]);
  });

  it('Go closes a silent client (our keep-alive off) after its keep-alive timeout', async () => {
    const { session } = await connectToGoServer(['-keepalive-ms', '100', '-timeout-ms', '300'], {
      keepAliveIntervalMs: 0,
    });
    const closed = new Promise<{ reason: string }>((r) => session.onClose(r));
    const started = Date.now();
    expect((await closed).reason).toBe('connection closed');
    expect(Date.now() - started).toBeLessThan(3000); // Go: between one and two timeouts
  });

  it('version 2 (UPD windows) both ways, payloads well beyond the initial 256 KiB window', async () => {
    const { session } = await connectToGoServer(['-version', '2', '-keepalive-ms', '0'], {
      version: 2,
      keepAliveIntervalMs: 0,
      maxStreamBuffer: 32 * 1024,
    });
    const payloads = Array.from({ length: 10 }, () =>
      randomBytes(1_000_000 + Math.floor(Math.random() * 500_000)),
    );
    const results = await Promise.all(payloads.map((p) => roundTrip(session, p, false)));
    for (const [i, r] of results.entries())
      expect(r.echoed.equals(payloads[i]!), `stream ${r.id}`).toBe(true);

    const go = await serveGoClient(
      ['-version', '2', '-n', '10', '-size', '1500000', '-keepalive-ms', '0'],
      { version: 2 },
      (s) => s.onStream(echo),
    );
    expect(await go.exited).toBe(0);
    expect(go.matching(/^OK \d+ 1500000$/)).toHaveLength(10);
  }, 30_000);
});
