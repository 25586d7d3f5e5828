/**
 * A port forward: a local TCP listener whose connections reach a port on an instance
 * (AWS-StartPortForwardingSession) or a host the instance can reach
 * (AWS-StartPortForwardingSessionToRemoteHost), over one Session Manager session. The session
 * brings its reconnection (a dropped data channel resumes; open connections continue with no
 * byte lost); the mode follows the agent (multiplexed or one connection at a time). When the
 * session ends for good, every local connection is reset, the listener closes and `onClosed`
 * says why: nothing hangs.
 */
import type net from 'node:net';
import { silentLogger, type Logger } from '../../log/logger.js';
import {
  DisposableStore,
  Emitter,
  LatchedEmitter,
  type Disposable,
  type Event,
} from '../../util/lifecycle.js';
import type { ControlPlane } from '../control-plane.js';
import type { DataChannelOptions } from '../data-channel.js';
import { SessionTypeName } from '../handshake.js';
import { SsmSession, type ReconnectPolicy, type SessionClosed, type SessionState } from '../session.js';
import {
  agentAllowsSmuxWithoutKeepAlive,
  parsePortProperties,
  portMode,
  type PortMode,
} from './agent-features.js';
import { BasicForwarder } from './basic-forwarder.js';
import {
  ConnectionTable,
  type ForwardConnectionEvent,
  type ForwardConnectionInfo,
  type ForwardStats,
} from './connections.js';
import { boundPort, checkPort, listenLocal, PortForwardError } from './local-listener.js';
import { MuxForwarder } from './mux-forwarder.js';

export const PORT_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';

export interface PortForwardOptions {
  controlPlane: ControlPlane;
  /** The instance (i-...). */
  target: string;
  /** The port on the instance, or on `host`. */
  remotePort: number;
  /** A host reached from the instance (an RDS endpoint, another private address); default: the instance itself. */
  host?: string;
  /** The local port (0 or undefined: any free port). */
  localPort?: number;
  /** The local address (default 127.0.0.1). */
  localHost?: string;
  /** A custom port-forwarding document (default by `host`). */
  documentName?: string;
  reason?: string;
  reconnect?: Partial<ReconnectPolicy>;
  dataChannel?: Partial<Omit<DataChannelOptions, 'streamUrl' | 'tokenValue' | 'sessionId'>>;
  logger?: Logger;
}

export interface PortForwardClosed {
  reason: string;
  /** 'closed': on purpose; 'ended': the service or instance ended it; 'failed': it broke. */
  how: 'closed' | 'ended' | 'failed';
}

export class PortForward implements Disposable {
  private readonly store = new DisposableStore();
  private readonly table: ConnectionTable;
  private readonly _onClosed = new LatchedEmitter<PortForwardClosed>();
  private readonly _onState = new Emitter<SessionState>();
  readonly onClosed: Event<PortForwardClosed> = this._onClosed.event;
  readonly onStateChange: Event<SessionState> = this._onState.event;
  readonly onConnection: Event<ForwardConnectionEvent>;
  readonly startedAt = Date.now();
  private closedInfo: PortForwardClosed | undefined;
  private closing: string | undefined;

  private constructor(
    readonly session: SsmSession,
    private readonly server: net.Server,
    readonly mode: PortMode,
    readonly remotePort: number,
    readonly host: string | undefined,
    private readonly log: Logger,
  ) {
    this.table = this.store.add(new ConnectionTable());
    this.onConnection = this.table.onEvent;
    this.store.add(this._onClosed);
    this.store.add(this._onState);
    this.store.add(session.onStateChange((s) => this._onState.fire(s)));
    this.store.add(
      session.onClosed((c) => {
        const how: PortForwardClosed['how'] =
          this.closing !== undefined || c.how === 'terminated'
            ? 'closed'
            : c.how === 'ended'
              ? 'ended'
              : 'failed';
        this.finish({ reason: this.closing ?? c.reason, how });
      }),
    );
  }

