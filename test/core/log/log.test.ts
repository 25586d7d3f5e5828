/** Logging from the configuration: levels, JSON or pretty, rotating 0600 files, and no secret in any of it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConfiguredLog, moreVerbose, type LogSettings } from '../../../main/core/log/setup.js';
import { RotatingFileStream, rotatedName } from '../../../main/core/log/rotating-file.js';
import { createLogger, redactLine } from '../../../main/core/log/logger.js';
import { DEFAULT_CONFIG } from '../../../main/core/config/schema.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-log-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

/** A destination that keeps what it is given. */
function memory(): { stream: { write(s: string): void }; text: () => string } {
  const chunks: string[] = [];
  return { stream: { write: (s: string) => void chunks.push(s) }, text: () => chunks.join('') };
}

function settings(overrides: Partial<LogSettings> = {}): LogSettings {
  return { ...DEFAULT_CONFIG.logging, directory: path.join(dir, 'logs'), ...overrides };
}

// Secrets in every shape they come in: SDK credential objects, SSM's TokenValue, HTTP headers,
// nested deeper than pino's redact paths, inside messages and error stacks, and JSON in a string.
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample';
const TOKEN_VALUE = 'AAEAAQYjZXhhbXBsZS10b2tlbi12YWx1ZQ';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SIGNATURE = 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';
const SECRETS = [
  SECRET_ACCESS_KEY,
  SESSION_TOKEN,
  TOKEN_VALUE,
  ACCESS_KEY_ID,
  SIGNATURE,
  'hunter2',
  'sso-access-tok',
];

