import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOG_FILE_NAME, createAppLog, logLevels, rotateIfLarge } from '../../main/app/logging.js';

describe('logLevels', () => {
  it('warnings on stderr and at least info in the file, unless asked for more', () => {
    expect(logLevels({})).toEqual({ stderr: 'warn', file: 'info', logger: 'info' });
    expect(logLevels({ EC2_CONNECT_LOG_LEVEL: 'debug' })).toEqual({
      stderr: 'debug',
      file: 'debug',
      logger: 'debug',
    });
    expect(logLevels({ EC2_CONNECT_LOG_LEVEL: 'silent' })).toEqual({
      stderr: 'silent',
      file: 'info',
      logger: 'info',
    });
    expect(logLevels({ EC2_CONNECT_LOG_LEVEL: 'nonsense' }).stderr).toBe('warn');
  });
});

describe('log file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ec2c-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves a large file aside', () => {
    const file = path.join(dir, 'main.log');
    expect(rotateIfLarge(file, 10)).toBe(false); // none yet
    writeFileSync(file, 'x'.repeat(11));
    expect(rotateIfLarge(file, 10)).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(readFileSync(path.join(dir, 'main.1.log'), 'utf8')).toHaveLength(11);
  });

  it('writes info and worse to <logs>/main.log, readable only by the user, secrets redacted', async () => {
    const log = createAppLog({ EC2_CONNECT_LOG_LEVEL: 'silent' });
    const file = log.addFile(dir);
    expect(file).toBe(path.join(dir, LOG_FILE_NAME));
    expect(log.addFile(dir)).toBe(file);
    log.logger.debug('not this');
    log.logger.info({ token: 'abc' }, 'back end ready');
    await new Promise((r) => setTimeout(r, 50)); // the file destination opens asynchronously
    log.flush();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(['back end ready']);
    expect(lines[0]!.token).toBe('[REDACTED]');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
