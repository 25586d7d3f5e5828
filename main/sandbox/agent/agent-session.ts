/**
 * The agent side of one sandbox session: the handshake, a real shell in a PTY,
 * and the agent's half of the reliable stream. It outlives WebSocket connections:
 * a client that reconnects (same or resumed token) continues where it left off.
 */
import WebSocket from 'ws';
import {
  MessageType,
  PayloadType,
  FlagValue,
  encodeChannelClosed,
  encodeMessage,
  type ClientMessage,
} from '../../core/ssm/codec.js';
import {
  ActionStatus,
  ActionType,
  HandshakeResponseSchema,
  SessionTypeName,
  SizeSchema,
  parsePayload,
} from '../../core/ssm/handshake.js';
import { StreamEndpoint, type StreamStats } from '../../core/ssm/stream-endpoint.js';
import { socketOf } from '../../core/ssm/ws-transport.js';
import type { Logger } from '../../core/log/logger.js';
import type { FaultController, SandboxInstance, SandboxSession, SessionRegistry } from '../types.js';
import { FaultyLink } from './faulty-link.js';
import { spawnPipes, spawnPty, type SessionProcess } from './processes.js';
import { Utf8Chunker } from './utf8-chunker.js';
import { multiplexerEnv } from './multiplexers.js';
import { PortAgent } from './port-agent.js';
import { parsePortProperties } from '../../core/ssm/port/agent-features.js';
import type { ResolvedDocument } from '../documents.js';
import { DEFAULT_SHELL_USER, prepareRunAs, runAsProblem, userEnvironment } from './run-as.js';
import { AgentEncryption } from './agent-encryption.js';
import type { SandboxKmsKeys } from '../api/kms-keys.js';
import { LOCAL_PORT_FORWARDING, type PortProperties } from '../../core/ssm/port/agent-features.js';

/** The agent sends output in units of at most this many bytes (StreamDataPayloadSize). */
export const AGENT_PAYLOAD_SIZE = 1024;
/** A read from the shell of at least a full payload is bulk output (see sendData); floods read 1-4 KiB. */
const BULK_READ_BYTES = AGENT_PAYLOAD_SIZE;

export interface AgentTimeouts {
  /** Close a session with no input for this long (default 20 min, the service default). */
  idleTimeoutMs: number;
  /** Close every session after this long; 0 = no limit. */
  maxSessionDurationMs: number;
  /** Terminate a session whose client stays disconnected this long (default 2 min). */
  reconnectWindowMs: number;
  /** Wait this long for the client's HandshakeResponse. */
  handshakeTimeoutMs: number;
}

export interface AgentSessionOptions {
  session: SandboxSession;
  instance: SandboxInstance;
  workDir: string;
  registry: SessionRegistry;
  faults: FaultController;
  logger: Logger;
  timeouts: AgentTimeouts;
  /** Shell to run (default: bash, else sh). */
  shell: string;
  /** Unacknowledged output messages before the PTY is paused. */
  outputHighWater: number;
  onEnded: (sessionId: string) => void;
  /** KMS, for instances with kmsKeyId: the agent decrypts the session's data key with it. */
  kms?: SandboxKmsKeys;
  /**
   * Where tmux and screen started in the shells keep their sockets (multiplexers.ts): this
   * sandbox's own, so they are isolated and stopped when it closes. Unset: the tools' defaults.
   */
  multiplexerRoot?: string;
  /**
   * The session's document resolved with its parameters (documents.ts): its session type, a
   * Standard_Stream's inputs (run-as user, shell profile, idle timeout), a command or port
   * properties. Unset: the AWS-owned document of that name.
   */
  document?: ResolvedDocument;
}

type Phase = 'new' | 'handshaking' | 'running' | 'draining' | 'ended';

