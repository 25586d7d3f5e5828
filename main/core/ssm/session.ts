/**
 * One Session Manager session end to end: StartSession on the control plane, the data
 * channel with its handshake, and recovery from a dropped socket (reopen with the same
 * token, then ResumeSession for a fresh one) without losing or repeating a byte.
 * The session manager (main/core/sessions/) owns many of these.
 */
import { ControlPlane, type StartSessionInput } from './control-plane.js';
import { DataChannel, type DataChannelOptions, type HandshakeInfo } from './data-channel.js';
import { silentLogger, type Logger } from '../log/logger.js';
import {
  BufferedEmitter,
  DisposableStore,
  Emitter,
  LatchedEmitter,
  type Disposable,
  type Event,
} from '../util/lifecycle.js';

export interface ReconnectPolicy {
  /** Attempts after a drop before the session is given up (default 5, as the plugin). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Fraction of each delay that is randomised (0..1). */
  jitter: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  jitter: 0.5,
};

export interface SessionOpenOptions extends StartSessionInput {
  controlPlane: ControlPlane;
  logger?: Logger;
  cols?: number;
  rows?: number;
  reconnect?: Partial<ReconnectPolicy>;
  dataChannel?: Partial<Omit<DataChannelOptions, 'streamUrl' | 'tokenValue' | 'sessionId'>>;
  handshakeTimeoutMs?: number;
}

export type SessionState = 'connecting' | 'open' | 'reconnecting' | 'detached' | 'closed';

export interface SessionClosed {
  reason: string;
  /** 'ended': the shell or the service ended it; 'terminated': we did; 'failed': it broke. */
  how: 'ended' | 'terminated' | 'failed';
  exitCode: number | undefined;
}

/**
 * Why a connection changed: the network (socket closed or silent), the agent (the service paused
 * publication: the instance's agent is unreachable; resumed when it is back), the token (the data
 * channel refused it), or the session ended elsewhere (terminated, timed out).
 */
export interface ConnectionEvent {
  kind:
    'network-lost' | 'agent-unreachable' | 'agent-back' | 'token-expired' | 'reconnected' | 'ended-elsewhere';
  detail: string;
}

export interface ReconnectAttempt {
  attempt: number;
  maxAttempts: number;
  /** How long until this attempt is made. */
  delayMs: number;
  /** What broke the connection. */
  cause: string;
}

export interface SessionTimings {
  /** StartSession call. */
  startSessionMs: number;
  /** WebSocket open + token frame. */
  connectMs: number;
  /** Open to HandshakeComplete. */
  handshakeMs: number;
  /** From the start of `open` to the first output byte (set when it arrives). */
  firstOutputMs?: number;
}

export class SsmSession implements Disposable {
  private readonly store = new DisposableStore();
  private _state: SessionState = 'connecting';
  private closedInfo: SessionClosed | undefined;
  private reconnecting: Promise<void> | undefined;
  private readonly policy: ReconnectPolicy;
  private readonly log: Logger;
  private readonly openedAt: number;
  readonly timings: SessionTimings = { startSessionMs: 0, connectMs: 0, handshakeMs: 0 };
  reconnects = 0;
  private terminating: string | undefined;
  private detaching = false;

  // Output that arrives with the handshake can come before the caller of open() subscribes:
  // it is kept for the first listener rather than lost.
  private readonly _onOutput = this.store.add(new BufferedEmitter<Buffer>());
  private readonly _onStderr = this.store.add(new BufferedEmitter<Buffer>());
  private readonly _onState = this.store.add(new Emitter<SessionState>());
  /** Late subscribers (a command that ended before they listened) still learn how it closed. */
  private readonly _onClosed = this.store.add(new LatchedEmitter<SessionClosed>());
  readonly onOutput: Event<Buffer> = this._onOutput.event;
  /** Standard error of a non-interactive command (shells have only one stream). */
  readonly onStderr: Event<Buffer> = this._onStderr.event;
  readonly onStateChange: Event<SessionState> = this._onState.event;
  readonly onClosed: Event<SessionClosed> = this._onClosed.event;
  private readonly _onConnection = this.store.add(new Emitter<ConnectionEvent>());
  /** What happened to the connection, by cause: for notifications and the session history. */
  readonly onConnectionEvent: Event<ConnectionEvent> = this._onConnection.event;
  private readonly _onReconnectAttempt = this.store.add(new Emitter<ReconnectAttempt>());
  /** A reconnect attempt is scheduled (before its back-off delay): for "attempt 2 of 3" in the UI. */
  readonly onReconnectAttempt: Event<ReconnectAttempt> = this._onReconnectAttempt.event;

