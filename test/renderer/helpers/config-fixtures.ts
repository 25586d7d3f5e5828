/** Test data shaped like main/core/config (a subset of its keys, every type and section; every ui key). */
import type {
  CheckStatus,
  ConfigKey,
  ConfigState,
  CredentialPrompt,
  DiagnosticCheck,
  DiagnosticReport,
} from '../../../preload/api.js';

type Value = string | number | boolean | null;

function k(key: string, rest: Omit<ConfigKey, 'key' | 'section'>): ConfigKey {
  return { key, section: key.slice(0, key.indexOf('.')), ...rest };
}

export const CONFIG_KEYS: ConfigKey[] = [
  k('aws.profile', {
    type: 'string',
    description: 'The AWS profile active at start.',
    default: 'sandbox',
    env: 'EC2_CONNECT_PROFILE',
    live: true,
  }),
  k('aws.region', {
    type: 'string',
    description: 'The region active at start.',
    default: null,
    nullable: true,
    env: 'EC2_CONNECT_REGION',
    live: true,
  }),
  k('aws.sso_open_browser', {
    type: 'boolean',
    description: 'Open the browser for an SSO sign-in.',
    default: true,
    live: true,
  }),
  k('session.max_sessions_per_instance', {
    type: 'integer',
    description: 'Open sessions allowed to one instance.',
    default: 5,
    min: 1,
    max: 100,
    unit: 'sessions',
    env: 'EC2_CONNECT_MAX_SESSIONS_PER_INSTANCE',
    live: true,
  }),
  k('session.max_total_sessions', {
    type: 'integer',
    description: 'Open sessions allowed in total.',
    default: 50,
    min: 1,
    max: 1000,
    unit: 'sessions',
    env: 'EC2_CONNECT_MAX_TOTAL_SESSIONS',
    live: true,
  }),
  k('session.aggressive_reconnection', {
    type: 'boolean',
    description: 'For flaky links.',
    default: false,
    env: 'EC2_CONNECT_AGGRESSIVE_RECONNECTION',
    live: false,
  }),
  k('performance.ui_update_interval_ms', {
    type: 'integer',
    description: 'Terminal output is sent to the window in batches at most this often.',
    default: 16,
    min: 4,
    max: 1000,
    unit: 'ms',
    env: 'EC2_CONNECT_UI_UPDATE_INTERVAL_MS',
    live: true,
  }),
  k('resources.max_memory_mb', {
    type: 'integer',
    description: 'Resident memory limit.',
    default: 1536,
    min: 0,
    max: 1048576,
    unit: 'MiB',
    env: 'EC2_CONNECT_MAX_MEMORY_MB',
    live: true,
  }),
  k('resources.max_cpu_percent', {
    type: 'number',
    description: 'CPU limit.',
    default: 80,
    min: 0,
    max: 100,
    unit: '%',
    env: 'EC2_CONNECT_MAX_CPU_PERCENT',
    live: true,
  }),
  k('resources.low_power_mode', {
    type: 'enum',
    description: 'Low-power mode.',
    default: 'auto',
    values: ['auto', 'on', 'off'],
    env: 'EC2_CONNECT_LOW_POWER_MODE',
    live: true,
  }),
  k('resources.monitoring_interval', {
    type: 'integer',
    description: 'Sampling interval.',
    default: 5000,
    min: 250,
    max: 600000,
    unit: 'ms',
    env: 'EC2_CONNECT_MONITORING_INTERVAL',
    live: true,
  }),
  k('resources.prometheus_port', {
    type: 'integer',
    description: 'Prometheus port.',
    default: 0,
    min: 0,
    max: 65535,
    live: true,
  }),
  k('ui.theme', {
    type: 'enum',
    description: 'Colour theme.',
    default: 'system',
    values: ['system', 'light', 'dark'],
    live: true,
  }),
  k('ui.font_family', {
    type: 'string',
    description: 'Terminal font (a CSS font-family list).',
    default: "'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, monospace",
    live: true,
  }),
  k('ui.font_size', {
    type: 'integer',
    description: 'Terminal font size.',
    default: 14,
    min: 8,
    max: 32,
    unit: 'px',
    live: true,
  }),
  k('ui.line_height', {
    type: 'number',
    description: 'Terminal line height, as a multiple of the font size.',
    default: 1.1,
    min: 1,
    max: 2,
    live: true,
  }),
  k('ui.scrollback', {
    type: 'integer',
    description: 'Lines of scrollback.',
    default: 10000,
    min: 100,
    max: 200000,
    unit: 'lines',
    live: true,
  }),
  k('ui.renderer', {
    type: 'enum',
    description: 'Terminal renderer.',
    default: 'auto',
    values: ['auto', 'webgl', 'canvas', 'dom'],
    live: true,
  }),
  k('ui.cursor_blink', {
    type: 'boolean',
    description: 'Blink the terminal cursor.',
    default: true,
    live: true,
  }),
  k('ui.paste_warning_lines', {
    type: 'integer',
    description: 'Ask before pasting more than this many lines.',
    default: 50,
    min: 0,
    max: 100000,
    unit: 'lines',
    live: true,
  }),
  k('ui.copy_on_select', {
    type: 'boolean',
    description: 'Copy terminal text to the clipboard as soon as it is selected.',
    default: false,
    live: true,
  }),
  k('ui.notifications_enabled', {
    type: 'boolean',
    description: 'Native notifications (desktop) or toasts (web mode) at all.',
    default: true,
    live: true,
  }),
  k('ui.notify_disconnects', {
    type: 'boolean',
    description: 'Notify when a session loses its connection.',
    default: true,
    live: true,
  }),
  k('ui.notify_reconnects', {
    type: 'boolean',
    description: 'Notify when a session is reconnected.',
    default: true,
    live: true,
  }),
  k('ui.notify_limits', {
    type: 'boolean',
    description: 'Notify when a resource limit is reached or new sessions are refused.',
    default: true,
    live: true,
  }),
  k('ui.notify_ended_elsewhere', {
    type: 'boolean',
    description: 'Notify when a session is ended elsewhere (terminated in the console, timed out).',
    default: true,
    live: true,
  }),
  k('ui.notification_min_interval_seconds', {
    type: 'integer',
    description: 'At most one notification of a kind this often; the rest are counted into the next.',
    default: 30,
    min: 0,
    max: 3600,
    unit: 'seconds',
    live: true,
  }),
  k('logging.level', {
    type: 'enum',
    description: 'Log level on stderr.',
    default: 'warn',
    values: ['silent', 'error', 'warn', 'info', 'debug', 'trace'],
    env: 'EC2_CONNECT_LOG_LEVEL',
    live: true,
  }),
  k('logging.directory', {
    type: 'string',
    description: 'Where the log files go.',
    default: null,
    nullable: true,
    env: 'EC2_CONNECT_LOG_DIR',
    live: false,
  }),
  k('database.retention_days', {
    type: 'number',
    description: 'Remove sessions that ended more than this many days ago.',
    default: 90,
    min: 0,
    max: 36500,
    unit: 'days',
    live: false,
  }),
  k('connection.request_timeout', {
    type: 'integer',
    description: 'Time allowed for one AWS API request.',
    default: 15000,
    min: 1000,
    max: 600000,
    unit: 'ms',
    env: 'EC2_CONNECT_REQUEST_TIMEOUT',
    live: false,
  }),
  k('connection.proxy', {
    type: 'string',
    description: 'HTTPS proxy for AWS requests and data channels.',
    default: null,
    nullable: true,
    live: false,
  }),
];

