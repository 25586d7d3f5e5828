/**
 * The sandbox's data-channel endpoint (what ssmmessages.<region>.amazonaws.com and the
 * SSM agent are together for a real session): accepts WebSocket upgrades at
 * /v1/data-channel/<sessionId>, checks the token in the open frame, and runs an
 * AgentSession per session with a real shell in its instance's working directory.
 */
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Logger } from '../../core/log/logger.js';
import { canStartSession } from '../fleet.js';
import type { SessionDocuments, ResolvedDocument } from '../documents.js';
import type { FaultController, Fleet, SandboxInstance, SandboxSession, SessionRegistry } from '../types.js';
import { AgentSession, type AgentTimeouts } from './agent-session.js';
import type { SandboxKmsKeys } from '../api/kms-keys.js';
import { createMultiplexerRoot, stopMultiplexers } from './multiplexers.js';

export interface DataChannelServerOptions {
  /** Session timeouts; each defaults to the service's behaviour. */
  timeouts?: Partial<AgentTimeouts>;
  /** Shell the fake instances run (default /bin/bash, else /bin/sh). */
  shell?: string;
  /** Unacknowledged output messages before the agent pauses the shell (default 10,000, as the agent). */
  outputHighWater?: number;
  /** Time allowed between the upgrade and the token frame (default 10 s). */
  openFrameTimeoutMs?: number;
  /** Parent folder for the instances' throwaway working directories (default: the OS temp dir). */
  workRoot?: string;
}

export interface DataChannelServerDeps extends DataChannelServerOptions {
  registry: SessionRegistry;
  fleet: Fleet;
  faults: FaultController;
  /** KMS, for instances that require encrypted sessions (the agent decrypts the session's data key). */
  kms?: SandboxKmsKeys;
  /** Session documents: each session's document is resolved when its agent starts (documents.ts). */
  documents?: SessionDocuments;
  logger: Logger;
}

const OpenFrameSchema = z.object({
  MessageSchemaVersion: z.string().optional(),
  RequestId: z.string().optional(),
  TokenValue: z.string().min(1),
  ClientId: z.string().optional(),
  ClientVersion: z.string().optional(),
});

const PATH_RE = /^\/v1\/data-channel\/([A-Za-z0-9._-]{1,128})$/;