  private constructor(
    readonly sessionId: string,
    readonly target: string,
    readonly channel: DataChannel,
    private readonly controlPlane: ControlPlane,
    options: SessionOpenOptions,
    openedAt: number,
  ) {
    this.openedAt = openedAt;
    this.policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.log = (options.logger ?? silentLogger).child({ sessionId });
    this.store.add(channel);
    this.store.add(
      channel.onOutput((b) => {
        if (this.timings.firstOutputMs === undefined)
          this.timings.firstOutputMs = performance.now() - this.openedAt;
        this._onOutput.fire(b);
      }),
    );
    this.store.add(channel.onStderr((b) => this._onStderr.fire(b)));
    this.store.add(
      channel.onDisconnected((err) => {
        this._onConnection.fire({ kind: 'network-lost', detail: err.message });
        void this.recover(err);
      }),
    );
    this.store.add(
      channel.onPublication((paused) =>
        this._onConnection.fire(
          paused
            ? {
                kind: 'agent-unreachable',
                detail: 'the instance agent is not reachable; input is held until it is back',
              }
            : { kind: 'agent-back', detail: 'the instance agent is reachable again' },
        ),
      ),
    );
    this.store.add(
      channel.onClosed((info) => {
        if (this.terminating !== undefined) {
          this.finish({ reason: this.terminating, how: 'terminated', exitCode: channel.exitCode });
          return;
        }
        if (info.cause === 'channel_closed' && !info.reason.startsWith('Exiting session')) {
          this._onConnection.fire({ kind: 'ended-elsewhere', detail: info.reason });
        }
        const how =
          info.cause === 'local' ? 'terminated' : info.cause === 'channel_closed' ? 'ended' : 'failed';
        this.finish({ reason: info.reason, how, exitCode: channel.exitCode });
      }),
    );
  }

