/**
 * Persistent sessions: a shell that outlives a drop longer than Session Manager keeps a session.
 *
 * ResumeSession recovers a dropped connection only while the service (and the instance's agent)
 * keeps the session; after that the shell is gone. With `session.persistence` set to tmux or
 * screen, every new shell starts inside a tmux or screen session on the instance with a stable
 * name per tab (`ec2c-` and 8 letters or digits), and the startup input that starts it attaches
 * to that session when it already exists. A session whose connection was lost for good is then
 * *re-attached*: a new session to the same instance, profile, region and document, whose startup
 * input attaches to the same tmux or screen session, so programs kept running and the screen is
 * where it was. With persistence off, a re-attach is a fresh shell (the UI restores the old
 * screen above it and says nothing kept running).
 *
 * `SessionPersistence` keeps, per session, what it was opened with and its tmux/screen name,
 * notices the sessions that closed because their connection was lost (SessionManager's
 * `lostConnection`), re-attaches them on request, and, with auto re-attach on, by itself: a
 * bounded number of tries, sooner when the network changes or the machine wakes (`retryNow`).
 *
 * The persistence mode is a property of the open request (the configuration today; a session
 * preset can carry one the same way).
 */
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../log/logger.js';
import { DisposableStore, Emitter, type Disposable, type Event } from '../util/lifecycle.js';
import type { SessionClosed } from '../ssm/session.js';
import { NetworkWatcher, type InterfacesProvider } from './network-watcher.js';
import { COMMAND_DOCUMENT } from './session-launch.js';
import type { ManagedSessionInfo, OpenRequest, SessionManager } from './session-manager.js';

/** `off`: a plain shell; `tmux` / `screen`: the shell runs in a session of that multiplexer. */
export type PersistenceMode = 'off' | 'tmux' | 'screen';
export type Multiplexer = Exclude<PersistenceMode, 'off'>;

/** The tmux or screen session a shell runs in. */
export interface Persistence {
  tool: Multiplexer;
  /** `ec2c-` and 8 lower-case letters or digits (PERSISTENT_NAME_PATTERN). */
  name: string;
}

/** Names EC2 Connect gives its tmux and screen sessions; nothing else is ever put into a command. */
export const PERSISTENT_NAME_PATTERN = /^ec2c-[a-z0-9]{8}$/;

const NAME_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh session name: `ec2c-` and 8 random lower-case letters or digits. */
export function newPersistentName(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(8);
  let suffix = '';
  for (let i = 0; i < 8; i++) suffix += NAME_ALPHABET[bytes[i]! % NAME_ALPHABET.length];
  return `ec2c-${suffix}`;
}

export class InvalidPersistentNameError extends Error {
  override readonly name = 'InvalidPersistentNameError';
  constructor(value: string) {
    super(
      `${JSON.stringify(value.slice(0, 60))} is not a persistent session name: EC2 Connect only uses names like ec2c-1a2b3c4d ("ec2c-" and 8 lower-case letters or digits).`,
    );
  }
}

/** `name` if it is one of ours (PERSISTENT_NAME_PATTERN); throws InvalidPersistentNameError otherwise. */
export function checkPersistentName(name: string): string {
  if (!PERSISTENT_NAME_PATTERN.test(name)) throw new InvalidPersistentNameError(name);
  return name;
}

/**
 * The line typed into a new shell that starts or joins the tmux/screen session `p` (with its
 * "\r"). It checks that the tool is installed first; when it is not (or it cannot start, e.g. an
 * unknown terminal type), it says so and leaves a plain shell. When the tool ends normally (its
 * last window closed, or detached), the session ends as the shell would. A leading space keeps
 * it out of a shell history that ignores such lines. Only validated names are put into it.
 *
 * - tmux: `new-session -A -s NAME` attaches to NAME if it exists, else creates it.
 * - screen: `-xRR -S NAME` attaches to NAME (sharing it if another display still holds it),
 *   else creates it.
 */
export function attachCommand(p: Persistence): string {
  const name = checkPersistentName(p.name);
  const start = p.tool === 'tmux' ? `tmux new-session -A -s ${name}` : `screen -xRR -S ${name}`;
  return (
    ` command -v ${p.tool} >/dev/null 2>&1 && { ${start} && exit; } ||` +
    ` echo "ec2-connect: ${p.tool} is not installed on this instance (or did not start); this is a plain shell"\r`
  );
}

/** The startup input of a shell: its own (a preset's), then the attach command when persistent. */
export function startupInputFor(base: string | undefined, p: Persistence | null): string | undefined {
  if (!p) return base;
  const attach = attachCommand(p);
  if (!base) return attach;
  return /[\r\n]$/.test(base) ? base + attach : `${base}\r${attach}`;
}

/** Why a session gets a plain shell although persistence is on. */
export type PlainShellReason = 'command' | 'windows';

