/**
 * The configuration of EC2 Connect (docs/config.md): one zod schema of sections with snake_case
 * keys. Every key carries its description, default, allowed range or values, unit, the
 * EC2_CONNECT_* variable that overrides it and whether a change applies live, in a zod registry,
 * so `CONFIG_KEYS` (what the Settings view, `ec2-connect config` and docs/config.md show) is
 * generated from the schema and cannot drift from it.
 *
 * Values are checked one key at a time (`checkValue`): a bad key never spoils the others.
 */
import { z } from 'zod';
import {
  DEFAULT_RESOURCE_SETTINGS,
  DEFAULT_SETTINGS,
  PERSISTENCE_MODES,
  type ConfigKey,
  type ConfigSource,
} from '../../../preload/api.js';
import { RECONNECT_POLICIES } from '../sessions/reconnect-policies.js';
import { STORE_DEFAULTS } from '../store/defaults.js';
import { parseInterval, parseLowPower } from './parse-env.js';

/**
 * The session manager's reconnection policies and the history store's defaults come from small
 * modules of their own, so reading the configuration loads neither the session code nor SQLite.
 */
export { STORE_DEFAULTS as HISTORY_DEFAULTS };

export type ConfigValue = string | number | boolean | null;
export type { ConfigKey, ConfigSource };

/** What the registry knows about one key (ConfigKey without its name, plus parsing and wording). */
export interface KeyMeta {
  type: ConfigKey['type'];
  description: string;
  default: ConfigValue;
  min?: number;
  max?: number;
  values?: string[];
  unit?: string;
  env?: string;
  live: boolean;
  nullable?: boolean;
  /** What null means (nullable keys), e.g. `AWS_REGION, else us-east-1`. */
  nullMeans?: string;
  /** Extra words on the allowed values, e.g. `0 = no limit`. */
  note?: string;
  /** Words for a string's form, e.g. `an http(s) URL`. */
  form?: string;
  /** A file or folder path: `~` is the home folder, a relative path is relative to the file that set it. */
  path?: boolean;
  /** Turn an environment value into a value to check; undefined: it does not parse. */
  parseEnv?: (raw: string) => ConfigValue | undefined;
  /** What the variable accepts, when it differs from the file (e.g. `5s`, `500ms`). */
  envForm?: string;
}

/** The registry holding every key's description (generated documentation reads it). */
export const configRegistry = z.registry<KeyMeta>();