export const PRESETS = ['production', 'development', 'ci', 'low-end', 'high-performance', 'container'];

/** A configuration state: the defaults, then `values` (with their `sources`, default 'file'). */
export function configState(
  options: {
    values?: Record<string, Value>;
    sources?: Record<string, ConfigState['sources'][string]>;
    preset?: string | null;
    problems?: ConfigState['problems'];
    keys?: ConfigKey[];
  } = {},
): ConfigState {
  const keys = options.keys ?? CONFIG_KEYS;
  const values: Record<string, Value> = {};
  const sources: ConfigState['sources'] = {};
  for (const key of keys) {
    values[key.key] = key.default;
    sources[key.key] = 'default';
  }
  for (const [key, v] of Object.entries(options.values ?? {})) {
    values[key] = v;
    sources[key] = 'file';
  }
  Object.assign(sources, options.sources ?? {});
  return {
    file: '/home/u/.config/ec2-connect/config.json',
    preset: options.preset ?? null,
    presets: PRESETS,
    values,
    sources,
    problems: options.problems ?? [],
    keys,
  };
}

/** A config.update handler on an in-memory state, refusing what the real store would (range). */
export function configBackend(initial: ConfigState = configState()): {
  state: ConfigState;
  update: (req: { values: Record<string, Value> }) => ConfigState;
  preset: (req: { name: string | null }) => ConfigState;
} {
  const backend = {
    state: structuredClone(initial),
    update(req: { values: Record<string, Value> }): ConfigState {
      const next = structuredClone(backend.state);
      for (const [key, value] of Object.entries(req.values)) {
        const described = next.keys.find((x) => x.key === key);
        if (!described) throw new Error(`${key} is not a configuration key.`);
        if (value === null) {
          next.values[key] = described.default;
          next.sources[key] = 'default';
          continue;
        }
        if (
          typeof value === 'number' &&
          ((described.min !== undefined && value < described.min) ||
            (described.max !== undefined && value > described.max))
        )
          throw new Error(
            `${key} = ${value} is out of range; allowed: ${described.min} to ${described.max}.`,
          );
        next.values[key] = value;
        next.sources[key] = 'file';
      }
      backend.state = next;
      return structuredClone(next);
    },
    preset(req: { name: string | null }): ConfigState {
      const next = structuredClone(backend.state);
      next.preset = req.name;
      // The "ci" preset here: low-power off and the log level info (unless the file sets them).
      for (const [key, v] of [
        ['resources.low_power_mode', 'off'],
        ['logging.level', 'info'],
      ] as const) {
        if (next.sources[key] === 'file' || next.sources[key] === 'env') continue;
        const described = next.keys.find((x) => x.key === key)!;
        next.values[key] = req.name === 'ci' ? v : described.default;
        next.sources[key] = req.name === 'ci' ? 'preset' : 'default';
      }
      backend.state = next;
      return structuredClone(next);
    },
  };
  return backend;
}

