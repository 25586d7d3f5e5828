/**
 * The workspace: what the desktop app and web mode serve to the renderer. It owns the active
 * profile and region (and every profile resolved so far, so sessions keep running after a
 * switch), the session manager, the output batcher with its replay buffers, the per-session
 * metrics, the UI settings and the notification policy, the port forwards and the saved ones
 * (ports.ts, saved-forwards.ts), and implements the bridge contract (preload/api.ts) on top of them.
 *
 * Data flows one way: session manager events -> workspace -> `onEvent` -> the transport
 * (IPC or WebSocket) -> renderer stores. Requests come back through `handlers`, validated by
 * the dispatcher before they get here.
 *
 * Terminal output goes to the renderer in batches and under flow control: the renderer
 * acknowledges what it has drawn (`sessions.ack`), and a session with more than 1 MiB
 * unacknowledged stops reading its socket, so the remote program is slowed down instead of
 * memory growing (SessionManager.enableFlowControl).
 */
import os from 'node:os';
import path from 'node:path';
import type {
  AppInfo,
  BridgeEvent,
  DiagnosticReport,
  BridgeHandlers,
  ConnectionNoticeKind,
  EventName,
  EventPayload,
  InstanceList,
  GovernorChange,
  PortForwardInfo,
  GovernorState,
  ProfileList,
  ResourceSnapshot,
  SessionInfo,
  SessionLaunch,
  SessionPreset,
  Settings,
} from '../../../preload/api.js';
import { silentLogger, type Logger } from '../log/logger.js';
import {
  SessionLimitError,
  SessionManager,
  UnknownSessionError,
  type ManagedSessionInfo,
  type SessionManagerOptions,
} from '../sessions/session-manager.js';
import {
  NotReattachableError,
  SessionPersistence,
  effectivePersistence,
  type LostSession,
  type PersistenceMode,
  type ReattachedEvent,
  type SessionPersistenceOptions,
} from '../sessions/persistent.js';
import type { InstanceSummary } from '../ssm/types.js';
import { DisposableStore, Emitter, type Event } from '../util/lifecycle.js';
import { CLIENT_VERSION } from '../version.js';
import {
  SANDBOX_PROFILE,
  resolveProfile,
  type ProfileSelection,
  type ResolvedProfile,
} from '../../sandbox/embedded-profile.js';
import { NotificationPolicy } from './notification-policy.js';
import { OutputBatcher, type OutputBatcherOptions } from './output-batcher.js';
import { discoverProfiles, type ProfileDiscovery } from './profiles.js';
import { SessionMetrics } from './session-metrics.js';
import { corePolicy, WorkspaceResources, type WorkspaceResourcesOptions } from './resources.js';
import type { ProbeTarget } from '../monitor/endpoint-probe.js';
import { ConfigStore } from '../config/store.js';
import { IN_MEMORY } from '../config/load.js';
import { PortsService } from './ports.js';
import { SAVED_FORWARDS_FILE, SavedForwards } from './saved-forwards.js';
import { SESSION_PRESETS_FILE, SessionPresets, UnknownPresetError } from './session-presets.js';
import {
  explicitChoice,
  planLaunch,
  presetChoice,
  type ChoiceFields,
  type LaunchPlan,
} from '../sessions/session-launch.js';
import type { Config } from '../config/schema.js';
import { flowControl, networkOptions, reconnectPolicy, sessionLimits } from '../config/apply.js';
import { Network } from '../net/network.js';
import { CredentialPromptBroker, CredentialResolver } from '../credentials/index.js';
import { runDiagnostics } from '../diagnostics/index.js';
import { limitsFromConfig } from '../governor/limits.js';
import { configValuesFromSettingsPatch, settingsFromConfig } from './settings-config.js';
import { SessionRecorder } from './session-recorder.js';
import type { HistoryStore } from '../store/types.js';
import type { RecentInstance, WorkspaceNotification, WorkspaceService } from './types.js';

export interface WorkspaceOptions {
  /** The profile active at start (default: EC2_CONNECT_PROFILE, else the sandbox). */
  profile?: string;
  region?: string;
  /** Endpoint override for the profile active at start (a standalone sandbox). */
  endpoint?: string;
  /** The configuration (main/core/config): a store shared with the caller... */
  config?: ConfigStore;
  /** ...or the file of one the workspace opens and owns; with neither, it is kept in memory. */
  configFile?: string;
  /** The environment the configuration reads EC2_CONNECT_* from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Credentials of AWS profiles (default: a resolver that asks through credentials.prompt events). */
  credentials?: CredentialResolver;
  logger?: Logger;
  /** Profile resolution (default: resolveProfile, which starts the embedded sandbox for `sandbox`). */
  resolve?: (selection: ProfileSelection) => Promise<ResolvedProfile>;
  /** Profiles offered by the switcher (default: the sandbox and the AWS config files). */
  discover?: (sandboxRegion: string) => Promise<ProfileDiscovery>;
  /** Session manager options (limits, reconnect policy, health checks, inactive timeout). */
  manager?: Omit<SessionManagerOptions, 'controlPlaneFor' | 'logger'>;
  /** Persistent sessions' automatic re-attach: its waits and network watch (tests). */
  persistence?: Pick<SessionPersistenceOptions, 'autoDelaysMs' | 'networkWatch'>;
  output?: Omit<OutputBatcherOptions, 'emit'>;
  metricsIntervalMs?: number;
  /** How long an instance list is served from memory without `refresh` (default 15 s). */
  instanceCacheMs?: number;
  /** The history store (issue 6); the workspace records into it and closes it on close(). */
  history?: HistoryStore;
  /** What the history records as the source of sessions (default 'app'). */
  historySource?: 'app' | 'web';
  /** The resource monitor and governor (issue 7): environment, host processes, test hooks. */
  resources?: Pick<WorkspaceResourcesOptions, 'monitor' | 'externalProcesses'>;
  /**
   * The saved port forwards (saved-forwards.ts): default `forwards.json` beside the configuration
   * file (`<appData>/forwards.json`), in memory when the configuration is; null: in memory.
   */
  forwardsFile?: string | null;
  /**
   * The session presets (session-presets.ts): default `session-presets.json` beside the
   * configuration file, in memory when the configuration is; null: in memory.
   */
  presetsFile?: string | null;
  /** How often a forward's traffic figures are reported at most (default 1000 ms). */
  portsUpdateIntervalMs?: number;
  /**
   * Opens a URL in the user's browser (the app: shell.openExternal; web mode: open/xdg-open).
   * Given, an SSO sign-in opens its verification page by itself when aws.sso_open_browser is on;
   * the dialog shows the link either way.
   */
  openUrl?: (url: string) => void;
}

/** What sessions.open may choose besides the instance: an explicit document and shell setup, or a preset. */
type OpenChoice = ChoiceFields & { presetId?: string | undefined };

/** sessions.open or ports.open refused by the resource governor (the message says why and what to do). */
export class ResourceLimitError extends Error {
  override readonly name = 'ResourceLimitError';
}

interface ReconnectInfo {
  attempt: number;
  maxAttempts: number;
  nextAttemptAt: string;
  cause: string;
}

const key = (profile: string, region: string): string => `${profile}\u0000${region}`;

/** A saved instance list older than this is not shown at start-up. */
const SAVED_LIST_MAX_AGE_MS = 7 * 24 * 3600_000;