  /** Listen locally, start the session and forward; rejects with a PortForwardError or the session's error. */
  static async open(options: PortForwardOptions): Promise<PortForward> {
    const remotePort = checkPort(options.remotePort, 'The remote port');
    if (remotePort === undefined || remotePort === 0)
      throw new PortForwardError('invalid-port', 'The remote port must be a port number from 1 to 65535.');
    const localPort = checkPort(options.localPort, 'The local port') ?? 0;
    const log = (options.logger ?? silentLogger).child({ target: options.target, remotePort });
    // The listener first: a port in use fails here, before a session is started for nothing.
    const server = await listenLocal({
      port: localPort,
      ...(options.localHost ? { host: options.localHost } : {}),
    });
    // Connections that arrive before the handshake completes wait here (paused), then are served.
    const early: net.Socket[] = [];
    const hold = (s: net.Socket): void => void early.push(s);
    server.on('connection', hold);
    let session: SsmSession;
    try {
      session = await SsmSession.open({
        controlPlane: options.controlPlane,
        target: options.target,
        documentName: options.documentName ?? (options.host ? REMOTE_HOST_DOCUMENT : PORT_DOCUMENT),
        parameters: {
          portNumber: [String(remotePort)],
          localPortNumber: [String(boundPort(server))],
          ...(options.host ? { host: [options.host] } : {}),
        },
        ...(options.reason ? { reason: options.reason } : {}),
        ...(options.reconnect ? { reconnect: options.reconnect } : {}),
        dataChannel: { ...options.dataChannel, supportedSessionTypes: [SessionTypeName.Port] },
        logger: log,
      });
    } catch (err) {
      server.off('connection', hold);
      for (const s of early) s.destroy();
      server.close();
      throw err;
    }
    const handshake = session.handshake;
    const properties = parsePortProperties(handshake?.sessionProperties);
    const mode = portMode(properties, handshake?.agentVersion ?? '');
    if (handshake?.sessionType !== SessionTypeName.Port || mode === 'stream') {
      server.off('connection', hold);
      for (const s of early) s.destroy();
      server.close();
      await session.terminate('not a port-forwarding session').catch(() => undefined);
      throw new PortForwardError(
        'listen-failed',
        `The document ${options.documentName ?? PORT_DOCUMENT} started a ${handshake?.sessionType ?? 'unknown'} session${handshake?.sessionType === SessionTypeName.Port ? ' without the LocalPortForwarding type' : ''}, not a port forward.`,
      );
    }
    const forward = new PortForward(session, server, mode, remotePort, options.host, log);
    const target = options.host
      ? `${options.host}:${remotePort} (through ${options.target})`
      : `port ${remotePort} on ${options.target}`;
    forward.store.add(
      mode === 'multiplexed'
        ? new MuxForwarder(session, server, forward.table, {
            keepAlive: !agentAllowsSmuxWithoutKeepAlive(handshake.agentVersion),
            target,
            logger: log,
          })
        : new BasicForwarder(session, server, forward.table, { target, logger: log }),
    );
    server.off('connection', hold);
    for (const s of early) server.emit('connection', s);
    log.info(
      { mode, localPort: forward.localPort, agentVersion: handshake.agentVersion },
      'port forward open',
    );
    return forward;
  }

  get sessionId(): string {
    return this.session.sessionId;
  }
  get target(): string {
    return this.session.target;
  }
  get localPort(): number {
    return boundPort(this.server);
  }
  get localAddress(): string {
    const a = this.server.address();
    return typeof a === 'object' && a
      ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`
      : '';
  }
  get state(): SessionState {
    return this.session.state;
  }
  get closed(): PortForwardClosed | undefined {
    return this.closedInfo;
  }
  get stats(): ForwardStats {
    return this.table.stats;
  }
  connections(): ForwardConnectionInfo[] {
    return this.table.list();
  }

  /** Stop forwarding: close the listener and every connection, end the session. */
  async close(reason = 'closed by the user'): Promise<void> {
    if (this.closedInfo) return;
    this.closing = reason;
    this.server.close();
    this.table.endAll(reason, false);
    await this.session.terminate(reason);
    this.finish({ reason, how: 'closed' });
  }

  private finish(info: PortForwardClosed): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    this.server.close();
    this.table.endAll(
      info.how === 'closed' ? info.reason : `the session ended: ${info.reason}`,
      info.how !== 'closed',
    );
    this.log.info(info, 'port forward closed');
    this._onClosed.fire(info);
  }

  dispose(): void {
    if (!this.closedInfo) {
      this.closing = 'disposed';
      this.session.dispose();
    }
    this.store.dispose();
    this.server.close();
  }
}

export type { SessionClosed };
