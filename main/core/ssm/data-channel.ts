/**
 * Client side of a Session Manager data channel: the WebSocket to StreamUrl, the
 * open frame with the token, the handshake, input/output streams, terminal size,
 * flags and channel_closed, over a StreamEndpoint that makes the stream reliable.
 *
 * The socket can be replaced (`reconnect`) without losing a byte: the endpoint keeps
 * its sequence numbers, its unacknowledged input and its out-of-order buffer.
 *
 * KMS encryption (when the agent's handshake asks for it): a data key from KMS, its ciphertext
 * in the HandshakeResponse, the agent's encryption challenge answered, then keystrokes (Output)
 * sealed and the agent's Output, StdErr and ExitCode opened (kms/session-cipher.ts). The cipher
 * belongs to the channel, so it outlives reconnections.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { FlagValue, MessageType, PayloadType, encodeFlag, type ClientMessage } from './codec.js';
import {
  ActionStatus,
  ActionType,
  EncryptionChallengeSchema,
  HandshakeCompleteSchema,
  HandshakeRequestSchema,
  type HandshakeRequest,
  KmsParametersSchema,
  SessionTypeName,
  SessionTypeParametersSchema,
  parsePayload,
  type HandshakeResponse,
  type KmsEncryptionResult,
  type ProcessedClientAction,
  type TerminalSize,
} from './handshake.js';
import { SessionCipher } from './kms/session-cipher.js';
import { sessionEncryptionContext, type DataKeyProvider } from './kms/data-key-provider.js';
import { createWsTransport, socketOf } from './ws-transport.js';
import { scheduleHealthCheck } from './health-scheduler.js';
import { StreamEndpoint, type StreamEndpointOptions, type StreamStats } from './stream-endpoint.js';
import { PROTOCOL_CLIENT_VERSION } from '../version.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { WebSocketNetwork } from '../net/network.js';
import { DisposableStore, Emitter, LatchedEmitter, type Event, type Disposable } from '../util/lifecycle.js';

/** Largest input payload we send in one message (the agent reads its input in 1 KiB units). */
export const MAX_INPUT_CHUNK = 1024;

export interface DataChannelOptions {
  streamUrl: string;
  tokenValue: string;
  sessionId: string;
  /** Fixed for the life of the client process. */
  clientId?: string;
  clientVersion?: string;
  logger?: Logger;
  /** Time allowed for the WebSocket to open (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Health check: when nothing has been heard from the data channel for this long, send a
   * WebSocket ping (default 500 ms; 0 disables). The reference client pings every 5 minutes.
   */
  healthCheckIntervalMs?: number;
  /** Declare the socket dead after this long without a message or pong (default 3 intervals, 1.5 s: a dead network is noticed within 2 s, and a pong has a second to come back). */
  deadAfterMs?: number;
  endpoint?: Omit<StreamEndpointOptions, 'sendType'>;
  /** Session types this client can run (default: shell and interactive commands). */
  supportedSessionTypes?: string[];
  /**
   * Proxy and CA bundle for the WebSocket (asked per URL: the StreamUrl can change on
   * reconnection). SsmSession passes its control plane's Network. Default: a direct connection.
   */
  network?: WebSocketNetwork;
  /**
   * KMS encryption: where data keys come from (the profile's KMS) and the session's target,
   * which names the key's encryption context. Without it, a session that requires KMS
   * encryption is refused with a message naming the key.
   */
  encryption?: { dataKeys: DataKeyProvider; targetId: string };
}

export interface HandshakeInfo {
  agentVersion: string;
  sessionType: string;
  sessionProperties: unknown;
  customerMessage: string;
  /** From the WebSocket open to HandshakeComplete, in ms. */
  handshakeMs: number;
  /** True when the session is KMS-encrypted. */
  encrypted: boolean;
  /** The KMS key the agent asked for (as the Session Manager preferences name it), when encrypted. */
  kmsKeyId?: string;
}

export type CloseCause =
  /** The service sent channel_closed (session ended on the instance, terminated elsewhere, timed out). */
  | 'channel_closed'
  /** We closed it. */
  | 'local'
  /** The handshake asked for something we cannot do (unknown session type, KMS without a key provider). */
  | 'handshake_failed'
  /** KMS encryption could not be set up (KMS refused the data key, the challenge failed) or a payload did not decrypt. */
  | 'encryption_failed'
  /** The peer stopped acknowledging for the whole resend budget. */
  | 'resend_exhausted';

export interface ChannelCloseInfo {
  cause: CloseCause;
  reason: string;
}