/** Why there is no history: turned off in the configuration, or not given to this workspace. */
function noHistory(config: Config): { available: false; problem: string; file: null } {
  return {
    available: false,
    problem: config.database.enabled
      ? 'Session history is not recorded in this process.'
      : 'Session history is off (database.enabled is false, or EC2_CONNECT_NO_HISTORY=1). Turn it on in Settings > Database; it applies at the next start.',
    file: null,
  };
}

export class Workspace implements WorkspaceService {
  private readonly log: Logger;
  private readonly store = new DisposableStore();
  private readonly config: ConfigStore;
  private readonly ownsConfig: boolean;
  private readonly broker = new CredentialPromptBroker();
  private readonly credentials: CredentialResolver;
  private readonly ownsCredentials: boolean;
  /**
   * The proxy and CA bundle every AWS connection follows (connection.proxy, no_proxy, ca_bundle;
   * else HTTPS_PROXY, NO_PROXY, AWS_CA_BUNDLE), shared by all profiles; a change applies at the
   * next start. When the settings are unusable (a CA bundle that cannot be read), AWS profiles
   * fail with `networkProblem` until fixed, while the sandbox keeps working.
   */
  private readonly network: Network;
  private readonly networkProblem: Error | undefined;
  private lastSettings: string;
  private readonly resolveFn: (selection: ProfileSelection) => Promise<ResolvedProfile>;
  private readonly discoverFn: (sandboxRegion: string) => Promise<ProfileDiscovery>;
  /** Every profile/region resolved so far (sessions on them keep running after a switch). */
  private readonly resolved = new Map<string, Promise<ResolvedProfile>>();
  private readonly ready = new Map<string, ResolvedProfile>();
  private active!: { profile: string; region: string; endpoint: string | undefined };
  private sandboxRegion = 'us-east-1';
  private readonly manager: SessionManager;
  /** Persistent sessions: tmux/screen names, lost sessions, re-attach (main/core/sessions/persistent.ts). */
  private readonly persistence: SessionPersistence;
  private readonly batcher: OutputBatcher;
  private readonly metrics: SessionMetrics;
  private readonly resources: WorkspaceResources;
  private readonly notifications: NotificationPolicy;
  private readonly names = new Map<string, string>();
  /** The AWS principal of each resolved profile/region (for the history's "who"). */
  private readonly principals = new Map<string, string>();
  private readonly reconnecting = new Map<string, ReconnectInfo>();
  private readonly closedInfo = new Map<string, SessionInfo>();
  private readonly instanceCache = new Map<string, InstanceList>();
  private recents: RecentInstance[] = [];
  private onBattery = false;
  private closing: Promise<void> | undefined;
  private readonly history: HistoryStore | undefined;
  private readonly recorder: SessionRecorder | undefined;
  private readonly savedForwards: SavedForwards;
  private readonly presets: SessionPresets;
  /** How each session was started when not the plain shell (its document, user, preset). */
  private readonly launches = new Map<string, SessionLaunch>();
  private readonly ports: PortsService;

  private readonly _onEvent = this.store.add(new Emitter<BridgeEvent>());
  readonly onEvent: Event<BridgeEvent> = this._onEvent.event;
  private readonly _onNotification = this.store.add(new Emitter<WorkspaceNotification>());
  readonly onNotification: Event<WorkspaceNotification> = this._onNotification.event;
  private readonly _onCount = this.store.add(new Emitter<number>());
  readonly onSessionCountChanged: Event<number> = this._onCount.event;

  readonly handlers: BridgeHandlers;

  private constructor(private readonly options: WorkspaceOptions) {
    this.log = options.logger ?? silentLogger;
    this.ownsConfig = !options.config;
    this.config =
      options.config ??
      new ConfigStore({
        ...(options.configFile ? { file: options.configFile } : { inMemory: true }),
        ...(options.env ? { env: options.env } : {}),
        logger: this.log,
      });
    this.lastSettings = JSON.stringify(this.settingsNow());
    this.ownsCredentials = !options.credentials;
    const aws = this.config.config.aws;
    const env = options.env ?? process.env;
    try {
      this.network = new Network(networkOptions(this.config.config, env));
    } catch (err) {
      this.networkProblem = err as Error;
      this.log.error(
        { err },
        'the proxy or CA bundle settings cannot be used; AWS profiles will fail until fixed',
      );
      this.network = new Network();
    }
    this.credentials =
      options.credentials ??
      new CredentialResolver({
        prompter: this.broker,
        refreshMinutes: aws.credential_refresh_minutes,
        mfaTimeoutMs: aws.mfa_prompt_timeout_seconds * 1000,
        network: this.network,
        connectionTimeoutMs: this.config.config.connection.connection_timeout,
        requestTimeoutMs: this.config.config.connection.request_timeout,
        logger: this.log,
      });
    this.resolveFn = options.resolve ?? resolveProfile;
    this.discoverFn = options.discover ?? discoverProfiles;
    this.notifications = new NotificationPolicy(() => this.settingsNow().notifications);
    const cfg = this.config.config;
    this.manager = new SessionManager({
      ...managerOptionsFromConfig(cfg),
      ...options.manager,
      // Port forwards are Session Manager sessions too: they count against the same limits.
      otherSessions: () => this.ports?.targets() ?? [],
      controlPlaneFor: (profile, region) => {
        const p = this.ready.get(key(profile, region));
        if (!p) throw new Error(`profile ${profile} (${region}) is not resolved`);
        return p.controlPlane;
      },
      logger: this.log,
    });
    // Before wireManager: a lost session is known as such when the workspace reports its close.
    this.persistence = new SessionPersistence({
      manager: this.manager,
      autoReattach: () => this.config.config.session.auto_reattach,
      admit: () => this.admit(),
      logger: this.log,
      ...options.persistence,
    });
    this.batcher = this.store.add(
      new OutputBatcher({
        intervalMs: cfg.performance.ui_update_interval_ms,
        maxBatchBytes: cfg.performance.output_batch_kib * 1024,
        replayBytes: cfg.performance.replay_buffer_kib * 1024,
        ...options.output,
        emit: (batch) => this.emit('session.output', batch),
      }),
    );
    this.metrics = this.store.add(
      new SessionMetrics({
        intervalMs: this.baseMetricsMs(),
        counters: (id) => this.manager.get(id),
        onTick: (tick) => {
          this.emit('metrics.tick', tick);
          this.recorder?.recordTick(tick);
        },
      }),
    );
    this.history = options.history;
    if (this.history) {
      this.recorder = this.store.add(
        new SessionRecorder({
          store: this.history,
          manager: this.manager,
          source: options.historySource ?? 'app',
          nameOf: (id) => this.names.get(id) ?? id,
          principalOf: (profile, region) => this.principals.get(key(profile, region)),
          onChanged: (sessionId) => this.emit('history.changed', { sessionId }),
        }),
      );
    }
    this.resources = this.createResources();
    this.savedForwards = this.store.add(new SavedForwards({ file: this.forwardsFile(), logger: this.log }));
    this.presets = this.store.add(new SessionPresets({ file: this.presetsFile(), logger: this.log }));
    this.store.add(this.presets.onDidChange((presets) => this.emit('presets.changed', { presets })));
    this.ports = this.createPorts();
    this.store.add(this.resources.monitor.addLeakSource('port forwards', () => this.ports.size));
    this.wireConfig();
    this.wireManager();
    this.wirePersistence();
    this.handlers = this.createHandlers();
  }