/**
 * The persistence a new session gets: `mode` for a shell; 'off' for a command session (it runs
 * its command, not a shell to start tmux or screen in) and on a Windows instance (PowerShell has
 * neither tool). `platform` is the instance's platform name or type, when known.
 */
export function effectivePersistence(
  mode: PersistenceMode,
  target: { documentName?: string | undefined; platform?: string | undefined },
): { mode: PersistenceMode; plainBecause?: PlainShellReason } {
  if (mode === 'off') return { mode };
  const doc = target.documentName;
  if (doc === COMMAND_DOCUMENT || doc === 'AWS-StartNonInteractiveCommand')
    return { mode: 'off', plainBecause: 'command' };
  if (target.platform !== undefined && /windows/i.test(target.platform))
    return { mode: 'off', plainBecause: 'windows' };
  return { mode };
}

/**
 * Whether a session lost its connection for good: it closed while reconnecting (the drop
 * outlasted what the same token, then ResumeSession, could recover: the service no longer has
 * the session) and not because this side ended it (a reconnect cancelled by the user is not lost).
 */
export function isLostConnection(
  closedWhileReconnecting: boolean,
  closed: Pick<SessionClosed, 'how'>,
): boolean {
  return closedWhileReconnecting && closed.how !== 'terminated';
}

/** Why a session cannot be re-attached (unknown, or it did not lose its connection). */
export class NotReattachableError extends Error {
  override readonly name = 'NotReattachableError';
}

/** Automatic re-attach of one lost session. */
export interface AutoReattachState {
  /** Attempts made so far. */
  attempt: number;
  maxAttempts: number;
  /** 'waiting' for the next attempt (at nextAttemptAt), 'trying' now, or 'gave-up' after maxAttempts. */
  phase: 'waiting' | 'trying' | 'gave-up';
  /** Epoch ms of the next attempt while waiting. */
  nextAttemptAt: number | null;
  /** Why the last attempt failed. */
  lastError: string | null;
}

/** A session whose connection was lost for longer than the service keeps sessions. */
export interface LostSession {
  id: string;
  instanceId: string;
  profile: string;
  region: string;
  /** The tmux/screen session a re-attach joins; null: persistence was off (a fresh shell). */
  persistence: Persistence | null;
  /** Why it closed (the session's close reason). */
  reason: string;
  lostAt: number;
  /** Set while auto re-attach works on it (session.auto_reattach). */
  auto: AutoReattachState | null;
}

export interface ReattachedEvent {
  /** The lost session this one replaces. */
  previousId: string;
  info: ManagedSessionInfo;
  persistence: Persistence | null;
  /** True when auto re-attach did it. */
  automatic: boolean;
}

/** Default waits before each automatic attempt: 5 tries within about 50 s. */
export const AUTO_REATTACH_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * The wait before automatic attempt `attempt` (1-based) of the schedule `delays`, whose length is
 * the number of attempts (later attempts, if any, wait as long as the last).
 */
export function reattachDelayMs(
  attempt: number,
  delays: readonly number[] = AUTO_REATTACH_DELAYS_MS,
): number {
  const all = delays.length ? delays : AUTO_REATTACH_DELAYS_MS;
  return all[Math.max(0, attempt - 1)] ?? all[all.length - 1]!;
}

export interface SessionPersistenceOptions {
  manager: SessionManager;
  /** Whether to re-attach without being asked (session.auto_reattach), read at each loss. */
  autoReattach: () => boolean;
  /** Waits before each automatic attempt; its length is the number of attempts. */
  autoDelaysMs?: readonly number[];
  /** Called before each re-attach opens a session; throw to refuse (the resource governor). */
  admit?: (instanceId: string) => void;
  /** Lost sessions remembered for a re-attach (default 100; the oldest are forgotten). */
  maxLost?: number;
  /** While automatic attempts wait, a network change makes them at once (interfaces polled this often). */
  networkWatch?: { intervalMs?: number; provider?: InterfacesProvider } | false;
  logger?: Logger;
}

interface Tracked {
  /** The open request without size and without the attach command (a preset's startup input stays). */
  request: OpenRequest;
  persistence: Persistence | null;
  /** The terminal size it was opened with: an automatic re-attach starts with it. */
  size: { cols: number; rows: number } | undefined;
}

interface LostEntry {
  lost: LostSession;
  tracked: Tracked;
  timer: NodeJS.Timeout | undefined;
  /** The re-attach in flight (manual and automatic attempts join it). */
  inFlight: Promise<ReattachedEvent> | undefined;
}

export class SessionPersistence implements Disposable {
  private readonly tracked = new Map<string, Tracked>();
  private readonly lostEntries = new Map<string, LostEntry>();
  private readonly origins = new Map<string, string>();
  private readonly store = new DisposableStore();
  private readonly log: Logger;
  private readonly delays: readonly number[];
  private watcher: NetworkWatcher | undefined;
  private disposed = false;

