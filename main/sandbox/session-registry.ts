/**
 * The sandbox's Session Manager sessions: ids, stream tokens, statuses and history.
 *
 * - Session ids are `${userName}-${17 lower-case hex}` (the caller name comes from the owner ARN).
 * - Tokens are 48 random bytes, base64url. A token is valid for its TTL (default 10 minutes)
 *   and may be used for any number of reconnects within it; ResumeSession issues a fresh one.
 * - Terminated and failed sessions stay in History (the newest `historyLimit`, default 1000).
 *
 * Events: 'terminate' (sessionId, reason) when terminate() ends a session.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { SandboxSession, SandboxSessionStatus, SessionRegistry } from './types.js';

export const DEFAULT_TOKEN_TTL_MS = 10 * 60_000;
export const DEFAULT_HISTORY_LIMIT = 1000;
export const DEFAULT_DOCUMENT_NAME = 'SSM-SessionManagerRunShell';

export interface SessionRegistryOptions {
  /** `ws://127.0.0.1:PORT`: where the data channel is served (a function when the port is known later). */
  streamUrlBase: string | (() => string);
  tokenTtlMs?: number;
  historyLimit?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

interface TokenRecord {
  sessionId: string;
  expiresAt: number;
}

const ENDED: ReadonlySet<SandboxSessionStatus> = new Set(['Terminated', 'Failed']);

/** The caller name in an ARN: `user/sandbox-user` -> sandbox-user, `assumed-role/Role/alice` -> alice. */
export function callerNameFromArn(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  const name = resource.split('/').pop() ?? '';
  // Kept to the characters a data-channel URL path segment carries unescaped.
  const clean = name.replace(/[^A-Za-z0-9_.-]/g, '');
  return clean === '' ? 'sandbox' : clean.slice(0, 64);
}

function copySession(s: SandboxSession): SandboxSession {
  const out: SandboxSession = {
    ...s,
    parameters: Object.fromEntries(Object.entries(s.parameters).map(([k, v]) => [k, [...v]])),
  };
  out.startDate = new Date(s.startDate.getTime());
  if (s.endDate) out.endDate = new Date(s.endDate.getTime());
  return out;
}

export class SandboxSessionRegistry extends EventEmitter implements SessionRegistry {
  private readonly sessions = new Map<string, SandboxSession>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** Ended session ids, oldest first. */
  private readonly ended: string[] = [];
  private readonly tokenTtlMs: number;
  private readonly historyLimit: number;
  private readonly now: () => number;
  private readonly streamUrlBase: () => string;

  constructor(options: SessionRegistryOptions) {
    super();
    const ttl = options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
    if (!Number.isFinite(ttl) || ttl <= 0)
      throw new Error(`tokenTtlMs must be a positive number of ms, got ${ttl}.`);
    const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new Error(`historyLimit must be a non-negative integer, got ${limit}.`);
    }
    this.tokenTtlMs = ttl;
    this.historyLimit = limit;
    this.now = options.now ?? Date.now;
    const base = options.streamUrlBase;
    this.streamUrlBase = typeof base === 'function' ? base : () => base;
  }

  create(input: {
    target: string;
    documentName?: string;
    parameters?: Record<string, string[]>;
    reason?: string;
    owner: string;
  }): { session: SandboxSession; tokenValue: string; streamUrl: string } {
    const prefix = callerNameFromArn(input.owner);
    let sessionId: string;
    do {
      sessionId = `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
    } while (this.sessions.has(sessionId));
    const session: SandboxSession = {
      sessionId,
      target: input.target,
      documentName: input.documentName ?? DEFAULT_DOCUMENT_NAME,
      parameters: Object.fromEntries(Object.entries(input.parameters ?? {}).map(([k, v]) => [k, [...v]])),
      owner: input.owner,
      status: 'Connecting',
      startDate: new Date(this.now()),
    };
    if (input.reason !== undefined) session.reason = input.reason;
    this.sessions.set(sessionId, session);
    return {
      session: copySession(session),
      tokenValue: this.issueToken(sessionId),
      streamUrl: this.streamUrl(sessionId),
    };
  }

  resume(sessionId: string): { tokenValue: string; streamUrl: string } | undefined {
    const session = this.sessions.get(sessionId);
    if (!session || ENDED.has(session.status)) return undefined;
    return { tokenValue: this.issueToken(sessionId), streamUrl: this.streamUrl(sessionId) };
  }

  get(sessionId: string): SandboxSession | undefined {
    const session = this.sessions.get(sessionId);
    return session && copySession(session);
  }

  validateToken(sessionId: string, token: string): boolean {
    this.pruneTokens();
    const record = this.tokens.get(token);
    if (!record || record.sessionId !== sessionId) return false;
    const session = this.sessions.get(sessionId);
    return session !== undefined && !ENDED.has(session.status);
  }

  /**
   * Records a status change. Ended sessions keep their final status. Setting 'Terminated'
   * or 'Failed' ends the session (endDate, history) without emitting 'terminate'.
   */
  setStatus(sessionId: string, status: SandboxSessionStatus, details?: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || ENDED.has(session.status)) return;
    if (ENDED.has(status)) {
      this.end(session, status, details);
      return;
    }
    session.status = status;
    if (details !== undefined) session.details = details;
  }

  terminate(sessionId: string, reason: string): void {
    const session = this.sessions.get(sessionId);
    if (!session || ENDED.has(session.status)) return;
    this.end(session, 'Terminated', reason);
    this.emit('terminate', sessionId, reason);
  }

  /** Active: not yet ended; History: Terminated or Failed. Newest first. */
  list(state: 'Active' | 'History'): SandboxSession[] {
    const wantEnded = state === 'History';
    return [...this.sessions.values()]
      .filter((s) => ENDED.has(s.status) === wantEnded)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map(copySession);
  }

  private end(session: SandboxSession, status: SandboxSessionStatus, details: string | undefined): void {
    session.status = status;
    session.endDate = new Date(this.now());
    if (details !== undefined) session.details = details;
    for (const [token, record] of this.tokens)
      if (record.sessionId === session.sessionId) this.tokens.delete(token);
    this.ended.push(session.sessionId);
    while (this.ended.length > this.historyLimit) this.sessions.delete(this.ended.shift()!);
  }

  private issueToken(sessionId: string): string {
    this.pruneTokens();
    const token = randomBytes(48).toString('base64url');
    this.tokens.set(token, { sessionId, expiresAt: this.now() + this.tokenTtlMs });
    return token;
  }

  private pruneTokens(): void {
    const now = this.now();
    for (const [token, record] of this.tokens) if (record.expiresAt <= now) this.tokens.delete(token);
  }

  private streamUrl(sessionId: string): string {
    return `${this.streamUrlBase().replace(/\/+$/, '')}/v1/data-channel/${encodeURIComponent(sessionId)}?role=publish_subscribe`;
  }
}

export function createSessionRegistry(options: SessionRegistryOptions): SandboxSessionRegistry {
  return new SandboxSessionRegistry(options);
}
