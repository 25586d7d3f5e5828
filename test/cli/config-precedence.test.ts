/**
 * The configuration drives the real commands, not only `config show`: a key from the file, the
 * environment over it, a flag over both; a bad value is a warning (the key keeps its default);
 * logging.level sets what reaches stderr; database.enabled/file decide where history goes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess, type CliResult } from '../helpers/cli.js';

let home: string;

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliProcess(args, { HOME: home, EC2_CONNECT_HOME: home, ...env });
}

const writeConfig = (data: unknown): void =>
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(data, null, 2));

/** pino JSON lines on stderr at this level or more verbose (debug 20, info 30). */
const logLines = (stderr: string, maxLevel: number): unknown[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number })
    .filter((l) => l.level <= maxLevel);

beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2c-cli-precedence-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('commands follow the configuration', { timeout: 120_000 }, () => {
  it('file < EC2_CONNECT_* < flags for the profile; bad values warn; logging.level reaches stderr', async () => {
    writeConfig({
      aws: { profile: 'nope' },
      logging: { level: 'debug' },
      session: { max_total_sessions: 'lots' },
    });
    const [fromFile, fromEnv, fromFlag] = await Promise.all([
      cli(['list']),
      cli(['list', '--log-level', 'error'], { EC2_CONNECT_PROFILE: 'sandbox' }),
      cli(['list', '--profile', 'sandbox'], { EC2_CONNECT_PROFILE: 'also-nope' }),
    ]);
    // The file's profile is used, and the error names it.
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toMatch(/"nope"/);
    // The bad value is named, with what is allowed, and does not stop the command.
    for (const r of [fromFile, fromEnv, fromFlag]) {
      expect(r.stderr).toMatch(/warning: .*session\.max_total_sessions.*"lots"/);
      expect(r.stderr).toContain('Using 100 (the default) instead.');
    }
    // EC2_CONNECT_PROFILE tops the file; --log-level tops logging.level.
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain('web-1');
    expect(logLines(fromEnv.stderr, 30)).toEqual([]);
    // --profile tops both; the file's debug level shows the command's own log.
    expect(fromFlag.code).toBe(0);
    expect(fromFlag.stdout).toContain('web-1');
    expect(logLines(fromFlag.stderr, 20).length).toBeGreaterThan(0);
  });

  it('database.file and database.enabled decide where `connect` records its session', async () => {
    const elsewhere = path.join(home, 'elsewhere.db');
    writeConfig({ database: { file: elsewhere } });
    const recorded = await cli(['connect', '-i', 'web-1', '--non-interactive', '--command', 'echo recorded']);
    expect(recorded.code).toBe(0);
    expect(recorded.stdout).toContain('recorded');
    expect(fs.existsSync(elsewhere)).toBe(true);
    expect(fs.existsSync(path.join(home, 'sessions.db'))).toBe(false);
    const listed = await cli(['database', 'stats', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ file: elsewhere });

    fs.rmSync(elsewhere);
    writeConfig({ database: { enabled: false } });
    const off = await cli(['connect', '-i', 'web-1', '--non-interactive', '--command', 'echo off']);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('off');
    expect(fs.existsSync(elsewhere)).toBe(false);
    expect(fs.existsSync(path.join(home, 'sessions.db'))).toBe(false);
  });
});
