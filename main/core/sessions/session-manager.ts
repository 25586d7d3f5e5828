/**
 * The session manager: every open session of the app or a CLI process, each with a stable
 * local id, its AWS session id, instance, profile/region, state, byte counters and timing;
 * limits per instance and in total (a clear error, never a silent queue); typed events for
 * the UI, the store and the governor; graceful shutdown.
 *
 * It owns the SsmSession objects and everything they hold: closing a session (or the
 * manager) releases its socket, timers and listeners.
 */
import { randomUUID } from 'node:crypto';
import type { ControlPlane } from '../ssm/control-plane.js';
import {
  SsmSession,
  type ConnectionEvent,
  type ReconnectAttempt,
  type ReconnectPolicy,
  type SessionClosed,
  type SessionState,
} from '../ssm/session.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { startupGate, type StartupGate } from './startup-gate.js';
import { RECONNECT_POLICIES } from './reconnect-policies.js';
import { isLostConnection } from './persistent.js';
import { NetworkWatcher, type InterfacesProvider } from './network-watcher.js';
import { DisposableStore, Emitter, type Disposable, type Event } from '../util/lifecycle.js';

export interface SessionLimits {
  /** Open sessions allowed to one instance (0 = no limit). */
  maxSessionsPerInstance: number;
  /** Open sessions allowed in total (0 = no limit). */
  maxTotalSessions: number;
}

export const DEFAULT_LIMITS: SessionLimits = { maxSessionsPerInstance: 10, maxTotalSessions: 100 };

export { RECONNECT_POLICIES } from './reconnect-policies.js';

export interface OpenRequest {
  profile: string;
  region: string;
  target: string;
  documentName?: string;
  parameters?: Record<string, string[]>;
  reason?: string;
  cols?: number;
  rows?: number;
  /**
   * Typed into the session once it is up: after its first output (the shell's prompt), or after
   * STARTUP_INPUT_FALLBACK_MS without output. A client-side shell profile (`exec sudo -iu alice`,
   * `exec tmux new-session -A -s work`); include the line ending ("\r").
   */
  startupInput?: string;
}

/** The longest whenInputDelivered waits for the agent's acknowledgements. */
export const INPUT_DELIVERY_WAIT_MS = 10_000;

export { STARTUP_INPUT_FALLBACK_MS } from './startup-gate.js';

export interface ManagedSessionInfo {
  /** Stable local id (survives reconnects; what the UI and CLI address). */
  id: string;
  awsSessionId: string;
  instanceId: string;
  profile: string;
  region: string;
  state: SessionState;
  /** Set once closed. */
  closed?: SessionClosed;
  bytesIn: number;
  bytesOut: number;
  reconnects: number;
  /** Data-channel messages resent so far (a lossy or slow path). */
  retransmissions: number;
  /** host:port of the data channel's WebSocket (the ssmmessages endpoint), for latency probes. */
  dataChannelEndpoint: string;
  openedAt: string;
  /** StartSession to handshake complete, in ms. */
  openMs: number;
  lastActivityAt: string;
  /**
   * Set when the session is KMS-encrypted (the agent asked for it in the handshake): the key as
   * the Session Manager preferences name it. Fixed when the session opens; reconnects keep it.
   */
  encryption?: { kmsKeyId: string };
  /**
   * Set once closed when it closed while reconnecting, not by the user: the drop outlasted what
   * reconnection (the same token, then ResumeSession) could recover, so the service no longer
   * has the session. A new session can take its place (main/core/sessions/persistent.ts).
   */
  lostConnection?: boolean;
}

export class SessionLimitError extends Error {
  constructor(
    readonly limit: keyof SessionLimits,
    readonly current: number,
    readonly max: number,
    target: string,
  ) {
    super(
      limit === 'maxSessionsPerInstance'
        ? `${target} already has ${current} open sessions (shells and port forwards count alike), the most allowed per instance (max_sessions_per_instance = ${max}). Close one, or raise the limit in the configuration.`
        : `${current} sessions are open (shells and port forwards count alike), the most allowed in total (max_total_sessions = ${max}). Close one, or raise the limit in the configuration.`,
    );
    this.name = 'SessionLimitError';
  }
}

export class UnknownSessionError extends Error {
  constructor(id: string) {
    super(`no open session has the id ${id}; list them with \`ec2-connect sessions\``);
    this.name = 'UnknownSessionError';
  }
}

