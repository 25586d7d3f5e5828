import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs a sandbox in a child process with a live session, an open data-channel socket,
 * keep-alive SDK connections and a call held up by a fault delay, closes it, and checks
 * that the process then exits on its own (nothing left holding the event loop).
 */
const SCRIPT = `
import { randomUUID } from 'node:crypto';
import { SSMClient, StartSessionCommand, DescribeSessionsCommand } from '@aws-sdk/client-ssm';
import WebSocket from 'ws';
import { startSandbox } from './main/sandbox/server.ts';

const sandbox = await startSandbox({ port: 0 });
const ssm = new SSMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: sandbox.credentials, maxAttempts: 1 });
const session = await ssm.send(new StartSessionCommand({ Target: 'i-0b5bb7865829a72f8' }));
const ws = new WebSocket(session.StreamUrl);
ws.on('error', () => {});
await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('unexpected-response', reject); });
ws.send(JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: randomUUID(), TokenValue: session.TokenValue, ClientId: randomUUID(), ClientVersion: '1.0.0' }));
await new Promise((resolve) => setTimeout(resolve, 300));
sandbox.faults.set({ controlPlane: { delayMs: 30000 } });
const pending = ssm.send(new DescribeSessionsCommand({ State: 'Active' })).then(() => 'answered', () => 'cut off');
await new Promise((resolve) => setTimeout(resolve, 100));
const started = Date.now();
await sandbox.close();
await sandbox.close();
console.log('closed in', Date.now() - started, 'ms; pending call', await pending);
ssm.destroy();
setTimeout(() => console.log('still running, holding:', JSON.stringify(process.getActiveResourcesInfo())), 3000).unref();
`;

function run(): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('SandboxHandle.close()', () => {
  it('releases everything, so the process exits by itself', async () => {
    const result = await run();
    expect(result.signal, `killed after 20 s; stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBeNull();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/closed in \d+ ms; pending call cut off/);
    expect(result.stdout).not.toContain('still running');
  }, 30_000);
});
