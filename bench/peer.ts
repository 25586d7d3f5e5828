/**
 * The far side of the benchmarks, in its own process (as the agent is on its own
 * machine): the sandbox, plus baselines with no Session Manager protocol:
 *  - raw WebSocket echo, and a raw WebSocket source that pushes N bytes in 1 KiB frames;
 *  - a raw WebSocket bridged to a bare PTY running the same shell the sandbox runs.
 * Prints one JSON line with the endpoints, then serves until stdin closes.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as pty from 'node-pty';
import { WebSocketServer } from 'ws';
import { startSandbox } from '../main/sandbox/server.js';
import { canStartSession } from '../main/sandbox/fleet.js';
import {
  MessageType,
  PAYLOAD_OFFSET,
  PayloadType,
  encodeChannelClosed,
  encodeMessage,
} from '../main/core/ssm/codec.js';

const dir = mkdtempSync(join(tmpdir(), 'ec2c-bench-'));
const bigFile = join(dir, 'big.txt');
const bigMb = Number(process.env.BENCH_BIG_MB ?? 64);
{
  // Base64 text in 76-column lines, as `base64` prints it.
  const raw = randomBytes(Math.ceil((bigMb * 1024 * 1024 * 3) / 4 / 57) * 57).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 76) lines.push(raw.slice(i, i + 76));
  writeFileSync(bigFile, lines.join('\n') + '\n');
}

const sandbox = await startSandbox({ port: 0, agent: { timeouts: { idleTimeoutMs: 0 } } });

const echo = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
echo.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    const text = data.toString();
    if (!isBinary && text.startsWith('PUSH ')) {
      // Push N bytes in 1 KiB binary frames, then a text "END".
      const n = Number(text.slice(5));
      const chunk = Buffer.alloc(1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < n) {
          ws.send(chunk.subarray(0, Math.min(1024, n - sent)));
          sent += 1024;
          if (ws.bufferedAmount > 8 * 1024 * 1024) {
            setImmediate(pump);
            return;
          }
        }
        ws.send('END');
      };
      pump();
      return;
    }
    ws.send(data, { binary: isBinary });
  });
});

const ptyServer = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
ptyServer.on('connection', (ws) => {
  const p = pty.spawn('/bin/bash', ['--noprofile', '--norc', '-i'], {
    name: 'xterm-256color',
    cols: 120,
    rows: 40,
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      TERM: 'xterm-256color',
      PS1: '[bench@baseline \\W]\\$ ',
    },
    encoding: null,
  });
  p.onData((d: string | Buffer) => {
    ws.send(d);
    if (ws.bufferedAmount > 4 * 1024 * 1024) {
      p.pause();
      const wait = (): void => {
        if (ws.bufferedAmount < 1024 * 1024) p.resume();
        else setTimeout(wait, 1);
      };
      wait();
    }
  });
  ws.on('message', (d) => p.write(d as Buffer));
  ws.on('close', () => p.kill());
});

/**
 * A replay agent: the cheapest possible far end, to measure our client alone. It answers the
 * handshake, then pushes pre-encoded 1 KiB output messages as fast as the socket takes them,
 * never decoding the client's acknowledgements, and ends with channel_closed.
 */
const replayBytes = Number(process.env.BENCH_REPLAY_MB ?? bigMb) * 1024 * 1024;
const replayFrames: Buffer[] = [];
{
  const chunk = Buffer.alloc(1024, 0x62);
  for (let seq = 2, sent = 0; sent < replayBytes; seq++, sent += 1024) {
    replayFrames.push(
      encodeMessage({
        messageType: MessageType.OutputStreamData,
        payload: chunk,
        payloadType: PayloadType.Output,
        sequenceNumber: seq,
      }),
    );
  }
}
const replay = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
replay.on('connection', (ws) => {
  const handshake = JSON.stringify({
    AgentVersion: '3.3.0.0',
    RequestedClientActions: [
      { ActionType: 'SessionType', ActionParameters: { SessionType: 'Standard_Stream' } },
    ],
  });
  const stream = (payloadType: number, payload: Buffer, sequenceNumber: number): Buffer =>
    encodeMessage({ messageType: MessageType.OutputStreamData, payload, payloadType, sequenceNumber });
  let started = false;
  ws.once('message', () => {
    ws.send(stream(PayloadType.HandshakeRequest, Buffer.from(handshake), 0));
    ws.on('message', (data: Buffer) => {
      // Only the handshake response matters; acknowledgements are not even decoded.
      if (started || data.length < PAYLOAD_OFFSET || data.readUInt32BE(112) !== PayloadType.HandshakeResponse)
        return;
      started = true;
      ws.send(stream(PayloadType.HandshakeComplete, Buffer.from('{}'), 1));
      let i = 0;
      const pump = (): void => {
        while (i < replayFrames.length) {
          ws.send(replayFrames[i++]!);
          if (ws.bufferedAmount > 8 * 1024 * 1024) {
            setImmediate(pump);
            return;
          }
        }
        ws.send(encodeChannelClosed('replay', 'replay done'));
      };
      pump();
    });
  });
});

await Promise.all(
  [echo, ptyServer, replay].map((s) => new Promise((r) => (s.address() ? r(null) : s.once('listening', r)))),
);
const port = (s: WebSocketServer) => (s.address() as AddressInfo).port;
process.stdout.write(
  JSON.stringify({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: {
      accessKeyId: sandbox.credentials.accessKeyId,
      secretAccessKey: sandbox.credentials.secretAccessKey,
    },
    instanceId: sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!
      .instanceId,
    adminToken: sandbox.adminToken,
    onlineInstanceIds: sandbox.fleet
      .list()
      .filter(canStartSession)
      .map((i) => i.instanceId),
    echoUrl: `ws://127.0.0.1:${port(echo)}`,
    ptyUrl: `ws://127.0.0.1:${port(ptyServer)}`,
    replayUrl: `ws://127.0.0.1:${port(replay)}/v1/data-channel/replay`,
    replayBytes: replayFrames.length * 1024,
    bigFile,
    bigBytes: (await import('node:fs')).statSync(bigFile).size,
  }) + '\n',
);

process.stdin.resume();
process.stdin.on('end', async () => {
  echo.close();
  ptyServer.close();
  replay.close();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
