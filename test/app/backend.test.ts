/**
 * The desktop back end without Electron: the workspace on the sandbox with the history store,
 * Electron's processes reaching the resource monitor, and the status socket the CLI reads.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type RunningBackend } from '../../main/app/backend.js';
import { silentLogger } from '../../main/core/log/logger.js';
import { listRunning } from '../../main/core/monitor/status-client.js';
import { statusDir } from '../../main/core/monitor/status-server.js';

let dir: string;
let backend: RunningBackend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('startBackend', () => {
  it("feeds Electron's processes to the monitor and serves the status socket until closed", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-backend-'));
    const env: NodeJS.ProcessEnv = { ...process.env, EC2_CONNECT_HOME: dir, EC2_CONNECT_PROFILE: 'sandbox' };
    delete env.EC2_CONNECT_DB;
    backend = await startBackend(silentLogger, env, {
      processes: () => [
        { pid: 999_321, role: 'renderer', cpuPercent: 4, memoryBytes: 123 * 2 ** 20, governed: true },
      ],
    });
    const snap = await backend.workspace.handlers['resources.get'](undefined);
    expect(snap.sample!.processes.find((p) => p.pid === 999_321)).toMatchObject({
      role: 'renderer',
      governed: true,
    });
    expect(snap.sample!.memoryBytes).toBeGreaterThan(123 * 2 ** 20);
    const running = listRunning(statusDir(env));
    expect(running.map((r) => [r.pid, r.kind])).toEqual([[process.pid, 'desktop']]);
    expect(existsSync(path.join(dir, 'sessions.db'))).toBe(true);
    await backend.close();
    backend = undefined;
    expect(await readdir(statusDir(env))).toEqual([]);
  });

  it('takes the history database from the configuration: database.file, or none when disabled', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-backend-'));
    const env: NodeJS.ProcessEnv = { ...process.env, EC2_CONNECT_HOME: dir, EC2_CONNECT_PROFILE: 'sandbox' };
    delete env.EC2_CONNECT_DB;
    delete env.EC2_CONNECT_NO_HISTORY;
    const custom = path.join(dir, 'elsewhere', 'history.db');
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ database: { file: custom } }));
    backend = await startBackend(silentLogger, env);
    expect(existsSync(custom)).toBe(true);
    expect(existsSync(path.join(dir, 'sessions.db'))).toBe(false);
    expect((await backend.workspace.handlers['history.list'](undefined)).status.available).toBe(true);
    await backend.close();

    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ database: { enabled: false } }));
    await rm(custom);
    backend = await startBackend(silentLogger, env);
    const { status } = await backend.workspace.handlers['history.list'](undefined);
    expect(status.available).toBe(false);
    expect(status.problem).toMatch(/database\.enabled is false/);
    expect(existsSync(custom)).toBe(false);
    expect(existsSync(path.join(dir, 'sessions.db'))).toBe(false);
  });
});