  /** Load the settings and resolve the starting profile (starting the embedded sandbox if it is the sandbox). */
  static async start(options: WorkspaceOptions = {}): Promise<Workspace> {
    const ws = new Workspace(options);
    try {
      ws.resources.start();
      // The caller's choice, else the configuration's aws section (EC2_CONNECT_PROFILE etc. included).
      const aws = ws.config.config.aws;
      const profile = options.profile ?? aws.profile;
      const resolved = await ws.resolveProfile(profile, options.region ?? aws.region ?? undefined);
      ws.active = { profile, region: resolved.region, endpoint: resolved.endpoint };
      if (resolved.sandbox) ws.sandboxRegion = resolved.region;
      return ws;
    } catch (err) {
      await ws.close();
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Configuration, credentials and diagnostics (issue 8)
  // -------------------------------------------------------------------------------------------

  private settingsNow(): Settings {
    return settingsFromConfig(this.config.current.values);
  }

  private baseMetricsMs(): number {
    return this.options.metricsIntervalMs ?? this.config.config.performance.metrics_interval_ms;
  }

  /** The core's figures when the governor asks nothing of it (configured, or the caller's options). */
  private basePolicy(): { batchMs: number; replayBytes: number } {
    const perf = this.config.config.performance;
    return {
      batchMs: this.options.output?.intervalMs ?? perf.ui_update_interval_ms,
      replayBytes: this.options.output?.replayBytes ?? perf.replay_buffer_kib * 1024,
    };
  }

  /** A change of the configuration (here, another window, or the file edited) applies at once where safe. */
  private wireConfig(): void {
    this.store.add(
      this.config.onDidChange((loaded) => {
        this.emit('config.changed', this.config.state());
        const settings = this.settingsNow();
        const text = JSON.stringify(settings);
        if (text !== this.lastSettings) {
          this.lastSettings = text;
          this.emit('settings.changed', settings);
        }
        this.manager.configure(managerOptionsFromConfig(loaded.config, this.options.manager));
        this.resources.settingsChanged();
        for (const p of loaded.problems) this.log.warn({ key: p.key }, p.message);
      }),
    );
    this.store.add(
      this.broker.onPrompt((prompt) => {
        this.emit('credentials.prompt', prompt);
        const sso = prompt.sso;
        if (sso && this.options.openUrl && this.config.config.aws.sso_open_browser) {
          const url = sso.verificationUriComplete ?? sso.verificationUri;
          // Only web pages: the address comes from the SSO service's answer.
          if (/^https?:\/\//i.test(url)) this.options.openUrl(url);
          else this.log.warn({ url }, 'not opening an SSO sign-in address that is not http(s)');
        }
      }),
    );
    this.store.add(this.broker.onPromptDone((done) => this.emit('credentials.promptDone', done)));
    for (const p of this.config.current.problems) this.log.warn({ key: p.key }, p.message);
  }

  private async runDiagnostics(req: {
    kind: 'preventive' | 'full';
    instanceId?: string | undefined;
    timeoutSeconds?: number | undefined;
    parallel?: number | undefined;
  }): Promise<DiagnosticReport> {
    const { profile, region } = this.active;
    const resolved = await this.resolveProfile(profile, region);
    const full = req.kind === 'full';
    const snapshot = full ? this.resources.snapshot() : undefined;
    const history = this.history;
    return runDiagnostics({
      kind: req.kind,
      controlPlane: resolved.controlPlane,
      profile,
      region: resolved.region,
      instanceId: req.instanceId ?? null,
      ...(req.timeoutSeconds ? { timeoutMs: req.timeoutSeconds * 1000 } : {}),
      ...(req.parallel ? { parallel: req.parallel } : {}),
      latencyThresholdMs: this.config.config.connection.latency_threshold_ms,
      // The proxy settings reported; the probes take the control plane's Network (built from them).
      proxy: { url: this.config.config.connection.proxy, noProxy: this.config.config.connection.no_proxy },
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(resolved.endpoint ? { ssmEndpoint: resolved.endpoint } : {}),
      onCheck: (check) => this.emit('diagnostics.progress', { check }),
      ...(full && snapshot ? { resources: { governor: snapshot.governor, leak: snapshot.leak } } : {}),
      ...(full
        ? history
          ? {
              store: { status: history.status },
              recentSessions: history.listSessions({
                outcome: 'failed',
                from: new Date(Date.now() - 24 * 3600_000).toISOString(),
              }),
            }
          : {
              storeUnavailable: noHistory(this.config.config).problem,
              recentSessionsUnavailable: noHistory(this.config.config).problem,
            }
        : {}),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Resources (issue 7)
  // -------------------------------------------------------------------------------------------

  private createResources(): WorkspaceResources {
    const r = new WorkspaceResources({
      ...this.options.resources,
      limits: () => limitsFromConfig(this.config.current),
      logger: this.log,
      childPids: () =>
        [...this.ready.values()].flatMap((p) =>
          (p.sandbox?.dataChannel.shellPids() ?? []).map((pid) => ({ pid, role: 'pty' })),
        ),
      probeTargets: () => this.probeTargets(),
      sessionsOpen: () => this.manager.size,
      sessionFigures: () => {
        const latest = new Map(this.metrics.history().sessions.map((s) => [s.sessionId, s.samples.at(-1)]));
        return this.manager.list().map((m) => ({
          sessionId: m.id,
          instanceId: m.instanceId,
          instanceName: this.names.get(m.instanceId) ?? m.instanceId,
          state: m.state,
          bytesIn: m.bytesIn,
          bytesOut: m.bytesOut,
          retransmissions: m.retransmissions,
          reconnects: m.reconnects,
          latest: latest.get(m.id),
        }));
      },
      sessionHistory: () => this.metrics.history(),
      instanceOf: (id) => {
        const m = this.manager.get(id);
        return m && { instanceId: m.instanceId, instanceName: this.names.get(m.instanceId) ?? m.instanceId };
      },
    });
    this.store.add(
      r.onSample((sample) => {
        this.emit('resources.tick', sample);
        this.recorder?.recordResources(sample);
      }),
    );
    this.store.add(
      r.onGovernor(({ state, change }) => {
        const policy = corePolicy(state, this.basePolicy());
        this.batcher.setIntervalMs(policy.batchIntervalMs);
        this.batcher.setReplayLimit(policy.replayBytes);
        // Slowed by the governor or low power; otherwise the configured interval.
        const base = this.baseMetricsMs();
        this.metrics.setIntervalMs(policy.slowed ? Math.max(base, policy.metricsIntervalMs) : base);
        this.emit('governor.changed', { state, change });
        // Native notifications when a limit is hit (slow-ui and beyond, rising); the rest are toasts.
        if (change) this.notice(null, 'resources', change.message, isLimitHit(change));
      }),
    );
    this.store.add(r.onProbes((probes) => this.emit('probes.updated', probes)));
    this.store.add(r.onProblem((message) => this.notice(null, 'resources', message)));
    this.store.add(
      r.monitor.onLeakWarning((w) =>
        this.notice(
          null,
          'resources',
          `Memory keeps growing: the heap grew ${Math.round(w.growthRatio * 100)} % in ${Math.round(w.report.windowMs / 60_000)} minutes. ${w.report.summary}`,
        ),
      ),
    );
    this.store.add(r.monitor.addLeakSource('sessions', () => this.manager.size));
    this.store.add(r.monitor.addLeakSource('output replay bytes', () => this.batcher.replayBytes));
    this.store.add(r.monitor.addLeakSource('metrics tracked', () => this.metrics.size));
    this.store.add(r.monitor.addLeakSource('closed sessions remembered', () => this.closedInfo.size));
    if (this.history) {
      // The SQLite store reports its queue; other HistoryStore implementations may not.
      const h = this.history as { writerStats?: { pending: number } };
      this.store.add(r.monitor.addLeakSource('store queue', () => h.writerStats?.pending ?? 0));
    }
    return r;
  }

  /**
   * The endpoints in use: each resolved profile's SSM endpoint, and each session's data channel,
   * each probed along the route its profile's connections take (its control plane's Network).
   */
  private probeTargets(): ProbeTarget[] {
    const targets: ProbeTarget[] = [];
    const sessions = this.manager.list();
    const inUse = new Set(sessions.map((m) => key(m.profile, m.region)));
    inUse.add(key(this.active.profile, this.active.region));
    for (const [k, p] of this.ready) {
      if (!inUse.has(k)) continue;
      targets.push({
        service: 'ssm',
        profile: p.profile,
        region: p.region,
        url: p.endpoint ?? `https://ssm.${p.region}.amazonaws.com`,
        network: p.controlPlane.network,
      });
    }
    for (const m of sessions) {
      targets.push({
        service: 'ssmmessages',
        profile: m.profile,
        region: m.region,
        url: m.dataChannelEndpoint || `ssmmessages.${m.region}.amazonaws.com:443`,
        network: this.ready.get(key(m.profile, m.region))?.controlPlane.network ?? this.network,
      });
    }
    return targets;
  }

  // -------------------------------------------------------------------------------------------
  // Profiles
  // -------------------------------------------------------------------------------------------

  private async resolveProfile(profile: string, region?: string): Promise<ResolvedProfile> {
    const endpoint = this.endpointFor(profile);
    // Before resolution the region may be unknown (the sandbox picks its own); look up by the
    // requested one, then store under the resolved one too.
    const wanted = key(profile, region ?? '');
    let pending = this.resolved.get(wanted);
    if (!pending && this.networkProblem && (profile !== SANDBOX_PROFILE || endpoint)) {
      throw this.networkProblem;
    }
    if (!pending) {
      pending = this.resolveFn({
        profile,
        ...(region ? { region } : {}),
        ...(endpoint ? { endpoint } : {}),
        connectionTimeoutMs: this.config.config.connection.connection_timeout,
        requestTimeoutMs: this.config.config.connection.request_timeout,
        maxAttempts: this.config.config.connection.max_attempts,
        network: this.network,
        credentials: this.credentials,
        logger: this.log,
      });
      this.resolved.set(wanted, pending);
      pending.catch(() => this.resolved.delete(wanted));
    }
    const r = await pending;
    const k = key(profile, r.region);
    this.resolved.set(k, pending);
    if (!this.ready.has(k) && this.history) {
      // Who the sessions run as, for the history (once per profile; a failure only leaves it out).
      r.controlPlane.getCallerIdentity().then(
        (id) => this.principals.set(k, id.arn),
        (err: unknown) =>
          this.log.debug({ err, profile }, 'GetCallerIdentity failed; history records the local user only'),
      );
    }
    this.ready.set(k, r);
    return r;
  }

  /** The start-up endpoint override belongs to the start-up profile only. */
  private endpointFor(profile: string): string | undefined {
    const aws = this.config.config.aws;
    const startup = this.options.profile ?? aws.profile;
    return profile === startup ? (this.options.endpoint ?? aws.endpoint ?? undefined) : undefined;
  }

  private appInfo(): AppInfo {
    return {
      version: CLIENT_VERSION,
      profile: this.active.profile,
      region: this.active.region,
      endpoint: this.active.endpoint ?? null,
      platform: os.platform(),
    };
  }

  private async listProfiles(): Promise<ProfileList> {
    const found = await this.discoverFn(this.sandboxRegion);
    const regions = found.regions.includes(this.active.region)
      ? found.regions
      : [this.active.region, ...found.regions];
    return {
      active: { profile: this.active.profile, region: this.active.region },
      profiles: found.profiles,
      regions,
      warnings: found.warnings,
    };
  }

  private async selectProfile(profile: string, region: string | undefined): Promise<AppInfo> {
    const found = await this.discoverFn(this.sandboxRegion);
    const entry = found.profiles.find((p) => p.name === profile);
    if (!entry && profile !== this.active.profile) {
      const known = found.profiles.map((p) => p.name).join(', ');
      throw new Error(
        `There is no profile named "${profile}" (known: ${known}). Add it to your AWS config file, or pick one of these.`,
      );
    }
    const wantedRegion =
      region ?? entry?.region ?? (profile === SANDBOX_PROFILE ? this.sandboxRegion : this.active.region);
    const resolved = await this.resolveProfile(profile, wantedRegion);
    this.active = { profile, region: resolved.region, endpoint: resolved.endpoint };
    this.log.info({ profile, region: resolved.region }, 'active profile changed');
    const info = this.appInfo();
    this.emit('app.profileChanged', info);
    return info;
  }

  // -------------------------------------------------------------------------------------------
  // Instances
  // -------------------------------------------------------------------------------------------

  private async listInstances(refresh: boolean): Promise<InstanceList> {
    const { profile, region } = this.active;
    const k = key(profile, region);
    const cached = this.instanceCache.get(k);
    const maxAge = this.options.instanceCacheMs ?? 15_000;
    if (!refresh && cached && Date.now() - Date.parse(cached.fetchedAt) < maxAge) return cached;
    if (!refresh && !cached) {
      // Fast start-up: the list an earlier run saved, while a fresh one is fetched.
      const saved = this.history?.cachedInstances(profile, region);
      if (saved && Date.now() - saved.fetchedAt < SAVED_LIST_MAX_AGE_MS) {
        this.fetchInstances(profile, region).then(
          (fresh) => this.emit('instances.updated', fresh),
          (err: unknown) =>
            this.log.warn({ err, profile, region }, 'refreshing the saved instance list failed'),
        );
        return {
          profile,
          region,
          instances: saved.instances,
          fetchedAt: new Date(saved.fetchedAt).toISOString(),
          cached: true,
        };
      }
    }
    return this.fetchInstances(profile, region);
  }

  private async fetchInstances(profile: string, region: string): Promise<InstanceList> {
    const resolved = await this.resolveProfile(profile, region);
    const instances: InstanceSummary[] = await resolved.controlPlane.listInstances();
    for (const i of instances) this.names.set(i.instanceId, i.name || i.instanceId);
    const fetchedAt = Date.now();
    const list: InstanceList = { profile, region, instances, fetchedAt: new Date(fetchedAt).toISOString() };
    this.instanceCache.set(key(profile, region), list);
    this.history?.cacheInstances(profile, region, instances, fetchedAt);
    return list;
  }

  // -------------------------------------------------------------------------------------------
  // Sessions
  // -------------------------------------------------------------------------------------------

  private wireManager(): void {
    const m = this.manager;
    this.store.add(
      m.onOpened((info) => {
        this.manager.enableFlowControl(info.id);
        this.batcher.add(info.id);
        this.metrics.add(info.id);
        this.emit('session.updated', this.toInfo(info));
        this._onCount.fire(this.manager.size);
        this.resources.monitor.updateProbeTimer();
      }),
    );
    this.store.add(
      m.onOutput(({ id, data }) => {
        this.batcher.push(id, data);
        this.metrics.recordIn(id, data.length);
      }),
    );
    this.store.add(m.onLatencySample(({ id, rttMs }) => this.metrics.recordLatency(id, rttMs)));
    this.store.add(
      m.onReconnectAttempt(({ id, attempt, maxAttempts, delayMs, cause }) => {
        this.reconnecting.set(id, {
          attempt,
          maxAttempts,
          nextAttemptAt: new Date(Date.now() + delayMs).toISOString(),
          cause,
        });
        this.emitSession(id);
      }),
    );
    this.store.add(
      m.onStateChanged(({ id, state }) => {
        if (state !== 'reconnecting') this.reconnecting.delete(id);
        // Output received before the drop is on screen before the overlay goes up.
        this.batcher.flush(id);
        this.emitSession(id);
      }),
    );
    this.store.add(
      m.onConnectionEvent(({ id, kind, detail }) => this.notice(id, kind, describeConnection(kind, detail))),
    );
    this.store.add(
      m.onInactiveWarning(({ id, closesInMs }) =>
        this.notice(
          id,
          'inactive-warning',
          `No activity: this session closes in ${Math.max(1, Math.round(closesInMs / 1000))} s unless you use it.`,
        ),
      ),
    );
    this.store.add(
      m.onClosed((info) => {
        this.batcher.remove(info.id);
        // The last partial interval (a reconnect just before the close counts) goes to the history.
        const last = this.metrics.remove(info.id, info);
        this.recorder?.sessionClosed(info.id, last);
        this.reconnecting.delete(info.id);
        const closed = this.toInfo(info);
        // Kept briefly so a page that asks right after still learns how it ended.
        this.closedInfo.set(info.id, closed);
        if (this.closedInfo.size > 100) {
          const oldest = this.closedInfo.keys().next().value!;
          this.closedInfo.delete(oldest);
          this.launches.delete(oldest);
        }
        this.emit('session.updated', closed);
        this._onCount.fire(this.manager.size);
        this.resources.monitor.updateProbeTimer();
      }),
    );
  }

  private toInfo(m: ManagedSessionInfo): SessionInfo {
    const reconnect = m.state === 'reconnecting' ? this.reconnecting.get(m.id) : undefined;
    return {
      id: m.id,
      awsSessionId: m.awsSessionId,
      instanceId: m.instanceId,
      instanceName: this.names.get(m.instanceId) ?? m.instanceId,
      profile: m.profile,
      region: m.region,
      state: m.state,
      ...(reconnect ? { reconnect } : {}),
      ...(m.closed
        ? { closed: { reason: m.closed.reason, how: m.closed.how, exitCode: m.closed.exitCode ?? null } }
        : {}),
      bytesIn: m.bytesIn,
      bytesOut: m.bytesOut,
      reconnects: m.reconnects,
      openedAt: m.openedAt,
      openMs: Math.round(m.openMs * 10) / 10,
      lastActivityAt: m.lastActivityAt,
      ...(this.launches.has(m.id) ? { launch: this.launches.get(m.id)! } : {}),
      ...(m.encryption ? { encryption: { kmsKeyId: m.encryption.kmsKeyId } } : {}),
      ...this.persistenceInfo(m.id, m.state === 'closed'),
    };
  }

  private emitSession(id: string): void {
    const info = this.manager.get(id);
    if (info) this.emit('session.updated', this.toInfo(info));
  }

  /** A notice for the UI (toast), and a native notification when the policy wants one (unless `notify` is false). */
  private notice(sessionId: string | null, kind: ConnectionNoticeKind, message: string, notify = true): void {
    this.emit('session.notice', { sessionId, kind, message, at: new Date().toISOString() });
    if (!notify) return;
    const instanceId = sessionId ? this.manager.get(sessionId)?.instanceId : undefined;
    const decided = this.notifications.decide({
      kind,
      message,
      sessionId,
      instanceName: instanceId ? (this.names.get(instanceId) ?? instanceId) : undefined,
    });
    if (decided) this._onNotification.fire(decided);
  }

  private async openSession(
    instanceId: string,
    cols?: number,
    rows?: number,
    on: { profile: string; region: string } = this.active,
    choice: OpenChoice = {},
  ): Promise<SessionInfo> {
    const { profile, region } = on;
    await this.resolveProfile(profile, region);
    const plan = await this.launchPlan(instanceId, profile, region, choice);
    if (!this.names.has(instanceId)) {
      // Opened without listing first (a recent instance from the tray): name it if we can.
      const cached = this.instanceCache.get(key(profile, region));
      const hit = cached?.instances.find((i) => i.instanceId === instanceId);
      if (hit) this.names.set(instanceId, hit.name || instanceId);
    }
    this.admit();
    let info: ManagedSessionInfo;
    let persistent: boolean;
    try {
      const opened = await this.persistence.open(
        {
          profile,
          region,
          target: instanceId,
          ...(cols && rows ? { cols, rows } : {}),
          ...(plan.documentName ? { documentName: plan.documentName } : {}),
          ...(plan.parameters ? { parameters: plan.parameters } : {}),
          ...(plan.startupInput ? { startupInput: plan.startupInput } : {}),
        },
        this.persistenceMode(instanceId, profile, region, plan.documentName),
      );
      info = opened.info;
      persistent = opened.persistence !== null;
    } catch (err) {
      if (err instanceof SessionLimitError) this.notice(null, 'limit', err.message);
      throw err;
    }
    if (plan.launch) this.launches.set(info.id, plan.launch);
    // Its first session.updated went out before the launch and its tmux/screen session were known.
    if (plan.launch || persistent) this.emitSession(info.id);
    this.rememberRecent(instanceId, profile, region);
    return this.toInfo(this.manager.get(info.id) ?? info);
  }

  // -------------------------------------------------------------------------------------------
  // Session presets: what a session runs (document, run-as user, shell profile)
  // -------------------------------------------------------------------------------------------

  /** `session-presets.json` beside the configuration file, unless the caller says otherwise; none when in memory. */
  private presetsFile(): string | null {
    if (this.options.presetsFile !== undefined) return this.options.presetsFile;
    if (this.config.file === IN_MEMORY) return null;
    return path.join(path.dirname(this.config.file), SESSION_PRESETS_FILE);
  }

  /** The explicit choice, else the preset asked for, else the instance's or its tags' preset, else the shell. */
  private async launchPlan(
    instanceId: string,
    profile: string,
    region: string,
    { presetId, ...fields }: OpenChoice,
  ): Promise<LaunchPlan> {
    const explicit = explicitChoice(fields);
    const instance = this.instanceCache
      .get(key(profile, region))
      ?.instances.find((i) => i.instanceId === instanceId);
    const target = instance ? { instanceId, windows: /windows/i.test(instance.platform) } : undefined;
    if (explicit) return planLaunch(explicit, undefined, target);
    let preset: SessionPreset | undefined;
    if (presetId) {
      preset = this.presets.get(presetId);
      if (!preset) throw new UnknownPresetError(presetId, this.presets.list(profile));
    } else {
      preset = await this.presetFor(instanceId, profile, region);
    }
    return preset ? planLaunch(presetChoice(preset), preset, target) : {};
  }

  /** The preset of an instance on a profile: its own, else one of its tags' (from the instance list). */
  private async presetFor(
    instanceId: string,
    profile: string,
    region: string,
  ): Promise<SessionPreset | undefined> {
    let tags: Record<string, string> | undefined;
    if (this.presets.hasTagPresets(profile)) {
      const find = (list: InstanceList | undefined): InstanceSummary | undefined =>
        list?.instances.find((i) => i.instanceId === instanceId);
      let hit = find(this.instanceCache.get(key(profile, region)));
      if (!hit) {
        try {
          hit = find(await this.fetchInstances(profile, region));
        } catch (err) {
          this.log.warn({ err, instanceId }, 'no instance list for its tags: only instance presets apply');
        }
      }
      tags = hit?.tags;
    }
    return this.presets.resolve({ profile, instanceId, ...(tags ? { tags } : {}) });
  }

  // -------------------------------------------------------------------------------------------
  // Persistent sessions: tmux/screen, re-attach after a drop the service did not outlast
  // -------------------------------------------------------------------------------------------

  /**
   * Whether a new session starts inside tmux or screen: session.persistence (a preset could carry
   * its own); never for a command session or on a Windows instance (effectivePersistence).
   */
  private persistenceMode(
    instanceId: string,
    profile: string,
    region: string,
    documentName: string | undefined,
  ): PersistenceMode {
    const mode = this.config.config.session.persistence;
    if (mode === 'off') return mode;
    const instance = this.instanceCache
      .get(key(profile, region))
      ?.instances.find((i) => i.instanceId === instanceId);
    const effective = effectivePersistence(mode, { documentName, platform: instance?.platform });
    if (effective.plainBecause === 'windows') {
      this.log.info(
        { instanceId },
        `session.persistence is ${mode}, but a Windows instance has no ${mode}: a plain shell`,
      );
    }
    return effective.mode;
  }

  /** The contract's persistence fields of a session: its tmux/screen session, where it came from, and (closed) whether it can be re-attached. */
  private persistenceInfo(
    id: string,
    closed: boolean,
  ): Pick<SessionInfo, 'persistence' | 'reattachedFrom' | 'reattachable'> {
    const persistence = this.persistence.persistenceOf(id);
    const from = this.persistence.reattachedFrom(id);
    const lost = closed ? this.persistence.lost(id) : undefined;
    return {
      ...(persistence ? { persistence } : {}),
      ...(from ? { reattachedFrom: from } : {}),
      ...(lost ? { reattachable: reattachableInfo(lost) } : {}),
    };
  }

  private wirePersistence(): void {
    const p = this.persistence;
    this.store.add(
      p.onLost((lost) => {
        const where = this.names.get(lost.instanceId) ?? lost.instanceId;
        const kept = lost.persistence
          ? `${lost.persistence.tool} session ${lost.persistence.name} keeps running there`
          : 'nothing was kept running there (session.persistence is off)';
        const next = lost.auto
          ? 'Re-attaching by itself.'
          : lost.persistence
            ? 'Re-attach to continue where you were.'
            : 'Re-attach opens a new shell below the old screen.';
        this.notice(
          lost.id,
          'network-lost',
          `The connection to ${where} was lost for longer than the service keeps sessions; ${kept}. ${next}`,
        );
      }),
    );
    this.store.add(
      p.onAutoProgress((lost) => {
        this.updateClosed(lost.id);
        if (lost.auto?.phase === 'gave-up') {
          const where = this.names.get(lost.instanceId) ?? lost.instanceId;
          this.notice(
            lost.id,
            'network-lost',
            `Could not re-attach to ${where} after ${lost.auto.attempt} attempts (${lost.auto.lastError ?? 'unknown error'}). Use Re-attach to try again.`,
          );
        }
      }),
    );
    this.store.add(p.onReattached((e) => this.reattached(e)));
    this.store.add(this.resources.monitor.addLeakSource('lost sessions remembered', () => p.lostCount));
  }

  /** A lost session was replaced: history, the old session's record, every window, a notice when automatic. */
  private reattached(e: ReattachedEvent): void {
    const { previousId, info, persistence } = e;
    const what = persistence
      ? `${persistence.tool} session ${persistence.name}`
      : 'a new shell (persistence off)';
    const at = Date.now();
    // The same document and preset as the lost one: the same description.
    const launch = this.launches.get(previousId);
    if (launch) this.launches.set(info.id, launch);
    this.history?.recordEvent({
      sessionId: info.id,
      at,
      kind: 'reattached',
      detail: `re-attached from ${previousId} (${what})`,
    });
    this.history?.recordEvent({
      sessionId: previousId,
      at,
      kind: 'reattached-as',
      detail: `re-attached as ${info.id} (${what})`,
    });
    this.emit('session.reattached', { previousId, session: this.toInfo(this.manager.get(info.id) ?? info) });
    this.updateClosed(previousId);
    if (e.automatic) {
      const where = this.names.get(info.instanceId) ?? info.instanceId;
      this.notice(
        info.id,
        'reconnected',
        persistence
          ? `Re-attached to ${persistence.tool} session ${persistence.name} on ${where}.`
          : `Opened a new shell on ${where} in place of the lost session (nothing was kept running there).`,
      );
    }
  }

  /** The remembered closed session `id` with its persistence fields of now, sent to every window. */
  private updateClosed(id: string): void {
    const closed = this.closedInfo.get(id);
    if (!closed) return;
    const { reattachable: _gone, ...rest } = closed;
    const next: SessionInfo = { ...rest, ...this.persistenceInfo(id, true) };
    this.closedInfo.set(id, next);
    this.emit('session.updated', next);
  }

  /** The tab of a lost session closed: it is not re-attached any more. */
  private dropReattachable(id: string): void {
    this.persistence.forget(id);
    this.updateClosed(id);
  }

  private async reattachSession(sessionId: string, cols?: number, rows?: number): Promise<SessionInfo> {
    const live = this.manager.get(sessionId);
    if (live)
      throw new NotReattachableError(
        `Session ${sessionId} is still ${live.state}; there is nothing to re-attach (close it first to start over).`,
      );
    const lost = this.persistence.lost(sessionId);
    if (lost) await this.resolveProfile(lost.profile, lost.region);
    try {
      const done = await this.persistence.reattach(sessionId, cols && rows ? { cols, rows } : undefined);
      return this.toInfo(this.manager.get(done.info.id) ?? done.info);
    } catch (err) {
      if (err instanceof SessionLimitError) this.notice(null, 'limit', err.message);
      throw err;
    }
  }

  /** Refuse a new session (shell or port forward) when the resource governor refuses them. */
  private admit(): void {
    const refusal = this.resources.refusal();
    if (refusal) {
      this.notice(null, 'limit', refusal);
      throw new ResourceLimitError(refusal);
    }
  }

  /** The instance's name from the instance list (any profile), or from the cached list of this one. */
  private instanceName(instanceId: string, profile: string, region: string): string | undefined {
    const known = this.names.get(instanceId);
    if (known) return known;
    const cached = this.instanceCache.get(key(profile, region));
    const hit = cached?.instances.find((i) => i.instanceId === instanceId);
    return hit ? hit.name || instanceId : undefined;
  }

  private rememberRecent(instanceId: string, profile: string, region: string): void {
    const entry: RecentInstance = {
      instanceId,
      name: this.names.get(instanceId) ?? instanceId,
      profile,
      region,
      lastOpenedAt: new Date().toISOString(),
    };
    this.recents = [entry, ...this.recents.filter((r) => r.instanceId !== instanceId)].slice(0, 5);
  }

  private liveSession(id: string): ManagedSessionInfo {
    const info = this.manager.get(id);
    if (!info) {
      const closed = this.closedInfo.get(id);
      if (closed) throw new Error(`Session ${id} has ended (${closed.closed?.reason ?? 'closed'}).`);
      throw new UnknownSessionError(id);
    }
    return info;
  }

  // -------------------------------------------------------------------------------------------
  // Port forwards (issue 9)
  // -------------------------------------------------------------------------------------------

  /** `forwards.json` beside the configuration file, unless the caller says otherwise; none when in memory. */
  private forwardsFile(): string | null {
    if (this.options.forwardsFile !== undefined) return this.options.forwardsFile;
    if (this.config.file === IN_MEMORY) return null;
    return path.join(path.dirname(this.config.file), SAVED_FORWARDS_FILE);
  }

  private createPorts(): PortsService {
    const ports = this.store.add(
      new PortsService({
        resolve: async (profile, region) => {
          const r = await this.resolveProfile(profile, region);
          return { controlPlane: r.controlPlane, region: r.region };
        },
        active: () => ({ profile: this.active.profile, region: this.active.region }),
        nameOf: (instanceId, profile, region) => this.instanceName(instanceId, profile, region),
        admit: (instanceId) => {
          this.admit();
          this.manager.checkAdmission(instanceId);
        },
        forwardOptions: () => {
          const cfg = this.config.config;
          const explicit = this.options.manager;
          return {
            reconnect: { ...reconnectPolicy(cfg), ...explicit?.reconnect },
            dataChannel: {
              healthCheckIntervalMs: cfg.session.health_check_interval,
              connectTimeoutMs: cfg.connection.connection_timeout,
              ...explicit?.health,
            },
          };
        },
        saved: this.savedForwards,
        logger: this.log,
        ...(this.options.portsUpdateIntervalMs
          ? { updateIntervalMs: this.options.portsUpdateIntervalMs }
          : {}),
      }),
    );
    this.store.add(ports.onUpdated((info) => this.emit('ports.updated', info)));
    this.store.add(ports.onBroken((info) => this.forwardBroke(info)));
    this.store.add(ports.onSavedChanged((saved) => this.emit('ports.savedChanged', { saved })));
    return ports;
  }

  /** A native notification for a forward that broke (the settings and rate limit of disconnects apply). */
  private forwardBroke(info: PortForwardInfo): void {
    const where = info.host
      ? `${info.host}:${info.remotePort} through ${info.instanceName}`
      : `${info.remotePort} on ${info.instanceName}`;
    const decided = this.notifications.decide({
      kind: 'forward-failed',
      message: `Port forward to ${where} broke: ${info.reason ?? 'unknown reason'}`,
      sessionId: null,
    });
    if (decided) this._onNotification.fire(decided);
  }

  // -------------------------------------------------------------------------------------------
  // The contract
  // -------------------------------------------------------------------------------------------

  private createHandlers(): BridgeHandlers {
    return {
      'app.info': async () => this.appInfo(),
      'profiles.list': () => this.listProfiles(),
      'profiles.select': ({ profile, region }) => this.selectProfile(profile, region),
      'instances.list': (req) => this.listInstances(req?.refresh ?? false),
      'sessions.list': async () => this.manager.list().map((s) => this.toInfo(s)),
      'sessions.open': ({ instanceId, cols, rows, ...choice }) =>
        this.openSession(instanceId, cols, rows, this.active, choice),
      'sessions.write': async ({ sessionId, data, delivery }) => {
        this.liveSession(sessionId);
        this.manager.write(sessionId, data);
        this.metrics.recordOut(sessionId, Buffer.byteLength(data));
        if (delivery === 'acknowledged') await this.manager.whenInputDelivered(sessionId);
        return null;
      },
      'sessions.resize': async ({ sessionId, cols, rows }) => {
        this.liveSession(sessionId);
        this.manager.resize(sessionId, cols, rows);
        return null;
      },
      'sessions.ack': async ({ sessionId, bytes }) => {
        // Late acknowledgements for a session that just closed are harmless.
        this.manager.acknowledgeOutput(sessionId, bytes);
        return null;
      },
      'sessions.replay': async ({ sessionId }) => {
        this.liveSession(sessionId);
        const replay = this.batcher.replay(sessionId) ?? { data: '', endOffset: 0, truncated: false };
        // The new consumer starts from here: nothing before it is waiting for an acknowledgement.
        this.manager.acknowledgeOutput(sessionId, Number.MAX_SAFE_INTEGER);
        return replay;
      },
      'sessions.close': async ({ sessionId }) => {
        const lost = !!this.persistence.lost(sessionId);
        if ((lost || this.closedInfo.has(sessionId)) && !this.manager.get(sessionId)) {
          // A lost session's tab is closed: no re-attach (automatic or not) any more.
          if (lost) this.dropReattachable(sessionId);
          return null;
        }
        this.liveSession(sessionId);
        await this.manager.terminate(sessionId, 'closed by the user');
        return null;
      },
      'sessions.lost': async () => [...this.closedInfo.values()].filter((s) => s.reattachable),
      'sessions.reattach': ({ sessionId, cols, rows }) => this.reattachSession(sessionId, cols, rows),
      'sessions.cancelReconnect': async ({ sessionId }) => {
        const info = this.liveSession(sessionId);
        if (info.state !== 'reconnecting')
          throw new Error(`Session ${sessionId} is ${info.state}, not reconnecting; close it instead.`);
        await this.manager.terminate(sessionId, 'reconnect cancelled by the user');
        return null;
      },
      'settings.get': async () => this.settingsNow(),
      'settings.update': async (patch) => {
        // The settings are the configuration's ui and resources keys: one file, one change event.
        await this.config.update(configValuesFromSettingsPatch(patch));
        return this.settingsNow();
      },
      'config.get': async () => this.config.state(),
      'config.update': async ({ values }) => {
        await this.config.update(values);
        return this.config.state();
      },
      'config.preset': async ({ name }) => {
        await this.config.setPreset(name);
        return this.config.state();
      },
      'credentials.answer': async ({ id, code, cancel }) => {
        this.broker.answer(id, { ...(code !== undefined ? { code } : {}), ...(cancel ? { cancel } : {}) });
        return null;
      },
      'profiles.login': async ({ profile }) => {
        if (profile === SANDBOX_PROFILE)
          throw new Error('The sandbox needs no sign-in; sign in to an SSO profile of your AWS config.');
        const endpoint = this.endpointFor(profile);
        const done = await this.credentials.login(profile, endpoint ? { endpoint } : {});
        return { profile, expiresAt: done.expiresAt.toISOString() };
      },
      'diagnostics.run': (req) => this.runDiagnostics(req),
      'metrics.history': async () => this.metrics.history(),
      'metrics.export': async ({ format, sessionId }) => this.resources.exportMetrics(format, sessionId),
      'resources.get': async () => {
        // The first call after start need not wait a whole interval for figures.
        if (!this.resources.monitor.recentSamples.length) await this.resources.monitor.sampleNow();
        return this.resources.snapshot();
      },
      'resources.probe': () => this.resources.monitor.probeNow(),
      'history.list': async (filter) => {
        if (!this.history) return { status: noHistory(this.config.config), sessions: [] };
        return { status: this.history.status, sessions: this.history.listSessions(filter ?? {}) };
      },
      'history.get': async ({ sessionId, maxPoints }) => {
        const detail = this.history?.getSession(sessionId, maxPoints ?? 300);
        if (!detail)
          throw new Error(
            `No recorded session has the id ${sessionId}; it may have been removed by the retention clean-up.`,
          );
        return detail;
      },
      'ports.list': async () => this.ports.list(),
      'ports.open': (spec) => this.ports.open(spec),
      'ports.close': async ({ id }) => {
        await this.ports.close(id);
        return null;
      },
      'ports.save': (spec) => this.ports.save(spec),
      'ports.unsave': async ({ id }) => {
        await this.ports.unsave(id);
        return null;
      },
      'ports.openSaved': ({ id }) => this.ports.openSaved(id),
      'presets.list': async () => ({ presets: this.presets.list(), problem: this.presets.problem }),
      'presets.save': (input) => this.presets.save(input),
      'presets.delete': async ({ id }) => {
        await this.presets.remove(id);
        return null;
      },
      'presets.resolve': async ({ instanceId }) =>
        (await this.presetFor(instanceId, this.active.profile, this.active.region)) ?? null,
      'history.reopen': async ({ sessionId }) => {
        const detail = this.history?.getSession(sessionId, 10);
        if (!detail)
          throw new Error(
            `No recorded session has the id ${sessionId}; it may have been removed by the retention clean-up.`,
          );
        const { instanceId, profile, region, instanceName } = detail.session;
        if (!this.names.has(instanceId)) this.names.set(instanceId, instanceName || instanceId);
        if (profile !== SANDBOX_PROFILE && profile !== this.active.profile) {
          const found = await this.discoverFn(this.sandboxRegion);
          if (!found.profiles.some((p) => p.name === profile))
            throw new Error(
              `That session used the profile "${profile}", which is no longer in your AWS config; add it back, or connect from the Instances view.`,
            );
        }
        return this.openSession(instanceId, undefined, undefined, { profile, region });
      },
    };
  }

  private emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    this._onEvent.fire({ name, payload } as BridgeEvent);
  }

  // -------------------------------------------------------------------------------------------
  // WorkspaceService
  // -------------------------------------------------------------------------------------------

  sessionCount(): number {
    return this.manager.size;
  }

  recentInstances(): RecentInstance[] {
    return this.recents.map((r) => ({ ...r }));
  }

  onSystemResume(): void {
    this.log.info('system resumed: checking every session now');
    this.manager.onSystemResume();
    this.persistence.retryNow();
  }

  onSystemSuspend(): void {
    this.log.info({ sessions: this.manager.size }, 'system suspending');
  }

  setOnBattery(onBattery: boolean): void {
    if (onBattery === this.onBattery) return;
    this.onBattery = onBattery;
    this.log.info({ onBattery }, onBattery ? 'running on battery' : 'running on AC power');
    this.resources.setOnBattery(onBattery);
  }

  /** The governor's state now (the tray, tests). */
  governorState(): GovernorState {
    return this.resources.state;
  }

  /** The resource snapshot (the status socket, tests). */
  resourceSnapshot(): ResourceSnapshot {
    return this.resources.snapshot();
  }

  /** Every metric as Prometheus text. */
  prometheusText(): string {
    return this.resources.prometheusText();
  }

  /** Resolves when the Prometheus endpoint follows the settings (tests). */
  prometheusReady(): Promise<string | null> {
    return this.resources.prometheusReady().then(() => this.resources.prometheusUrl);
  }

  get isOnBattery(): boolean {
    return this.onBattery;
  }

  /** What the workspace holds right now (diagnostics, and the leak tests). */
  diagnostics(): {
    sessions: number;
    outputBuffers: number;
    metricsTracked: number;
    metricsSampling: boolean;
    closedRemembered: number;
    resolvedProfiles: number;
    portForwards: number;
    portForwardsEnded: number;
    portsTimer: boolean;
    replayBytes: number;
    replayLimitBytes: number;
    batchIntervalMs: number;
    metricsIntervalMs: number;
    governorLevel: GovernorState['level'];
  } {
    const ports = this.ports.diagnostics();
    return {
      replayBytes: this.batcher.replayBytes,
      replayLimitBytes: this.batcher.replayLimitBytes,
      batchIntervalMs: this.batcher.interval,
      metricsIntervalMs: this.metrics.interval,
      governorLevel: this.resources.state.level,
      sessions: this.manager.size,
      outputBuffers: this.batcher.size,
      metricsTracked: this.metrics.size,
      metricsSampling: this.metrics.sampling,
      closedRemembered: this.closedInfo.size,
      resolvedProfiles: this.ready.size,
      portForwards: ports.open,
      portForwardsEnded: ports.endedKept,
      portsTimer: ports.timer,
    };
  }

  /** The active profile's resolved form (tests, the CLI's web command). */
  activeProfile(): ResolvedProfile | undefined {
    return this.ready.get(key(this.active.profile, this.active.region));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // No automatic re-attach starts while the sessions go.
      this.persistence.dispose();
      // The forwards first (with the sessions): they hold control planes of resolved profiles.
      await Promise.all([this.manager.shutdown(), this.ports.closeAll()]);
      this.ports.dispose();
      this.batcher.flush();
      this.recorder?.flush();
      await this.resources.dispose();
      this.store.dispose();
      this.broker.dispose();
      if (this.ownsCredentials) this.credentials.dispose();
      if (this.ownsConfig) this.config.dispose();
      // After the manager: its last events (every session's end) are in the queue.
      this.history?.close();
      const all = [...new Set(this.resolved.values())];
      this.resolved.clear();
      this.ready.clear();
      await Promise.allSettled(all.map(async (p) => (await p).dispose()));
      this.network.dispose();
    })();
    return this.closing;
  }
}

function describeConnection(kind: string, detail: string): string {
  switch (kind) {
    case 'network-lost':
      return `Connection lost (${detail}); reconnecting.`;
    case 'agent-unreachable':
      return `The instance's SSM agent is unreachable; output resumes when it is back.`;
    case 'agent-back':
      return 'The SSM agent is back.';
    case 'token-expired':
      return 'The session token expired; getting a new one (ResumeSession).';
    case 'reconnected':
      return `Reconnected ${detail}.`;
    case 'ended-elsewhere':
      return `The session was ended elsewhere: ${detail}`;
    default:
      return detail;
  }
}

/** A lost session as the contract shows it (times as ISO strings). */
function reattachableInfo(lost: LostSession): NonNullable<SessionInfo['reattachable']> {
  const auto = lost.auto;
  return {
    reason: lost.reason,
    ...(auto
      ? {
          auto: {
            attempt: auto.attempt,
            maxAttempts: auto.maxAttempts,
            phase: auto.phase,
            nextAttemptAt: auto.nextAttemptAt === null ? null : new Date(auto.nextAttemptAt).toISOString(),
            lastError: auto.lastError,
          },
        }
      : {}),
  };
}

const LIMIT_HIT_LEVELS: ReadonlySet<string> = new Set(['slow-ui', 'trim', 'refuse']);

/** A governor change worth a native notification: a limit is reached, or sessions start being refused. */
function isLimitHit(change: GovernorChange): boolean {
  if (change.from === change.to) return false;
  const reached = LIMIT_HIT_LEVELS.has(change.to) && !LIMIT_HIT_LEVELS.has(change.from);
  return reached || change.to === 'refuse';
}

/** The session manager's options from the configuration; the caller's explicit options win. */
function managerOptionsFromConfig(
  config: Config,
  explicit: WorkspaceOptions['manager'] = {},
): Pick<SessionManagerOptions, 'limits' | 'reconnect' | 'health' | 'inactiveTimeoutMs' | 'flowControl'> {
  return {
    limits: { ...sessionLimits(config), ...explicit.limits },
    reconnect: { ...reconnectPolicy(config), ...explicit.reconnect },
    health: { healthCheckIntervalMs: config.session.health_check_interval, ...explicit.health },
    inactiveTimeoutMs: explicit.inactiveTimeoutMs ?? config.session.inactive_timeout * 1000,
    flowControl: { ...flowControl(config), ...explicit.flowControl },
  };
}
