/**
 * Logging for every layer: pino, JSON by default, with secrets redacted before
 * anything is written. Core modules take a `Logger` so tests can pass a silent one.
 */
import pino from 'pino';

export type Logger = pino.Logger;

/** Object keys whose values are never written to a log. */
export const REDACTED_KEYS = [
  'token',
  'tokenValue',
  'TokenValue',
  'secretAccessKey',
  'SecretAccessKey',
  'aws_secret_access_key',
  'sessionToken',
  'SessionToken',
  'aws_session_token',
  'authorization',
  'Authorization',
  'password',
  'adminToken',
];

const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Patterns that look like credentials inside free text (URLs, error messages). */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/(AKIA|ASIA)[A-Z0-9]{16}/g, '$1****************'],
  [/("?(?:TokenValue|SecretAccessKey|SessionToken|token)"?\s*[:=]\s*"?)[^"&\s,}]+/gi, '$1[REDACTED]'],
  [/(Signature=)[0-9a-f]{64}/g, '$1[REDACTED]'],
  [/(X-Amz-Security-Token=)[^&\s]+/gi, '$1[REDACTED]'],
];

/** Remove anything that looks like a credential from a string. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, repl] of SECRET_PATTERNS) out = out.replace(re, repl);
  return out;
}

export interface LoggerOptions {
  level?: pino.LevelWithSilent;
  name?: string;
  /** Write to this destination (a file path or stream); defaults to stderr. */
  destination?: pino.DestinationStream | string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const dest =
    typeof options.destination === 'string'
      ? pino.destination({ dest: options.destination, mkdir: true, sync: false, mode: 0o600 })
      : (options.destination ?? pino.destination({ fd: 2, sync: false }));
  return pino(
    {
      name: options.name ?? 'ec2-connect',
      level:
        options.level ?? (process.env.EC2_CONNECT_LOG_LEVEL as pino.LevelWithSilent | undefined) ?? 'warn',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as typeof args;
          method.apply(this, redacted);
        },
      },
      serializers: {
        err: (e: unknown) => {
          const s = pino.stdSerializers.err(e as Error);
          if (s && typeof s.message === 'string') s.message = redactSecrets(s.message);
          if (s && typeof s.stack === 'string') s.stack = redactSecrets(s.stack);
          return s;
        },
      },
    },
    dest,
  );
}

/** A logger that drops everything: the default for library code and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