export interface SessionManagerOptions {
  /** The control plane for a profile and region (shared per profile/region by the caller). */
  controlPlaneFor: (profile: string, region: string) => ControlPlane;
  limits?: Partial<SessionLimits>;
  /**
   * The targets of sessions opened outside this manager that count against the same limits
   * (port forwards: each is a Session Manager session too).
   */
  otherSessions?: () => readonly string[];
  /** Reconnection policy (default RECONNECT_POLICIES.normal: 3 attempts, 2 s doubling to 16 s, jittered). */
  reconnect?: Partial<ReconnectPolicy>;
  logger?: Logger;
  flowControl?: Partial<FlowControlOptions>;
  /** Health checks of each data channel (config health_check_interval); see DataChannelOptions. */
  health?: { healthCheckIntervalMs?: number; deadAfterMs?: number };
  /** Watch the network interfaces and check every session at once when they change (default off). */
  watchNetwork?: { intervalMs?: number; provider?: InterfacesProvider } | boolean;
  /** Close sessions with no input or output for this long (0 = never; config inactive_timeout). */
  inactiveTimeoutMs?: number;
  /** Warn this long before closing an inactive session (default: a tenth of the timeout, at most 60 s). */
  inactiveWarningMs?: number;
}

interface Entry {
  info: ManagedSessionInfo;
  session: SsmSession;
  store: DisposableStore;
  /** performance.now() of the last input or output. */
  lastActivity: number;
  warned: boolean;
  /** Output delivered but not yet acknowledged by a consumer that opted into flow control. */
  flow: { unacked: number; paused: boolean } | undefined;
  /** Input goes through it: what the user types while the startup input waits follows it. */
  gate?: StartupGate;
  /** Reconnecting since the last time it was open (a close now means the connection was lost for good). */
  reconnecting?: boolean;
}

export interface FlowControlOptions {
  /** Pause the session's output when this many delivered bytes are unacknowledged (default 1 MiB). */
  highWaterBytes: number;
  /** Resume when acknowledgements bring it down to this (default 256 KiB). */
  lowWaterBytes: number;
}

export class SessionManager implements Disposable {
  private readonly entries = new Map<string, Entry>();
  /** Opens in flight count against the limits too, so concurrent opens cannot overshoot them. */
  private readonly pending = new Map<string, string>();
  private limits: SessionLimits;
  private flow: FlowControlOptions;
  private readonly log: Logger;
  private disposed = false;

  private readonly _onOpened = new Emitter<ManagedSessionInfo>();
  private readonly _onOutput = new Emitter<{ id: string; data: Buffer }>();
  private readonly _onState = new Emitter<{ id: string; state: SessionState }>();
  private readonly _onLatency = new Emitter<{ id: string; rttMs: number }>();
  private readonly _onClosed = new Emitter<ManagedSessionInfo>();
  private readonly _onConnection = new Emitter<{ id: string } & ConnectionEvent>();
  private readonly _onInactive = new Emitter<{ id: string; closesInMs: number }>();
  private readonly _onReconnectAttempt = new Emitter<{ id: string } & ReconnectAttempt>();
  /** A reconnect attempt of a session is scheduled (attempt n of max, after delayMs). */
  readonly onReconnectAttempt: Event<{ id: string } & ReconnectAttempt> = this._onReconnectAttempt.event;
  /** A session has been inactive long enough that it will be closed in `closesInMs` unless used. */
  readonly onInactiveWarning: Event<{ id: string; closesInMs: number }> = this._onInactive.event;
  private inactivityTimer: NodeJS.Timeout | undefined;
  private networkWatcher: NetworkWatcher | undefined;
  /** Connection changes by cause (network lost, agent unreachable/back, token expired, reconnected, ended elsewhere). */
  readonly onConnectionEvent: Event<{ id: string } & ConnectionEvent> = this._onConnection.event;
  readonly onOpened: Event<ManagedSessionInfo> = this._onOpened.event;
  /** Output of every session, in order per session. Listeners must not block. */
  readonly onOutput: Event<{ id: string; data: Buffer }> = this._onOutput.event;
  readonly onStateChanged: Event<{ id: string; state: SessionState }> = this._onState.event;
  /** Round-trip samples from acknowledgement timing (keystrokes and other input). */
  readonly onLatencySample: Event<{ id: string; rttMs: number }> = this._onLatency.event;
  readonly onClosed: Event<ManagedSessionInfo> = this._onClosed.event;