export class DataChannelError extends Error {
  constructor(
    readonly code:
      | 'connect_failed'
      | 'connect_timeout'
      | 'handshake_failed'
      | 'unsupported_kms'
      | 'encryption_failed'
      | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'DataChannelError';
  }
}

export type DataChannelState = 'idle' | 'connecting' | 'handshaking' | 'open' | 'disconnected' | 'closed';

export class DataChannel implements Disposable {
  readonly clientId: string;
  readonly sessionId: string;
  private readonly log: Logger;
  private readonly endpoint: StreamEndpoint;
  private ws: WebSocket | undefined;
  private streamUrl: string;
  private tokenValue: string;
  private healthCheck: Disposable | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastHeard = 0;
  private deadReason: string | undefined;
  private _tokenRejected = false;
  private outputPaused = false;
  private openedAt = 0;
  private lastSize: TerminalSize | undefined;
  private handshake: HandshakeInfo | undefined;
  private pendingHandshakeType: { type: string; properties: unknown; agentVersion: string } | undefined;
  private _state: DataChannelState = 'idle';
  private _exitCode: number | undefined;
  private closeInfo: ChannelCloseInfo | undefined;
  /** Set once KMS encryption is negotiated; kept across reconnections. */
  private cipher: SessionCipher | undefined;
  private kmsKeyId: string | undefined;
  /** While the handshake waits for KMS: stream messages from the agent and keystrokes are held, in order. */
  private handshakeBusy = false;
  private readonly heldIncoming: ClientMessage[] = [];
  private readonly heldInput: Buffer[] = [];

  private readonly _onOutput = new Emitter<Buffer>();
  private readonly _onStderr = new Emitter<Buffer>();
  private readonly _onReady = new Emitter<HandshakeInfo>();
  private readonly _onClosed = new LatchedEmitter<ChannelCloseInfo>();
  private readonly _onDisconnected = new Emitter<Error>();
  private readonly _onStateChange = new Emitter<DataChannelState>();
  private readonly _onProtocolError = new Emitter<{ error: Error; code: string }>();
  private readonly _onFlag = new Emitter<number>();
  private readonly _onWritable = new Emitter<void>();
  private readonly _onAck = new Emitter<{ sequenceNumber: number; rttMs: number | undefined }>();
  private readonly _onMessage = new Emitter<ClientMessage>();
  private readonly _onPublication = new Emitter<boolean>();
  /** pause_publication (true) and start_publication (false) from the service. */
  readonly onPublication: Event<boolean> = this._onPublication.event;

  /** Terminal output bytes, in order, exactly once. */
  readonly onOutput: Event<Buffer> = this._onOutput.event;
  readonly onStderr: Event<Buffer> = this._onStderr.event;
  readonly onReady: Event<HandshakeInfo> = this._onReady.event;
  readonly onClosed: Event<ChannelCloseInfo> = this._onClosed.event;
  /** The socket dropped; state is kept and `reconnect` can resume. */
  readonly onDisconnected: Event<Error> = this._onDisconnected.event;
  readonly onStateChange: Event<DataChannelState> = this._onStateChange.event;
  readonly onProtocolError: Event<{ error: Error; code: string }> = this._onProtocolError.event;
  readonly onFlag: Event<number> = this._onFlag.event;
  readonly onWritable: Event<void> = this._onWritable.event;
  readonly onAck: Event<{ sequenceNumber: number; rttMs: number | undefined }> = this._onAck.event;
  /** Every in-order stream message after the handshake (for port sessions and diagnostics). */
  readonly onMessage: Event<ClientMessage> = this._onMessage.event;

  constructor(private readonly options: DataChannelOptions) {
    this.clientId = options.clientId ?? randomUUID();
    this.sessionId = options.sessionId;
    this.streamUrl = options.streamUrl;
    this.tokenValue = options.tokenValue;
    this.log = (options.logger ?? silentLogger).child({ sessionId: options.sessionId });
    this.endpoint = new StreamEndpoint(
      // Output is acknowledged in coalesced writes (ws-transport.ts); input is never held back.
      { deferAcks: true, ...options.endpoint, sendType: MessageType.InputStreamData },
      {
        onStreamMessage: (m) => this.onStreamMessage(m),
        onChannelClosed: (c) => {
          const reason = c.Output?.trim() || `Exiting session with sessionId: ${this.sessionId}.`;
          this.finish({ cause: 'channel_closed', reason });
        },
        onProtocolError: (error, code) => {
          this.log.warn({ code, err: error }, 'discarded a data-channel frame');
          this._onProtocolError.fire({ error, code });
        },
        onResendExhausted: (seq) =>
          this.finish({
            cause: 'resend_exhausted',
            reason: `input message ${seq} was never acknowledged by the agent; the session is unusable`,
          }),
        onWritable: () => this._onWritable.fire(),
        onAck: (sequenceNumber, rttMs) => this._onAck.fire({ sequenceNumber, rttMs }),
        onPublication: (paused) => {
          this.log.info({ paused }, 'publication state changed');
          this._onPublication.fire(paused);
        },
      },
    );
  }