export class DataChannelServer {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 8 * 1024 * 1024,
  });
  private readonly sessions = new Map<string, AgentSession>();
  private readonly sockets = new Set<WebSocket>();
  private readonly workRoot: string;
  private readonly workDirs = new Map<string, string>();
  /** tmux and screen sockets of the shells (multiplexers.ts), made on first use. */
  private multiplexerRoot: string | undefined;
  private readonly timeouts: AgentTimeouts;
  private readonly shell: string;
  private closed = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: DataChannelServerDeps) {
    this.workRoot = mkdtempSync(join(deps.workRoot ?? tmpdir(), 'ec2-connect-sandbox-'));
    this.timeouts = {
      idleTimeoutMs: 20 * 60_000,
      maxSessionDurationMs: 0,
      reconnectWindowMs: 2 * 60_000,
      handshakeTimeoutMs: 15_000,
      ...deps.timeouts,
    };
    this.shell = deps.shell ?? (existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh');

    const onTerminate = (sessionId: string, reason: string): void => {
      this.sessions.get(sessionId)?.end(reason ? `Session ${sessionId} was terminated: ${reason}` : '');
    };
    deps.registry.on('terminate', onTerminate);
    this.unsubscribe.push(() => deps.registry.off('terminate', onTerminate));

    const onDrop = (sessionId?: string): void => {
      for (const [id, s] of this.sessions) if (!sessionId || id === sessionId) s.dropSocket();
    };
    deps.faults.on('dropSockets', onDrop);
    this.unsubscribe.push(() => deps.faults.off('dropSockets', onDrop));
    const onBlackhole = (sessionId?: string): void => {
      for (const [id, s] of this.sessions) if (!sessionId || id === sessionId) s.blackholeSocket();
    };
    deps.faults.on('blackholeSockets', onBlackhole);
    this.unsubscribe.push(() => deps.faults.off('blackholeSockets', onBlackhole));
    // A drop that outlasted the reconnect window: the socket goes and the service ends the
    // session, without a word to the client (which learns it when it tries to resume).
    const onExpire = (sessionId?: string): void => {
      for (const [id, s] of [...this.sessions]) {
        if (sessionId && id !== sessionId) continue;
        s.dropSocket();
        s.end(`Session ${id} was disconnected for too long and has been terminated.`);
      }
    };
    deps.faults.on('expireSessions', onExpire);
    this.unsubscribe.push(() => deps.faults.off('expireSessions', onExpire));

    const onChanged = (instance: SandboxInstance): void => {
      const offline = !canStartSession(instance);
      for (const s of this.sessions.values()) if (s.instanceId === instance.instanceId) s.setOffline(offline);
    };
    deps.fleet.on('changed', onChanged);
    this.unsubscribe.push(() => deps.fleet.off('changed', onChanged));
  }

  /** Where the shells' tmux and screen keep their sockets (one folder per instance), once a session ran. */
  get multiplexerDir(): string | undefined {
    return this.multiplexerRoot;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Pids of the shells running now (the resource monitor shows them, as the remote side, ungoverned). */
  shellPids(): number[] {
    const pids: number[] = [];
    for (const s of this.sessions.values()) if (s.pid !== undefined) pids.push(s.pid);
    return pids;
  }

  session(sessionId: string): AgentSession | undefined {
    return this.sessions.get(sessionId);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const m = PATH_RE.exec(url.pathname);
    const session = m ? this.deps.registry.get(m[1]!) : undefined;
    if (this.closed || !m || !session || session.status === 'Terminated') {
      const status = this.closed ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, session.sessionId));
  }

  private onSocket(ws: WebSocket, sessionId: string): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('error', () => {});
    const timer = setTimeout(
      () => ws.close(1008, 'no token frame received'),
      this.deps.openFrameTimeoutMs ?? 10_000,
    );
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      if (isBinary) {
        ws.close(1008, 'the first frame must be the text open frame with the token');
        return;
      }
      let token: string;
      try {
        token = OpenFrameSchema.parse(JSON.parse(data.toString())).TokenValue;
      } catch {
        ws.close(1008, 'malformed open frame');
        return;
      }
      if (!this.deps.registry.validateToken(sessionId, token)) {
        ws.close(1008, 'invalid or expired token');
        return;
      }
      const agent = this.sessions.get(sessionId) ?? this.createAgent(sessionId);
      if (!agent) {
        ws.close(1011, 'the target instance is not available');
        return;
      }
      agent.attachSocket(ws);
    });
    ws.once('close', () => clearTimeout(timer));
  }

  private createAgent(sessionId: string): AgentSession | undefined {
    const session = this.deps.registry.get(sessionId);
    const instance = session && this.deps.fleet.get(session.target);
    if (!session || !instance) return undefined;
    const agent = new AgentSession({
      session,
      instance,
      workDir: this.workDir(instance.instanceId),
      registry: this.deps.registry,
      faults: this.deps.faults,
      logger: this.deps.logger,
      timeouts: this.timeouts,
      shell: this.shell,
      outputHighWater: this.deps.outputHighWater ?? 10_000,
      onEnded: (id) => this.sessions.delete(id),
      ...(this.deps.kms ? { kms: this.deps.kms } : {}),
      multiplexerRoot: (this.multiplexerRoot ??= createMultiplexerRoot()),
      ...this.documentOf(session),
    });
    this.sessions.set(sessionId, agent);
    if (!canStartSession(instance)) agent.setOffline(true);
    return agent;
  }

  /** The session's document as it is now (a custom one removed since StartSession: the AWS default). */
  private documentOf(session: SandboxSession): { document?: ResolvedDocument } {
    try {
      return this.deps.documents
        ? { document: this.deps.documents.resolve(session.documentName, session.parameters) }
        : {};
    } catch (err) {
      this.deps.logger.warn({ err, document: session.documentName }, 'session document no longer resolves');
      return {};
    }
  }

  /** Each fake instance has its own throwaway home directory, shared by its sessions. */
  private workDir(instanceId: string): string {
    let dir = this.workDirs.get(instanceId);
    if (!dir) {
      dir = join(this.workRoot, instanceId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.workDirs.set(instanceId, dir);
    }
    return dir;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    for (const s of [...this.sessions.values()]) s.end('The sandbox is shutting down.');
    this.sessions.clear();
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // tmux and screen servers outlive their sessions: they go with the sandbox.
    if (this.multiplexerRoot) await stopMultiplexers(this.multiplexerRoot);
    rmSync(this.workRoot, { recursive: true, force: true });
  }
}