  constructor(private options: SessionManagerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.flow = { highWaterBytes: 1024 * 1024, lowWaterBytes: 256 * 1024, ...options.flowControl };
    if (options.watchNetwork) {
      const opts = options.watchNetwork === true ? {} : options.watchNetwork;
      this.networkWatcher = new NetworkWatcher(() => {
        this.log.info('network changed: checking every session now');
        this.checkHealthNow();
      }, opts);
    }
    this.log = options.logger ?? silentLogger;
  }

  /** Open a session; rejects with SessionLimitError when a limit is reached. */
  async open(req: OpenRequest): Promise<ManagedSessionInfo> {
    if (this.disposed) throw new Error('the session manager is shut down');
    this.checkLimits(req.target);
    const id = randomUUID();
    this.pending.set(id, req.target);
    let session: SsmSession;
    const t0 = performance.now();
    try {
      session = await SsmSession.open({
        controlPlane: this.options.controlPlaneFor(req.profile, req.region),
        target: req.target,
        ...(req.documentName ? { documentName: req.documentName } : {}),
        ...(req.parameters ? { parameters: req.parameters } : {}),
        ...(req.reason ? { reason: req.reason } : {}),
        ...(req.cols && req.rows ? { cols: req.cols, rows: req.rows } : {}),
        reconnect: { ...RECONNECT_POLICIES.normal, ...this.options.reconnect },
        ...(this.options.health ? { dataChannel: this.options.health } : {}),
        logger: this.log,
      });
    } finally {
      this.pending.delete(id);
    }
    if (this.disposed) {
      await session.terminate('the session manager shut down');
      session.dispose();
      throw new Error('the session manager is shut down');
    }
    const now = new Date().toISOString();
    const info: ManagedSessionInfo = {
      id,
      awsSessionId: session.sessionId,
      instanceId: req.target,
      profile: req.profile,
      region: req.region,
      state: session.state,
      bytesIn: 0,
      bytesOut: 0,
      reconnects: 0,
      retransmissions: 0,
      dataChannelEndpoint: '',
      openedAt: now,
      openMs: performance.now() - t0,
      lastActivityAt: now,
      ...encryptionOf(session),
    };
    const store = new DisposableStore();
    const entry: Entry = {
      info,
      session,
      store,
      lastActivity: performance.now(),
      warned: false,
      flow: undefined,
    };
    this.entries.set(id, entry);
    store.add(
      session.onOutput((data) => {
        info.bytesIn += data.length;
        entry.lastActivity = performance.now();
        entry.warned = false;
        const flow = entry.flow;
        if (flow) {
          flow.unacked += data.length;
          if (!flow.paused && flow.unacked >= this.flow.highWaterBytes) {
            flow.paused = true;
            session.pauseOutput();
          }
        }
        this._onOutput.fire({ id, data });
      }),
    );
    store.add(
      session.onStderr((data) => {
        info.bytesIn += data.length;
        this._onOutput.fire({ id, data });
      }),
    );
    store.add(
      session.channel.onAck(({ rttMs }) => {
        if (rttMs !== undefined) this._onLatency.fire({ id, rttMs });
      }),
    );
    store.add(
      session.onStateChange((state) => {
        info.state = state;
        if (state === 'reconnecting') entry.reconnecting = true;
        else if (state === 'open') entry.reconnecting = false;
        info.reconnects = session.reconnects;
        this._onState.fire({ id, state });
      }),
    );
    store.add(session.onConnectionEvent((event) => this._onConnection.fire({ id, ...event })));
    store.add(session.onReconnectAttempt((a) => this._onReconnectAttempt.fire({ id, ...a })));
    store.add(
      session.onClosed((closed) => {
        if (isLostConnection(entry.reconnecting === true, closed)) info.lostConnection = true;
        this.retire(id, closed);
      }),
    );
    if (req.startupInput) this.typeStartupInput(entry, req.startupInput);
    this._onOpened.fire({ ...info });
    this.scheduleInactivityScan();
    return { ...info };
  }

  /** Type `input` once the session has printed something (its prompt), or after a silent while. */
  private typeStartupInput(entry: Entry, input: string): void {
    entry.info.bytesOut += Buffer.byteLength(input);
    entry.gate = entry.store.add(startupGate(entry.session, input));
  }

