/**
 * Records what the session manager does into the history store: a row per session (who,
 * where, when, how it ended, bytes), its events (state changes, reconnect attempts,
 * connection notices, the close) and its metrics samples. Every write is queued by the store
 * and committed in batches, so nothing here touches the output path.
 */
import os from 'node:os';
import type { SessionManager } from '../sessions/session-manager.js';
import type { ReconnectAttempt } from '../ssm/session.js';
import type { HistoryStore } from '../store/types.js';
import { DisposableStore, type Disposable } from '../util/lifecycle.js';
import type { ResourceSample } from '../../../preload/api.js';
import { MetricsDownsampler } from './metrics-downsampler.js';
import type { MetricsSample, MetricsTick } from './session-metrics.js';

export interface SessionRecorderOptions {
  store: HistoryStore;
  manager: SessionManager;
  source: 'app' | 'web' | 'cli';
  /** The local user (default: the OS account). */
  user?: string;
  /** The AWS principal (ARN) of a profile and region, when known: recorded beside the local user. */
  principalOf?: (profile: string, region: string) => string | undefined;
  /** The instance's name for a session (from the instance list). */
  nameOf: (instanceId: string) => string;
  /** A session's record started or ended (the History view refreshes). */
  onChanged?: (sessionId: string) => void;
  /** Bucket sizes of the metrics written (defaults 10 s per session, 30 s for processes). */
  sessionBucketMs?: number;
  processBucketMs?: number;
}

/** History event texts shared by the app's recorder and the CLI's (main/cli/history.ts). */
export function openedDetail(awsSessionId: string, openMs: number): string {
  return `session ${awsSessionId} opened in ${Math.round(openMs)} ms`;
}

/** The event recorded after `opened` for a KMS-encrypted session; its detail names the key. */
export const ENCRYPTED_EVENT = 'encrypted';
const ENCRYPTED_PREFIX = 'KMS key ';

export function encryptedDetail(kmsKeyId: string): string {
  return `${ENCRYPTED_PREFIX}${kmsKeyId}`;
}

/** The KMS key of a recorded `encrypted` event; undefined for any other event. */
export function kmsKeyOfEvent(event: { kind: string; detail: string }): string | undefined {
  if (event.kind !== ENCRYPTED_EVENT || !event.detail.startsWith(ENCRYPTED_PREFIX)) return undefined;
  return event.detail.slice(ENCRYPTED_PREFIX.length) || undefined;
}

export function reconnectAttemptDetail(a: ReconnectAttempt): string {
  return `attempt ${a.attempt} of ${a.maxAttempts} in ${a.delayMs} ms (${a.cause})`;
}

export function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

export class SessionRecorder implements Disposable {
  private readonly subscriptions = new DisposableStore();
  private readonly user: string;
  private readonly downsampler: MetricsDownsampler;

  constructor(private readonly o: SessionRecorderOptions) {
    this.user = o.user ?? localUser();
    const { manager, store } = o;
    this.downsampler = new MetricsDownsampler(
      {
        metrics: (records) => store.recordMetrics(records),
        processes: (records) => store.recordProcessMetrics(records),
      },
      o.sessionBucketMs,
      o.processBucketMs,
    );
    this.subscriptions.add(
      manager.onOpened((info) => {
        store.recordSessionStart({
          id: info.id,
          awsSessionId: info.awsSessionId,
          instanceId: info.instanceId,
          instanceName: o.nameOf(info.instanceId),
          profile: info.profile,
          region: info.region,
          source: o.source,
          user: this.userFor(info.profile, info.region),
          startedAt: Date.parse(info.openedAt),
          openMs: Math.round(info.openMs * 10) / 10,
        });
        this.event(info.id, 'opened', openedDetail(info.awsSessionId, info.openMs));
        if (info.encryption) this.event(info.id, ENCRYPTED_EVENT, encryptedDetail(info.encryption.kmsKeyId));
        o.onChanged?.(info.id);
      }),
    );
    this.subscriptions.add(manager.onStateChanged(({ id, state }) => this.event(id, 'state', state)));
    this.subscriptions.add(
      manager.onReconnectAttempt((a) => this.event(a.id, 'reconnect-attempt', reconnectAttemptDetail(a))),
    );
    this.subscriptions.add(manager.onConnectionEvent(({ id, kind, detail }) => this.event(id, kind, detail)));
    this.subscriptions.add(
      manager.onInactiveWarning(({ id, closesInMs }) =>
        this.event(id, 'inactive-warning', `closes in ${Math.round(closesInMs / 1000)} s without activity`),
      ),
    );
    this.subscriptions.add(
      manager.onClosed((info) => {
        const closed = info.closed;
        this.event(info.id, 'closed', closed?.reason ?? 'closed');
        store.recordSessionEnd(info.id, {
          endedAt: Date.now(),
          outcome: closed?.how ?? 'ended',
          endReason: closed?.reason ?? null,
          exitCode: closed?.exitCode ?? null,
          bytesIn: info.bytesIn,
          bytesOut: info.bytesOut,
          reconnects: info.reconnects,
        });
        o.onChanged?.(info.id);
      }),
    );
  }

  /** One metrics tick: a sample per session (downsampled), and the sessions' counters brought up to date. */
  recordTick(tick: MetricsTick): void {
    for (const s of tick.samples) this.downsampler.addSession(s.sessionId, s);
    for (const s of tick.samples) {
      const info = this.o.manager.get(s.sessionId);
      if (info)
        this.o.store.recordSessionCounters(s.sessionId, {
          bytesIn: info.bytesIn,
          bytesOut: info.bytesOut,
          reconnects: info.reconnects,
        });
    }
  }

  /** A session closed: its last partial interval, then its partial bucket, go to the store. */
  sessionClosed(sessionId: string, last: MetricsSample | undefined): void {
    if (last) this.downsampler.addSession(sessionId, last);
    this.downsampler.flushSession(sessionId);
  }

  /** One process sample (downsampled into the store's process metrics). */
  recordResources(sample: ResourceSample): void {
    this.downsampler.addProcesses(sample);
  }

  /** Write the partial buckets now (before the store closes). */
  flush(): void {
    this.downsampler.flushAll();
  }

  private userFor(profile: string, region: string): string {
    const principal = this.o.principalOf?.(profile, region);
    return principal ? `${this.user} (${principal})` : this.user;
  }

  private event(sessionId: string, kind: string, detail: string): void {
    this.o.store.recordEvent({ sessionId, at: Date.now(), kind, detail });
  }

  dispose(): void {
    this.subscriptions.dispose();
  }
}