  /** The data channel refused our token (expired or revoked): reconnect with one from ResumeSession. */
  get tokenRejected(): boolean {
    return this._tokenRejected;
  }

  get state(): DataChannelState {
    return this._state;
  }
  get handshakeInfo(): HandshakeInfo | undefined {
    return this.handshake;
  }
  get exitCode(): number | undefined {
    return this._exitCode;
  }
  /** The WebSocket URL in use (it can change on reconnection); carries no credentials. */
  get url(): string {
    return this.streamUrl;
  }

  get stats(): StreamStats {
    return this.endpoint.stats;
  }
  get writable(): boolean {
    return this.endpoint.writable;
  }
  /** True between the service's pause_publication and start_publication (the agent is unreachable). */
  get publicationPaused(): boolean {
    return this.endpoint.isPaused;
  }
  get closed(): ChannelCloseInfo | undefined {
    return this.closeInfo;
  }

  private setState(s: DataChannelState): void {
    if (this._state === s) return;
    this._state = s;
    this._onStateChange.fire(s);
  }

  // ---- connection -----------------------------------------------------------

  /** Open the socket and send the token. Resolves when the open frame is sent (not when the handshake completes). */
  async open(): Promise<void> {
    if (this._state === 'closed') throw new DataChannelError('closed', 'data channel is closed');
    this.setState(this.handshake ? 'disconnected' : 'connecting');
    await this.connectSocket();
    if (!this.handshake) this.setState('handshaking');
  }

