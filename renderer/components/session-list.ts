/**
 * The sessions store (renderer/stores/sessions.ts, the terminal workbench's) keeps SessionInfo
 * as a map, a record or a list; these helpers read any of them.
 */
import type { SessionInfo } from '../../preload/api.js';

export function sessionList(value: unknown): SessionInfo[] {
  if (!value) return [];
  if (value instanceof Map) return [...(value.values() as Iterable<SessionInfo>)];
  if (Array.isArray(value)) return value as SessionInfo[];
  if (typeof value === 'object') return Object.values(value as Record<string, SessionInfo>);
  return [];
}

export function isLive(s: SessionInfo): boolean {
  return s.state !== 'closed';
}

export function stateTone(s: SessionInfo): 'ok' | 'warn' | 'bad' | 'info' | '' {
  switch (s.state) {
    case 'open':
      return 'ok';
    case 'connecting':
      return 'info';
    case 'reconnecting':
      return 'warn';
    case 'detached':
      return 'info';
    default:
      return s.closed?.how === 'failed' ? 'bad' : '';
  }
}

export function stateLabel(s: SessionInfo): string {
  if (s.state === 'reconnecting' && s.reconnect) {
    return `reconnecting (${s.reconnect.attempt}/${s.reconnect.maxAttempts})`;
  }
  if (s.state === 'closed' && s.closed) return `closed: ${s.closed.reason}`;
  return s.state;
}

/** Live sessions first (newest first), then closed ones. */
export function sortSessions(list: readonly SessionInfo[]): SessionInfo[] {
  return [...list].sort((a, b) => {
    const la = isLive(a);
    const lb = isLive(b);
    if (la !== lb) return la ? -1 : 1;
    return b.openedAt.localeCompare(a.openedAt);
  });
}

/** The tooltip of a KMS-encrypted session's lock; null when the session is not encrypted. */
export function encryptionTitle(s: Pick<SessionInfo, 'encryption'> | undefined): string | null {
  return s?.encryption ? `Encrypted with KMS key ${s.encryption.kmsKeyId}` : null;
}