  /** One timer for all sessions, running only while there are sessions and a timeout is set. */
  private scheduleInactivityScan(): void {
    const timeout = this.options.inactiveTimeoutMs ?? 0;
    if (timeout <= 0 || this.inactivityTimer || this.entries.size === 0 || this.disposed) return;
    const every = Math.max(50, Math.min(1_000, Math.floor(timeout / 10)));
    this.inactivityTimer = setInterval(() => this.scanInactivity(timeout), every);
    this.inactivityTimer.unref?.();
  }

  private scanInactivity(timeout: number): void {
    if (this.entries.size === 0) {
      clearInterval(this.inactivityTimer);
      this.inactivityTimer = undefined;
      return;
    }
    const warnBefore = this.options.inactiveWarningMs ?? Math.min(60_000, Math.floor(timeout / 10));
    const now = performance.now();
    for (const [id, e] of this.entries) {
      const idle = now - e.lastActivity;
      if (idle >= timeout) {
        const minutes =
          timeout >= 60_000 ? `${Math.round(timeout / 60_000)} min` : `${Math.round(timeout / 1000)} s`;
        void e.session.terminate(`closed after ${minutes} without activity (inactive_timeout)`);
      } else if (!e.warned && idle >= timeout - warnBefore) {
        e.warned = true;
        this._onInactive.fire({ id, closesInMs: Math.max(0, Math.round(timeout - idle)) });
      }
    }
  }

  /**
   * Throw SessionLimitError when one more session to `target` would pass a limit (shells of this
   * manager and `otherSessions` together); for sessions opened elsewhere, such as port forwards.
   */
  checkAdmission(target: string): void {
    this.checkLimits(target);
  }

  private checkLimits(target: string): void {
    const { maxSessionsPerInstance, maxTotalSessions } = this.limits;
    const others = this.options.otherSessions?.() ?? [];
    const total = this.entries.size + this.pending.size + others.length;
    if (maxTotalSessions > 0 && total >= maxTotalSessions) {
      throw new SessionLimitError('maxTotalSessions', total, maxTotalSessions, target);
    }
    if (maxSessionsPerInstance > 0) {
      let onTarget = 0;
      for (const e of this.entries.values()) if (e.info.instanceId === target) onTarget++;
      for (const t of this.pending.values()) if (t === target) onTarget++;
      for (const t of others) if (t === target) onTarget++;
      if (onTarget >= maxSessionsPerInstance) {
        throw new SessionLimitError('maxSessionsPerInstance', onTarget, maxSessionsPerInstance, target);
      }
    }
  }

