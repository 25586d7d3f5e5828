/**
 * The agent's side of a port session in the sandbox, as amazon-ssm-agent's port plugin does it
 * (agent/session/plugins/port): multiplexed (an smux server; each stream dials the target; a
 * target that cannot be reached gets the ConnectToPortError flag and its stream closed) when
 * the document is a LocalPortForwarding one, the client is 1.1.70 or later and the instance's
 * agent is newer than 3.0.196.0 (older agents had no multiplexing), otherwise one
 * connection at a time (dialled at start; DisconnectToPort closes it and the next data dials
 * again; for SSH sessions the target closing ends the session).
 *
 * Targets are dialled on this computer: the instance's own ports are 127.0.0.1, and a remote
 * host must be a loopback name or address (the sandbox never reaches beyond this computer).
 * Port 80 of every instance is the demo page (demo-page.ts), so a forward works out of the box.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { FlagValue, PayloadType, encodeFlag } from '../../core/ssm/codec.js';
import {
  agentAllowsSmuxWithoutKeepAlive,
  agentSupportsMultiplexing,
  compareVersions,
  LOCAL_PORT_FORWARDING,
  type PortProperties,
} from '../../core/ssm/port/agent-features.js';
import { SmuxSession, type SmuxStream } from '../../core/ssm/port/smux/index.js';
import type { Logger } from '../../core/log/logger.js';
import { Emitter } from '../../core/util/lifecycle.js';
import { isLoopbackHost } from '../loopback.js';
import { DEMO_PORT, demoHttpConnection, type DemoInstance } from './demo-page.js';

/** Clients from this version on get multiplexed sessions (the agent's muxSupportedClientVersion). */
export const MUX_CLIENT_VERSION = '1.1.70';

export interface PortAgentHost {
  /** Queue a payload for the client (the agent's reliable stream). */
  send(payloadType: number, payload: Buffer): void;
  /** False while too much output is unacknowledged. */
  writable(): boolean;
  /** End the session (channel_closed with `reason`; empty: a normal end). */
  end(reason: string, exitCode?: number): void;
  log: Logger;
  /** Largest payload the agent sends (StreamDataPayloadSize). */
  payloadSize: number;
  /** Stop / resume reading the client's socket (backpressure from a slow target). */
  pauseInput(): void;
  resumeInput(): void;
}

export class PortAgent {
  private readonly port: number;
  private readonly host: string;
  readonly mode: 'multiplexed' | 'basic';
  private mux: SmuxSession | undefined;
  private readonly writableEvent = new Emitter<void>();
  private conn: Duplex | undefined;
  private dialing: Promise<Duplex> | undefined;
  private readonly sockets = new Set<Duplex>();
  private ended = false;

  constructor(
    private readonly agent: PortAgentHost,
    private readonly properties: PortProperties,
    clientVersion: string,
    /** The instance's agent version: agents up to 3.0.196.0 have no multiplexing at all. */
    private readonly agentVersion: string,
    /** Who answers on port 80 (the demo page). */
    private readonly instance: DemoInstance,
  ) {
    this.port = Number(properties.portNumber);
    this.host = properties.host?.trim() || '127.0.0.1';
    const localForwarding = properties.type === LOCAL_PORT_FORWARDING;
    this.mode =
      localForwarding &&
      agentSupportsMultiplexing(agentVersion) &&
      (compareVersions(clientVersion, MUX_CLIENT_VERSION) ?? -1) >= 0
        ? 'multiplexed'
        : 'basic';
  }

