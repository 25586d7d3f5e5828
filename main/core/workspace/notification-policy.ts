/**
 * Which connection notices become native notifications, and how often.
 *
 * The user's settings choose the kinds (disconnects, reconnects, limits, sessions ended
 * elsewhere; a broken port forward counts as a disconnect) and a minimum interval per kind;
 * within the interval further notices of that kind are counted, and the next notification says
 * how many were folded into it, so a flapping network gives one notification a minute, not one
 * per session per second.
 */
import type { ConnectionNoticeKind, Settings } from '../../../preload/api.js';
import type { NotificationKind, WorkspaceNotification } from './types.js';

/** A notice of the workspace itself, not a session's (no toast kind in the contract). */
export type WorkspaceNoticeKind = 'forward-failed';

export interface NoticeInput {
  kind: ConnectionNoticeKind | WorkspaceNoticeKind;
  message: string;
  sessionId: string | null;
  /** The instance's name, for the title. */
  instanceName?: string | undefined;
}

const KIND_OF: Partial<Record<ConnectionNoticeKind | WorkspaceNoticeKind, NotificationKind>> = {
  'network-lost': 'disconnect',
  'agent-unreachable': 'disconnect',
  'token-expired': 'disconnect',
  reconnected: 'reconnect',
  'agent-back': 'reconnect',
  limit: 'limit',
  resources: 'resources',
  'ended-elsewhere': 'ended-elsewhere',
  'forward-failed': 'forward-failed',
};

const SETTING_OF: Record<NotificationKind, keyof Settings['notifications']> = {
  disconnect: 'disconnects',
  reconnect: 'reconnects',
  limit: 'limits',
  resources: 'limits',
  'ended-elsewhere': 'endedElsewhere',
  // A broken forward is a lost connection: the disconnect setting covers it.
  'forward-failed': 'disconnects',
};

const TITLE_OF: Record<NotificationKind, string> = {
  disconnect: 'Connection lost',
  reconnect: 'Reconnected',
  limit: 'Session limit reached',
  resources: 'EC2 Connect resources',
  'ended-elsewhere': 'Session ended elsewhere',
  'forward-failed': 'Port forward broke',
};

export class NotificationPolicy {
  private readonly last = new Map<NotificationKind, number>();
  private readonly folded = new Map<NotificationKind, number>();

  constructor(
    private readonly settings: () => Settings['notifications'],
    private readonly now: () => number = Date.now,
  ) {}

  /** The notification to show for a notice, or undefined (not wanted, or rate-limited). */
  decide(notice: NoticeInput): WorkspaceNotification | undefined {
    const kind = KIND_OF[notice.kind];
    if (!kind) return undefined;
    const s = this.settings();
    if (!s.enabled || !s[SETTING_OF[kind]]) return undefined;
    const now = this.now();
    const last = this.last.get(kind);
    if (last !== undefined && now - last < s.minIntervalSeconds * 1000) {
      this.folded.set(kind, (this.folded.get(kind) ?? 0) + 1);
      return undefined;
    }
    this.last.set(kind, now);
    const folded = this.folded.get(kind) ?? 0;
    this.folded.delete(kind);
    const where = notice.instanceName ? `${notice.instanceName}: ` : '';
    const more = folded > 0 ? ` (and ${folded} more since the last notification)` : '';
    return {
      kind,
      title: TITLE_OF[kind],
      body: `${where}${notice.message}${more}`,
      sessionId: notice.sessionId,
    };
  }
}