  /** Wait for HandshakeComplete. */
  waitReady(timeoutMs = 15_000): Promise<HandshakeInfo> {
    if (this.handshake) return Promise.resolve(this.handshake);
    if (this.closeInfo) return Promise.reject(this.closedError(this.closeInfo));
    return new Promise((resolve, reject) => {
      const subs: Disposable[] = [];
      const done = (): void => {
        clearTimeout(timer);
        subs.forEach((s) => s.dispose());
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new DataChannelError(
            'handshake_failed',
            `the agent did not complete the session handshake within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      subs.push(
        this.onReady((info) => {
          done();
          resolve(info);
        }),
        this.onClosed((info) => {
          done();
          reject(this.closedError(info));
        }),
      );
    });
  }

  private closedError(info: ChannelCloseInfo): DataChannelError {
    return new DataChannelError(
      info.cause === 'handshake_failed' || info.cause === 'encryption_failed' ? info.cause : 'closed',
      info.reason,
    );
  }

  /** True once the session is KMS-encrypted. */
  get encrypted(): boolean {
    return this.cipher !== undefined;
  }

  /**
   * Replace the socket: with a new token from ResumeSession (or the current one).
   * Unacknowledged input is resent and output resumes at the next expected sequence number.
   */
  async reconnect(tokenValue?: string, streamUrl?: string): Promise<void> {
    if (this._state === 'closed') throw new DataChannelError('closed', 'data channel is closed');
    if (tokenValue) {
      this.tokenValue = tokenValue;
      this._tokenRejected = false;
    }
    if (streamUrl) this.streamUrl = streamUrl;
    this.dropSocket();
    this.setState('disconnected');
    await this.connectSocket();
    this.setState(this.handshake ? 'open' : 'handshaking');
  }

  private connectSocket(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const agent = this.options.network?.webSocketAgent(this.streamUrl, { connectTimeoutMs: timeoutMs });
      const ws = new WebSocket(this.streamUrl, {
        handshakeTimeout: timeoutMs,
        perMessageDeflate: false,
        maxPayload: 8 * 1024 * 1024,
        ...(agent ? { agent } : {}),
      });
      this.ws = ws;
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        if (this.ws === ws) this.ws = undefined;
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => {
        if (res.statusCode === 401 || res.statusCode === 403) this._tokenRejected = true;
        fail(
          new DataChannelError(
            'connect_failed',
            `the data channel refused the connection (HTTP ${res.statusCode} ${res.statusMessage ?? ''}); the session token may have expired`,
          ),
        );
      });
      ws.once('error', (err) =>
        fail(new DataChannelError('connect_failed', `could not open the data channel: ${err.message}`)),
      );
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners('error');
        ws.removeAllListeners('unexpected-response');
        this.openedAt = performance.now();
        ws.on('message', (data, isBinary) => this.onSocketMessage(data, isBinary));
        ws.on('error', (err) => this.log.warn({ err }, 'data channel socket error'));
        ws.on('close', (code, reason) => this.onSocketClose(ws, code, reason.toString('utf8')));
        ws.send(
          JSON.stringify({
            MessageSchemaVersion: '1.0',
            RequestId: randomUUID(),
            TokenValue: this.tokenValue,
            ClientId: this.clientId,
            ClientVersion: this.options.clientVersion ?? PROTOCOL_CLIENT_VERSION,
          }),
        );
        this.endpoint.attach(createWsTransport(ws));
        if (this.outputPaused) socketOf(ws)?.pause();
        this.startPings(ws);
        resolve();
      });
    });
  }

  /**
   * Keep-alive and dead-channel detection. Any message or pong counts as a sign of life; an
   * idle channel is pinged every health-check interval; a socket silent for deadAfterMs is
   * destroyed, which the session sees as a disconnect and recovers from.
   */
  private startPings(ws: WebSocket): void {
    this.stopPings();
    this.lastHeard = performance.now();
    ws.on('pong', () => (this.lastHeard = performance.now()));
    const interval = this.options.healthCheckIntervalMs ?? 500;
    if (interval <= 0) return;
    this.healthCheck = scheduleHealthCheck(Math.max(50, Math.floor(interval / 2)), () =>
      this.checkHealth(ws, interval),
    );
  }

  private checkHealth(ws: WebSocket, interval: number): void {
    if (ws.readyState !== WebSocket.OPEN || this.ws !== ws) return;
    if (this.outputPaused) {
      // We stopped reading on purpose: silence is ours, not the network's.
      this.lastHeard = performance.now();
      return;
    }
    const silent = performance.now() - this.lastHeard;
    const deadAfter = this.options.deadAfterMs ?? 3 * interval;
    if (silent >= deadAfter) {
      this.declareDead(
        ws,
        `no sign of life from the data channel for ${Math.round(silent)} ms (network lost?)`,
      );
    } else if (silent >= interval) {
      ws.ping();
    }
  }

  private declareDead(ws: WebSocket, reason: string): void {
    this.log.warn({ reason }, 'data channel is dead');
    this.deadReason = reason;
    ws.terminate();
  }

  /**
   * Check now (after a laptop resume or a network change) instead of waiting for the next
   * interval: ping, and declare the socket dead if nothing answers within `withinMs`.
   */
  checkHealthNow(withinMs = 1_000): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const asked = performance.now();
    ws.ping();
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.ws === ws && this.lastHeard < asked) {
        this.declareDead(ws, `no answer to a health check within ${withinMs} ms`);
      }
    }, withinMs);
    t.unref?.();
    this.timers.add(t);
  }

  private stopPings(): void {
    this.healthCheck?.dispose();
    this.healthCheck = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private onSocketMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.lastHeard = performance.now();
    // ws resumes its socket when its own parser drains; keep our pause in force.
    if (this.outputPaused) socketOf(this.ws)?.pause();
    if (!isBinary) {
      this.log.debug('ignored a text frame from the data channel');
      return;
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.endpoint.handleFrame(buf);
  }

  private onSocketClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return; // an old socket we replaced
    this.ws = undefined;
    this.endpoint.detach();
    this.stopPings();
    if (this._state === 'closed') return;
    this.setState('disconnected');
    // 1008 (policy violation) is how the data channel refuses an invalid or expired token.
    if (code === 1008) this._tokenRejected = true;
    const dead = this.deadReason;
    this.deadReason = undefined;
    this._onDisconnected.fire(
      new Error(dead ?? `data channel socket closed (code ${code}${reason ? `: ${reason}` : ''})`),
    );
  }

  /**
   * Let go of the socket. Graceful: what is already queued (the last acknowledgements, a
   * handshake response) is flushed before a close frame, and the socket is destroyed if the
   * peer does not answer the close within a second. Otherwise it is destroyed at once.
   */
  private dropSocket(graceful = false): void {
    const ws = this.ws;
    this.ws = undefined;
    this.endpoint.detach();
    this.stopPings();
    if (!ws) return;
    ws.removeAllListeners();
    ws.on('error', () => {});
    if (graceful && ws.readyState === WebSocket.OPEN) {
      const timer = setTimeout(() => ws.terminate(), 1000);
      timer.unref?.();
      ws.once('close', () => clearTimeout(timer));
      ws.close(1000);
    } else {
      ws.terminate();
    }
  }

  /**
   * Flow control for a slow consumer: stop reading the socket. Nothing more is received or
   * acknowledged, so the agent's unacknowledged window fills and it stops reading the shell
   * (the sandbox agent pauses its PTY; the real agent blocks on its full buffer). Memory here
   * stays bounded by the socket buffers. `resumeOutput` reads on.
   */
  pauseOutput(): void {
    if (this.outputPaused) return;
    this.outputPaused = true;
    socketOf(this.ws)?.pause();
  }

  resumeOutput(): void {
    if (!this.outputPaused) return;
    this.outputPaused = false;
    this.lastHeard = performance.now();
    socketOf(this.ws)?.resume();
  }

  /**
   * Let go of the socket on purpose, keeping all stream state and the session on the service
   * (no terminate flag): `reconnect` resumes it later, within the service's reconnect window.
   */
  suspend(): void {
    if (this._state === 'closed') return;
    this.dropSocket(true);
    this.setState('disconnected');
  }

  /** Abruptly close the socket as a network fault would (for tests and health checks). */
  simulateDrop(): void {
    this.ws?.terminate();
  }

  // ---- stream messages --------------------------------------------------------

  private onStreamMessage(received: ClientMessage): void {
    if (this._state === 'closed') return;
    if (this.handshakeBusy) {
      this.heldIncoming.push(received);
      return;
    }
    const msg = this.decrypted(received);
    if (!msg) return;
    switch (msg.payloadType) {
      case PayloadType.HandshakeRequest:
        this.handleHandshakeRequest(msg.payload).catch((err: unknown) =>
          this.finish({
            cause: 'handshake_failed',
            reason: `the session handshake failed: ${(err as Error).message}`,
          }),
        );
        return;
      case PayloadType.HandshakeComplete:
        this.handleHandshakeComplete(msg.payload);
        return;
      case PayloadType.EncChallengeRequest:
        this.handleEncryptionChallenge(msg.payload);
        return;
      case PayloadType.Output:
        this._onOutput.fire(msg.payload);
        break;
      case PayloadType.StdErr:
        this._onStderr.fire(msg.payload);
        break;
      case PayloadType.ExitCode: {
        // The agent sends "EXIT_CODE: <n>" after a non-interactive command.
        const m = /(-?\d+)\s*$/.exec(msg.payload.toString('utf8'));
        if (m) this._exitCode = Number(m[1]);
        break;
      }
      case PayloadType.Flag:
        if (msg.payload.length >= 4) this._onFlag.fire(msg.payload.readUInt32BE(0));
        break;
      default:
        this.log.debug(
          { payloadType: msg.payloadType },
          'ignored a stream message of an unknown payload type',
        );
    }
    this._onMessage.fire(msg);
  }

  /** Output, StdErr and ExitCode from the agent of an encrypted session, opened; other messages as they are. */
  private decrypted(msg: ClientMessage): ClientMessage | undefined {
    const cipher = this.cipher;
    if (
      !cipher ||
      (msg.payloadType !== PayloadType.Output &&
        msg.payloadType !== PayloadType.StdErr &&
        msg.payloadType !== PayloadType.ExitCode)
    ) {
      return msg;
    }
    try {
      return { ...msg, payload: cipher.decrypt(msg.payload) };
    } catch (err) {
      this.finish({
        cause: 'encryption_failed',
        reason:
          `A message from the agent (payload type ${msg.payloadType}, sequence ${msg.sequenceNumber}) did not decrypt ` +
          `with the session's KMS data key (key ${this.kmsKeyId ?? 'unknown'}): ${(err as Error).message}. ` +
          'The session was closed; start a new one.',
      });
      return undefined;
    }
  }

  private async handleHandshakeRequest(payload: Buffer): Promise<void> {
    let request;
    try {
      request = parsePayload(HandshakeRequestSchema, payload, 'handshake request');
    } catch (err) {
      this.finish({ cause: 'handshake_failed', reason: (err as Error).message });
      return;
    }
    this.handshakeBusy = true;
    try {
      await this.answerHandshake(request);
    } finally {
      this.handshakeBusy = false;
    }
    // Whatever arrived meanwhile, in order (onStreamMessage holds it again if another handshake starts).
    for (const held of this.heldIncoming.splice(0)) this.onStreamMessage(held);
  }

  /**
   * Process each action the agent asks for (KMS encryption waits for KMS), send the
   * HandshakeResponse, then switch keystrokes to encryption when it was negotiated.
   */
  private async answerHandshake(request: HandshakeRequest): Promise<void> {
    const supported = this.options.supportedSessionTypes ?? [
      SessionTypeName.Shell,
      SessionTypeName.InteractiveCommands,
      SessionTypeName.NonInteractiveCommands,
    ];
    const processed: ProcessedClientAction[] = [];
    const errors: string[] = [];
    let fatal: ChannelCloseInfo | undefined;
    let cipher: SessionCipher | undefined;
    for (const action of request.RequestedClientActions) {
      if (action.ActionType === ActionType.SessionType) {
        const params = SessionTypeParametersSchema.safeParse(action.ActionParameters);
        if (!params.success) {
          const e = 'SessionType action has no SessionType parameter';
          processed.push({ ActionType: action.ActionType, ActionStatus: ActionStatus.Failed, Error: e });
          errors.push(e);
          fatal = { cause: 'handshake_failed', reason: e };
        } else if (!supported.includes(params.data.SessionType)) {
          const e = `session type ${params.data.SessionType} is not supported by this client`;
          processed.push({ ActionType: action.ActionType, ActionStatus: ActionStatus.Failed, Error: e });
          errors.push(e);
          fatal = { cause: 'handshake_failed', reason: e };
        } else {
          this.pendingHandshakeType = {
            type: params.data.SessionType,
            properties: params.data.Properties,
            agentVersion: request.AgentVersion,
          };
          processed.push({ ActionType: action.ActionType, ActionStatus: ActionStatus.Success });
        }
      } else if (action.ActionType === ActionType.KMSEncryption) {
        const outcome = await this.processKmsAction(action.ActionParameters);
        if (this._state === 'closed') {
          outcome.cipher?.dispose();
          cipher?.dispose();
          return;
        }
        if (outcome.cipher) {
          cipher?.dispose();
          cipher = outcome.cipher;
          processed.push({
            ActionType: action.ActionType,
            ActionStatus: ActionStatus.Success,
            ActionResult: outcome.result,
          });
        } else {
          const e = `Failed to process action ${ActionType.KMSEncryption}: ${outcome.error.reason}`;
          processed.push({ ActionType: action.ActionType, ActionStatus: ActionStatus.Failed, Error: e });
          errors.push(e);
          fatal = outcome.error;
        }
      } else {
        const e = `Unsupported action ${action.ActionType}`;
        processed.push({ ActionType: action.ActionType, ActionStatus: ActionStatus.Unsupported, Error: e });
        errors.push(e);
      }
    }
    const response: HandshakeResponse = {
      ClientVersion: this.options.clientVersion ?? PROTOCOL_CLIENT_VERSION,
      ProcessedClientActions: processed,
      ...(errors.length ? { Errors: errors } : {}),
    };
    this.endpoint.send(PayloadType.HandshakeResponse, Buffer.from(JSON.stringify(response)));
    this.handshakeBusy = false;
    if (fatal) {
      cipher?.dispose();
      this.dropHeldInput();
      this.finish(fatal);
      return;
    }
    if (cipher) {
      this.cipher?.dispose();
      this.cipher = cipher;
      this.log.info({ kmsKeyId: this.kmsKeyId }, 'session is KMS-encrypted');
    }
    // Keystrokes typed while KMS answered follow the response, now sealed if encryption is on.
    for (const chunk of this.heldInput.splice(0)) this.sendInputChunk(chunk);
  }

  /**
   * The KMSEncryption action: a data key from KMS under the key the agent names, with the
   * session's encryption context. Its ciphertext goes back to the agent; its plaintext becomes
   * the session cipher.
   */
  private async processKmsAction(
    parameters: unknown,
  ): Promise<
    { cipher: SessionCipher; result: KmsEncryptionResult } | { cipher?: undefined; error: ChannelCloseInfo }
  > {
    const key = KmsParametersSchema.safeParse(parameters);
    if (!key.success) {
      return {
        error: {
          cause: 'handshake_failed',
          reason: 'the agent asked for KMS encryption without naming a key (no KMSKeyId in the handshake)',
        },
      };
    }
    const keyId = key.data.KMSKeyId;
    this.kmsKeyId = keyId;
    const encryption = this.options.encryption;
    if (!encryption) {
      return {
        error: {
          cause: 'handshake_failed',
          reason:
            `This session requires KMS encryption with key ${keyId} (set in the Session Manager preferences), ` +
            'but this connection has no KMS client to generate the session key with. Open the session through a ' +
            'profile (the CLI or the app do), or turn off KMS encryption in the session preferences.',
        },
      };
    }
    try {
      const dataKey = await encryption.dataKeys.generateDataKey(
        keyId,
        sessionEncryptionContext(this.sessionId, encryption.targetId),
      );
      const cipher = SessionCipher.fromDataKey(dataKey.plaintext, 'client');
      return { cipher, result: { KMSCipherTextKey: dataKey.ciphertext.toString('base64') } };
    } catch (err) {
      this.log.warn({ kmsKeyId: keyId, code: (err as { code?: string }).code }, 'KMS data key refused');
      return { error: { cause: 'encryption_failed', reason: (err as Error).message } };
    }
  }

  /**
   * EncChallengeRequest: the agent proves the keys. Decrypt its challenge with our decryption
   * key, seal it again with our encryption key and send it back (EncChallengeResponse). A
   * challenge that does not open ends the session: waiting would hang it.
   */
  private handleEncryptionChallenge(payload: Buffer): void {
    const cipher = this.cipher;
    if (!cipher) {
      this.finish({
        cause: 'handshake_failed',
        reason: 'the agent sent an encryption challenge, but KMS encryption was not negotiated',
      });
      return;
    }
    let answer: Buffer;
    try {
      const request = parsePayload(EncryptionChallengeSchema, payload, 'encryption challenge');
      const challenge = cipher.decrypt(Buffer.from(request.Challenge, 'base64'));
      answer = cipher.encrypt(challenge);
      challenge.fill(0);
    } catch (err) {
      this.finish({
        cause: 'encryption_failed',
        reason:
          `The agent's encryption challenge did not decrypt with the data key KMS generated under key ${this.kmsKeyId ?? 'unknown'} ` +
          `(${(err as Error).message}): the instance and this client do not hold the same session key. ` +
          'The session was closed; try again, and if it happens again check that the instance role may use kms:Decrypt on that key.',
      });
      return;
    }
    this.endpoint.send(
      PayloadType.EncChallengeResponse,
      Buffer.from(JSON.stringify({ Challenge: answer.toString('base64') })),
    );
  }

  private handleHandshakeComplete(payload: Buffer): void {
    let complete;
    try {
      complete = parsePayload(HandshakeCompleteSchema, payload, 'handshake complete');
    } catch (err) {
      this.finish({ cause: 'handshake_failed', reason: (err as Error).message });
      return;
    }
    const t = this.pendingHandshakeType;
    this.handshake = {
      agentVersion: t?.agentVersion ?? '',
      sessionType: t?.type ?? SessionTypeName.Shell,
      sessionProperties: t?.properties,
      customerMessage: complete.CustomerMessage,
      handshakeMs: performance.now() - this.openedAt,
      encrypted: this.cipher !== undefined,
      ...(this.cipher && this.kmsKeyId ? { kmsKeyId: this.kmsKeyId } : {}),
    };
    this.setState('open');
    if (this.lastSize) this.sendSize(this.lastSize);
    this._onReady.fire(this.handshake);
  }

  // ---- input --------------------------------------------------------------------

  /**
   * Send keystrokes or pasted text. Large input is split into 1 KiB messages, queued in
   * order; nothing is dropped. A lone LF is sent as CR, as the plugin does.
   */
  write(data: Buffer | string): void {
    if (this._state === 'closed') throw new DataChannelError('closed', 'the session is closed');
    let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (buf.length === 1 && buf[0] === 0x0a) buf = Buffer.from([0x0d]);
    for (let off = 0; off < buf.length; off += MAX_INPUT_CHUNK) {
      this.sendInputChunk(buf.subarray(off, Math.min(buf.length, off + MAX_INPUT_CHUNK)));
    }
  }

  /**
   * One Output message to the agent: sealed when the session is encrypted, held (in order) while
   * the handshake waits for KMS. Returns the sequence number, or -1 when held.
   */
  private sendInputChunk(chunk: Buffer): number {
    if (this.handshakeBusy) {
      this.heldInput.push(Buffer.from(chunk));
      return -1;
    }
    return this.endpoint.send(PayloadType.Output, this.cipher ? this.cipher.encrypt(chunk) : chunk);
  }

  private dropHeldInput(): void {
    for (const chunk of this.heldInput.splice(0)) chunk.fill(0);
  }

  /**
   * Send bytes exactly as given (a port session's TCP data or smux frames): no newline
   * translation, in chunks of MAX_INPUT_CHUNK. Returns `writable` (false: the unacknowledged
   * backlog is high; wait for onWritable before sending more).
   */
  send(data: Buffer): boolean {
    if (this._state === 'closed') throw new DataChannelError('closed', 'the session is closed');
    for (let off = 0; off < data.length; off += MAX_INPUT_CHUNK) {
      this.sendInputChunk(data.subarray(off, Math.min(data.length, off + MAX_INPUT_CHUNK)));
    }
    return this.endpoint.writable;
  }

  /**
   * Send the terminal size; repeated identical sizes are not resent. Before the handshake it is
   * kept and sent once the handshake completes; after it, it is queued even while the socket is
   * down (the endpoint sends it on reconnection), so a window resized during a drop is not lost.
   */
  resize(cols: number, rows: number): void {
    const size = { cols: Math.max(1, Math.floor(cols)), rows: Math.max(1, Math.floor(rows)) };
    if (this.lastSize && this.lastSize.cols === size.cols && this.lastSize.rows === size.rows) return;
    this.lastSize = size;
    if (this.handshake && this._state !== 'closed') this.sendSize(size);
  }

  private sendSize(size: TerminalSize): void {
    this.endpoint.send(PayloadType.Size, Buffer.from(JSON.stringify(size)));
  }

  sendFlag(flag: number): void {
    this.endpoint.send(PayloadType.Flag, encodeFlag(flag));
  }

  /**
   * Send arbitrary stream data (port sessions). Output payloads go as keystrokes do (sealed
   * when the session is encrypted). Returns the sequence number, or -1 for Output held while
   * the handshake waits for KMS.
   */
  sendStream(payloadType: number, payload: Uint8Array): number {
    if (payloadType === PayloadType.Output) {
      return this.sendInputChunk(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength));
    }
    return this.endpoint.send(payloadType, payload);
  }

