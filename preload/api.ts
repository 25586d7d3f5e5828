/**
 * The bridge contract between the renderer and the main side.
 *
 * Every request the renderer can make is a *channel*: a name mapped to a zod schema for
 * its request and one for its response. The same map is used by all three parties:
 *
 * - the Electron preload (`preload/index.ts`) validates requests before sending them over
 *   IPC and responses after receiving them;
 * - the web-mode client (`renderer/bridge/`) does the same over a WebSocket;
 * - the main side (`main/core/bridge/`) validates requests again before calling a handler
 *   (the renderer is untrusted) and validates what the handler returns.
 *
 * To add a feature: add a channel to `channels` (and, for pushed data, an event to `events`),
 * then implement it in `main/core/bridge/handlers.ts`. Types follow from the schemas.
 *
 * This module must stay free of Node and Electron imports: it is bundled into the sandboxed
 * preload and into the renderer.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** EC2 instance ids (`i-` + 8 or 17 hex) and hybrid managed-node ids (`mi-` + 17 hex). */
export const InstanceIdSchema = z
  .string()
  .regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'expected an instance id like i-0123456789abcdef0');

export const InstanceStateSchema = z.enum([
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
  'unknown',
]);

export const InstancePingStatusSchema = z.enum(['Online', 'ConnectionLost', 'Inactive', 'NotRegistered']);

/** Mirrors `InstanceSummary` in main/core/ssm/types.ts (a test checks the two stay equal). */
export const InstanceSummarySchema = z.object({
  instanceId: InstanceIdSchema,
  name: z.string(),
  state: InstanceStateSchema,
  pingStatus: InstancePingStatusSchema,
  platform: z.string(),
  platformName: z.string().optional(),
  agentVersion: z.string().optional(),
  instanceType: z.string().optional(),
  availabilityZone: z.string().optional(),
  privateIpAddress: z.string().optional(),
  launchTime: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  unavailableReason: z.string().optional(),
});

export const AppInfoSchema = z.object({
  version: z.string().min(1),
  /** The active profile; `sandbox` is the local AWS emulation. */
  profile: z.string().min(1),
  region: z.string().min(1),
  /** The AWS API endpoint in use (the sandbox's local URL), or null for the default AWS endpoints. */
  endpoint: z.url().nullable(),
  /** The operating system of the main side (`linux`, `darwin`, `win32`): for shortcuts and paths shown. */
  platform: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

/** A request that takes no parameters: nothing, or an empty object (extra keys are rejected). */
export const NoParamsSchema = z.strictObject({}).optional();

/** The answer of requests that only succeed or fail. */
export const DoneSchema = z.null();

/** AWS region names (`us-east-1`, `eu-central-2`, `us-gov-west-1`, `local-1` for tests). */
export const RegionSchema = z
  .string()
  .regex(/^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/, 'expected a region like us-east-1');

/** Profile names as the AWS config files allow them. */
export const ProfileNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9_.@+=,:/-]+$/,
    'expected a profile name from your AWS config (letters, digits, _.-@+=,:/)',
  );

export const ProfileKindSchema = z.enum([
  /** The embedded local AWS emulation. */
  'sandbox',
  /** Access keys in the credentials or config file. */
  'static',
  /** IAM Identity Center (AWS SSO). */
  'sso',
  /** role_arn with a source profile or credential source. */
  'assume-role',
  /** credential_process. */
  'process',
  /** The built-in profile of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN). */
  'environment',
  /** Anything else the SDK's chain resolves (environment, web identity, ...). */
  'other',
]);

export const ProfileEntrySchema = z.object({
  name: ProfileNameSchema,
  kind: ProfileKindSchema,
  /** The profile's `region`, if it sets one. */
  region: RegionSchema.optional(),
  /** Where it is defined: `built-in`, or the config/credentials file path. */
  source: z.string(),
});
export type ProfileEntry = z.infer<typeof ProfileEntrySchema>;

export const ProfileListSchema = z.object({
  active: z.object({ profile: ProfileNameSchema, region: RegionSchema }),
  profiles: z.array(ProfileEntrySchema),
  /** Regions offered by the switcher (the profiles' regions first, then the common ones). */
  regions: z.array(RegionSchema),
  /** Problems reading the AWS config files (shown, never fatal). */
  warnings: z.array(z.string()),
});
export type ProfileList = z.infer<typeof ProfileListSchema>;

export const InstanceListSchema = z.object({
  /** The profile and region the list belongs to (a switch may happen while it loads). */
  profile: ProfileNameSchema,
  region: RegionSchema,
  instances: z.array(InstanceSummarySchema),
  /** ISO time of the AWS calls behind this list. */
  fetchedAt: z.iso.datetime(),
  /**
   * True when this is the list saved by an earlier run (fast start-up); a fresh one follows as an
   * `instances.updated` event.
   */
  cached: z.boolean().optional(),
});
export type InstanceList = z.infer<typeof InstanceListSchema>;

/** Local session ids (UUIDs from the session manager). */
export const SessionIdSchema = z.uuid('expected a session id (a UUID from sessions.list)');

export const SessionStateSchema = z.enum(['connecting', 'open', 'reconnecting', 'detached', 'closed']);
export type SessionStateName = z.infer<typeof SessionStateSchema>;

/** How a session was started, when not the default shell (the tab's title and tooltip show it). */
export const SessionLaunchSchema = z.object({
  /** The document, when not the standard shell. */
  document: z.string().nullable(),
  command: z.string().nullable(),
  runAs: z.string().nullable(),
  loginShell: z.boolean(),
  /** The preset it came from, if any (its name, else a description of its match). */
  preset: z.string().nullable(),
});
export type SessionLaunch = z.infer<typeof SessionLaunchSchema>;

/** session.persistence: new shells start inside tmux or screen on the instance, or not ('off'). */
export const PERSISTENCE_MODES = ['off', 'tmux', 'screen'] as const;
export const PersistenceModeSchema = z.enum(PERSISTENCE_MODES);
export type PersistenceModeName = z.infer<typeof PersistenceModeSchema>;

/** The tmux or screen session a shell runs in (main/core/sessions/persistent.ts). */
export const SessionPersistenceSchema = z.object({
  tool: z.enum(['tmux', 'screen']),
  /** `ec2c-` and 8 lower-case letters or digits, stable per tab. */
  name: z.string().regex(/^ec2c-[a-z0-9]{8}$/, 'expected a persistent session name like ec2c-1a2b3c4d'),
});
export type SessionPersistence = z.infer<typeof SessionPersistenceSchema>;

/**
 * A closed session whose connection was lost for longer than the service keeps sessions:
 * sessions.reattach opens a new one in its place (re-attached to its tmux or screen session,
 * or a fresh shell with persistence off).
 */
export const ReattachableSchema = z.object({
  /** Why it closed. */
  reason: z.string(),
  /** Automatic re-attach (session.auto_reattach): which attempt, of how many, and when the next. */
  auto: z
    .object({
      attempt: z.number().int().nonnegative(),
      maxAttempts: z.number().int().positive(),
      phase: z.enum(['waiting', 'trying', 'gave-up']),
      nextAttemptAt: z.iso.datetime().nullable(),
      lastError: z.string().nullable(),
    })
    .optional(),
});
export type Reattachable = z.infer<typeof ReattachableSchema>;

/** A KMS-encrypted session's key (an id, ARN or alias: what the Session Manager preferences set). */
export const SessionEncryptionSchema = z.object({
  kmsKeyId: z.string().min(1).max(2048),
});
export type SessionEncryption = z.infer<typeof SessionEncryptionSchema>;