  private retire(id: string, closed: SessionClosed): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    entry.info.state = 'closed';
    entry.info.closed = closed;
    entry.store.dispose();
    entry.session.dispose();
    this._onClosed.fire(this.snapshot(entry));
  }

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new UnknownSessionError(id);
    return e;
  }

  /** The public view of a session, with the derived fields brought up to date. */
  private snapshot(e: Entry): ManagedSessionInfo {
    const lastActivityAt = new Date(Date.now() - (performance.now() - e.lastActivity)).toISOString();
    return {
      ...e.info,
      reconnects: e.session.reconnects,
      retransmissions: e.session.channel.stats.retransmissions,
      dataChannelEndpoint: endpointOf(e.session.channel.url),
      lastActivityAt,
    };
  }

  /**
   * Change settings of a running manager (the configuration changed): limits and flow control
   * apply at once, the inactive timeout at its next check; reconnection and health checks apply
   * to sessions opened from now on.
   */
  configure(
    options: Pick<
      SessionManagerOptions,
      'limits' | 'reconnect' | 'health' | 'inactiveTimeoutMs' | 'flowControl'
    >,
  ): void {
    if (options.limits) this.limits = { ...this.limits, ...options.limits };
    if (options.flowControl) this.flow = { ...this.flow, ...options.flowControl };
    const timeoutChanged =
      options.inactiveTimeoutMs !== undefined && options.inactiveTimeoutMs !== this.options.inactiveTimeoutMs;
    this.options = { ...this.options, ...options };
    if (timeoutChanged) {
      if (this.inactivityTimer) clearInterval(this.inactivityTimer);
      this.inactivityTimer = undefined;
      this.scheduleInactivityScan();
    }
  }

  /** The limits in force. */
  get currentLimits(): SessionLimits {
    return { ...this.limits };
  }

  list(): ManagedSessionInfo[] {
    return [...this.entries.values()].map((e) => this.snapshot(e));
  }

  get(id: string): ManagedSessionInfo | undefined {
    const e = this.entries.get(id);
    return e && this.snapshot(e);
  }

  write(id: string, data: Buffer | string): void {
    const e = this.entry(id);
    const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    e.info.bytesOut += n;
    e.lastActivity = performance.now();
    e.warned = false;
    if (e.gate) e.gate.write(data);
    else e.session.write(data);
  }

  /**
   * Resolves true once the agent has acknowledged every byte written to this session so far;
   * false when the session closes first or after `waitMs` (the input stays queued and is resent:
   * a slow or broken link never holds the caller forever). The renderer waits on it between the
   * pieces of a paste, so only a bounded amount of a paste is ever in flight and cancelling it
   * really stops sending.
   */
  whenInputDelivered(id: string, waitMs: number = INPUT_DELIVERY_WAIT_MS): Promise<boolean> {
    return this.entry(id).session.whenDelivered(waitMs);
  }

  resize(id: string, cols: number, rows: number): void {
    this.entry(id).session.resize(cols, rows);
  }

  /** Disconnect a session but keep it on the service, to attach again later (a suspended tab, a laptop lid). */
  detach(id: string): void {
    this.entry(id).session.detach();
  }

  /** Reconnect a detached session; output resumes where it stopped. */
  attach(id: string): Promise<void> {
    return this.entry(id).session.attach();
  }

  /** End a session on purpose (TerminateSession); resolves when it is closed. */
  async terminate(id: string, reason = 'closed by the user'): Promise<void> {
    const e = this.entry(id);
    await e.session.terminate(reason);
  }

  /**
   * Opt a session into flow control: its consumer (a terminal that draws slowly, the bridge)
   * acknowledges what it has processed with acknowledgeOutput; above the high-water mark the
   * session stops taking output from the network until acknowledgements catch up, so memory
   * never grows without bound and the remote program is slowed down instead.
   */
  enableFlowControl(id: string): void {
    this.entry(id).flow ??= { unacked: 0, paused: false };
  }

  acknowledgeOutput(id: string, bytes: number): void {
    const e = this.entries.get(id);
    const flow = e?.flow;
    if (!e || !flow) return;
    flow.unacked = Math.max(0, flow.unacked - bytes);
    if (flow.paused && flow.unacked <= this.flow.lowWaterBytes) {
      flow.paused = false;
      e.session.resumeOutput();
    }
  }

  /** The system woke from sleep (the app's power monitor calls this): check every session now. */
  onSystemResume(): void {
    this.checkHealthNow();
  }

  /** Laptop resume or network change: check every session now instead of waiting for timeouts. */
  checkHealthNow(withinMs?: number): void {
    for (const e of this.entries.values()) e.session.checkHealthNow(withinMs);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Terminate every session (in parallel), then release everything. */
  async shutdown(reason = 'EC2 Connect is shutting down'): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([...this.entries.values()].map((e) => e.session.terminate(reason)));
    this.dispose();
  }

  dispose(): void {
    this.disposed = true;
    if (this.inactivityTimer) clearInterval(this.inactivityTimer);
    this.inactivityTimer = undefined;
    this.networkWatcher?.dispose();
    this.networkWatcher = undefined;
    for (const id of [...this.entries.keys()])
      this.retire(id, { reason: 'disposed', how: 'terminated', exitCode: undefined });
    for (const em of [
      this._onOpened,
      this._onOutput,
      this._onState,
      this._onLatency,
      this._onClosed,
      this._onConnection,
      this._onInactive,
      this._onReconnectAttempt,
    ]) {
      em.dispose();
    }
  }
}

/** The session's KMS encryption, as ManagedSessionInfo carries it (nothing when not encrypted). */
function encryptionOf(session: SsmSession): Pick<ManagedSessionInfo, 'encryption'> {
  // An encrypted handshake always names its key (the agent's KMSEncryption action carries it).
  const { encrypted, kmsKeyId } = session.handshake ?? {};
  return encrypted && kmsKeyId ? { encryption: { kmsKeyId } } : {};
}

/** host:port of a ws(s) URL, with the scheme's default port made explicit. */
function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'ws:' || u.protocol === 'http:' ? '80' : '443');
    return `${u.hostname}:${port}`;
  } catch {
    return '';
  }
}