  /** Start a session and resolve once its handshake is complete. */
  static async open(options: SessionOpenOptions): Promise<SsmSession> {
    const t0 = performance.now();
    const started = await options.controlPlane.startSession(options);
    const t1 = performance.now();
    // The data channel follows the control plane's proxy and CA settings unless told otherwise.
    const network = options.dataChannel?.network ?? options.controlPlane.network;
    // KMS-encrypted sessions get their data keys from the same profile's KMS.
    const dataKeys = options.dataChannel?.encryption?.dataKeys ?? options.controlPlane.kmsDataKeys;
    const channel = new DataChannel({
      ...options.dataChannel,
      ...(network ? { network } : {}),
      ...(dataKeys ? { encryption: { dataKeys, targetId: options.target } } : {}),
      streamUrl: started.streamUrl,
      tokenValue: started.tokenValue,
      sessionId: started.sessionId,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    if (options.cols && options.rows) channel.resize(options.cols, options.rows);
    const session = new SsmSession(
      started.sessionId,
      options.target,
      channel,
      options.controlPlane,
      options,
      t0,
    );
    session.timings.startSessionMs = t1 - t0;
    try {
      await channel.open();
      const t2 = performance.now();
      session.timings.connectMs = t2 - t1;
      const info: HandshakeInfo = await channel.waitReady(options.handshakeTimeoutMs ?? 15_000);
      session.timings.handshakeMs = info.handshakeMs;
      session.setState('open');
      return session;
    } catch (err) {
      // Do not leave a half-open session on the service.
      await options.controlPlane.terminateSession(started.sessionId).catch(() => {});
      session.dispose();
      throw err;
    }
  }

  get state(): SessionState {
    return this._state;
  }
  get closed(): SessionClosed | undefined {
    return this.closedInfo;
  }
  get handshake(): HandshakeInfo | undefined {
    return this.channel.handshakeInfo;
  }

  private setState(s: SessionState): void {
    if (this._state === s || this._state === 'closed') return;
    this._state = s;
    this._onState.fire(s);
  }

  write(data: Buffer | string): void {
    this.channel.write(data);
  }

  resize(cols: number, rows: number): void {
    this.channel.resize(cols, rows);
  }

  /**
   * Resolves true once the agent has acknowledged all input written so far, false when the
   * session closes first or after `waitMs` (see DataChannel.whenDelivered).
   */
  whenDelivered(waitMs: number): Promise<boolean> {
    return this.channel.whenDelivered(waitMs);
  }

  /**
   * Disconnect without ending the session: the service keeps it (for its reconnect window) and
   * `attach` picks it up again with no byte lost.
   */
  detach(): void {
    if (this._state === 'closed' || this._state === 'detached') return;
    this.detaching = true;
    this.channel.suspend();
    this.setState('detached');
  }

  /** Reconnect a detached session. */
  attach(): Promise<void> {
    if (this._state !== 'detached') return Promise.resolve();
    this.detaching = false;
    return this.recover(new Error('attaching a detached session'));
  }

  /** Stop taking output (a consumer that cannot keep up); see DataChannel.pauseOutput. */
  pauseOutput(): void {
    this.channel.pauseOutput();
  }

  resumeOutput(): void {
    this.channel.resumeOutput();
  }

  /** Check the connection now (after a resume or a network change) rather than at the next interval. */
  checkHealthNow(withinMs?: number): void {
    if (this._state === 'open') this.channel.checkHealthNow(withinMs);
  }

  /** Drop the socket as a network fault would (tests, health checks). */
  simulateNetworkDrop(): void {
    this.channel.simulateDrop();
  }

  private recover(cause: Error): Promise<void> {
    if (this._state === 'closed' || this.detaching) return Promise.resolve();
    if (this.reconnecting) return this.reconnecting;
    this.setState('reconnecting');
    this.log.warn({ err: cause }, 'data channel dropped; reconnecting');
    this.reconnecting = this.reconnectLoop(cause).finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  private async reconnectLoop(cause: Error): Promise<void> {
    let lastError: Error = cause;
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      if (this.isClosed()) return;
      const delayMs = this.backoff(attempt);
      this._onReconnectAttempt.fire({
        attempt,
        maxAttempts: this.policy.maxAttempts,
        delayMs,
        cause: lastError.message,
      });
      await delay(delayMs);
      if (this.isClosed()) return;
      try {
        // First try the current token (a short blip); then, or at once if the data channel
        // refused the token (it expires), a fresh one from ResumeSession.
        if (attempt > 1 || this.channel.tokenRejected) {
          if (this.channel.tokenRejected)
            this._onConnection.fire({
              kind: 'token-expired',
              detail: 'the data channel refused the session token; asking ResumeSession for a new one',
            });
          const resumed = await this.controlPlane.resumeSession(this.sessionId);
          if (!resumed) {
            this.finish({
              reason: `Session ${this.sessionId} timed out.`,
              how: 'ended',
              exitCode: undefined,
            });
            return;
          }
          await this.channel.reconnect(resumed.tokenValue, resumed.streamUrl || undefined);
        } else {
          await this.channel.reconnect();
        }
        this.reconnects++;
        this.setState('open');
        this._onConnection.fire({
          kind: 'reconnected',
          detail: `after ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}`,
        });
        return;
      } catch (err) {
        lastError = err as Error;
        if ((err as { code?: string }).code === 'DoesNotExistException') {
          this.finish({
            reason: `Session ${this.sessionId} no longer exists.`,
            how: 'ended',
            exitCode: undefined,
          });
          return;
        }
        this.log.warn({ err, attempt }, 'reconnect attempt failed');
      }
    }
    this.finish({
      reason: `lost the connection to the session and could not reconnect after ${this.policy.maxAttempts} attempts: ${lastError.message}`,
      how: 'failed',
      exitCode: undefined,
    });
  }

  private isClosed(): boolean {
    return this._state === 'closed';
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(base * (1 - this.policy.jitter * Math.random()));
  }

  /** End the session on purpose: tell the agent, call TerminateSession, release everything. */
  async terminate(reason = 'closed by the user'): Promise<void> {
    if (this._state === 'closed') return;
    // The agent may answer our terminate flag with channel_closed before close() returns: it
    // is still our termination, with our reason.
    this.terminating = reason;
    await this.channel.close(reason);
    await this.controlPlane.terminateSession(this.sessionId).catch((err: unknown) => {
      this.log.warn({ err }, 'TerminateSession failed');
    });
    this.finish({ reason, how: 'terminated', exitCode: undefined });
  }

  private finish(info: SessionClosed): void {
    if (this._state === 'closed') return;
    this.closedInfo = info;
    this._state = 'closed';
    this._onState.fire('closed');
    this._onClosed.fire(info);
    this.channel.dispose();
  }

  dispose(): void {
    if (this._state !== 'closed') this.finish({ reason: 'disposed', how: 'terminated', exitCode: undefined });
    this.store.dispose();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