  // ---- closing -----------------------------------------------------------------------

  /**
   * Close on purpose: tell the agent to terminate (Flag 2) and wait briefly for it to be
   * acknowledged, then drop the socket. The caller also calls TerminateSession.
   */
  async close(
    reason = 'closed by the user',
    options: { sendTerminate?: boolean; waitMs?: number } = {},
  ): Promise<void> {
    if (this._state === 'closed') return;
    if (options.sendTerminate !== false && this.ws && this.handshake) {
      try {
        this.sendFlag(FlagValue.TerminateSession);
        await this.waitForAcks(options.waitMs ?? 500);
      } catch {
        // best effort: the caller's TerminateSession ends the session regardless
      }
    }
    this.finish({ cause: 'local', reason });
  }

  /**
   * Resolve true once the agent has acknowledged every message queued so far (later ones do not
   * hold it up), false when the channel closes first or after `waitMs`. A paste waits on this
   * between pieces so that only a bounded amount of it is ever in flight, and cancelling it
   * really stops sending. Messages queued while disconnected count too: they are resent on
   * reconnection and acknowledged then.
   */
  whenDelivered(waitMs: number): Promise<boolean> {
    const seq = this.endpoint.lastSequence;
    if (this.endpoint.ackedThrough(seq)) return Promise.resolve(true);
    if (this._state === 'closed') return Promise.resolve(false);
    return new Promise((resolve) => {
      const subs = new DisposableStore();
      const done = (delivered: boolean): void => {
        clearTimeout(timer);
        subs.dispose();
        resolve(delivered);
      };
      const timer = setTimeout(() => done(false), waitMs);
      timer.unref?.();
      subs.add(
        this.onAck(() => {
          if (this.endpoint.ackedThrough(seq)) done(true);
        }),
      );
      subs.add(this.onClosed(() => done(false)));
    });
  }