export class AgentSession {
  readonly sessionId: string;
  private readonly endpoint: StreamEndpoint;
  private link: FaultyLink | undefined;
  private ws: WebSocket | undefined;
  private proc: SessionProcess | undefined;
  private phase: Phase = 'new';
  private handshakeStartedAt = 0;
  private cols = 80;
  private rows = 24;
  private offline = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private ptyPaused = false;
  private port: PortAgent | undefined;
  /** The port session's target is slower than the client: the client's socket is not read. */
  private inputPaused = false;
  /** Sockets made silent by blackholeSocket: they can only be destroyed, not closed politely. */
  private readonly blackholed = new WeakSet<WebSocket>();
  private exitCode: number | undefined;
  /** KMS encryption (instances with kmsKeyId), once the client's data key is decrypted. */
  private encryption: AgentEncryption | undefined;
  /** What the handshake does once the client has answered the encryption challenge. */
  private afterChallenge: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly o: AgentSessionOptions) {
    this.sessionId = o.session.sessionId;
    this.log = o.logger.child({ sessionId: this.sessionId, instanceId: o.instance.instanceId });
    this.endpoint = new StreamEndpoint(
      { sendType: MessageType.OutputStreamData, highWaterMessages: o.outputHighWater },
      {
        onStreamMessage: (m) => this.onInput(m),
        onProtocolError: (err, code) => this.log.debug({ code, err }, 'agent discarded a frame'),
        onWritable: () => this.updatePtyFlow(),
        onAck: () => this.onAcked(),
        onResendExhausted: () => this.end('the client stopped acknowledging output'),
      },
    );
    if (o.timeouts.maxSessionDurationMs > 0) {
      this.addTimer(
        () =>
          this.end(
            `Session ${this.sessionId} exceeded the maximum session duration and has been terminated.`,
          ),
        o.timeouts.maxSessionDurationMs,
      );
    }
  }

  get instanceId(): string {
    return this.o.instance.instanceId;
  }

  get isEnded(): boolean {
    return this.phase === 'ended';
  }

  get connected(): boolean {
    return this.ws !== undefined;
  }

  get stats(): StreamStats {
    return this.endpoint.stats;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  // ---- connections ----------------------------------------------------------------

  /** A client presented a valid token on a new socket. */
  attachSocket(ws: WebSocket): void {
    if (this.phase === 'ended') {
      ws.close(1000, 'session ended');
      return;
    }
    if (this.ws) this.detachSocket('superseded by a new connection', true);
    this.ws = ws;
    this.clearReconnectTimer();
    const link = new FaultyLink(ws, this.o.faults, (frame) => this.endpoint.handleFrame(frame));
    this.link = link;
    ws.on('message', (data, isBinary) => {
      if (!isBinary || this.ws !== ws) return;
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      if (this.offline) return; // the agent is unreachable: frames go nowhere
      link.receive(buf);
    });
    ws.on('close', () => {
      if (this.ws === ws) this.detachSocket('client disconnected', false);
    });
    ws.on('error', (err) => this.log.debug({ err }, 'agent socket error'));
    this.o.registry.setStatus(this.sessionId, 'Connected');
    if (this.inputPaused) socketOf(ws)?.pause();
    if (this.offline) {
      this.sendPublication(true);
    } else {
      this.endpoint.attach(link);
    }
    if (this.phase === 'new') this.startHandshake();
  }

  private detachSocket(why: string, closeIt: boolean): void {
    const ws = this.ws;
    this.ws = undefined;
    this.link?.dispose();
    this.link = undefined;
    this.endpoint.detach();
    if (ws && closeIt) {
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      if (this.blackholed.has(ws)) ws.terminate();
      else ws.close(1000, why);
    }
    if (this.phase === 'ended') return;
    this.o.registry.setStatus(this.sessionId, 'Disconnected');
    this.clearReconnectTimer();
    this.reconnectTimer = setTimeout(
      () => this.end(`Session ${this.sessionId} was disconnected for too long and has been terminated.`),
      this.o.timeouts.reconnectWindowMs,
    );
  }

  /** Abruptly drop the socket (fault injection): the session stays resumable. */
  dropSocket(): void {
    const ws = this.ws;
    if (!ws) return;
    // terminate() destroys the TCP socket without a close handshake, as a network fault would.
    ws.terminate();
  }

  /** Go silent on the current socket without closing it (a network black hole). */
  blackholeSocket(): void {
    const ws = this.ws;
    if (!ws) return;
    this.link?.dispose();
    this.link = undefined;
    this.endpoint.detach();
    ws.removeAllListeners('message');
    this.blackholed.add(ws);
    // The WebSocket layer answers pings by itself: silence that too on this one socket.
    ws.pong = () => {};
  }

  /** Take the agent offline (pause publication) or bring it back (start publication). */
  setOffline(offline: boolean): void {
    if (this.offline === offline) return;
    this.offline = offline;
    if (!this.ws || !this.link) return;
    if (offline) {
      this.endpoint.detach();
      this.sendPublication(true);
    } else {
      this.sendPublication(false);
      this.endpoint.attach(this.link);
    }
  }

  private sendPublication(paused: boolean): void {
    const frame = encodeMessage({
      messageType: paused ? MessageType.PausePublication : MessageType.StartPublication,
      payload: Buffer.alloc(0),
      payloadType: PayloadType.Null,
    });
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  // ---- handshake ---------------------------------------------------------------------

  private sessionType(): string {
    const type = this.o.document?.sessionType;
    if (type) return type;
    const doc = this.o.session.documentName;
    if (doc === 'AWS-StartInteractiveCommand') return SessionTypeName.InteractiveCommands;
    if (doc === 'AWS-StartNonInteractiveCommand') return SessionTypeName.NonInteractiveCommands;
    if (doc.startsWith('AWS-StartPortForwarding') || doc === 'AWS-StartSSHSession')
      return SessionTypeName.Port;
    return SessionTypeName.Shell;
  }

  /**
   * A port document's properties, with its parameters substituted as the service does
   * (defaults of the AWS-owned documents: port 80, SSH port 22, local port 0).
   */
  private portProperties(): PortProperties {
    const custom = this.o.document;
    if (custom && !custom.builtIn && custom.port) return parsePortProperties(custom.port);
    const doc = this.o.session.documentName;
    const p = this.o.session.parameters;
    if (doc === 'AWS-StartSSHSession') return { portNumber: p.portNumber?.[0] ?? '22' };
    return {
      portNumber: p.portNumber?.[0] ?? '80',
      localPortNumber: p.localPortNumber?.[0] ?? '0',
      ...(p.host?.[0] ? { host: p.host[0] } : {}),
      type: LOCAL_PORT_FORWARDING,
    };
  }

  private startHandshake(): void {
    this.phase = 'handshaking';
    this.handshakeStartedAt = performance.now();
    const properties =
      this.sessionType() === SessionTypeName.Port ? this.portProperties() : this.shellProperties();
    const actions: unknown[] = [
      {
        ActionType: ActionType.SessionType,
        ActionParameters: { SessionType: this.sessionType(), Properties: properties },
      },
    ];
    if (this.o.instance.kmsKeyId) {
      actions.push({
        ActionType: ActionType.KMSEncryption,
        ActionParameters: { KMSKeyId: this.o.instance.kmsKeyId },
      });
    }
    const request = { AgentVersion: this.o.instance.agentVersion, RequestedClientActions: actions };
    this.endpoint.send(PayloadType.HandshakeRequest, Buffer.from(JSON.stringify(request)));
    this.handshakeTimer = this.addTimer(
      () => this.end('The client did not answer the session handshake in time.'),
      this.o.timeouts.handshakeTimeoutMs,
    );
  }

  private onHandshakeResponse(payload: Buffer): void {
    if (this.phase !== 'handshaking') return;
    if (this.handshakeTimer) this.clearTimer(this.handshakeTimer);
    let response;
    try {
      response = parsePayload(HandshakeResponseSchema, payload, 'handshake response');
    } catch (err) {
      this.end(`Handshake failed: ${(err as Error).message}`);
      return;
    }
    const failed = response.ProcessedClientActions.filter((a) => a.ActionStatus !== ActionStatus.Success);
    const kms = response.ProcessedClientActions.find((a) => a.ActionType === ActionType.KMSEncryption);
    if (this.o.instance.kmsKeyId && (!kms || kms.ActionStatus !== ActionStatus.Success)) {
      this.end(
        `Handshake failed: this instance requires KMS encryption with key ${this.o.instance.kmsKeyId} and the client did not complete it${kms?.Error ? ` (${kms.Error})` : ''}.`,
      );
      return;
    }
    if (failed.some((a) => a.ActionType === ActionType.SessionType)) {
      this.end(`Handshake failed: the client cannot run a ${this.sessionType()} session.`);
      return;
    }
    const clientVersion = response.ClientVersion;
    if (this.o.instance.kmsKeyId) {
      this.challengeClient(this.o.instance.kmsKeyId, kms?.ActionResult, () => this.launch(clientVersion));
      return;
    }
    this.launch(clientVersion);
  }

  /** The session's work, once the handshake response (and the encryption challenge) is through. */
  private launch(clientVersion: string): void {
    if (this.sessionType() === SessionTypeName.Port) {
      void this.startPort(clientVersion);
      return;
    }
    try {
      this.startShell();
    } catch (err) {
      this.end(`The agent could not start a shell: ${(err as Error).message}`);
      return;
    }
    this.completeHandshake();
  }

  /**
   * KMS encryption, the agent's side: decrypt the client's data key with KMS (the session's
   * encryption context), then challenge the client to prove it holds the same key; `then` runs
   * once it has.
   */
  private challengeClient(keyId: string, actionResult: unknown, then: () => void): void {
    try {
      this.encryption = AgentEncryption.establish({
        actionResult,
        requiredKeyId: keyId,
        sessionId: this.sessionId,
        targetId: this.o.instance.instanceId,
        kms: this.o.kms,
      });
    } catch (err) {
      this.end(
        `Handshake failed: KMS encryption with key ${keyId} could not be set up: ${(err as Error).message}.`,
      );
      return;
    }
    this.afterChallenge = then;
    this.endpoint.send(PayloadType.EncChallengeRequest, this.encryption.challengeRequest());
    this.handshakeTimer = this.addTimer(
      () => this.end('The client did not answer the encryption challenge in time.'),
      this.o.timeouts.handshakeTimeoutMs,
    );
  }

  private onChallengeResponse(payload: Buffer): void {
    const then = this.afterChallenge;
    if (this.phase !== 'handshaking' || !this.encryption || !then) return;
    this.afterChallenge = undefined;
    if (this.handshakeTimer) this.clearTimer(this.handshakeTimer);
    const verdict = this.encryption.verify(payload);
    if (!verdict.ok) {
      this.end(
        `Handshake failed: the client's answer to the encryption challenge is wrong (${verdict.reason}); it does not hold this session's KMS data key.`,
      );
      return;
    }
    this.log.info({ keyArn: this.encryption.keyArn }, 'sandbox session is KMS-encrypted');
    then();
  }

  /**
   * A stream message to the client; Output, StdErr and ExitCode sealed when the session is
   * encrypted. `bulk`: part of a large read (a flood of output), which may wait a moment to share
   * a socket write with the next ones; small output (an echo, a prompt) goes out at once.
   */
  private sendData(payloadType: number, payload: Buffer, bulk = false): void {
    const sealed =
      this.encryption &&
      (payloadType === PayloadType.Output ||
        payloadType === PayloadType.StdErr ||
        payloadType === PayloadType.ExitCode);
    this.endpoint.send(payloadType, sealed ? this.encryption!.encrypt(payload) : payload, bulk);
  }

  private completeHandshake(): void {
    this.phase = 'running';
    const complete = {
      HandshakeTimeToComplete: Math.round((performance.now() - this.handshakeStartedAt) * 1e6),
      CustomerMessage: '',
    };
    this.endpoint.send(PayloadType.HandshakeComplete, Buffer.from(JSON.stringify(complete)));
    this.resetIdleTimer();
  }

  // ---- port sessions ---------------------------------------------------------------------

  private async startPort(clientVersion: string): Promise<void> {
    const port = new PortAgent(
      {
        send: (payloadType, payload) => {
          if (this.phase !== 'ended') this.sendData(payloadType, payload);
        },
        writable: () => this.endpoint.writable,
        end: (reason, exitCode) => (reason ? this.end(reason, exitCode) : this.drainThenClose()),
        log: this.log,
        payloadSize: AGENT_PAYLOAD_SIZE,
        pauseInput: () => {
          this.inputPaused = true;
          socketOf(this.ws)?.pause();
        },
        resumeInput: () => {
          this.inputPaused = false;
          socketOf(this.ws)?.resume();
        },
      },
      this.portProperties(),
      clientVersion,
      this.o.instance.agentVersion,
      this.o.instance,
    );
    this.port = port;
    try {
      await port.start();
    } catch (err) {
      this.end(`Unable to start the port session: ${(err as Error).message}`);
      return;
    }
    if (this.phase !== 'handshaking') return; // ended meanwhile
    this.log.info({ mode: port.mode }, 'sandbox port session started');
    this.completeHandshake();
  }

  // ---- the shell -------------------------------------------------------------------------

  private startShell(): void {
    const inst = this.o.instance;
    const user = this.shellUser();
    const basePath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    // Linux and macOS: the user emulated (run-as.ts); the Windows prompt stays ssm-user's.
    const identity =
      inst.platformType === 'Windows' || !this.o.shell.endsWith('bash')
        ? undefined
        : userEnvironment(prepareRunAs(this.o.workDir, this.o.shell), user, inst.computerName, basePath);
    if (!identity && user !== DEFAULT_SHELL_USER && inst.platformType !== 'Windows')
      throw new Error(`the sandbox emulates run-as users with bash, and its shell here is ${this.o.shell}`);
    const prompt =
      inst.platformType === 'Windows' ? 'PS C:\\Users\\ssm-user> ' : `[ssm-user@${inst.computerName} \\W]$ `;
    const env: Record<string, string> = {
      PATH: basePath,
      HOME: this.o.workDir,
      USER: 'ssm-user',
      LOGNAME: 'ssm-user',
      SHELL: this.o.shell,
      TERM: 'xterm-256color',
      LANG: process.env.LANG ?? 'C.UTF-8',
      PS1: prompt,
      HOSTNAME: inst.computerName,
      AWS_SSM_INSTANCE_ID: inst.instanceId,
      AWS_SSM_SESSION_ID: this.sessionId,
      ...(this.o.multiplexerRoot ? multiplexerEnv(this.o.multiplexerRoot, inst.instanceId) : {}),
      ...identity?.env,
    };
    const params = this.o.session.parameters;
    const type = this.sessionType();
    const command = this.o.document?.command ?? params.command?.join(' ') ?? '';
    const args =
      type === SessionTypeName.Shell
        ? this.o.shell.endsWith('bash')
          ? ['--noprofile', '--norc', '-i']
          : ['-i']
        : ['-c', command];
    const cwd = identity?.home ?? this.o.workDir;
    const spec = { file: this.o.shell, args, cwd, env, cols: this.cols, rows: this.rows };
    // NonInteractiveCommands run on pipes with stdout and stderr apart, as the agent runs them.
    const proc = type === SessionTypeName.NonInteractiveCommands ? spawnPipes(spec) : spawnPty(spec);
    this.proc = proc;
    // As the agent does: the document's shell profile is typed into the shell as it starts.
    const profile = this.o.document?.shell?.shellProfile.linux ?? '';
    if (type === SessionTypeName.Shell && profile.trim() !== '' && inst.platformType !== 'Windows')
      proc.write(Buffer.from(`${profile}\n`));
    const chunkers = {
      stdout: new Utf8Chunker(AGENT_PAYLOAD_SIZE),
      stderr: new Utf8Chunker(AGENT_PAYLOAD_SIZE),
    };
    const send = (payloads: Buffer[], stream: 'stdout' | 'stderr', bulk = false): void => {
      const payloadType = stream === 'stderr' ? PayloadType.StdErr : PayloadType.Output;
      for (const p of payloads) this.sendData(payloadType, p, bulk);
    };
    proc.onData((data, stream) => {
      if (this.phase === 'ended') return;
      // A large read means more is coming: its messages may share writes with the next read's.
      send(chunkers[stream].push(data), stream, data.length >= BULK_READ_BYTES);
      this.updatePtyFlow();
    });
    proc.onExit((exitCode) => {
      if (this.phase === 'ended') return;
      send(chunkers.stdout.flush(), 'stdout');
      send(chunkers.stderr.flush(), 'stderr');
      this.exitCode = exitCode;
      this.proc = undefined;
      if (type === SessionTypeName.NonInteractiveCommands) {
        this.sendData(PayloadType.ExitCode, Buffer.from(`EXIT_CODE: ${exitCode}`));
      }
      this.drainThenClose();
    });
  }

  /** Pause the shell while the client has not acknowledged enough output. */
  private updatePtyFlow(): void {
    this.port?.writableChanged();
    if (!this.proc) return;
    const shouldPause = !this.endpoint.writable;
    if (shouldPause && !this.ptyPaused) {
      this.proc.pause();
      this.ptyPaused = true;
    } else if (!shouldPause && this.ptyPaused) {
      this.proc.resume();
      this.ptyPaused = false;
    }
  }

  private onInput(msg: ClientMessage): void {
    if (this.phase === 'ended') return;
    switch (msg.payloadType) {
      case PayloadType.HandshakeResponse:
        this.onHandshakeResponse(msg.payload);
        return;
      case PayloadType.EncChallengeResponse:
        this.onChallengeResponse(msg.payload);
        return;
      case PayloadType.Output: {
        this.resetIdleTimer();
        const input = this.openInput(msg);
        if (!input) return;
        if (this.port) this.port.input(input);
        else this.proc?.write(input);
        return;
      }
      case PayloadType.Size: {
        try {
          const size = parsePayload(SizeSchema, msg.payload, 'size message');
          this.cols = size.cols;
          this.rows = size.rows;
          this.proc?.resize(size.cols, size.rows);
        } catch (err) {
          this.log.debug({ err }, 'ignored a malformed size message');
        }
        return;
      }
      case PayloadType.Flag: {
        if (msg.payload.length < 4) return;
        const flag = msg.payload.readUInt32BE(0);
        if (flag === FlagValue.TerminateSession) this.end('');
        else this.port?.flag(flag);
        return;
      }
      default:
        this.log.debug({ payloadType: msg.payloadType }, 'ignored input of an unexpected payload type');
    }
  }

  /** The client's Output, opened when the session is encrypted; undefined (and the session ended) when it does not open. */
  private openInput(msg: ClientMessage): Buffer | undefined {
    if (!this.encryption) return msg.payload;
    try {
      return this.encryption.decrypt(msg.payload);
    } catch (err) {
      this.end(
        `Input message ${msg.sequenceNumber} from the client did not decrypt with the session's KMS data key (${(err as Error).message}); the session was terminated.`,
      );
      return undefined;
    }
  }

  private resetIdleTimer(): void {
    if (this.idleTimer) this.clearTimer(this.idleTimer);
    const idleMs = this.idleTimeoutMs();
    if (idleMs <= 0) return;
    this.idleTimer = this.addTimer(
      () => this.end(`Your session timed out due to inactivity and has been terminated.`),
      idleMs,
    );
  }

  /** The document's idleSessionTimeout (minutes), else the sandbox's. */
  private idleTimeoutMs(): number {
    const minutes = this.o.document?.shell?.idleSessionTimeout;
    return minutes ? minutes * 60_000 : this.o.timeouts.idleTimeoutMs;
  }

  /** A shell session's properties in the handshake: the document's inputs, as the agent reports them. */
  private shellProperties(): Record<string, unknown> {
    const shell = this.o.document?.shell;
    return {
      idleSessionTimeout: String(Math.round(this.idleTimeoutMs() / 60_000)),
      maxSessionDuration: this.o.timeouts.maxSessionDurationMs
        ? String(Math.round(this.o.timeouts.maxSessionDurationMs / 60_000))
        : '',
      runAsEnabled: shell?.runAsEnabled ?? false,
      runAsDefaultUser: shell?.runAsDefaultUser ?? '',
      shellProfile: shell?.shellProfile ?? { linux: '', windows: '' },
    };
  }

  /** Who the shell runs as: the document's run-as user when enabled, else ssm-user; throws as the agent fails. */
  private shellUser(): string {
    const shell = this.o.document?.shell;
    if (!shell?.runAsEnabled) return DEFAULT_SHELL_USER;
    const problem = runAsProblem(true, shell.runAsDefaultUser);
    if (problem) throw new Error(problem);
    return shell.runAsDefaultUser;
  }

  // ---- ending ----------------------------------------------------------------------------

  private drainThenClose(): void {
    if (this.phase === 'ended' || this.phase === 'draining') return;
    this.phase = 'draining';
    // Send channel_closed only once the client has every byte of output.
    if (this.endpoint.unackedCount === 0) this.end('', this.exitCode);
    else this.addTimer(() => this.end('', this.exitCode), this.o.timeouts.reconnectWindowMs);
  }

  private onAcked(): void {
    if (this.phase === 'draining' && this.endpoint.unackedCount === 0) this.end('', this.exitCode);
  }

  /**
   * End the session: stop the shell, tell the client (channel_closed with `reason` as
   * its Output; empty means a normal end), mark it terminated, release everything.
   */
  end(reason: string, exitCode?: number): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.log.info({ reason, exitCode }, 'sandbox session ended');
    const proc = this.proc;
    this.proc = undefined;
    proc?.kill();
    this.port?.dispose();
    this.encryption?.dispose();
    this.afterChallenge = undefined;
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(encodeChannelClosed(this.sessionId, reason));
      ws.close(1000, 'session ended');
    }
    this.ws = undefined;
    this.link?.dispose();
    this.link = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.clearReconnectTimer();
    this.endpoint.dispose();
    this.o.registry.terminate(this.sessionId, reason || 'the shell exited');
    this.o.onEnded(this.sessionId);
  }

  private addTimer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.timers.delete(t);
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }
}