function logSecrets(logger: ReturnType<typeof createLogger>): void {
  logger.info(
    {
      credentials: {
        accessKeyId: ACCESS_KEY_ID,
        secretAccessKey: SECRET_ACCESS_KEY,
        sessionToken: SESSION_TOKEN,
      },
    },
    'resolved credentials',
  );
  logger.info(
    { response: { SessionId: 's-1', TokenValue: TOKEN_VALUE, StreamUrl: 'wss://x' } },
    'StartSession',
  );
  logger.info(
    {
      request: {
        headers: {
          Authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=${SIGNATURE}`,
          'X-Amz-Security-Token': SESSION_TOKEN,
        },
      },
    },
    'request',
  );
  logger.info({ a: { b: { c: { d: { SessionToken: SESSION_TOKEN, password: 'hunter2' } } } } }, 'deep');
  logger.info({ sso: { accessToken: 'sso-access-tok' } }, 'sso');
  logger.warn(`aws_secret_access_key=${SECRET_ACCESS_KEY} token=${TOKEN_VALUE} in ${ACCESS_KEY_ID}`);
  logger.warn(
    {
      body: JSON.stringify({
        Credentials: { SecretAccessKey: SECRET_ACCESS_KEY, SessionToken: SESSION_TOKEN },
      }),
    },
    'raw body',
  );
  logger.error(
    new Error(
      `signing failed: X-Amz-Security-Token=${SESSION_TOKEN}&X-Amz-Signature=x Signature=${SIGNATURE}`,
    ),
    'failed',
  );
  logger.info({ err: new Error(`SessionToken: ${SESSION_TOKEN}`) }, 'err object');
}

describe('secrets never reach a log', () => {
  it.each(['json', 'pretty'] as const)('in a %s file', async (format) => {
    const log = createConfiguredLog(settings({ format, level: 'silent', file_level: 'trace' }), {
      sync: true,
      stderr: null,
    });
    logSecrets(log.logger);
    await log.close();
    const text = fs.readFileSync(log.file!, 'utf8');
    expect(text).toContain('resolved credentials');
    expect(text).toContain('[REDACTED]');
    for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
    if (format === 'json')
      for (const line of text.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('on stderr (pretty) and through the plain createLogger', () => {
    const err = memory();
    const log = createConfiguredLog(settings({ format: 'pretty', level: 'info', file: false }), {
      stderr: err.stream,
      colorize: false,
    });
    logSecrets(log.logger);
    const plain = memory();
    logSecrets(createLogger({ level: 'info', destination: plain.stream }));
    for (const secret of SECRETS) {
      expect(err.text(), secret).not.toContain(secret);
      expect(plain.text(), secret).not.toContain(secret);
    }
  });

  it('redactLine keeps JSON valid and leaves ordinary keys alone', () => {
    const line = JSON.stringify({
      token: 5,
      x: { sessionToken: null },
      maxTokens: 3,
      tokenizer: 'bpe',
      msg: 'ok',
    });
    const out = redactLine(line);
    expect(JSON.parse(out)).toEqual({
      token: '[REDACTED]',
      x: { sessionToken: '[REDACTED]' },
      maxTokens: 3,
      tokenizer: 'bpe',
      msg: 'ok',
    });
  });
});

describe('configured log', () => {
  it('writes JSON lines to a 0600 file in a 0700 folder, and stderr at its own level', async () => {
    const err = memory();
    const log = createConfiguredLog(settings({ level: 'warn', file_level: 'info' }), {
      sync: true,
      stderr: err.stream,
    });
    expect(log.file).toBe(path.join(dir, 'logs', 'main.log'));
    log.logger.debug('not anywhere');
    log.logger.info('file only');
    log.logger.warn('both');
    await log.close();
    const lines = fs
      .readFileSync(log.file!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(['file only', 'both']);
    expect(err.text()).toContain('"msg":"both"');
    expect(err.text()).not.toContain('file only');
    expect(mode(log.file!)).toBe(0o600);
    expect(mode(path.join(dir, 'logs'))).toBe(0o700);
  });

  it('pretty lines are readable', async () => {
    const log = createConfiguredLog(settings({ format: 'pretty', level: 'silent', file_level: 'info' }), {
      sync: true,
      stderr: null,
    });
    log.logger.info({ instanceId: 'i-0abc', attempt: 2 }, 'reconnecting to %s', 'web-1');
    log.logger.error('the data channel closed');
    await log.close();
    const text = fs.readFileSync(log.file!, 'utf8');
    const first = text.split('\n')[0]!;
    expect(first).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO \(ec2-connect\): reconnecting to web-1$/,
    );
    expect(text).toContain('instanceId: "i-0abc"');
    expect(text).toMatch(/ERROR \(ec2-connect\): the data channel closed/);
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('\u001b['); // no colours in files
  });

  it('changes levels while running', () => {
    const err = memory();
    const log = createConfiguredLog(settings({ level: 'warn', file: false }), { stderr: err.stream });
    log.logger.info('before');
    log.setLevels('debug');
    log.logger.debug('after');
    log.setLevels('error');
    log.logger.warn('quiet again');
    expect(err.text()).not.toContain('before');
    expect(err.text()).toContain('after');
    expect(err.text()).not.toContain('quiet again');
    expect(moreVerbose('warn', 'info')).toBe('info');
    expect(moreVerbose('silent', 'error')).toBe('error');
  });

  it('file logging off: no file; a folder that cannot be made: a problem, and logging goes on', () => {
    const off = createConfiguredLog(settings({ file: false }), { stderr: null });
    expect(off.file).toBeNull();
    expect(fs.existsSync(path.join(dir, 'logs'))).toBe(false);
    const blocker = path.join(dir, 'blocker');
    fs.writeFileSync(blocker, '');
    const err = memory();
    const bad = createConfiguredLog(settings({ directory: path.join(blocker, 'logs') }), {
      stderr: err.stream,
    });
    expect(bad.file).toBeNull();
    expect(bad.fileProblem).toContain('cannot write log files');
    expect(err.text()).toContain('file logging is off');
  });

  it('rotates by size, keeping max_files files (1 MiB files)', async () => {
    const log = createConfiguredLog(
      settings({ max_file_mb: 1, max_files: 3, level: 'silent', file_level: 'info' }),
      {
        sync: true,
        stderr: null,
      },
    );
    const pad = 'x'.repeat(1000);
    for (let i = 0; i < 4000; i++) log.logger.info({ i, pad }, 'line');
    await log.close();
    const files = fs.readdirSync(path.join(dir, 'logs')).sort();
    expect(files).toEqual(['main.1.log', 'main.2.log', 'main.log']);
    for (const f of files) {
      const p = path.join(dir, 'logs', f);
      expect(fs.statSync(p).size).toBeLessThanOrEqual(1024 * 1024 + 2000);
      expect(mode(p)).toBe(0o600);
    }
    // the newest line is in main.log, older ones in main.1.log, main.2.log
    const lastOf = (f: string) => {
      const lines = fs
        .readFileSync(path.join(dir, 'logs', f), 'utf8')
        .trim()
        .split('\n');
      return (JSON.parse(lines[lines.length - 1]!) as { i: number }).i;
    };
    expect(lastOf('main.log')).toBe(3999);
    expect(lastOf('main.1.log')).toBeLessThan(lastOf('main.log'));
    expect(lastOf('main.2.log')).toBeLessThan(lastOf('main.1.log'));
  });
});

describe('RotatingFileStream', () => {
  it('keeps max_files, deletes the oldest, and removes files left by a larger max_files', async () => {
    const file = path.join(dir, 'main.log');
    for (const n of [3, 4, 7]) fs.writeFileSync(rotatedName(file, n), 'old');
    const s = new RotatingFileStream({ file, maxBytes: 100, maxFiles: 3, sync: true });
    for (let i = 0; i < 20; i++) s.write(`${String(i).padStart(2, '0')} ${'y'.repeat(47)}\n`); // 51 bytes a line
    await s.end();
    expect(fs.readdirSync(dir).sort()).toEqual(['main.1.log', 'main.2.log', 'main.log']);
    expect(s.rotations).toBe(10);
    // two lines a file: 18 and 19 filled main.log, which then rotated
    expect(fs.readFileSync(path.join(dir, 'main.2.log'), 'utf8')).toMatch(/^16 .*\n17 .*\n$/);
    expect(fs.readFileSync(path.join(dir, 'main.1.log'), 'utf8')).toMatch(/^18 .*\n19 .*\n$/);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });

  it('appends to an existing file, counting its size, and makes it 0600', async () => {
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, 'z'.repeat(90), { mode: 0o644 });
    const s = new RotatingFileStream({ file, maxBytes: 100, maxFiles: 2, sync: true });
    expect(mode(file)).toBe(0o600);
    s.write('0123456789\n');
    await s.end();
    expect(fs.readFileSync(rotatedName(file, 1), 'utf8')).toBe(`${'z'.repeat(90)}0123456789\n`);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });

  it('max_files 1 keeps only the current file; asynchronous writes arrive', async () => {
    const file = path.join(dir, 'one.log');
    const s = new RotatingFileStream({ file, maxBytes: 1000, maxFiles: 1 });
    for (let i = 0; i < 50; i++) s.write(`${'a'.repeat(99)}\n`);
    s.write('last\n');
    await s.end();
    expect(fs.readdirSync(dir)).toEqual(['one.log']);
    expect(fs.readFileSync(file, 'utf8')).toContain('last\n');
    expect(rotatedName('/x/y', 2)).toBe('/x/y.2');
  });

  it('drops write errors instead of throwing', async () => {
    const file = path.join(dir, 'gone', 'x.log');
    const s = new RotatingFileStream({ file, maxBytes: 50, maxFiles: 2, sync: true });
    fs.rmSync(path.join(dir, 'gone'), { recursive: true });
    expect(() => {
      for (let i = 0; i < 10; i++) s.write('0123456789012345678901234567890\n');
    }).not.toThrow();
    await s.end();
    expect(s.errors).toBeGreaterThan(0);
  });
});

describe('stderr through a stream', () => {
  it('accepts any writable', () => {
    const chunks: string[] = [];
    const w = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const log = createConfiguredLog(settings({ file: false, level: 'info' }), { stderr: w });
    log.logger.info('to a stream');
    expect(chunks.join('')).toContain('to a stream');
  });
});