  /** Start serving; rejects (the session then ends) when a basic session cannot reach its target. */
  async start(): Promise<void> {
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new Error(
        `Port number is empty or invalid in session properties: "${this.properties.portNumber ?? ''}".`,
      );
    }
    if (this.mode === 'multiplexed') {
      const mux = new SmuxSession(
        {
          write: (chunk) => {
            this.sendChunked(PayloadType.Output, chunk);
            return this.agent.writable();
          },
          onWritable: this.writableEvent.event,
          // The receive budget is used up (a slow target): stop reading the client's socket.
          pause: () => this.agent.pauseInput(),
          resume: () => this.agent.resumeInput(),
        },
        {
          role: 'server',
          // Agents after 3.1.1511.0 no longer expect keep-alives (the plugin stops sending them).
          keepAliveIntervalMs: agentAllowsSmuxWithoutKeepAlive(this.agentVersion) ? 0 : 10_000,
          logger: this.agent.log,
        },
      );
      this.mux = mux;
      mux.onStream((stream) => this.serveStream(stream));
      mux.onClose(({ reason }) => {
        if (!this.ended) this.agent.log.info({ reason }, 'sandbox mux session closed');
      });
      return;
    }
    await this.dialBasic();
  }

  /** Output from the client. */
  input(payload: Buffer): void {
    if (this.ended) return;
    if (this.mux) {
      this.mux.feed(payload);
      return;
    }
    if (this.conn && !this.conn.destroyed) {
      this.conn.write(payload);
      return;
    }
    // DisconnectToPort closed the last connection: the next data dials again.
    this.dialBasic().then(
      (c) => c.write(payload),
      (err: Error) => this.agent.end(`Unable to connect to specified port: ${err.message}`),
    );
  }

  flag(value: number): void {
    if (value === FlagValue.DisconnectToPort && this.mode === 'basic') {
      const c = this.conn;
      this.conn = undefined;
      c?.destroy();
    }
  }

  /** The client acknowledged output: read the targets again. */
  writableChanged(): void {
    if (!this.agent.writable()) return;
    this.writableEvent.fire();
    for (const s of this.sockets) if (s.isPaused()) s.resume();
  }

  private sendChunked(payloadType: number, data: Buffer): void {
    for (let off = 0; off < data.length; off += this.agent.payloadSize) {
      this.agent.send(payloadType, data.subarray(off, Math.min(data.length, off + this.agent.payloadSize)));
    }
  }

  private dial(): Promise<Duplex> {
    if (this.port === DEMO_PORT && !this.properties.host?.trim()) {
      const conn = demoHttpConnection(this.instance);
      this.sockets.add(conn);
      conn.once('close', () => this.sockets.delete(conn));
      return Promise.resolve(conn);
    }
    if (!isLoopbackHost(this.host)) {
      return Promise.reject(
        new Error(
          `dial tcp ${this.host}:${this.port}: the sandbox reaches only loopback hosts (127.0.0.1, localhost)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      socket.once('connect', () => {
        socket.off('error', reject);
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`dial tcp ${this.host}:${this.port}: connect: ${err.code ?? err.message}`)),
      );
    });
  }

  private dialBasic(): Promise<Duplex> {
    this.dialing ??= this.dial().then(
      (socket) => {
        this.dialing = undefined;
        this.conn = socket;
        socket.on('data', (d: Buffer) => {
          this.sendChunked(PayloadType.Output, d);
          if (!this.agent.writable()) socket.pause();
        });
        socket.on('error', (err) => this.agent.log.debug({ err }, 'sandbox port target socket error'));
        socket.once('close', () => {
          if (this.conn === socket) this.conn = undefined;
          // SSH (and other stream sessions) end with their connection; port forwards wait for the next one.
          if (this.properties.type !== LOCAL_PORT_FORWARDING && !this.ended) this.agent.end('', 0);
        });
        return socket;
      },
      (err: unknown) => {
        this.dialing = undefined;
        throw err;
      },
    );
    return this.dialing;
  }

  private serveStream(stream: SmuxStream): void {
    // A stream fails when the session closes; it must never be an unhandled 'error'.
    let socket: Duplex | undefined;
    stream.on('error', () => socket?.destroy());
    this.dial().then(
      (s) => {
        socket = s;
        s.on('error', () => stream.destroy());
        s.pipe(stream);
        stream.pipe(s);
      },
      (err: Error) => {
        this.agent.log.info(
          { err: err.message, stream: stream.id },
          'sandbox could not dial the port target',
        );
        this.agent.send(PayloadType.Flag, encodeFlag(FlagValue.ConnectToPortError));
        stream.destroy(); // the agent's stream.Close()
      },
    );
  }

  dispose(): void {
    this.ended = true;
    this.mux?.close('session ended');
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.conn = undefined;
    this.writableEvent.dispose();
  }
}
