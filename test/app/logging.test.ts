/**
 * The desktop app's log comes from the configuration: where the files go, their level, the
 * format, and a level change applied while running.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOG_FILE_NAME, createAppLog } from '../../main/app/logging.js';
import { ConfigStore } from '../../main/core/config/store.js';

let dir: string;
let stores: ConfigStore[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ec2c-logs-'));
});
afterEach(() => {
  for (const s of stores) s.dispose();
  stores = [];
  rmSync(dir, { recursive: true, force: true });
});

function store(content: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ConfigStore {
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(content));
  const s = new ConfigStore({ file, env, watch: false });
  stores.push(s);
  return s;
}

function lines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('createAppLog', () => {
  it("writes info and worse to Electron's logs folder by default, 0600, secrets redacted", async () => {
    const logs = path.join(dir, 'electron-logs');
    const log = createAppLog(store({}), logs, { stderr: null, sync: true });
    expect(log.directory).toBe(logs);
    expect(log.file).toBe(path.join(logs, LOG_FILE_NAME));
    log.logger.debug('not this');
    log.logger.info({ token: 'abc' }, 'back end ready');
    await log.close();
    const got = lines(log.file!);
    expect(got.map((l) => l.msg)).toEqual(['back end ready']);
    expect(got[0]!.token).toBe('[REDACTED]');
    if (process.platform !== 'win32') expect(statSync(log.file!).mode & 0o777).toBe(0o600);
    log.dispose();
  });

  it('follows logging.directory, file_level and format; file: false writes no file', async () => {
    const custom = path.join(dir, 'custom');
    const log = createAppLog(
      store({ logging: { directory: custom, file_level: 'debug', format: 'pretty' } }),
      path.join(dir, 'unused'),
      { stderr: null, sync: true },
    );
    expect(log.directory).toBe(custom);
    log.logger.debug('a debug line');
    await log.close();
    const text = readFileSync(path.join(custom, LOG_FILE_NAME), 'utf8');
    expect(text).toContain('a debug line');
    expect(text.trim().startsWith('{')).toBe(false); // readable, not JSON
    expect(existsSync(path.join(dir, 'unused'))).toBe(false);
    log.dispose();

    const off = createAppLog(store({ logging: { file: false } }), path.join(dir, 'none'), { stderr: null });
    expect(off.file).toBeNull();
    expect(existsSync(path.join(dir, 'none'))).toBe(false);
    off.dispose();
  });

  it('EC2_CONNECT_FILE_LOGGING=0 turns the file off, and a level change applies while running', async () => {
    expect(createAppLog(store({}, { EC2_CONNECT_FILE_LOGGING: '0' }), dir, { stderr: null }).file).toBeNull();
    const s = store({ logging: { file_level: 'warn' } });
    const log = createAppLog(s, path.join(dir, 'live'), { stderr: null, sync: true });
    log.logger.info('before');
    await s.update({ 'logging.file_level': 'debug' });
    log.logger.debug('after');
    await log.close();
    expect(lines(log.file!).map((l) => l.msg)).toEqual(['after']);
    log.dispose();
  });
});