  private readonly _onLost = this.store.add(new Emitter<LostSession>());
  /** A session lost its connection for good and can be re-attached (fired after the manager's onClosed). */
  readonly onLost: Event<LostSession> = this._onLost.event;
  private readonly _onAuto = this.store.add(new Emitter<LostSession>());
  /** The automatic re-attach of a lost session changed (waiting, trying, gave up). */
  readonly onAutoProgress: Event<LostSession> = this._onAuto.event;
  private readonly _onReattached = this.store.add(new Emitter<ReattachedEvent>());
  /** A lost session was replaced by a new one. */
  readonly onReattached: Event<ReattachedEvent> = this._onReattached.event;

  constructor(private readonly o: SessionPersistenceOptions) {
    this.log = (o.logger ?? silentLogger).child({ module: 'persistent-sessions' });
    this.delays = o.autoDelaysMs?.length ? o.autoDelaysMs : AUTO_REATTACH_DELAYS_MS;
    this.store.add(o.manager.onClosed((info) => this.closed(info)));
  }

  /**
   * Open a shell, inside a tmux or screen session when `mode` says so; it is tracked for a
   * re-attach. `request.startupInput` (a preset's) is typed first, then the attach command.
   */
  async open(
    request: OpenRequest,
    mode: PersistenceMode,
  ): Promise<{ info: ManagedSessionInfo; persistence: Persistence | null }> {
    const persistence = mode === 'off' ? null : { tool: mode, name: newPersistentName() };
    const info = await this.openTracked(request, persistence);
    return { info, persistence };
  }

  private async openTracked(
    request: OpenRequest,
    persistence: Persistence | null,
  ): Promise<ManagedSessionInfo> {
    const startupInput = startupInputFor(request.startupInput, persistence);
    const info = await this.o.manager.open({ ...request, ...(startupInput ? { startupInput } : {}) });
    // Tracked before any close can be seen: a close arrives in a later event-loop turn.
    const size = request.cols && request.rows ? { cols: request.cols, rows: request.rows } : undefined;
    this.tracked.set(info.id, { request: withoutSize(request), persistence, size });
    return info;
  }

  /** The tmux/screen session of a session (open, or lost): null when it runs a plain shell, undefined when unknown. */
  persistenceOf(id: string): Persistence | null | undefined {
    return this.tracked.get(id)?.persistence ?? this.lostEntries.get(id)?.tracked.persistence;
  }

  /** The session a re-attach replaced with this one. */
  reattachedFrom(id: string): string | undefined {
    return this.origins.get(id);
  }

  /** A lost session that can be re-attached. */
  lost(id: string): LostSession | undefined {
    const e = this.lostEntries.get(id);
    return e && copyLost(e.lost);
  }

  get lostCount(): number {
    return this.lostEntries.size;
  }

  /**
   * Replace lost session `id` by a new one on the same instance, profile, region and document,
   * re-attached to its tmux/screen session (or a fresh shell with persistence off). A re-attach
   * already in flight for it is joined. Rejects with NotReattachableError for a session that is
   * not lost, or with the open's error (the lost session stays re-attachable).
   */
  reattach(id: string, size?: { cols: number; rows: number }): Promise<ReattachedEvent> {
    return this.attempt(id, size, false);
  }

  /** The user closed the tab of a lost session: no re-attach, automatic or not. */
  forget(id: string): void {
    const e = this.lostEntries.get(id);
    if (!e) return;
    clearTimeout(e.timer);
    this.lostEntries.delete(id);
    this.updateWatcher();
  }

  /**
   * The network changed or the machine woke: automatic re-attaches waiting for their next try
   * make it now.
   */
  retryNow(): void {
    for (const e of this.lostEntries.values()) {
      if (e.lost.auto?.phase !== 'waiting' || e.inFlight) continue;
      clearTimeout(e.timer);
      e.timer = undefined;
      void this.attempt(e.lost.id, undefined, true).catch(() => undefined);
    }
  }

  private closed(info: ManagedSessionInfo): void {
    const tracked = this.tracked.get(info.id);
    this.tracked.delete(info.id);
    if (!tracked || !info.lostConnection || this.disposed) return;
    const lost: LostSession = {
      id: info.id,
      instanceId: info.instanceId,
      profile: info.profile,
      region: info.region,
      persistence: tracked.persistence,
      reason: info.closed?.reason ?? 'the connection was lost',
      lostAt: Date.now(),
      auto: null,
    };
    const entry: LostEntry = { lost, tracked, timer: undefined, inFlight: undefined };
    this.lostEntries.set(info.id, entry);
    const max = this.o.maxLost ?? 100;
    for (const oldest of this.lostEntries.keys()) {
      if (this.lostEntries.size <= max) break;
      this.forget(oldest);
    }
    this.log.info(
      { sessionId: info.id, persistence: tracked.persistence?.tool ?? 'off' },
      'session lost for good; it can be re-attached',
    );
    if (this.o.autoReattach()) {
      lost.auto = {
        attempt: 0,
        maxAttempts: this.delays.length,
        phase: 'waiting',
        nextAttemptAt: null,
        lastError: null,
      };
      this.schedule(entry);
    }
    this._onLost.fire(copyLost(lost));
  }