  /** Resolve when everything sent has been acknowledged, or after waitMs. */
  waitForAcks(waitMs: number): Promise<boolean> {
    if (this.endpoint.unackedCount === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const sub = this.onAck(() => {
        if (this.endpoint.unackedCount === 0) {
          clearTimeout(timer);
          sub.dispose();
          resolve(true);
        }
      });
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(false);
      }, waitMs);
    });
  }

  private finish(info: ChannelCloseInfo): void {
    if (this._state === 'closed') return;
    this.closeInfo = info;
    this.setState('closed');
    this.dropSocket(true);
    this.endpoint.dispose();
    this.cipher?.dispose();
    this.dropHeldInput();
    this.heldIncoming.length = 0;
    this._onClosed.fire(info);
  }

  dispose(): void {
    this.finish(this.closeInfo ?? { cause: 'local', reason: 'disposed' });
    for (const e of [
      this._onOutput,
      this._onStderr,
      this._onReady,
      this._onClosed,
      this._onDisconnected,
      this._onStateChange,
      this._onProtocolError,
      this._onFlag,
      this._onWritable,
      this._onAck,
      this._onMessage,
      this._onPublication,
    ]) {
      e.dispose();
    }
  }
}

/** The net.Socket under a ws WebSocket (private in ws; pausing it is how back-pressure reaches TCP). */