export const SessionInfoSchema = z.object({
  id: SessionIdSchema,
  awsSessionId: z.string(),
  instanceId: InstanceIdSchema,
  /** The instance's Name tag when it was opened (or its id). */
  instanceName: z.string(),
  profile: ProfileNameSchema,
  region: RegionSchema,
  state: SessionStateSchema,
  /** Set while reconnecting: which attempt, of how many, and when it is made. */
  reconnect: z
    .object({
      attempt: z.number().int().positive(),
      maxAttempts: z.number().int().positive(),
      nextAttemptAt: z.iso.datetime(),
      cause: z.string(),
    })
    .optional(),
  /** Set once closed: why, and how ('ended' by the shell or service, 'terminated' by us, 'failed'). */
  closed: z
    .object({
      reason: z.string(),
      how: z.enum(['ended', 'terminated', 'failed']),
      exitCode: z.number().int().nullable(),
    })
    .optional(),
  bytesIn: z.number().nonnegative(),
  bytesOut: z.number().nonnegative(),
  reconnects: z.number().int().nonnegative(),
  openedAt: z.iso.datetime(),
  /** StartSession to a usable shell, in ms. */
  openMs: z.number().nonnegative(),
  lastActivityAt: z.iso.datetime(),
  /** The tmux or screen session the shell runs in (session.persistence); absent: a plain shell. */
  persistence: SessionPersistenceSchema.optional(),
  /** Set on a session opened by a re-attach: the session it took the place of (its tab). */
  reattachedFrom: SessionIdSchema.optional(),
  /** Set once closed, when it can be re-attached (the connection was lost for good). */
  reattachable: ReattachableSchema.optional(),
  /** Set when the session is not the default shell: its document, run-as user, preset. */
  launch: SessionLaunchSchema.optional(),
  /** Set when the session is KMS-encrypted: the key, as the Session Manager preferences name it. */
  encryption: SessionEncryptionSchema.optional(),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

/** Terminal sizes the agent accepts (and any real screen needs). */
export const ColsSchema = z.number().int().min(2).max(1000);
export const RowsSchema = z.number().int().min(1).max(500);

/**
 * Largest input per `sessions.write`. The renderer cuts bigger pastes into pieces of at most
 * this size and sends them in order, a bounded number in flight (each answered once the agent
 * has it: delivery 'acknowledged'), so a paste of any size arrives whole and in order, and a
 * cancelled one stops within that bound (renderer/terminal/input-queue.ts).
 */
export const MAX_WRITE_CHARS = 32 * 1024;

export const ThemeSchema = z.enum(['system', 'light', 'dark']);

export const NotificationSettingsSchema = z.object({
  /** Native notifications (desktop) or in-app toasts (web mode) at all. */
  enabled: z.boolean(),
  disconnects: z.boolean(),
  reconnects: z.boolean(),
  limits: z.boolean(),
  endedElsewhere: z.boolean(),
  /** At most one notification of a kind per this many seconds (the rest are counted into the next). */
  minIntervalSeconds: z.number().int().min(0).max(3600),
});

/** Low-power mode: `auto` turns it on while on battery or over a resource limit. */
export const LowPowerModeSchema = z.enum(['auto', 'on', 'off']);
export type LowPowerMode = z.infer<typeof LowPowerModeSchema>;

/** The resource governor's configuration (issue 7); EC2_CONNECT_* variables override it. */
export const ResourceSettingsSchema = z.object({
  /** monitoring_interval: how often CPU and memory are sampled, in ms (tripled in low-power mode). */
  monitoringIntervalMs: z.number().int().min(250).max(600_000),
  /** max_memory_mb: resident memory of EC2 Connect's own processes, MiB; 0 = no limit. */
  maxMemoryMb: z.number().int().min(0).max(1_048_576),
  /** max_cpu_percent: CPU of EC2 Connect's own processes as a share of the whole machine (all cores = 100); 0 = no limit. */
  maxCpuPercent: z.number().min(0).max(100),
  lowPower: LowPowerModeSchema,
  /** Serve Prometheus text on http://127.0.0.1:<port>/metrics; 0 = off (the default). */
  prometheusPort: z.number().int().min(0).max(65_535),
});
export type ResourceSettings = z.infer<typeof ResourceSettingsSchema>;

export const SettingsSchema = z.object({
  theme: ThemeSchema,
  fontFamily: z.string().min(1).max(200),
  fontSize: z.number().int().min(8).max(32),
  lineHeight: z.number().min(1).max(2),
  /** Lines of scrollback kept per terminal. */
  scrollback: z.number().int().min(100).max(200_000),
  cursorBlink: z.boolean(),
  /** 'auto' tries WebGL and falls back to canvas; the others force one renderer. */
  renderer: z.enum(['auto', 'webgl', 'canvas', 'dom']),
  /** Ask before pasting more than this many lines (0 = never ask). */
  pasteWarningLines: z.number().int().min(0).max(100_000),
  copyOnSelect: z.boolean(),
  notifications: NotificationSettingsSchema,
  resources: ResourceSettingsSchema,
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_RESOURCE_SETTINGS: ResourceSettings = {
  monitoringIntervalMs: 5000,
  maxMemoryMb: 1536,
  maxCpuPercent: 80,
  lowPower: 'auto',
  prometheusPort: 0,
};

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  fontFamily: "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, monospace",
  fontSize: 14,
  lineHeight: 1.1,
  scrollback: 10_000,
  cursorBlink: true,
  renderer: 'auto',
  pasteWarningLines: 50,
  copyOnSelect: false,
  notifications: {
    enabled: true,
    disconnects: true,
    reconnects: true,
    limits: true,
    endedElsewhere: true,
    minIntervalSeconds: 30,
  },
  resources: DEFAULT_RESOURCE_SETTINGS,
};

/** A partial update of the settings (nested objects partial too). */
export const SettingsPatchSchema = SettingsSchema.extend({
  notifications: NotificationSettingsSchema.partial(),
  resources: ResourceSettingsSchema.partial(),
})
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/** One point of a session's connection metrics (one per metrics interval). */
export const SessionMetricsSampleSchema = z.object({
  /** Epoch milliseconds at the end of the interval. */
  t: z.number(),
  /** Round trip of input (from acknowledgement timing) in the interval, ms; null when no input was sent. */
  latencyP50: z.number().nonnegative().nullable(),
  latencyP95: z.number().nonnegative().nullable(),
  latencyP99: z.number().nonnegative().nullable(),
  /** Output received and input sent, bytes per second over the interval. */
  inBytesPerSec: z.number().nonnegative(),
  outBytesPerSec: z.number().nonnegative(),
  /** Data-channel messages sent again in the interval (unacknowledged in time). */
  retransmissions: z.number().int().nonnegative(),
  /** Reconnections completed in the interval. */
  reconnects: z.number().int().nonnegative(),
});
export type SessionMetricsSample = z.infer<typeof SessionMetricsSampleSchema>;

export const MetricsHistorySchema = z.object({
  intervalMs: z.number().int().positive(),
  sessions: z.array(z.object({ sessionId: SessionIdSchema, samples: z.array(SessionMetricsSampleSchema) })),
});

// ---------------------------------------------------------------------------------------------
// Resources: process sampling, the governor, low-power mode, endpoint probes (issue 7)
// ---------------------------------------------------------------------------------------------

/** main (this process), renderer/gpu/utility (Electron's), pty (sandbox shells), child (other). */
export const ProcessRoleSchema = z.string().min(1).max(40);

export const ProcessStatSchema = z.object({
  pid: z.number().int().positive(),
  role: ProcessRoleSchema,
  /** Percent of one core over the last interval. */
  cpuPercent: z.number().nonnegative(),
  /** Resident set size. */
  memoryBytes: z.number().int().nonnegative(),
  /** False for processes that are not EC2 Connect's own (the sandbox's shells): shown, not governed. */
  governed: z.boolean(),
});
export type ProcessStat = z.infer<typeof ProcessStatSchema>;

/** A TCP (and TLS) connect time to an AWS endpoint in use. */
export const EndpointProbeSchema = z.object({
  /** What the endpoint is for. */
  service: z.enum(['ssm', 'ssmmessages', 'ec2', 'sts']),
  profile: z.string(),
  region: z.string(),
  /** host:port */
  endpoint: z.string(),
  ok: z.boolean(),
  /** Connect (+ TLS handshake) time, ms, the tunnel included through a proxy; null when it failed. */
  latencyMs: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
  /** The proxy the probe tunnelled through, as EC2 Connect's connections do (password as ***); null/absent: direct. */
  proxy: z.string().nullable().optional(),
  at: z.iso.datetime(),
});
export type EndpointProbe = z.infer<typeof EndpointProbeSchema>;

/** One sample of the processes, at the monitoring interval. */
export const ResourceSampleSchema = z.object({
  /** Epoch ms. */
  t: z.number(),
  intervalMs: z.number().int().positive(),
  processes: z.array(ProcessStatSchema),
  /** Sum over the governed processes: CPU as a share of the machine (all cores = 100). */
  cpuPercent: z.number().nonnegative(),
  memoryBytes: z.number().int().nonnegative(),
  /** The main process's V8 heap. */
  heapUsedBytes: z.number().int().nonnegative(),
  cores: z.number().int().positive(),
});
export type ResourceSample = z.infer<typeof ResourceSampleSchema>;

/** Graded: each level includes the actions of the ones before it. */
export const GovernorLevelSchema = z.enum(['normal', 'warn', 'slow-ui', 'trim', 'refuse']);
export type GovernorLevel = z.infer<typeof GovernorLevelSchema>;

export const LowPowerReasonSchema = z.enum(['config', 'env', 'battery', 'limits']);
export type LowPowerReason = z.infer<typeof LowPowerReasonSchema>;

export const GovernorStateSchema = z.object({
  level: GovernorLevelSchema,
  /** Use over limit: the higher of memory and CPU (1 = at the limit); null with no limits set. */
  pressure: z.number().nonnegative().nullable(),
  memory: z.object({
    usedBytes: z.number().int().nonnegative(),
    limitBytes: z.number().int().positive().nullable(),
  }),
  cpu: z.object({
    /** Averaged over the last samples, share of the machine. */
    percent: z.number().nonnegative(),
    limitPercent: z.number().positive().nullable(),
  }),
  /** Why the level is what it is, in words (null when normal). */
  reason: z.string().nullable(),
  /** When the level last changed. */
  since: z.iso.datetime(),
  /** The message new sessions are refused with, while refusing. */
  refusal: z.string().nullable(),
  lowPower: z.object({
    active: z.boolean(),
    mode: LowPowerModeSchema,
    reasons: z.array(LowPowerReasonSchema),
  }),
  /** What the renderer should do now. */
  ui: z.object({
    /** Charts and status figures redraw at most this often. */
    updateIntervalMs: z.number().int().positive(),
    /** Lines of scrollback background terminals are trimmed to; null = the setting. */
    backgroundScrollback: z.number().int().positive().nullable(),
    /** Costly rendering (WebGL, cursor blink) is off. */
    economy: z.boolean(),
  }),
  /** Where each limit came from. */
  sources: z.object({
    maxMemoryMb: z.enum(['default', 'settings', 'env']),
    maxCpuPercent: z.enum(['default', 'settings', 'env']),
    lowPower: z.enum(['default', 'settings', 'env']),
    monitoringIntervalMs: z.enum(['default', 'settings', 'env']),
  }),
});
export type GovernorState = z.infer<typeof GovernorStateSchema>;

/** One change of the governor's level, for the log in the Performance view. */
export const GovernorChangeSchema = z.object({
  at: z.iso.datetime(),
  from: GovernorLevelSchema,
  to: GovernorLevelSchema,
  message: z.string(),
});
export type GovernorChange = z.infer<typeof GovernorChangeSchema>;

export const LeakStatusSchema = z.object({
  /** Heap growth over the watch window (0.5 = +50 %); null until the window is full enough. */
  growthRatio: z.number().nullable(),
  warning: z.boolean(),
  summary: z.string(),
  gcPauseMaxMs: z.number().nonnegative(),
  gcCount: z.number().int().nonnegative(),
  handles: z.number().int().nonnegative(),
});
export type LeakStatus = z.infer<typeof LeakStatusSchema>;

export const ResourceSnapshotSchema = z.object({
  sample: ResourceSampleSchema.nullable(),
  /** Recent samples, oldest first (the charts start from these). */
  history: z.array(ResourceSampleSchema),
  governor: GovernorStateSchema,
  changes: z.array(GovernorChangeSchema),
  probes: z.array(EndpointProbeSchema),
  leak: LeakStatusSchema,
  /** The Prometheus endpoint when on. */
  prometheus: z.string().nullable(),
  /** Configuration problems now (an invalid EC2_CONNECT_* value, the Prometheus port in use). */
  problems: z.array(z.string()).optional(),
});
export type ResourceSnapshot = z.infer<typeof ResourceSnapshotSchema>;

// ---------------------------------------------------------------------------------------------
// Configuration, credentials prompts and diagnostics (issue 8)
// ---------------------------------------------------------------------------------------------

/** Where an effective configuration value came from (later ones win). */
export const ConfigSourceSchema = z.enum(['default', 'preset', 'file', 'env', 'flag']);
export type ConfigSource = z.infer<typeof ConfigSourceSchema>;

/** A configuration value that was not used, and why (the default or earlier source applies). */
export const ConfigProblemSchema = z.object({
  /** `section.key`, e.g. `resources.max_memory_mb`; `` for the file as a whole. */
  key: z.string(),
  source: ConfigSourceSchema,
  /** The value as given (stringified for the UI). */
  value: z.string(),
  /** Names the key, the value and what is allowed. */
  message: z.string(),
});
export type ConfigProblem = z.infer<typeof ConfigProblemSchema>;

/** One key of the configuration, described for the Settings view and `config show`. */
export const ConfigKeySchema = z.object({
  key: z.string(),
  section: z.string(),
  type: z.enum(['boolean', 'integer', 'number', 'string', 'enum']),
  description: z.string(),
  default: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  min: z.number().optional(),
  max: z.number().optional(),
  values: z.array(z.string()).optional(),
  unit: z.string().optional(),
  /** The EC2_CONNECT_* variable that overrides it, if any. */
  env: z.string().optional(),
  /** True when a change applies at once in a running app; false: on the next session or start. */
  live: z.boolean(),
  nullable: z.boolean().optional(),
});
export type ConfigKey = z.infer<typeof ConfigKeySchema>;

export const ConfigValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const ConfigStateSchema = z.object({
  /** The configuration file (it may not exist yet). */
  file: z.string(),
  preset: z.string().nullable(),
  presets: z.array(z.string()),
  /** Effective value of every key (`section.key` -> value). */
  values: z.record(z.string(), ConfigValueSchema),
  sources: z.record(z.string(), ConfigSourceSchema),
  problems: z.array(ConfigProblemSchema),
  keys: z.array(ConfigKeySchema),
});
export type ConfigState = z.infer<typeof ConfigStateSchema>;

/** Asked of the user while credentials are resolved: an MFA code, or an SSO sign-in in the browser. */
export const CredentialPromptSchema = z.object({
  id: z.uuid(),
  kind: z.enum(['mfa', 'sso']),
  profile: z.string(),
  message: z.string(),
  /** The MFA device (serial number or ARN), for kind mfa. */
  mfaSerial: z.string().optional(),
  /** The role the MFA code is for (its ARN), for kind mfa. */
  roleArn: z.string().optional(),
  /** Why it asks again: the previous answer was refused (e.g. STS refused the code), for kind mfa. */
  problem: z.string().optional(),
  /** For kind sso: where to sign in and the code to check there. */
  sso: z
    .object({
      verificationUri: z.string(),
      verificationUriComplete: z.string().optional(),
      userCode: z.string(),
      expiresAt: z.iso.datetime(),
    })
    .optional(),
});
export type CredentialPrompt = z.infer<typeof CredentialPromptSchema>;

export const CheckStatusSchema = z.enum(['pass', 'warn', 'fail', 'skip']);
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

export const DiagnosticCheckSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: CheckStatusSchema,
  /** The measured figure, e.g. `42 ms`, `agent 3.2.1582.0`, `clock 3 s ahead`. */
  figure: z.string().nullable(),
  /** What was found, in words. */
  detail: z.string(),
  /** What to do, in plain words (null when it passed). */
  fix: z.string().nullable(),
  durationMs: z.number().nonnegative(),
});
export type DiagnosticCheck = z.infer<typeof DiagnosticCheckSchema>;

export const RegionLatencySchema = z.object({
  region: z.string(),
  endpoint: z.string(),
  ok: z.boolean(),
  latencyMs: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
});
export type RegionLatency = z.infer<typeof RegionLatencySchema>;

export const DiagnosticReportSchema = z.object({
  kind: z.enum(['preventive', 'full']),
  profile: z.string(),
  region: z.string(),
  instanceId: z.string().nullable(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().nonnegative(),
  checks: z.array(DiagnosticCheckSchema),
  /** Full runs: reachable regions, fastest first. */
  regions: z.array(RegionLatencySchema).optional(),
  summary: z.object({
    pass: z.number().int().nonnegative(),
    warn: z.number().int().nonnegative(),
    fail: z.number().int().nonnegative(),
    skip: z.number().int().nonnegative(),
  }),
});
export type DiagnosticReport = z.infer<typeof DiagnosticReportSchema>;

// ---------------------------------------------------------------------------------------------
// Session history (the local SQLite store)
// ---------------------------------------------------------------------------------------------

/** How a recorded session ended; `open` while it runs, `unknown` when EC2 Connect stopped without recording its end. */
export const SessionOutcomeSchema = z.enum(['open', 'ended', 'terminated', 'failed', 'unknown']);
export type SessionOutcome = z.infer<typeof SessionOutcomeSchema>;

export const HistorySessionSchema = z.object({
  id: z.string().min(1).max(100),
  awsSessionId: z.string(),
  instanceId: z.string(),
  instanceName: z.string(),
  profile: z.string(),
  region: z.string(),
  /** Which EC2 Connect recorded it. */
  source: z.enum(['app', 'web', 'cli']),
  /** The local user, and the AWS principal when known (`alice (arn:aws:sts::...:assumed-role/...)`). */
  user: z.string(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
  outcome: SessionOutcomeSchema,
  endReason: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  bytesIn: z.number().nonnegative(),
  bytesOut: z.number().nonnegative(),
  reconnects: z.number().int().nonnegative(),
  openMs: z.number().nonnegative().nullable(),
});
export type HistorySession = z.infer<typeof HistorySessionSchema>;

export const HistoryFilterSchema = z.strictObject({
  /** Matches the instance id or name (substring, case-insensitive). */
  instance: z.string().max(200).optional(),
  profile: z.string().max(128).optional(),
  /** Sessions started at or after / before these times. */
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
  outcome: SessionOutcomeSchema.optional(),
  /** Page size (default 100). */
  limit: z.number().int().min(1).max(1000).optional(),
  /** Paging: sessions started strictly before this time (the last row's startedAt). */
  before: z.iso.datetime().optional(),
});
export type HistoryFilter = z.infer<typeof HistoryFilterSchema>;

/** Whether history is being recorded, and why not. */
export const HistoryStatusSchema = z.object({
  available: z.boolean(),
  /** Set when the store is off: the disk is full, the folder is read-only, ... */
  problem: z.string().nullable(),
  file: z.string().nullable(),
});

export const HistoryEventSchema = z.object({
  at: z.iso.datetime(),
  kind: z.string(),
  detail: z.string(),
});

export const HistoryMetricsPointSchema = z.object({
  t: z.number(),
  latencyP50: z.number().nullable(),
  latencyP99: z.number().nullable(),
  inBytesPerSec: z.number().nonnegative(),
  outBytesPerSec: z.number().nonnegative(),
});

// ---------------------------------------------------------------------------------------------
// Port forwarding (issue 9)
// ---------------------------------------------------------------------------------------------

export const PortNumberSchema = z.number().int().min(1).max(65535);
/** 0: any free port. */
export const LocalPortSchema = z.number().int().min(0).max(65535);
/** A host name or IP address reached from the instance (RDS endpoint, private address, ...). */
export const RemoteHostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9._:-]+$/, 'expected a host name or IP address, e.g. db.internal or 10.0.1.5');
export const ForwardIdSchema = z.uuid('expected a forward id (a UUID from ports.list)');

/** What to forward: a local port to a port on an instance, or on a host the instance reaches. */
export const PortForwardSpecSchema = z.strictObject({
  instanceId: InstanceIdSchema,
  remotePort: PortNumberSchema,
  /** The local port (0 or absent: any free port). */
  localPort: LocalPortSchema.optional(),
  /** A host reached from the instance (AWS-StartPortForwardingSessionToRemoteHost). */
  host: RemoteHostSchema.optional(),
  /** A name shown in the list ("prod db"). */
  label: z.string().trim().max(80).optional(),
});
export type PortForwardSpec = z.infer<typeof PortForwardSpecSchema>;

export const ForwardConnectionSchema = z.object({
  id: z.number().int().positive(),
  /** address:port of the local client. */
  client: z.string(),
  openedAt: z.number(),
  bytesIn: z.number().nonnegative(),
  bytesOut: z.number().nonnegative(),
});

export const PortForwardStateSchema = z.enum(['starting', 'open', 'reconnecting', 'closed', 'failed']);
export type PortForwardState = z.infer<typeof PortForwardStateSchema>;

export const PortForwardInfoSchema = z.object({
  id: ForwardIdSchema,
  instanceId: InstanceIdSchema,
  /** The instance's Name tag, or its id. */
  instanceName: z.string(),
  profile: z.string(),
  region: z.string(),
  remotePort: PortNumberSchema,
  host: z.string().nullable(),
  label: z.string().nullable(),
  /** Where to connect, e.g. 127.0.0.1:5432 (empty while starting). */
  localAddress: z.string(),
  localPort: LocalPortSchema,
  /** multiplexed: many connections over one session; basic: one at a time (old agents). */
  mode: z.enum(['multiplexed', 'basic']).nullable(),
  state: PortForwardStateSchema,
  sessionId: z.string().nullable(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  /** Why it closed or failed. */
  reason: z.string().nullable(),
  activeConnections: z.number().int().nonnegative(),
  totalConnections: z.number().int().nonnegative(),
  failedConnections: z.number().int().nonnegative(),
  /** Bytes from the instance to local clients, and back. */
  bytesIn: z.number().nonnegative(),
  bytesOut: z.number().nonnegative(),
  connections: z.array(ForwardConnectionSchema),
  /** The saved forward it was opened from, if any. */
  savedId: z.uuid().nullable(),
});
export type PortForwardInfo = z.infer<typeof PortForwardInfoSchema>;

/** A forward kept for one-click re-opening (per profile and region). */
export const SavedForwardSchema = z.object({
  id: z.uuid(),
  label: z.string(),
  instanceId: InstanceIdSchema,
  instanceName: z.string(),
  profile: z.string(),
  region: z.string(),
  remotePort: PortNumberSchema,
  host: z.string().nullable(),
  /** 0: any free port. */
  localPort: LocalPortSchema,
  createdAt: z.number(),
  lastUsedAt: z.number().nullable(),
});
export type SavedForward = z.infer<typeof SavedForwardSchema>;

export const PortListSchema = z.object({
  forwards: z.array(PortForwardInfoSchema),
  saved: z.array(SavedForwardSchema),
  /** Why saved forwards could not be read (a damaged file, set aside), if they could not. */
  savedProblem: z.string().nullable(),
});
export type PortList = z.infer<typeof PortListSchema>;

// ---------------------------------------------------------------------------------------------
// Session presets: the document, run-as user and shell profile of a session, saved per instance
// or per tag (main/core/workspace/session-presets.ts, main/core/sessions/session-launch.ts)
// ---------------------------------------------------------------------------------------------

/** POSIX portable user names: letters, digits, '.', '_', '-'; not starting with '-', '.' or a digit. */
export const RUN_AS_USER_PATTERN = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;

/**
 * Why `name` cannot be a run-as user (it is typed into a shell, so nothing else is accepted), or
 * null when it can.
 */
export function runAsUserProblem(name: string): string | null {
  if (RUN_AS_USER_PATTERN.test(name)) return null;
  if (name === '') return 'The run-as user is empty; give a user name such as ec2-user, or leave it out.';
  const meta = [...name].find((c) => /[\s;&|`$<>(){}[\]*?!~#'"\\=%^]/.test(c) || c < ' ' || c === '\x7f');
  if (meta !== undefined) {
    const shown =
      meta < ' ' || meta === '\x7f'
        ? `control character 0x${meta.charCodeAt(0).toString(16).padStart(2, '0')}`
        : /\s/.test(meta)
          ? 'a space'
          : `"${meta}"`;
    return `The run-as user ${JSON.stringify(name.slice(0, 40))} contains ${shown}, a shell metacharacter: it is typed into the remote shell, so only a plain user name is accepted (letters, digits, ".", "_", "-").`;
  }
  return `The run-as user ${JSON.stringify(name.slice(0, 40))} is not a valid user name: use at most 32 letters, digits, ".", "_" or "-", starting with a letter or "_".`;
}

export const RunAsUserSchema = z.string().superRefine((name, ctx) => {
  const problem = runAsUserProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A session document's name, as SSM accepts it in StartSession. */
export const DocumentNameSchema = z
  .string()
  .regex(/^[a-zA-Z0-9_\-.:/]{3,128}$/, 'expected a session document name like AWS-StartInteractiveCommand');

/** Document parameters (each one value), e.g. { logpath: "/var/log/messages" }. */
export const DocumentParametersSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a parameter name (letters, digits, "_", ".", "-")'),
  z.string().max(4096),
);

/** What a session runs (an explicit choice, or a preset): the document and how the shell starts. */
const sessionChoiceShape = {
  /** 'shell' (SSM-SessionManagerRunShell), 'command' (AWS-StartInteractiveCommand) or a document name. */
  document: z.union([z.literal('shell'), z.literal('command'), DocumentNameSchema]),
  /** The command of a 'command' session. */
  command: z.string().trim().min(1).max(4096).optional(),
  /** Parameters of a custom document. */
  parameters: DocumentParametersSchema.optional(),
  /** Become this OS user once the shell is up (`exec sudo -iu <user>`). */
  runAs: RunAsUserSchema.optional(),
  /** Start a login shell (`bash -l`, or the run-as user's login shell). */
  loginShell: z.boolean().optional(),
  /** Commands typed into the shell at start (one per line), like the shellProfile.linux preference. */
  shellProfile: z.string().max(4096).optional(),
};

type ChoiceLike = {
  document: string;
  command?: string | undefined;
  parameters?: unknown;
  runAs?: unknown;
  loginShell?: unknown;
  shellProfile?: unknown;
};

function checkChoice(c: ChoiceLike, ctx: z.RefinementCtx): void {
  if (c.document === 'command') {
    if (!c.command)
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'A command session needs the command to run.',
      });
    if (c.runAs || c.loginShell || c.shellProfile)
      ctx.addIssue({
        code: 'custom',
        path: ['document'],
        message:
          'Run as, login shell and shell profile apply to shell sessions; for a command, put sudo -u <user> in the command itself.',
      });
  } else if (c.command !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['command'],
      message: 'A command is only used with document "command".',
    });
  }
  if (c.parameters !== undefined && (c.document === 'shell' || c.document === 'command'))
    ctx.addIssue({
      code: 'custom',
      path: ['parameters'],
      message:
        'Parameters go with a custom document; the shell takes none, and a command session takes its command.',
    });
}

export const SessionChoiceSchema = z.strictObject(sessionChoiceShape).superRefine(checkChoice);
export type SessionChoice = z.infer<typeof SessionChoiceSchema>;

/** Which instances a preset applies to: one instance, or every instance with a tag. */
export const PresetMatchSchema = z.union([
  z.strictObject({ instanceId: InstanceIdSchema }),
  z.strictObject({
    tag: z.strictObject({ key: z.string().min(1).max(128), value: z.string().max(256) }),
  }),
]);
export type PresetMatch = z.infer<typeof PresetMatchSchema>;

const presetShape = {
  ...sessionChoiceShape,
  name: z.string().trim().min(1).max(80).optional(),
  match: PresetMatchSchema,
  /** The AWS profile it applies to; null: every profile. */
  profile: ProfileNameSchema.nullable(),
};

export const SessionPresetSchema = z
  .strictObject({ ...presetShape, id: z.uuid(), createdAt: z.number(), updatedAt: z.number() })
  .superRefine(checkChoice);
export type SessionPreset = z.infer<typeof SessionPresetSchema>;

/** A preset to save: with an id, that preset is changed; without, the preset of the same match and profile is replaced. */
export const SessionPresetInputSchema = z
  .strictObject({ ...presetShape, id: z.uuid().optional() })
  .superRefine(checkChoice);
export type SessionPresetInput = z.infer<typeof SessionPresetInputSchema>;

/**
 * The preset for an instance on a profile: its own, else the first of one of its tags; in each
 * group a preset of that profile before one for every profile, then the list's order. The main
 * side opens sessions with it; the renderer shows it on the instance (the same rule on both).
 */
export function resolvePreset<P extends SessionPreset>(
  presets: readonly P[],
  target: { profile: string; instanceId: string; tags?: Readonly<Record<string, string>> | undefined },
): P | undefined {
  const applicable = presets.filter((p) => p.profile === null || p.profile === target.profile);
  const ranked = [
    ...applicable.filter((p) => p.profile !== null),
    ...applicable.filter((p) => p.profile === null),
  ];
  const own = ranked.find((p) => 'instanceId' in p.match && p.match.instanceId === target.instanceId);
  if (own) return own;
  const tags = target.tags ?? {};
  return ranked.find((p) => 'tag' in p.match && tags[p.match.tag.key] === p.match.tag.value);
}

export const PresetListSchema = z.object({
  presets: z.array(SessionPresetSchema),
  /** Why the presets could not be read (a damaged file, set aside), if they could not. */
  problem: z.string().nullable(),
});
export type PresetList = z.infer<typeof PresetListSchema>;

// ---------------------------------------------------------------------------------------------
// Channels (renderer -> main, request/response)
// ---------------------------------------------------------------------------------------------

export interface ChannelSpec {
  request: z.ZodType;
  response: z.ZodType;
  description: string;
}

const SessionRef = z.strictObject({ sessionId: SessionIdSchema });

export const channels = {
  'app.info': {
    request: NoParamsSchema,
    response: AppInfoSchema,
    description: 'Version, active profile, region and endpoint.',
  },
  'profiles.list': {
    request: NoParamsSchema,
    response: ProfileListSchema,
    description: 'The sandbox and the profiles of the AWS config files, the active one, and regions.',
  },
  'profiles.select': {
    request: z.strictObject({ profile: ProfileNameSchema, region: RegionSchema.optional() }),
    response: AppInfoSchema,
    description:
      'Make a profile (and region) active. Open sessions keep running on their own profile; instances are listed anew.',
  },
  'instances.list': {
    request: z.strictObject({ refresh: z.boolean().optional() }).optional(),
    response: InstanceListSchema,
    description: 'EC2 instances of the active profile and region, joined with their SSM status.',
  },
  'sessions.list': {
    request: NoParamsSchema,
    response: z.array(SessionInfoSchema),
    description: 'Every session of this app, open or reconnecting.',
  },
  'sessions.open': {
    request: z
      .strictObject({
        instanceId: InstanceIdSchema,
        cols: ColsSchema.optional(),
        rows: RowsSchema.optional(),
        /**
         * An explicit choice ('shell', 'command' or a document name, and what goes with it); without
         * one, the instance's preset, else the first preset of one of its tags, else the shell.
         */
        documentName: sessionChoiceShape.document.optional(),
        parameters: sessionChoiceShape.parameters,
        command: sessionChoiceShape.command,
        runAs: sessionChoiceShape.runAs,
        loginShell: sessionChoiceShape.loginShell,
        shellProfile: sessionChoiceShape.shellProfile,
        /** Open with this preset (from presets.list) instead of the resolved one. */
        presetId: z.uuid().optional(),
      })
      .superRefine((r, ctx) => {
        const explicit =
          r.documentName !== undefined ||
          r.parameters !== undefined ||
          r.command !== undefined ||
          r.runAs !== undefined ||
          r.loginShell !== undefined ||
          r.shellProfile !== undefined;
        if (explicit && r.presetId !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['presetId'],
            message: 'Give either a preset or an explicit document and options, not both.',
          });
        // A bare command means a command session, as explicitChoice (session-launch.ts) reads it.
        if (explicit)
          checkChoice(
            { ...r, document: r.documentName ?? (r.command !== undefined ? 'command' : 'shell') },
            ctx,
          );
      }),
    response: SessionInfoSchema,
    description:
      'Start a session on an instance of the active profile (StartSession + data channel): the explicit choice, else its preset, else the shell.',
  },
  'sessions.write': {
    request: z.strictObject({
      sessionId: SessionIdSchema,
      data: z.string().min(1).max(MAX_WRITE_CHARS),
      /**
       * When the answer comes: 'queued' (default) once the input is queued for the data channel;
       * 'acknowledged' once the instance's agent has acknowledged all input written so far (at
       * most INPUT_DELIVERY_WAIT_MS, main/core/sessions/session-manager.ts). Pieces of a paste ask
       * for 'acknowledged', so only what the renderer keeps in flight is ever beyond its reach
       * and cancelling the paste really stops it.
       */
      delivery: z.enum(['queued', 'acknowledged']).optional(),
    }),
    response: DoneSchema,
    description:
      'Send keystrokes or a piece of a paste (at most MAX_WRITE_CHARS; send larger input in order; delivery "acknowledged" answers once the agent has it).',
  },
  'sessions.resize': {
    request: z.strictObject({ sessionId: SessionIdSchema, cols: ColsSchema, rows: RowsSchema }),
    response: DoneSchema,
    description: 'Tell the remote terminal its new size.',
  },
  'sessions.ack': {
    request: z.strictObject({ sessionId: SessionIdSchema, bytes: z.number().int().positive() }),
    response: DoneSchema,
    description:
      'The terminal has drawn this many more output bytes; unacknowledged output above 1 MiB pauses the session.',
  },
  'sessions.replay': {
    request: SessionRef,
    response: z.object({
      /** The most recent output (up to the replay buffer's size), decoded. */
      data: z.string(),
      /** Byte offset of the session's output at the end of `data`: skip session.output events that end at or before it. */
      endOffset: z.number().int().nonnegative(),
      /** True when older output no longer fits the buffer. */
      truncated: z.boolean(),
    }),
    description:
      'Recent output of a session, for a terminal that attaches late (a reloaded page); it also acknowledges all output so far.',
  },
  'sessions.close': {
    request: SessionRef,
    response: DoneSchema,
    description: 'End a session (TerminateSession); resolves when it is closed.',
  },
  'sessions.cancelReconnect': {
    request: SessionRef,
    response: DoneSchema,
    description: 'Stop reconnecting a session and close it.',
  },
  'sessions.lost': {
    request: NoParamsSchema,
    response: z.array(SessionInfoSchema),
    description:
      'Closed sessions that can still be re-attached (their connection was lost for good): a reloaded window shows their tabs again.',
  },
  'sessions.reattach': {
    request: z.strictObject({
      sessionId: SessionIdSchema,
      cols: ColsSchema.optional(),
      rows: RowsSchema.optional(),
    }),
    response: SessionInfoSchema,
    description:
      'A new session in place of one whose connection was lost for good (reattachable): re-attached to its tmux or screen session, else a fresh shell. Every window also gets session.reattached.',
  },
  'settings.get': {
    request: NoParamsSchema,
    response: SettingsSchema,
    description: 'The UI settings (theme, terminal font, notifications).',
  },
  'settings.update': {
    request: SettingsPatchSchema,
    response: SettingsSchema,
    description: 'Change some settings; answers with all of them, and every window gets settings.changed.',
  },
  'metrics.history': {
    request: NoParamsSchema,
    response: MetricsHistorySchema,
    description: 'Recent connection metrics of every open session (the charts start from this).',
  },
  'metrics.export': {
    request: z.strictObject({
      format: z.enum(['csv', 'prometheus']),
      /** One session's samples; all open sessions when absent. */
      sessionId: SessionIdSchema.optional(),
    }),
    response: z.object({ filename: z.string(), contentType: z.string(), text: z.string() }),
    description: 'The recent connection metrics as CSV, or every metric as Prometheus text.',
  },
  'resources.get': {
    request: NoParamsSchema,
    response: ResourceSnapshotSchema,
    description: 'Processes, the governor state and its recent changes, endpoint probes, the leak watch.',
  },
  'resources.probe': {
    request: NoParamsSchema,
    response: z.array(EndpointProbeSchema),
    description: 'Measure the latency of the endpoints in use now.',
  },
  'config.get': {
    request: NoParamsSchema,
    response: ConfigStateSchema,
    description:
      "The effective configuration with each value's source, the problems found, and every key described.",
  },
  'config.update': {
    request: z.strictObject({
      /** `section.key` -> new value; null removes the key from the file (back to the preset or default). */
      values: z.record(z.string().max(100), ConfigValueSchema),
    }),
    response: ConfigStateSchema,
    description:
      'Change keys of the configuration file; an invalid value is refused with its reason and nothing is written.',
  },
  'config.preset': {
    request: z.strictObject({ name: z.string().max(40).nullable() }),
    response: ConfigStateSchema,
    description:
      'Base the configuration on a preset (null: none); the file and environment still override it.',
  },
  'credentials.answer': {
    request: z.strictObject({
      id: z.uuid(),
      /** The MFA code (6 digits), for an mfa prompt. */
      code: z
        .string()
        .regex(/^\d{6}$/, 'an MFA code is 6 digits')
        .optional(),
      cancel: z.boolean().optional(),
    }),
    response: DoneSchema,
    description: 'Answer a credentials.prompt (an MFA code, or cancel).',
  },
  'profiles.login': {
    request: z.strictObject({ profile: ProfileNameSchema }),
    response: z.object({ profile: z.string(), expiresAt: z.iso.datetime().nullable() }),
    description: 'Sign in to an SSO profile (device authorization; a credentials.prompt says where).',
  },
  'diagnostics.run': {
    request: z.strictObject({
      kind: z.enum(['preventive', 'full']),
      instanceId: InstanceIdSchema.optional(),
      /** Deadline of each check, seconds (default 10). */
      timeoutSeconds: z.number().int().min(1).max(120).optional(),
      parallel: z.number().int().min(1).max(16).optional(),
    }),
    response: DiagnosticReportSchema,
    description: 'Run the connection diagnostics for the active profile and region (and an instance).',
  },
  'history.list': {
    request: HistoryFilterSchema.optional(),
    response: z.object({ status: HistoryStatusSchema, sessions: z.array(HistorySessionSchema) }),
    description: 'Recorded sessions, newest first, filtered by instance, profile, time and outcome.',
  },
  'history.get': {
    request: z.strictObject({
      sessionId: z.string().min(1).max(100),
      /** Most metric points wanted (downsampled to fit; default 300). */
      maxPoints: z.number().int().min(10).max(5000).optional(),
    }),
    response: z.object({
      session: HistorySessionSchema,
      events: z.array(HistoryEventSchema),
      metrics: z.object({
        bucketMs: z.number().int().positive(),
        points: z.array(HistoryMetricsPointSchema),
      }),
    }),
    description: 'One recorded session with its events and its metrics (downsampled for a chart).',
  },
  'ports.list': {
    request: NoParamsSchema,
    response: PortListSchema,
    description: 'Port forwards of this app (open, and recently closed or failed) and the saved ones.',
  },
  'ports.open': {
    request: PortForwardSpecSchema.extend({
      /** Also save it for one-click re-opening. */
      save: z.boolean().optional(),
    }),
    response: PortForwardInfoSchema,
    description:
      'Start a forward on the active profile and region; resolves once the local port listens (a port in use is refused by name).',
  },
  'ports.close': {
    request: z.strictObject({ id: ForwardIdSchema }),
    response: DoneSchema,
    description: 'Stop a forward: close its local port and connections and end its session.',
  },
  'ports.save': {
    request: PortForwardSpecSchema,
    response: SavedForwardSchema,
    description: 'Save a forward (for the active profile and region) without opening it.',
  },
  'ports.unsave': {
    request: z.strictObject({ id: z.uuid() }),
    response: DoneSchema,
    description: 'Forget a saved forward.',
  },
  'ports.openSaved': {
    request: z.strictObject({ id: z.uuid() }),
    response: PortForwardInfoSchema,
    description: 'Open a saved forward on its own profile and region (one click).',
  },
  'presets.list': {
    request: NoParamsSchema,
    response: PresetListSchema,
    description: 'The session presets of every profile (session-presets.json), and a problem reading them.',
  },
  'presets.save': {
    request: SessionPresetInputSchema,
    response: SessionPresetSchema,
    description:
      'Save a session preset (with an id: change it; else replace the one of the same match and profile).',
  },
  'presets.delete': {
    request: z.strictObject({ id: z.uuid() }),
    response: DoneSchema,
    description: 'Forget a session preset (one already gone is not an error).',
  },
  'presets.resolve': {
    request: z.strictObject({ instanceId: InstanceIdSchema }),
    response: SessionPresetSchema.nullable(),
    description: 'The preset Connect would use for an instance of the active profile (null: the shell).',
  },
  'history.reopen': {
    request: z.strictObject({ sessionId: z.string().min(1).max(100) }),
    response: SessionInfoSchema,
    description: 'Open a new session to the instance (and profile and region) of a recorded one.',
  },
} as const satisfies Record<string, ChannelSpec>;

export type Channel = keyof typeof channels;
/** What a caller passes (before zod defaults/transforms). */
export type RequestInput<C extends Channel> = z.input<(typeof channels)[C]['request']>;
/** What a handler receives (after validation). */
export type RequestOf<C extends Channel> = z.output<(typeof channels)[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<(typeof channels)[C]['response']>;

/** Arguments of `invoke` after the channel: the request is optional when the schema accepts undefined. */
export type InvokeArgs<C extends Channel> =
  undefined extends RequestInput<C> ? [request?: RequestInput<C>] : [request: RequestInput<C>];

/** The main-side implementation of every channel (see main/core/bridge/handlers.ts). */
export type BridgeHandlers = { [C in Channel]: (request: RequestOf<C>) => Promise<ResponseOf<C>> };

export const CHANNEL_NAMES = Object.keys(channels) as Channel[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
}

// ---------------------------------------------------------------------------------------------
// Events (main -> renderer, pushed)
// ---------------------------------------------------------------------------------------------

export const ConnectionNoticeKindSchema = z.enum([
  'network-lost',
  'agent-unreachable',
  'agent-back',
  'token-expired',
  'reconnected',
  'ended-elsewhere',
  /** The session will be closed soon for inactivity (inactive_timeout). */
  'inactive-warning',
  /** A session could not be opened because of a limit. */
  'limit',
  /** The resource governor hit a limit, recovered, or the leak watch warned (sessionId null). */
  'resources',
]);
export type ConnectionNoticeKind = z.infer<typeof ConnectionNoticeKindSchema>;

/** Commands from the native menu, tray and shortcuts that the renderer carries out. */
export const AppCommandSchema = z.enum([
  'new-session',
  'close-tab',
  'next-tab',
  'previous-tab',
  'split-right',
  'split-down',
  'find',
  'clear-terminal',
  /** Broadcast input to the selected sessions on or off (Ctrl+Shift+B). */
  'toggle-broadcast',
  'show-instances',
  'show-sessions',
  'show-performance',
  'show-settings',
  'show-history',
  'show-diagnostics',
  'show-ports',
  'focus-filter',
]);
export type AppCommand = z.infer<typeof AppCommandSchema>;

/** Event name -> payload schema. */
export const events = {
  /**
   * Output of a session, batched (at most one event per session per ~16 ms, or per 64 KiB).
   * `offset` is the byte offset of the session's output at the start of this batch; `bytes` the
   * raw byte count (acknowledge it with sessions.ack once drawn). `data` is decoded UTF-8, with
   * characters split across batches carried over whole.
   */
  'session.output': z.object({
    sessionId: SessionIdSchema,
    offset: z.number().int().nonnegative(),
    bytes: z.number().int().positive(),
    data: z.string(),
  }),
  /** A session was opened, changed state, started a reconnect attempt, or closed. */
  'session.updated': SessionInfoSchema,
  /** A lost session was re-attached (by sessions.reattach or automatically): its tab now shows `session`. */
  'session.reattached': z.object({ previousId: SessionIdSchema, session: SessionInfoSchema }),
  /** Something the user should know about a connection (also what notifications are made of). */
  'session.notice': z.object({
    sessionId: SessionIdSchema.nullable(),
    kind: ConnectionNoticeKindSchema,
    message: z.string(),
    at: z.iso.datetime(),
  }),
  /** One sample per open session, at a steady interval (1 s). */
  'metrics.tick': z.object({
    intervalMs: z.number().int().positive(),
    samples: z.array(SessionMetricsSampleSchema.extend({ sessionId: SessionIdSchema })),
  }),
  /** CPU and memory of every process, at the monitoring interval. */
  'resources.tick': ResourceSampleSchema,
  /** The governor changed level or low-power mode turned on or off. */
  'governor.changed': z.object({ state: GovernorStateSchema, change: GovernorChangeSchema.nullable() }),
  /** Fresh endpoint latency figures. */
  'probes.updated': z.array(EndpointProbeSchema),
  /** The configuration changed (here, in another window, or the file was edited). */
  'config.changed': ConfigStateSchema,
  /** Credentials need the user: an MFA code, or an SSO sign-in (answer with credentials.answer). */
  'credentials.prompt': CredentialPromptSchema,
  /** A prompt was answered, timed out or is no longer needed. */
  'credentials.promptDone': z.object({ id: z.uuid(), outcome: z.enum(['answered', 'cancelled', 'expired']) }),
  /** One diagnostic check finished (a run in progress). */
  'diagnostics.progress': z.object({ check: DiagnosticCheckSchema }),
  /** The active profile or region changed (here or in another window). */
  'app.profileChanged': AppInfoSchema,
  'settings.changed': SettingsSchema,
  /** A fresh instance list after a cached one was served (fast start-up). */
  'instances.updated': InstanceListSchema,
  /**
   * A forward started, changed state, or its connections or byte counts changed (at most once a
   * second per forward while traffic flows); `state` failed means it broke (a notification).
   */
  'ports.updated': PortForwardInfoSchema,
  /** The saved forwards changed. */
  'ports.savedChanged': z.object({ saved: z.array(SavedForwardSchema) }),
  /** The session presets changed (here, in another window, or in the file). */
  'presets.changed': z.object({ presets: z.array(SessionPresetSchema) }),
  /** A session was recorded or its record changed (the History view refreshes). */
  'history.changed': z.object({ sessionId: z.string() }),
  /** A menu item, tray item or global shortcut of the desktop shell. */
  'app.command': z.object({
    command: AppCommandSchema,
    /** For new-session from the tray: which instance. */
    instanceId: InstanceIdSchema.optional(),
  }),
} as const satisfies Record<string, z.ZodType>;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export type EventListener<E extends EventName> = (payload: EventPayload<E>) => void;

/** Any event with its payload, as the main side produces them. */
export type BridgeEvent = { [E in EventName]: { name: E; payload: EventPayload<E> } }[EventName];

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}

/** Check an event's payload against its schema; undefined for unknown events or bad payloads. */
export function parseEvent(
  name: unknown,
  payload: unknown,
): { name: EventName; payload: unknown } | undefined {
  if (!isEventName(name)) return undefined;
  const schema: z.ZodType = (events as Record<string, z.ZodType>)[name as string]!;
  const parsed = schema.safeParse(payload);
  return parsed.success ? { name, payload: parsed.data } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Results and errors (the same envelope over IPC and over the WebSocket)
// ---------------------------------------------------------------------------------------------

export const BridgeErrorCodeSchema = z.enum([
  /** The message itself was malformed (not JSON, not an object, no id). */
  'BAD_MESSAGE',
  'UNKNOWN_CHANNEL',
  /** The request did not match the channel's request schema. */
  'INVALID_REQUEST',
  /** The handler's (or the server's) answer did not match the channel's response schema. */
  'INVALID_RESPONSE',
  /** The handler threw (an AWS error, a sandbox fault, ...). */
  'HANDLER_FAILED',
  /** The back end is not ready or failed to start, or the transport is down. */
  'UNAVAILABLE',
  'TIMEOUT',
]);
export type BridgeErrorCode = z.infer<typeof BridgeErrorCodeSchema>;

export const BridgeIssueSchema = z.object({ path: z.string(), message: z.string() });
export type BridgeIssue = z.infer<typeof BridgeIssueSchema>;

export const BridgeErrorDataSchema = z.object({
  code: BridgeErrorCodeSchema,
  message: z.string(),
  /** The error's name when a handler threw (e.g. `ThrottlingException`). */
  name: z.string().optional(),
  /** Which fields failed validation, for INVALID_REQUEST / INVALID_RESPONSE. */
  issues: z.array(BridgeIssueSchema).optional(),
});
export type BridgeErrorData = z.infer<typeof BridgeErrorDataSchema>;

export const ResultEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: BridgeErrorDataSchema }),
]);
export type ResultEnvelope = z.infer<typeof ResultEnvelopeSchema>;

/**
 * What `invoke` rejects with on every transport. The message starts with the code
 * (`INVALID_REQUEST: ...`) because Electron's context bridge copies only an error's message
 * into the page; `BridgeError.from` rebuilds the code from it on the renderer side.
 */
export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  /** The message without the code prefix. */
  readonly detail: string;
  readonly issues: BridgeIssue[] | undefined;
  readonly errorName: string | undefined;

  constructor(data: BridgeErrorData) {
    super(`${data.code}: ${data.message}`);
    this.name = 'BridgeError';
    this.code = data.code;
    this.detail = data.message;
    this.issues = data.issues;
    this.errorName = data.name;
  }

  /** Any rejection reason as a BridgeError (keeps the code of errors that crossed the context bridge). */
  static from(err: unknown): BridgeError {
    if (err instanceof BridgeError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // Electron may prefix "Error invoking remote method ..."; look for our "CODE: " anywhere.
    for (const code of BridgeErrorCodeSchema.options) {
      const at = message.indexOf(`${code}: `);
      if (at !== -1) return new BridgeError({ code, message: message.slice(at + code.length + 2) });
    }
    return new BridgeError({ code: 'UNAVAILABLE', message });
  }
}

/** Zod issues as plain, serialisable `{ path, message }` pairs. */
export function toIssues(error: z.ZodError): BridgeIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

function describeIssues(issues: BridgeIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
}

export type Validated<T> = { ok: true; value: T } | { ok: false; error: BridgeErrorData };

/** Check a channel name and request; the single entry point for request validation on every side. */
export function validateRequest(
  channel: unknown,
  request: unknown,
): Validated<{ channel: Channel; request: unknown }> {
  if (!isChannel(channel)) {
    return {
      ok: false,
      error: {
        code: 'UNKNOWN_CHANNEL',
        message: `Unknown channel ${JSON.stringify(channel)}; known channels: ${CHANNEL_NAMES.join(', ')}`,
      },
    };
  }
  const parsed = channels[channel].request.safeParse(request);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    return {
      ok: false,
      error: {
        code: 'INVALID_REQUEST',
        message: `Invalid request for ${channel}: ${describeIssues(issues)}`,
        issues,
      },
    };
  }
  return { ok: true, value: { channel, request: parsed.data } };
}

/** Check a response against its channel's schema. */
export function validateResponse<C extends Channel>(channel: C, response: unknown): Validated<ResponseOf<C>> {
  const parsed = channels[channel].response.safeParse(response);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    return {
      ok: false,
      error: {
        code: 'INVALID_RESPONSE',
        message: `Invalid response for ${channel}: ${describeIssues(issues)}`,
        issues,
      },
    };
  }
  return { ok: true, value: parsed.data as ResponseOf<C> };
}

/** Turn an envelope received from the main side into a value, or throw a BridgeError. */
export function unwrapEnvelope<C extends Channel>(channel: C, raw: unknown): ResponseOf<C> {
  const envelope = ResultEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new BridgeError({
      code: 'INVALID_RESPONSE',
      message: `Malformed reply for ${channel}`,
      issues: toIssues(envelope.error),
    });
  }
  if (!envelope.data.ok) throw new BridgeError(envelope.data.error);
  const checked = validateResponse(channel, envelope.data.value);
  if (!checked.ok) throw new BridgeError(checked.error);
  return checked.value;
}

// ---------------------------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------------------------

/** The single IPC channel for requests: `ipcRenderer.invoke(IPC_INVOKE, channel, request)` -> ResultEnvelope. */
export const IPC_INVOKE = 'ec2connect:invoke';
/** The single IPC channel for events: `webContents.send(IPC_EVENT, eventName, payload)`. */
export const IPC_EVENT = 'ec2connect:event';

/** WebSocket path of the web-mode server; the page's `?token=` must be repeated on it. */
export const WS_PATH = '/bridge';
/** Largest WebSocket message either side accepts. */
export const WS_MAX_MESSAGE_BYTES = 1024 * 1024;

export const WsRequestSchema = z.strictObject({
  type: z.literal('request'),
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(200),
  request: z.unknown().optional(),
});
export type WsRequest = z.infer<typeof WsRequestSchema>;

export const WsServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('response'), id: z.number().int().nonnegative(), result: ResultEnvelopeSchema }),
  z.object({ type: z.literal('event'), event: z.string(), payload: z.unknown() }),
  /** A message the server could not attribute to a request (not JSON, no id). */
  z.object({ type: z.literal('error'), error: BridgeErrorDataSchema }),
]);
export type WsServerMessage = z.infer<typeof WsServerMessageSchema>;

// ---------------------------------------------------------------------------------------------
// What the renderer sees
// ---------------------------------------------------------------------------------------------

/** Exposed as `window.ec2connect` by the preload; implemented over a WebSocket in web mode. */
export interface Ec2ConnectBridge {
  readonly transport: 'ipc' | 'websocket';
  invoke<C extends Channel>(channel: C, ...args: InvokeArgs<C>): Promise<ResponseOf<C>>;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: EventListener<E>): () => void;
}