// ---------------------------------------------------------------------------------------------
// Environment parsing
// ---------------------------------------------------------------------------------------------

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` (any case). */
export function parseBooleanWord(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  return undefined;
}

function parseNumberWord(raw: string): number | undefined {
  return /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : undefined;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * A duration in `unit` (ms or s): `500ms`, `5s`, `2m`, `1h`, or a bare number, which is in
 * `bare` (the key's own unit, except for monitoring_interval where it is seconds).
 */
export function parseDuration(raw: string, unit: 'ms' | 's', bare: 'ms' | 's' = unit): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/i.exec(raw);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[(m[2] ?? bare).toLowerCase()]!;
  const out = unit === 'ms' ? ms : ms / 1000;
  return Number.isFinite(out) ? Math.round(out * 1000) / 1000 : undefined;
}

// ---------------------------------------------------------------------------------------------
// Key builders: each returns a zod schema registered with its description
// ---------------------------------------------------------------------------------------------

interface Common {
  description: string;
  live: boolean;
  env?: string;
  note?: string;
  envForm?: string;
  parseEnv?: (raw: string) => ConfigValue | undefined;
}

interface NumberOptions extends Common {
  default: number;
  min: number;
  max: number;
  unit?: string;
}

function register<T extends z.ZodType>(schema: T, meta: KeyMeta): T {
  configRegistry.add(schema, meta);
  return schema;
}

function integer(o: NumberOptions): z.ZodNumber {
  return register(z.number().int().min(o.min).max(o.max), {
    type: 'integer',
    parseEnv: parseNumberWord,
    ...o,
  });
}

function decimal(o: NumberOptions): z.ZodNumber {
  return register(z.number().min(o.min).max(o.max), { type: 'number', parseEnv: parseNumberWord, ...o });
}

/** Milliseconds; the variable also takes `500ms`, `2s`, `1m`. */
function millis(o: NumberOptions): z.ZodNumber {
  return integer({
    unit: 'ms',
    parseEnv: (raw) => parseDuration(raw, 'ms'),
    envForm: 'ms, or 500ms, 2s, 1m',
    ...o,
  });
}

function boolean(o: Common & { default: boolean }): z.ZodBoolean {
  return register(z.boolean(), {
    type: 'boolean',
    parseEnv: parseBooleanWord,
    envForm: '1/true/yes/on or 0/false/no/off',
    ...o,
  });
}

function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
  o: Common & { default: V[number] },
) {
  return register(z.enum(values), { type: 'enum', values: [...values], parseEnv: (raw) => raw.trim(), ...o });
}

interface StringOptions extends Common {
  maxLength?: number;
  path?: boolean;
  /** Words for the accepted form, shown in problems. */
  form?: string;
  check?: (value: string) => boolean;
}

function text(o: StringOptions & { default: string }): z.ZodType<string> {
  const { maxLength = 1000, check, ...meta } = o;
  const base = z.string().min(1).max(maxLength);
  return register(check ? base.refine(check) : base, {
    type: 'string',
    parseEnv: (raw) => raw.trim(),
    ...meta,
  });
}

function optionalText(o: StringOptions & { nullMeans: string }): z.ZodType<string | null> {
  const { maxLength = 4096, check, ...meta } = o;
  const base = z.string().min(1).max(maxLength);
  return register((check ? base.refine(check) : base).nullable(), {
    type: 'string',
    default: null,
    nullable: true,
    parseEnv: (raw) => raw.trim(),
    ...meta,
  });
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** An AWS region name such as us-east-1, eu-central-2, us-gov-west-1. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const NORMAL = RECONNECT_POLICIES.normal;

// ---------------------------------------------------------------------------------------------
// The sections
// ---------------------------------------------------------------------------------------------

const aws = {
  profile: text({
    description:
      'The AWS profile active at start: "sandbox" (the built-in local AWS) or a profile of ~/.aws/config or ~/.aws/credentials.',
    default: 'sandbox',
    maxLength: 200,
    env: 'EC2_CONNECT_PROFILE',
    live: false,
  }),
  region: optionalText({
    description: 'The region active at start.',
    nullMeans: "the profile's region, else AWS_REGION or AWS_DEFAULT_REGION, else us-east-1",
    form: 'a region name such as us-east-1',
    check: (v) => REGION_PATTERN.test(v),
    maxLength: 50,
    env: 'EC2_CONNECT_REGION',
    live: false,
  }),
  endpoint: optionalText({
    description:
      'One endpoint URL for SSM, EC2 and STS (a standalone `ec2-connect sandbox`, a VPC endpoint or a test double).',
    nullMeans: "the profile's endpoint_url settings, else AWS's public endpoints",
    form: 'an http:// or https:// URL',
    check: isHttpUrl,
    env: 'EC2_CONNECT_ENDPOINT',
    live: false,
  }),
  credential_refresh_minutes: integer({
    description: 'Refresh temporary credentials (SSO, assume-role) this long before they expire.',
    default: 5,
    min: 1,
    max: 60,
    unit: 'minutes',
    live: false,
  }),
  sso_open_browser: boolean({
    description:
      'Open the browser for an SSO sign-in; when false the verification address and code are only shown.',
    default: true,
    live: false,
  }),
  mfa_prompt_timeout_seconds: integer({
    description: 'How long an MFA code prompt waits for an answer before the sign-in is given up.',
    default: 120,
    min: 10,
    max: 3600,
    unit: 'seconds',
    live: false,
  }),
};

const session = {
  max_sessions_per_instance: integer({
    description: 'Open sessions allowed to one instance; more are refused with a message.',
    default: 10,
    min: 1,
    max: 100,
    unit: 'sessions',
    env: 'EC2_CONNECT_MAX_SESSIONS_PER_INSTANCE',
    live: true,
  }),
  max_total_sessions: integer({
    description: 'Open sessions allowed in total.',
    default: 100,
    min: 1,
    max: 1000,
    unit: 'sessions',
    env: 'EC2_CONNECT_MAX_TOTAL_SESSIONS',
    live: true,
  }),
  inactive_timeout: integer({
    description: 'Close a session after this long without input or output (with a warning shortly before).',
    default: 0,
    min: 0,
    max: 86_400,
    unit: 'seconds',
    note: '0 = never',
    env: 'EC2_CONNECT_INACTIVE_TIMEOUT',
    parseEnv: (raw) => parseDuration(raw, 's'),
    envForm: 'seconds, or 90s, 30m, 1h',
    live: true,
  }),
  health_check_interval: millis({
    description:
      'Ping a data channel that has been silent this long; a socket silent for three intervals is reconnected.',
    default: 500,
    min: 250,
    max: 60_000,
    env: 'EC2_CONNECT_HEALTH_CHECK_INTERVAL',
    live: false,
  }),
  reconnect_max_attempts: integer({
    description: 'Reconnection attempts after a dropped connection before the session is given up.',
    default: NORMAL.maxAttempts,
    min: 0,
    max: 100,
    unit: 'attempts',
    note: '0 = do not reconnect',
    live: false,
  }),
  reconnect_initial_delay_ms: integer({
    description: 'Wait before the first reconnection attempt; doubles at each attempt (with jitter).',
    default: NORMAL.baseDelayMs,
    min: 0,
    max: 600_000,
    unit: 'ms',
    live: false,
  }),
  reconnect_max_delay_ms: integer({
    description: 'Longest wait between two reconnection attempts (at least the initial delay).',
    default: NORMAL.maxDelayMs,
    min: 0,
    max: 3_600_000,
    unit: 'ms',
    live: false,
  }),
  aggressive_reconnection: boolean({
    description: `For flaky links: ${RECONNECT_POLICIES.aggressive.maxAttempts} attempts every ${RECONNECT_POLICIES.aggressive.baseDelayMs} ms without jitter, instead of the reconnect_* keys.`,
    default: false,
    env: 'EC2_CONNECT_AGGRESSIVE_RECONNECTION',
    live: false,
  }),
  persistence: oneOf(PERSISTENCE_MODES, {
    description:
      'Start new shells inside tmux or screen on the instance, so that after a drop longer than Session Manager keeps a session, Re-attach finds the shell and its programs still running; "off": a plain shell (Re-attach then opens a fresh one). A plain shell, with a message, where the tool is not installed (Linux and macOS instances only).',
    default: 'off',
    env: 'EC2_CONNECT_SESSION_PERSISTENCE',
    live: false,
  }),
  auto_reattach: boolean({
    description:
      'When a connection was lost for longer than the service keeps sessions, re-attach by itself (5 tries within about a minute, at once when the network changes or the machine wakes) instead of offering Re-attach.',
    default: false,
    env: 'EC2_CONNECT_AUTO_REATTACH',
    live: true,
  }),
};

const performance = {
  ui_update_interval_ms: integer({
    description:
      'Terminal output is sent to the window in batches at most this often (one frame at 60 Hz by default).',
    default: 16,
    min: 4,
    max: 1000,
    unit: 'ms',
    env: 'EC2_CONNECT_UI_UPDATE_INTERVAL_MS',
    live: true,
  }),
  output_batch_kib: integer({
    description: 'A batch of output is sent at once when it reaches this size.',
    default: 64,
    min: 1,
    max: 16_384,
    unit: 'KiB',
    live: false,
  }),
  replay_buffer_kib: integer({
    description:
      'Recent output kept per session to redraw a reloaded window (cut to 64 KiB under memory pressure).',
    default: 512,
    min: 16,
    max: 65_536,
    unit: 'KiB',
    live: false,
  }),
  flow_control_high_water_kib: integer({
    description: "Pause a session's output while this much is delivered but not yet drawn by the window.",
    default: 1024,
    min: 64,
    max: 65_536,
    unit: 'KiB',
    live: false,
  }),
  metrics_interval_ms: integer({
    description: 'Per-session metrics (round trip, throughput) are computed and sent this often.',
    default: 1000,
    min: 250,
    max: 60_000,
    unit: 'ms',
    live: true,
  }),
};

const resources = {
  max_memory_mb: integer({
    description: "Resident memory of EC2 Connect's own processes the governor keeps under.",
    default: DEFAULT_RESOURCE_SETTINGS.maxMemoryMb,
    min: 0,
    max: 1_048_576,
    unit: 'MiB',
    note: '0 = no limit',
    env: 'EC2_CONNECT_MAX_MEMORY_MB',
    live: true,
  }),
  max_cpu_percent: decimal({
    description: "CPU of EC2 Connect's own processes as a share of the whole machine (all cores = 100).",
    default: DEFAULT_RESOURCE_SETTINGS.maxCpuPercent,
    min: 0,
    max: 100,
    unit: '%',
    note: '0 = no limit',
    env: 'EC2_CONNECT_MAX_CPU_PERCENT',
    live: true,
  }),
  low_power_mode: oneOf(['auto', 'on', 'off'], {
    description:
      'Low-power mode: fewer samples, slower batches, no WebGL; auto turns it on on battery or over a limit.',
    default: DEFAULT_RESOURCE_SETTINGS.lowPower,
    env: 'EC2_CONNECT_LOW_POWER_MODE',
    parseEnv: (raw) => parseLowPower(raw) ?? raw,
    envForm: 'auto, on/1/true, off/0/false',
    live: true,
  }),
  monitoring_interval: integer({
    description: 'How often CPU and memory are sampled (tripled in low-power mode).',
    default: DEFAULT_RESOURCE_SETTINGS.monitoringIntervalMs,
    min: 250,
    max: 600_000,
    unit: 'ms',
    env: 'EC2_CONNECT_MONITORING_INTERVAL',
    parseEnv: parseInterval,
    envForm: '5s, 500ms, 1m; a bare number is seconds',
    live: true,
  }),
  prometheus_port: integer({
    description: 'Serve Prometheus metrics on http://127.0.0.1:<port>/metrics.',
    default: DEFAULT_RESOURCE_SETTINGS.prometheusPort,
    min: 0,
    max: 65_535,
    note: '0 = off',
    env: 'EC2_CONNECT_PROMETHEUS_PORT',
    live: true,
  }),
};

const N = DEFAULT_SETTINGS.notifications;
const ui = {
  theme: oneOf(['system', 'light', 'dark'], {
    description: 'Colour theme; system follows the operating system.',
    default: DEFAULT_SETTINGS.theme,
    live: true,
  }),
  font_family: text({
    description: 'Terminal font (a CSS font-family list).',
    default: DEFAULT_SETTINGS.fontFamily,
    maxLength: 200,
    live: true,
  }),
  font_size: integer({
    description: 'Terminal font size.',
    default: DEFAULT_SETTINGS.fontSize,
    min: 8,
    max: 32,
    unit: 'px',
    live: true,
  }),
  line_height: decimal({
    description: 'Terminal line height, as a multiple of the font size.',
    default: DEFAULT_SETTINGS.lineHeight,
    min: 1,
    max: 2,
    live: true,
  }),
  scrollback: integer({
    description: 'Lines of scrollback kept per terminal.',
    default: DEFAULT_SETTINGS.scrollback,
    min: 100,
    max: 200_000,
    unit: 'lines',
    live: true,
  }),
  cursor_blink: boolean({
    description: 'Blink the terminal cursor.',
    default: DEFAULT_SETTINGS.cursorBlink,
    live: true,
  }),
  renderer: oneOf(['auto', 'webgl', 'canvas', 'dom'], {
    description: 'Terminal renderer; auto tries WebGL and falls back to canvas.',
    default: DEFAULT_SETTINGS.renderer,
    live: true,
  }),
  paste_warning_lines: integer({
    description: 'Ask before pasting more than this many lines.',
    default: DEFAULT_SETTINGS.pasteWarningLines,
    min: 0,
    max: 100_000,
    unit: 'lines',
    note: '0 = never ask',
    live: true,
  }),
  copy_on_select: boolean({
    description: 'Copy terminal text to the clipboard as soon as it is selected.',
    default: DEFAULT_SETTINGS.copyOnSelect,
    live: true,
  }),
  notifications_enabled: boolean({
    description: 'Native notifications (desktop) or toasts (web mode) at all.',
    default: N.enabled,
    live: true,
  }),
  notify_disconnects: boolean({
    description: 'Notify when a session loses its connection.',
    default: N.disconnects,
    live: true,
  }),
  notify_reconnects: boolean({
    description: 'Notify when a session is reconnected.',
    default: N.reconnects,
    live: true,
  }),
  notify_limits: boolean({
    description: 'Notify when a resource limit is reached or new sessions are refused.',
    default: N.limits,
    live: true,
  }),
  notify_ended_elsewhere: boolean({
    description: 'Notify when a session is ended elsewhere (terminated in the console, timed out).',
    default: N.endedElsewhere,
    live: true,
  }),
  notification_min_interval_seconds: integer({
    description: 'At most one notification of a kind this often; the rest are counted into the next.',
    default: N.minIntervalSeconds,
    min: 0,
    max: 3600,
    unit: 'seconds',
    live: true,
  }),
};

const logging = {
  level: oneOf(LOG_LEVELS, {
    description: 'Log level on stderr (and the least the log file gets, see file_level).',
    default: 'warn',
    env: 'EC2_CONNECT_LOG_LEVEL',
    parseEnv: (raw) => raw.trim().toLowerCase(),
    live: true,
  }),
  format: oneOf(['json', 'pretty'], {
    description: 'json: one JSON object a line (for machines); pretty: readable lines.',
    default: 'json',
    env: 'EC2_CONNECT_JSON_LOGGING',
    parseEnv: (raw) => {
      const v = raw.trim().toLowerCase();
      if (v === 'json' || v === 'pretty') return v;
      const b = parseBooleanWord(v);
      return b === undefined ? raw : b ? 'json' : 'pretty';
    },
    envForm: '1 (json) or 0 (pretty)',
    live: false,
  }),
  file: boolean({
    description: 'Also write the log to rotating files in the log directory (desktop app and web mode).',
    default: true,
    env: 'EC2_CONNECT_FILE_LOGGING',
    live: false,
  }),
  file_level: oneOf(LOG_LEVELS, {
    description: 'Log level of the log file (the more verbose of this and level applies).',
    default: 'info',
    live: true,
  }),
  directory: optionalText({
    description: 'Where the log files go.',
    nullMeans: '<app data>/logs',
    form: 'a folder path',
    path: true,
    env: 'EC2_CONNECT_LOG_DIR',
    live: false,
  }),
  max_file_mb: integer({
    description: 'A log file is rotated (main.log -> main.1.log -> ...) when it grows past this size.',
    default: 10,
    min: 1,
    max: 1024,
    unit: 'MiB',
    live: false,
  }),
  max_files: integer({
    description: 'Log files kept, the current one included; the oldest is deleted.',
    default: 5,
    min: 1,
    max: 100,
    unit: 'files',
    live: false,
  }),
};

const database = {
  enabled: boolean({
    description: 'Keep the session history (a local SQLite database).',
    default: true,
    env: 'EC2_CONNECT_NO_HISTORY',
    parseEnv: (raw) => {
      const b = parseBooleanWord(raw);
      return b === undefined ? raw : !b;
    },
    envForm: '1 turns history off, 0 keeps it on',
    live: false,
  }),
  file: optionalText({
    description: 'The history database file.',
    nullMeans: '<app data>/sessions.db',
    form: 'a file path',
    path: true,
    env: 'EC2_CONNECT_DB',
    live: false,
  }),
  batch_processing: integer({
    description: 'Records per write transaction; a full batch is written at once.',
    default: STORE_DEFAULTS.batchSize,
    min: 1,
    max: 1_000_000,
    unit: 'records',
    live: false,
  }),
  flush_interval: integer({
    description: 'Queued records are written at least this often.',
    default: STORE_DEFAULTS.flushIntervalMs,
    min: 10,
    max: 3_600_000,
    unit: 'ms',
    live: false,
  }),
  max_queue: integer({
    description: 'Records waiting to be written; past it the oldest metric samples are dropped.',
    default: STORE_DEFAULTS.maxQueue,
    min: 100,
    max: 10_000_000,
    unit: 'records',
    live: false,
  }),
  cleanup_interval_hours: decimal({
    description: 'How often retention runs (first a minute after start).',
    default: STORE_DEFAULTS.cleanupIntervalHours,
    min: 0,
    max: 24 * 365,
    unit: 'hours',
    note: '0 = never',
    live: false,
  }),
  retention_days: decimal({
    description: 'Remove sessions that ended more than this many days ago.',
    default: STORE_DEFAULTS.retentionDays,
    min: 0,
    max: 36_500,
    unit: 'days',
    note: '0 = keep everything',
    live: false,
  }),
  max_metrics_per_session: integer({
    description: 'Keep the newest samples of each session (and of the process-wide series).',
    default: STORE_DEFAULTS.maxMetricsPerSession,
    min: 0,
    max: 100_000_000,
    unit: 'samples',
    note: '0 = all',
    live: false,
  }),
  vacuum_on_startup: boolean({
    description: 'Compact the database (VACUUM, ANALYZE) when it is opened.',
    default: STORE_DEFAULTS.vacuumOnStartup,
    live: false,
  }),
};

const connection = {
  connection_timeout: millis({
    description: 'Time allowed to open a connection (TCP and TLS) to an AWS endpoint or a data channel.',
    default: 5000,
    min: 100,
    max: 120_000,
    env: 'EC2_CONNECT_CONNECTION_TIMEOUT',
    live: false,
  }),
  request_timeout: millis({
    description: 'Time allowed for one AWS API request, answer included.',
    default: 15_000,
    min: 1000,
    max: 600_000,
    env: 'EC2_CONNECT_REQUEST_TIMEOUT',
    live: false,
  }),
  max_attempts: integer({
    description: 'Attempts of an AWS API request that failed for a retryable reason (throttling, network).',
    default: 3,
    min: 1,
    max: 10,
    unit: 'attempts',
    live: false,
  }),
  latency_threshold_ms: integer({
    description: 'Endpoint latency above this is a warning in diagnostics and the Performance view.',
    default: 300,
    min: 1,
    max: 60_000,
    unit: 'ms',
    env: 'EC2_CONNECT_LATENCY_THRESHOLD_MS',
    live: true,
  }),
  proxy: optionalText({
    description: 'HTTPS proxy for AWS requests and data channels.',
    nullMeans: 'HTTPS_PROXY (or https_proxy), else no proxy',
    form: 'an http:// or https:// URL',
    check: isHttpUrl,
    live: false,
  }),
  no_proxy: optionalText({
    description: 'Hosts reached without the proxy: comma-separated names, .domain suffixes or *.',
    nullMeans: 'NO_PROXY (or no_proxy)',
    form: 'a comma-separated list of hosts',
    live: false,
  }),
  ca_bundle: optionalText({
    description:
      'Extra certificate authorities (a PEM file) trusted for AWS endpoints, e.g. a TLS-inspecting proxy.',
    nullMeans: 'AWS_CA_BUNDLE, else the system and Node trust store',
    form: 'a PEM file path',
    path: true,
    live: false,
  }),
};

/** The sections and their keys, in the order they are documented and shown. */
export const CONFIG_SECTIONS = { aws, session, performance, resources, ui, logging, database, connection };
export type SectionName = keyof typeof CONFIG_SECTIONS;
export const SECTION_NAMES = Object.keys(CONFIG_SECTIONS) as SectionName[];

export const SECTION_DESCRIPTIONS: Record<SectionName, string> = {
  aws: 'AWS profile, region, endpoint and credentials.',
  session: 'Session limits, health checks, reconnection and persistent sessions (tmux, screen).',
  performance: 'Output batching, buffers and flow control.',
  resources: 'The resource governor: memory and CPU limits, low-power mode, sampling, Prometheus.',
  ui: 'The window: theme, terminal and notifications (Settings).',
  logging: 'The log: level, format and rotating files.',
  database: 'The session history (SQLite): file, write batching and retention.',
  connection: 'Timeouts, retries, latency threshold and proxy.',
};

/** The whole, effective configuration: every key of every section. */
export const ConfigSchema = z.object({
  aws: z.object(aws),
  session: z.object(session),
  performance: z.object(performance),
  resources: z.object(resources),
  ui: z.object(ui),
  logging: z.object(logging),
  database: z.object(database),
  connection: z.object(connection),
});
export type Config = z.infer<typeof ConfigSchema>;
export type LoggingConfig = Config['logging'];
export type DatabaseConfig = Config['database'];

/** A configuration with any key left out (a preset, a file). */
export type PartialConfig = { [S in keyof Config]?: Partial<Config[S]> };

interface KeyEntry {
  key: string;
  section: SectionName;
  name: string;
  schema: z.ZodType;
  meta: KeyMeta;
}

const ENTRIES: KeyEntry[] = SECTION_NAMES.flatMap((section) =>
  Object.entries(CONFIG_SECTIONS[section] as Record<string, z.ZodType>).map(([name, schema]) => {
    const meta = configRegistry.get(schema);
    if (!meta) throw new Error(`config key ${section}.${name} has no description`);
    return { key: `${section}.${name}`, section, name, schema, meta };
  }),
);
const BY_KEY = new Map(ENTRIES.map((e) => [e.key, e]));

/** Every key, `section.key`, in documentation order. */
export const FLAT_KEYS: readonly string[] = ENTRIES.map((e) => e.key);

/** Every key described (ConfigKey of preload/api.ts; `key` is `section.key`). */
export const CONFIG_KEYS: ConfigKey[] = ENTRIES.map(({ key, section, meta }) => {
  const out: ConfigKey = {
    key,
    section,
    type: meta.type,
    description: meta.description,
    default: meta.default,
    live: meta.live,
  };
  if (meta.min !== undefined) out.min = meta.min;
  if (meta.max !== undefined) out.max = meta.max;
  if (meta.values) out.values = [...meta.values];
  if (meta.unit) out.unit = meta.unit;
  if (meta.env) out.env = meta.env;
  if (meta.nullable) out.nullable = true;
  return out;
});

export function keyMeta(key: string): KeyMeta | undefined {
  return BY_KEY.get(key)?.meta;
}

export function isConfigKey(key: string): boolean {
  return BY_KEY.has(key);
}

/** The keys of one section (bare names). */
export function sectionKeys(section: string): string[] {
  return ENTRIES.filter((e) => e.section === section).map((e) => e.name);
}

/** Every key's default, as a configuration. */
export const DEFAULT_CONFIG: Config = ConfigSchema.parse(
  Object.fromEntries(
    SECTION_NAMES.map((s) => [
      s,
      Object.fromEntries(ENTRIES.filter((e) => e.section === s).map((e) => [e.name, e.meta.default])),
    ]),
  ),
);

/** `section.key` -> value. */
export function flattenConfig(config: PartialConfig): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const [section, values] of Object.entries(config)) {
    for (const [name, value] of Object.entries(values ?? {}))
      out[`${section}.${name}`] = value as ConfigValue;
  }
  return out;
}

/** The other way: `section.key` -> value into sections. */
export function unflattenConfig(values: Readonly<Record<string, ConfigValue>>): PartialConfig {
  const out: Record<string, Record<string, ConfigValue>> = {};
  for (const [key, value] of Object.entries(values)) {
    const dot = key.indexOf('.');
    const section = key.slice(0, dot);
    (out[section] ??= {})[key.slice(dot + 1)] = value;
  }
  return out as PartialConfig;
}

// ---------------------------------------------------------------------------------------------
// Checking one value
// ---------------------------------------------------------------------------------------------

function formatNumber(n: number): string {
  return String(n);
}

/** What a key accepts, in words: `a whole number from 0 to 1048576 (MiB; 0 = no limit)`. */
export function describeAllowed(key: string, forEnv = false): string {
  const meta = keyMeta(key);
  if (!meta) return 'nothing (unknown key)';
  let words: string;
  const extras = [meta.unit, meta.note].filter(Boolean).join('; ');
  switch (meta.type) {
    case 'integer':
      words = `a whole number from ${formatNumber(meta.min!)} to ${formatNumber(meta.max!)}`;
      break;
    case 'number':
      words = `a number from ${formatNumber(meta.min!)} to ${formatNumber(meta.max!)}`;
      break;
    case 'boolean':
      words = 'true or false';
      break;
    case 'enum':
      words = `one of ${meta.values!.map((v) => `"${v}"`).join(', ')}`;
      break;
    default:
      words = meta.form ?? 'a non-empty string';
  }
  if (extras) words += ` (${extras})`;
  if (forEnv && meta.envForm) words += `; the variable also takes ${meta.envForm}`;
  if (meta.nullable) words += `, or null for ${meta.nullMeans ?? 'the default'}`;
  return words;
}

export type CheckResult =
  | { ok: true; value: ConfigValue }
  /** `reason` completes "<key> = <value> ...", e.g. `is out of range`; `allowed` says what is. */
  | { ok: false; reason: string; allowed: string };

const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/** Check one value of one key (`section.key`). */
export function checkValue(key: string, value: unknown): CheckResult {
  const entry = BY_KEY.get(key);
  if (!entry) return { ok: false, reason: 'is not a configuration key', allowed: 'nothing' };
  const parsed = entry.schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data as ConfigValue };
  const meta = entry.meta;
  const allowed = describeAllowed(key);
  const numeric = meta.type === 'integer' || meta.type === 'number';
  const fail = (reason: string): CheckResult => ({ ok: false, reason, allowed });
  if (value === null) return fail('cannot be null');
  if (numeric && typeof value !== 'number') return fail(`is ${typeName(value)}, not a number`);
  if (meta.type === 'boolean') return fail(`is ${typeName(value)}, not true or false`);
  if ((meta.type === 'string' || meta.type === 'enum') && typeof value !== 'string')
    return fail(`is ${typeName(value)}, not a string`);
  if (meta.type === 'integer' && !Number.isInteger(value)) return fail('is not a whole number');
  if (numeric) return fail('is out of range');
  if (meta.type === 'enum') return fail('is not one of the allowed values');
  if (value === '') return fail('is empty');
  return fail('is not valid');
}

/** Turn the value of a key's EC2_CONNECT_* variable into a value to check. */
export function envValue(key: string, raw: string): unknown {
  const meta = keyMeta(key);
  if (!meta?.parseEnv) return raw;
  const v = meta.parseEnv(raw);
  return v === undefined ? raw : v;
}

/** A value for messages: strings quoted, a password in a URL hidden. */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.replace(/(\/\/[^/:@\s]*:)[^@/\s]+@/, '$1****@'));
  if (value === undefined) return 'undefined';
  try {
    const s = JSON.stringify(value);
    return s.length > 200 ? `${s.slice(0, 200)}...` : s;
  } catch {
    return String(value);
  }
}

/** The key nearest to a mistyped one (for "did you mean"), or undefined. */
export function suggestKey(name: string, candidates: readonly string[]): string | undefined {
  const n = name.toLowerCase().replace(/[-\s]/g, '_');
  let best: string | undefined;
  let bestScore = Infinity;
  if (n.length >= 3) {
    const prefixed = candidates.filter((c) => c.startsWith(n) || n.startsWith(c));
    if (prefixed.length === 1) return prefixed[0];
  }
  for (const c of candidates) {
    if (c === n) return c;
    const d = editDistance(n, c);
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(best.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}
