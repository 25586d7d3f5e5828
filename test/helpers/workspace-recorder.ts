/** Records what a workspace emits, for tests (events, notifications, session counts). */
import type { BridgeEvent, EventPayload, SessionInfo } from '../../preload/api.js';
import type { Workspace } from '../../main/core/workspace/workspace.js';
import type { WorkspaceNotification } from '../../main/core/workspace/types.js';

export type Output = EventPayload<'session.output'>;

export class Recorder {
  events: BridgeEvent[] = [];
  notifications: WorkspaceNotification[] = [];
  counts: number[] = [];
  constructor(readonly ws: Workspace) {
    ws.onEvent((e) => this.events.push(e));
    ws.onNotification((n) => this.notifications.push(n));
    ws.onSessionCountChanged((n) => this.counts.push(n));
  }
  of<N extends BridgeEvent['name']>(name: N): Extract<BridgeEvent, { name: N }>['payload'][] {
    return this.events.filter((e) => e.name === name).map((e) => e.payload) as never;
  }
  output(sessionId: string): Output[] {
    return this.of('session.output').filter((o) => o.sessionId === sessionId);
  }
  text(sessionId: string): string {
    return this.output(sessionId)
      .map((o) => o.data)
      .join('');
  }
  bytes(sessionId: string): number {
    return this.output(sessionId).reduce((n, o) => n + o.bytes, 0);
  }
  updates(sessionId: string): SessionInfo[] {
    return this.of('session.updated').filter((s) => s.id === sessionId);
  }
  until<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    return until(what, check, timeoutMs);
  }
}

/** Poll `check` every 20 ms until it returns something truthy; fail naming `what` after the timeout. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