export function check(
  id: string,
  status: CheckStatus,
  partial: Partial<DiagnosticCheck> = {},
): DiagnosticCheck {
  return {
    id,
    title: id,
    status,
    figure: null,
    detail: `${id} ${status}`,
    fix: status === 'pass' ? null : `fix ${id}`,
    durationMs: 5,
    ...partial,
  };
}

export function diagnosticReport(
  checks: DiagnosticCheck[],
  partial: Partial<DiagnosticReport> = {},
): DiagnosticReport {
  const summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status]++;
  return {
    kind: 'preventive',
    profile: 'sandbox',
    region: 'us-east-1',
    instanceId: 'i-0b5bb7865829a72f8',
    startedAt: '2026-11-25T12:00:00.000Z',
    durationMs: 420,
    checks,
    summary,
    ...partial,
  };
}

export function mfaPrompt(partial: Partial<CredentialPrompt> = {}): CredentialPrompt {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    kind: 'mfa',
    profile: 'admin',
    message: 'Enter the MFA code for arn:aws:iam::123456789012:mfa/alice to assume the role.',
    mfaSerial: 'arn:aws:iam::123456789012:mfa/alice',
    ...partial,
  };
}

export function ssoPrompt(partial: Partial<CredentialPrompt> = {}): CredentialPrompt {
  return {
    id: '22222222-2222-4222-8222-222222222222',
    kind: 'sso',
    profile: 'prod',
    message: 'Sign in to AWS IAM Identity Center for the profile prod.',
    sso: {
      verificationUri: 'https://device.sso.us-east-1.amazonaws.com/',
      verificationUriComplete: 'https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH',
      userCode: 'ABCD-EFGH',
      expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
    },
    ...partial,
  };
}
