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
  'accessKeyId',
  'AccessKeyId',
  'aws_access_key_id',
  'sessionToken',
  'SessionToken',
  'aws_session_token',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'authorization',
  'Authorization',
  'password',
  'adminToken',
];

const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Patterns that look like credentials inside free text (URLs, error messages). */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/(AKIA|ASIA)[A-Z0-9]{16}/g, '$1****************'],
  [
    /("?(?:[A-Za-z_-]*token(?:_?value)?|[A-Za-z_-]*secret(?:_?access_?key)?|password|passwd)"?\s*[:=]\s*"?)[^"&\s,}\\]+/gi,
    '$1[REDACTED]',
  ],
  [/(Signature=)[0-9a-f]{64}/g, '$1[REDACTED]'],
  [/(X-Amz-Security-Token=)[^&\s]+/gi, '$1[REDACTED]'],
  [/(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g, '$1[REDACTED]'],
  // The password of a URL's user info (a proxy URL: http://user:password@proxy:3128).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@/]+@/gi, '$1***@'],
];

/** Remove anything that looks like a credential from a string. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, repl] of SECRET_PATTERNS) out = out.replace(re, repl);
  return out;
}

/**
 * Names of JSON keys (any depth, any case) whose values never reach a log line: anything ending
 * in token, tokenvalue, secret, password, authorization, signature, secretaccesskey or
 * accesskeyid (with or without underscores).
 */
const SECRET_KEY = String.raw`[A-Za-z0-9_-]*(?:token|tokenvalue|secret|password|passphrase|authorization|signature|secret_?access_?key|access_?key_?id)`;
const JSON_SCALAR = String.raw`(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false|null)`;
const LINE_PATTERNS: Array<[RegExp, string]> = [
  // "sessionToken": "..." at any depth (pino's redact paths stop at two levels).
  [new RegExp(String.raw`("${SECRET_KEY}"\s*:\s*)${JSON_SCALAR}`, 'gi'), '$1"[REDACTED]"'],
  // The same inside a JSON string (a response body in a message): \"token\":\"...\"
  [new RegExp(String.raw`(\\"${SECRET_KEY}\\"\s*:\s*)\\"(?:[^"\\]|\\[^"])*\\"`, 'gi'), '$1\\"[REDACTED]\\"'],
];

/**
 * The last pass over every serialized line, whatever its destination or format: secret keys at
 * any depth, then the free-text patterns. Keeps a JSON line valid JSON.
 */
export function redactLine(line: string): string {
  let out = line;
  for (const [re, repl] of LINE_PATTERNS) out = out.replace(re, repl);
  return redactSecrets(out);
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
        streamWrite: redactLine,
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
