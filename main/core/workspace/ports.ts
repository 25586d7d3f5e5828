/**
 * Port forwards of the workspace (the `ports.*` channels): open on the active profile and
 * region (a saved one on its own), close, list the open ones with the last closed or failed ones
 * and why, and report them as `ports.updated`: when a forward starts, changes state or ends,
 * and, while traffic flows, at most once a second per forward (one timer, running only while a
 * forward is open). A forward that breaks (the session failed, or the service or instance ended
 * it) ends as `failed` with the reason and is reported on `onBroken`; one closed on purpose ends
 * as `closed`.
 *
 * Each forward holds the control plane (and so the credentials) of the profile it was opened
 * on: switching the active profile later does not move it.
 *
 * `ForwardRecord` describes one forward as the contract's PortForwardInfo; the CLI's foreground
 * `ec2-connect forward` uses it too, to serve its forward on the status socket.
 */
import { randomUUID } from 'node:crypto';
import type {
  PortForwardInfo,
  PortForwardSpec,
  PortForwardState,
  PortList,
  SavedForward,
} from '../../../preload/api.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { ControlPlane } from '../ssm/control-plane.js';
import { PortForward, type PortForwardClosed, type PortForwardOptions } from '../ssm/port/port-forward.js';
import type { ForwardStats } from '../ssm/port/connections.js';
import type { SessionState } from '../ssm/session.js';
import { DisposableStore, Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import type { SavedForwards } from './saved-forwards.js';

/** How many ended forwards `list` keeps (newest first). */
export const ENDED_FORWARDS_KEPT = 20;
/** The reason given to forwards closed because the workspace closes. */
export const CLOSING_REASON = 'EC2 Connect is closing';

/** What a forward is, apart from its live figures. */
export interface ForwardMeta {
  instanceId: string;
  instanceName: string;
  profile: string;
  region: string;
  remotePort: number;
  host: string | null;
  label: string | null;
  /** The local port asked for (0: any free port) until it listens. */
  localPort: number;
  savedId: string | null;
}

/** A session's state as a forward's. */
export function forwardState(state: SessionState): PortForwardState {
  switch (state) {
    case 'connecting':
      return 'starting';
    case 'open':
      return 'open';
    case 'reconnecting':
    case 'detached':
      return 'reconnecting';
    case 'closed':
      return 'closed';
  }
}

/** How a forward ended, as its final state: closed on purpose, else failed (it broke). */
export function endedState(closed: PortForwardClosed): 'closed' | 'failed' {
  return closed.how === 'closed' ? 'closed' : 'failed';
}

const EMPTY_STATS: ForwardStats = {
  activeConnections: 0,
  totalConnections: 0,
  failedConnections: 0,
  bytesIn: 0,
  bytesOut: 0,
};

/** One forward, from starting to its end, as the contract describes it. */
export class ForwardRecord {
  readonly startedAt = Date.now();
  state: PortForwardState = 'starting';
  reason: string | null = null;
  endedAt: number | null = null;
  private fw: PortForward | undefined;
  private localAddress = '';
  private localPort: number;
  private mode: PortForwardInfo['mode'] = null;
  private sessionId: string | null = null;
  private finalStats: ForwardStats | undefined;

  constructor(
    readonly meta: ForwardMeta,
    readonly id: string = randomUUID(),
  ) {
    this.localPort = meta.localPort;
  }

  get forward(): PortForward | undefined {
    return this.fw;
  }

  /** Not ended (starting, open or reconnecting). */
  get live(): boolean {
    return this.endedAt === null;
  }

  /** The forward listens: take its address, mode and session. */
  attach(fw: PortForward): void {
    this.fw = fw;
    this.localAddress = fw.localAddress;
    this.localPort = fw.localPort;
    // A forward is never 'stream' (PortForward.open refuses such sessions).
    this.mode = fw.mode === 'basic' ? 'basic' : 'multiplexed';
    this.sessionId = fw.sessionId;
    this.state = fw.closed ? endedState(fw.closed) : forwardState(fw.state);
  }

  setSaved(savedId: string): void {
    this.meta.savedId = savedId;
  }

  /** It ended (closed, broke, or never started). */
  end(state: 'closed' | 'failed', reason: string): void {
    if (!this.live) return;
    this.finalStats = this.fw ? this.fw.stats : EMPTY_STATS;
    this.state = state;
    this.reason = reason;
    this.endedAt = Date.now();
  }

  get stats(): ForwardStats {
    return this.finalStats ?? this.fw?.stats ?? EMPTY_STATS;
  }

  /** What changes with traffic (an update is due when it differs from the last one sent). */
  trafficKey(): string {
    const s = this.stats;
    return `${s.activeConnections}/${s.totalConnections}/${s.failedConnections}/${s.bytesIn}/${s.bytesOut}`;
  }

  info(): PortForwardInfo {
    const s = this.stats;
    const m = this.meta;
    return {
      id: this.id,
      instanceId: m.instanceId,
      instanceName: m.instanceName,
      profile: m.profile,
      region: m.region,
      remotePort: m.remotePort,
      host: m.host,
      label: m.label,
      localAddress: this.localAddress,
      localPort: this.localPort,
      mode: this.mode,
      state: this.state,
      sessionId: this.sessionId,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      reason: this.reason,
      activeConnections: s.activeConnections,
      totalConnections: s.totalConnections,
      failedConnections: s.failedConnections,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      connections:
        this.live && this.fw
          ? this.fw.connections().map((c) => ({
              id: c.id,
              client: c.client,
              openedAt: c.openedAt,
              bytesIn: c.bytesIn,
              bytesOut: c.bytesOut,
            }))
          : [],
      savedId: m.savedId,
    };
  }
}

export class UnknownForwardError extends Error {
  override readonly name = 'UnknownForwardError';
  constructor(id: string) {
    super(`No port forward has the id ${id}; ports.list shows the open ones.`);
  }
}

export interface PortsServiceOptions {
  /** The control plane of a profile and region (resolving it when needed), and the region it resolved to. */
  resolve(profile: string, region: string): Promise<{ controlPlane: ControlPlane; region: string }>;
  /** The active profile and region (where `ports.open` and `ports.save` go). */
  active(): { profile: string; region: string };
  /** The instance's name, when known (the instance list). */
  nameOf(instanceId: string, profile: string, region: string): string | undefined;
  /** Throws when no session to `instanceId` may be opened now (the governor refuses, or a session limit is reached). */
  admit(instanceId: string): void;
  /** Reconnection and data channel options from the configuration, read at each open. */
  forwardOptions(): Pick<PortForwardOptions, 'reconnect' | 'dataChannel'>;
  saved: SavedForwards;
  logger?: Logger;
  /** How often traffic figures are reported, at most (default 1000 ms). */
  updateIntervalMs?: number;
  /** Opens a forward (tests; default PortForward.open). */
  openForward?: (options: PortForwardOptions) => Promise<PortForward>;
}

interface Pending {
  /** Set by close() while starting: the forward is closed as soon as it listens. */
  cancel: string | undefined;
  settled: Promise<void>;
}

export class PortsService implements Disposable {
  private readonly store = new DisposableStore();
  private readonly log: Logger;
  private readonly live = new Map<string, ForwardRecord>();
  private readonly pending = new Map<string, Pending>();
  private ended: ForwardRecord[] = [];
  /** The traffic figures last reported, per live forward. */
  private readonly reported = new Map<string, string>();
  private readonly subscriptions = new Map<string, DisposableStore>();
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly intervalMs: number;

  private readonly _onUpdated = this.store.add(new Emitter<PortForwardInfo>());
  /** A forward started, changed state, ended, or its traffic figures changed (at most once a second). */
  readonly onUpdated: Event<PortForwardInfo> = this._onUpdated.event;
  private readonly _onBroken = this.store.add(new Emitter<PortForwardInfo>());
  /** An open forward broke (it ended `failed`); fired after its `onUpdated`. */
  readonly onBroken: Event<PortForwardInfo> = this._onBroken.event;
  private readonly _onSavedChanged = this.store.add(new Emitter<SavedForward[]>());
  readonly onSavedChanged: Event<SavedForward[]> = this._onSavedChanged.event;

  constructor(private readonly options: PortsServiceOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'ports' });
    this.intervalMs = options.updateIntervalMs ?? 1000;
    this.store.add(options.saved.onDidChange((saved) => this._onSavedChanged.fire(saved)));
  }

  /** Open forwards (starting, open, reconnecting) and the last ended ones, and the saved ones. */
  list(): PortList {
    const live = [...this.live.values()].sort((a, b) => a.startedAt - b.startedAt);
    return {
      forwards: [...live, ...this.ended].map((r) => r.info()),
      saved: this.options.saved.list(),
      savedProblem: this.options.saved.problem,
    };
  }

  /** How many forwards are open (or starting). */
  get size(): number {
    return this.live.size;
  }

  /** What the service holds (diagnostics, the leak tests). */
  diagnostics(): { open: number; starting: number; endedKept: number; timer: boolean } {
    return {
      open: this.live.size,
      starting: this.pending.size,
      endedKept: this.ended.length,
      timer: this.timer !== undefined,
    };
  }

  /** Open a forward on the active profile and region; with `save`, also keep it for re-opening. */
  async open(spec: PortForwardSpec & { save?: boolean | undefined }): Promise<PortForwardInfo> {
    const where = this.options.active();
    const { save, ...forwardSpec } = spec;
    const info = await this.start(forwardSpec, where, null);
    if (!save) return info;
    const rec = this.live.get(info.id) ?? this.ended.find((r) => r.id === info.id);
    try {
      const saved = await this.options.saved.add(this.savedInput(forwardSpec, info), true);
      rec?.setSaved(saved.id);
      if (rec) this.emit(rec);
      return rec?.info() ?? { ...info, savedId: saved.id };
    } catch (err) {
      throw new Error(
        `The forward is open on ${info.localAddress || 'its local port'}, but it could not be saved: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Save a forward for the active profile and region, without opening it. */
  async save(spec: PortForwardSpec): Promise<SavedForward> {
    const { profile, region } = this.options.active();
    const instanceName = this.options.nameOf(spec.instanceId, profile, region) ?? spec.instanceId;
    return this.options.saved.add(
      this.savedInput(spec, { profile, region, instanceName, host: spec.host ?? null }),
    );
  }

  async unsave(id: string): Promise<void> {
    await this.options.saved.remove(id);
  }

  /** Open a saved forward on its own profile and region (not the active one). */
  async openSaved(id: string): Promise<PortForwardInfo> {
    const s = this.options.saved.get(id);
    if (!s) throw new Error(`No saved port forward has the id ${id}; it may have been removed.`);
    const info = await this.start(
      {
        instanceId: s.instanceId,
        remotePort: s.remotePort,
        localPort: s.localPort,
        ...(s.host ? { host: s.host } : {}),
        ...(s.label ? { label: s.label } : {}),
      },
      { profile: s.profile, region: s.region },
      s,
    );
    await this.options.saved
      .touch(id)
      .catch((err: unknown) =>
        this.log.warn({ err, id }, 'could not record when the saved forward was used'),
      );
    return info;
  }

  /** Stop a forward (one that already ended is not an error). */
  async close(id: string, reason = 'closed by the user'): Promise<void> {
    const rec = this.live.get(id);
    if (!rec) {
      if (this.ended.some((r) => r.id === id)) return;
      throw new UnknownForwardError(id);
    }
    const pending = this.pending.get(id);
    if (pending) {
      pending.cancel ??= reason;
      await pending.settled;
      return;
    }
    await this.stop(rec, reason);
  }

  private async stop(rec: ForwardRecord, reason: string): Promise<void> {
    try {
      await rec.forward?.close(reason);
    } catch (err) {
      this.log.warn(
        { err, id: rec.id },
        'ending the session of a port forward failed; its local port is closed',
      );
    }
    // Its onClosed has ended it; in case ending the session failed, end it here.
    this.finish(rec, 'closed', reason, false);
  }

  /** Close every forward (the workspace closes); no new ones open afterwards. */
  closeAll(reason = CLOSING_REASON): Promise<void> {
    this.closing ??= (async () => {
      for (const p of this.pending.values()) p.cancel ??= reason;
      await Promise.allSettled([
        ...[...this.pending.values()].map((p) => p.settled),
        ...[...this.live.values()].filter((r) => r.forward).map((r) => this.stop(r, reason)),
      ]);
      this.stopTimer();
      await this.options.saved.flush();
    })();
    return this.closing;
  }

  dispose(): void {
    this.stopTimer();
    for (const rec of this.live.values()) rec.forward?.dispose();
    for (const s of this.subscriptions.values()) s.dispose();
    this.subscriptions.clear();
    this.live.clear();
    this.store.dispose();
  }

  // -------------------------------------------------------------------------------------------

  private savedInput(
    spec: PortForwardSpec,
    at: { profile: string; region: string; instanceName: string; host: string | null },
  ): Parameters<SavedForwards['add']>[0] {
    const host = spec.host ?? null;
    return {
      label: spec.label || `${host ?? at.instanceName}:${spec.remotePort}`,
      instanceId: spec.instanceId,
      instanceName: at.instanceName,
      profile: at.profile,
      region: at.region,
      remotePort: spec.remotePort,
      host,
      localPort: spec.localPort ?? 0,
    };
  }

  /** The instances of the forwards open or starting (each is a session, counted against the session limits). */
  targets(): string[] {
    return [...this.live.values()].map((r) => r.meta.instanceId);
  }

  private async start(
    spec: PortForwardSpec,
    where: { profile: string; region: string },
    saved: SavedForward | null,
  ): Promise<PortForwardInfo> {
    if (this.closing) throw new Error(`${CLOSING_REASON}; no new port forwards.`);
    this.options.admit(spec.instanceId);
    const resolved = await this.options.resolve(where.profile, where.region);
    if (this.closing) throw new Error(`${CLOSING_REASON}; no new port forwards.`);
    const region = resolved.region;
    const rec = new ForwardRecord({
      instanceId: spec.instanceId,
      instanceName:
        this.options.nameOf(spec.instanceId, where.profile, region) ?? saved?.instanceName ?? spec.instanceId,
      profile: where.profile,
      region,
      remotePort: spec.remotePort,
      host: spec.host ?? null,
      label: spec.label || null,
      localPort: spec.localPort ?? 0,
      savedId: saved?.id ?? null,
    });
    let settle!: () => void;
    const pending: Pending = { cancel: undefined, settled: new Promise<void>((r) => (settle = r)) };
    this.live.set(rec.id, rec);
    this.pending.set(rec.id, pending);
    this.emit(rec);
    const open = this.options.openForward ?? ((o: PortForwardOptions) => PortForward.open(o));
    let fw: PortForward;
    try {
      fw = await open({
        controlPlane: resolved.controlPlane,
        target: spec.instanceId,
        remotePort: spec.remotePort,
        ...(spec.host ? { host: spec.host } : {}),
        ...(spec.localPort ? { localPort: spec.localPort } : {}),
        ...this.options.forwardOptions(),
        logger: this.log,
      });
    } catch (err) {
      this.pending.delete(rec.id);
      this.finish(rec, 'failed', (err as Error).message, false);
      settle();
      throw err;
    }
    this.pending.delete(rec.id);
    rec.attach(fw);
    const cancel = pending.cancel;
    if (cancel) {
      // Closed while starting (by the user, or the workspace is closing).
      await fw.close(cancel).catch(() => undefined);
      fw.dispose();
      this.finish(rec, 'closed', cancel, false);
      settle();
      throw new Error(`The port forward was closed while it started (${cancel}).`);
    }
    this.watch(rec, fw);
    this.emit(rec);
    this.ensureTimer();
    settle();
    this.log.info(
      {
        id: rec.id,
        target: spec.instanceId,
        remotePort: spec.remotePort,
        local: fw.localAddress,
        profile: where.profile,
      },
      'port forward opened',
    );
    return rec.info();
  }

  private watch(rec: ForwardRecord, fw: PortForward): void {
    const subs = new DisposableStore();
    this.subscriptions.set(rec.id, subs);
    subs.add(
      fw.onStateChange((s) => {
        if (!rec.live || s === 'closed') return;
        const state = forwardState(s);
        if (state === rec.state) return;
        rec.state = state;
        this.emit(rec);
      }),
    );
    subs.add(
      fw.onClosed((closed) => {
        const state = endedState(closed);
        this.finish(rec, state, closed.reason, state === 'failed');
        // Not from inside its own event.
        queueMicrotask(() => fw.dispose());
      }),
    );
  }

  private finish(rec: ForwardRecord, state: 'closed' | 'failed', reason: string, broke: boolean): void {
    if (!rec.live) return;
    rec.end(state, reason);
    this.live.delete(rec.id);
    this.reported.delete(rec.id);
    this.subscriptions.get(rec.id)?.dispose();
    this.subscriptions.delete(rec.id);
    this.ended.unshift(rec);
    if (this.ended.length > ENDED_FORWARDS_KEPT) this.ended.length = ENDED_FORWARDS_KEPT;
    if (![...this.live.values()].some((r) => r.forward)) this.stopTimer();
    const info = rec.info();
    this._onUpdated.fire(info);
    if (broke) {
      this.log.warn({ id: rec.id, reason }, 'port forward broke');
      this._onBroken.fire(info);
    } else {
      this.log.info({ id: rec.id, state, reason }, 'port forward ended');
    }
  }

  private emit(rec: ForwardRecord): void {
    if (rec.live) this.reported.set(rec.id, rec.trafficKey());
    this._onUpdated.fire(rec.info());
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  private stopTimer(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Report the forwards whose traffic figures changed since their last report. */
  private tick(): void {
    let open = 0;
    for (const rec of this.live.values()) {
      if (!rec.forward) continue;
      open++;
      if (this.reported.get(rec.id) !== rec.trafficKey()) this.emit(rec);
    }
    if (open === 0) this.stopTimer();
  }
}
