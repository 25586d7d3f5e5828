/**
 * `ec2-connect connect` records its session in the same history as the app (source `cli`):
 * the session row, its connection events and how it ended. The store is shared with a running
 * app (WAL, busy timeout); when it is unavailable, connecting works the same, without history.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/log/logger.js';
import type { SsmSession } from '../core/ssm/session.js';
import { openConfiguredHistory } from '../core/config/runtime.js';
import type { Config } from '../core/config/schema.js';
import type { HistoryStore } from '../core/store/index.js';
import { DisposableStore, type Disposable } from '../core/util/lifecycle.js';
import {
  ENCRYPTED_EVENT,
  encryptedDetail,
  kmsKeyOfEvent,
  localUser,
  openedDetail,
  reconnectAttemptDetail,
} from '../core/workspace/session-recorder.js';

export interface CliRecordMeta {
  instanceId: string;
  instanceName: string;
  profile: string;
  region: string;
  openMs: number;
}

/**
 * Open the history store for a CLI process as the configuration says (database.enabled,
 * database.file; EC2_CONNECT_NO_HISTORY=1 turns it off).
 */
export function openCliHistory(logger: Logger, config: Config): HistoryStore | undefined {
  // No periodic clean-up in a short-lived CLI process: the app (or `database cleanup`) does it.
  const store = openConfiguredHistory(config, logger, { overrides: { cleanupIntervalHours: 0 } });
  if (store && !store.status.available)
    logger.warn({ problem: store.status.problem }, 'session history is off');
  return store;
}

/** Record one session; dispose (after it closed) to stop listening. */
export function recordCliSession(store: HistoryStore, session: SsmSession, meta: CliRecordMeta): Disposable {
  const id = randomUUID();
  const subs = new DisposableStore();
  let bytesIn = 0;
  const event = (kind: string, detail: string): void =>
    store.recordEvent({ sessionId: id, at: Date.now(), kind, detail });
  store.recordSessionStart({
    id,
    awsSessionId: session.sessionId,
    instanceId: meta.instanceId,
    instanceName: meta.instanceName,
    profile: meta.profile,
    region: meta.region,
    source: 'cli',
    user: localUser(),
    startedAt: Date.now() - Math.round(meta.openMs),
    openMs: Math.round(meta.openMs * 10) / 10,
  });
  event('opened', openedDetail(session.sessionId, meta.openMs));
  const kmsKeyId = session.handshake?.encrypted ? session.handshake.kmsKeyId : undefined;
  if (kmsKeyId) event(ENCRYPTED_EVENT, encryptedDetail(kmsKeyId));
  subs.add(session.onOutput((b) => (bytesIn += b.length)));
  subs.add(session.onStderr((b) => (bytesIn += b.length)));
  subs.add(session.onStateChange((state) => event('state', state)));
  subs.add(session.onConnectionEvent((e) => event(e.kind, e.detail)));
  subs.add(session.onReconnectAttempt((a) => event('reconnect-attempt', reconnectAttemptDetail(a))));
  subs.add(
    session.onClosed((closed) => {
      event('closed', closed.reason);
      store.recordSessionEnd(id, {
        endedAt: Date.now(),
        outcome: closed.how,
        endReason: closed.reason,
        exitCode: closed.exitCode ?? null,
        bytesIn,
        bytesOut: session.channel.stats.payloadBytesOut,
        reconnects: session.reconnects,
      });
      store.flush();
    }),
  );
  return subs;
}

/**
 * Which of these Session Manager sessions (AWS session ids) this machine opened KMS-encrypted,
 * with their keys, as the history recorded them: DescribeSessions does not say. Sessions
 * opened elsewhere, or before `since`, are not in the map.
 */
export function recordedEncryption(
  store: HistoryStore,
  awsSessionIds: readonly string[],
  since: Date,
): Map<string, string> {
  const wanted = new Set(awsSessionIds);
  const keys = new Map<string, string>();
  if (wanted.size === 0) return keys;
  for (const recorded of store.listSessions({ from: since.toISOString(), limit: 1000 })) {
    if (!wanted.has(recorded.awsSessionId)) continue;
    const events = store.getSession(recorded.id, 1)?.events ?? [];
    const key = events.map(kmsKeyOfEvent).find((k) => k !== undefined);
    if (key) keys.set(recorded.awsSessionId, key);
  }
  return keys;
}