  /** The next automatic attempt of `entry`, after its delay. */
  private schedule(entry: LostEntry): void {
    const auto = entry.lost.auto;
    if (!auto || this.disposed) return;
    const wait = reattachDelayMs(auto.attempt + 1, this.delays);
    auto.phase = 'waiting';
    auto.nextAttemptAt = Date.now() + wait;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.attempt(entry.lost.id, undefined, true).catch(() => undefined);
    }, wait);
    entry.timer.unref?.();
    this.updateWatcher();
  }

  private attempt(
    id: string,
    size: { cols: number; rows: number } | undefined,
    automatic: boolean,
  ): Promise<ReattachedEvent> {
    const entry = this.lostEntries.get(id);
    if (!entry) {
      return Promise.reject(
        new NotReattachableError(
          `Session ${id} cannot be re-attached: only a session whose connection was lost for longer than the service keeps sessions can be (and only once). Open a new session instead.`,
        ),
      );
    }
    if (entry.inFlight) return entry.inFlight;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const auto = entry.lost.auto;
    if (auto && automatic) {
      auto.attempt++;
      auto.phase = 'trying';
      auto.nextAttemptAt = null;
      this._onAuto.fire(copyLost(entry.lost));
    }
    const run = async (): Promise<ReattachedEvent> => {
      const { request, persistence } = entry.tracked;
      this.o.admit?.(request.target);
      const info = await this.openTracked({ ...request, ...(size ?? entry.tracked.size ?? {}) }, persistence);
      return { previousId: id, info, persistence, automatic };
    };
    const pending = run().then(
      (done) => {
        entry.inFlight = undefined;
        this.lostEntries.delete(id);
        this.origins.set(done.info.id, id);
        if (this.origins.size > 1000) this.origins.delete(this.origins.keys().next().value!);
        this.updateWatcher();
        this.log.info({ from: id, sessionId: done.info.id, automatic }, 're-attached a lost session');
        this._onReattached.fire(done);
        return done;
      },
      (err: unknown) => {
        entry.inFlight = undefined;
        const message = err instanceof Error ? err.message : String(err);
        this.log.warn({ sessionId: id, err, automatic }, 're-attach failed');
        const a = entry.lost.auto;
        if (a && this.lostEntries.get(id) === entry) {
          a.lastError = message;
          if (automatic && a.attempt >= a.maxAttempts) {
            a.phase = 'gave-up';
            a.nextAttemptAt = null;
            this.updateWatcher();
          } else if (a.phase !== 'gave-up') {
            this.schedule(entry);
          }
          this._onAuto.fire(copyLost(entry.lost));
        }
        throw err;
      },
    );
    entry.inFlight = pending;
    return pending;
  }

  /** Watch the network only while automatic attempts wait. */
  private updateWatcher(): void {
    const waiting = [...this.lostEntries.values()].some((e) => e.lost.auto?.phase === 'waiting');
    if (waiting && !this.watcher && this.o.networkWatch !== false && !this.disposed) {
      this.watcher = new NetworkWatcher(() => {
        this.log.info('network changed: automatic re-attaches try now');
        this.retryNow();
      }, this.o.networkWatch ?? {});
    } else if (!waiting && this.watcher) {
      this.watcher.dispose();
      this.watcher = undefined;
    }
  }

  /** Timers and watchers held (the leak tests). */
  diagnostics(): { tracked: number; lost: number; timers: number; watching: boolean } {
    let timers = 0;
    for (const e of this.lostEntries.values()) if (e.timer) timers++;
    return { tracked: this.tracked.size, lost: this.lostEntries.size, timers, watching: !!this.watcher };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.lostEntries.values()) clearTimeout(e.timer);
    this.lostEntries.clear();
    this.tracked.clear();
    this.watcher?.dispose();
    this.watcher = undefined;
    this.store.dispose();
  }
}

/** A request without its terminal size (a re-attach takes the terminal's size of then). */
function withoutSize(request: OpenRequest): OpenRequest {
  const kept: OpenRequest = { ...request };
  delete kept.cols;
  delete kept.rows;
  return kept;
}

function copyLost(l: LostSession): LostSession {
  return {
    ...l,
    persistence: l.persistence && { ...l.persistence },
    auto: l.auto && { ...l.auto },
  };
}
