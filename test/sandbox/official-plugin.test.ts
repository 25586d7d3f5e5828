/**
 * The official session-manager-plugin (Go, AWS SDK for Go v1) against the sandbox: it
 * opens the data channel from a StartSession response, survives a dropped socket by
 * calling ResumeSession (signed by the Go SDK) and ends cleanly.
 *
 * Runs only where the plugin is installed: on PATH as session-manager-plugin, or named by
 * SESSION_MANAGER_PLUGIN (build it from github.com/aws/session-manager-plugin with
 * GO111MODULE=off and GOPATH=<repo>/build/private:<repo>/vendor).
 */
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import * as pty from 'node-pty';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';

function findPlugin(): string | undefined {
  if (process.env.SESSION_MANAGER_PLUGIN) return process.env.SESSION_MANAGER_PLUGIN;
  try {
    return (
      execFileSync('sh', ['-c', 'command -v session-manager-plugin'], { encoding: 'utf8' }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

const plugin = findPlugin();
const WEB1 = 'i-0b5bb7865829a72f8';

describe.skipIf(!plugin)('official session-manager-plugin', () => {
  let sandbox: SandboxHandle;
  const apiCalls: Array<{ action?: string; status?: number }> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) {
          if (line.includes('"msg":"sandbox API call"'))
            apiCalls.push(JSON.parse(line) as { action?: string; status?: number });
        }
        done();
      },
    });
    sandbox = await startSandbox({ port: 0, logger: pino({ level: 'debug' }, sink) });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('runs a shell, reconnects after a dropped socket via ResumeSession, and exits cleanly', async () => {
    const ssm = new SSMClient({
      endpoint: sandbox.endpoint,
      region: sandbox.region,
      credentials: sandbox.credentials,
      maxAttempts: 1,
    });
    const started = await ssm.send(new StartSessionCommand({ Target: WEB1 }));
    ssm.destroy();

    const term = pty.spawn(
      plugin!,
      [
        JSON.stringify({
          SessionId: started.SessionId,
          TokenValue: started.TokenValue,
          StreamUrl: started.StreamUrl,
        }),
        sandbox.region,
        'StartSession',
        '',
        JSON.stringify({ Target: WEB1 }),
        sandbox.endpoint,
      ],
      {
        cols: 120,
        rows: 30,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          AWS_ACCESS_KEY_ID: sandbox.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: sandbox.credentials.secretAccessKey,
          AWS_REGION: sandbox.region,
        },
      },
    );
    let output = '';
    term.onData((d) => (output += d));
    const exited = new Promise<number>((resolve) => term.onExit((e) => resolve(e.exitCode)));
    const waitFor = async (pattern: RegExp, ms = 15_000): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!pattern.test(output)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${pattern}; output so far:\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    try {
      await waitFor(/Starting session with SessionId/);
      term.write('echo sandbox-$((6*7))\r');
      await waitFor(/sandbox-42/);

      sandbox.faults.dropSockets(started.SessionId);
      await new Promise((r) => setTimeout(r, 1500));
      term.write('echo after-$((6*7))\r');
      await waitFor(/after-42/);
      expect(apiCalls.some((c) => c.action === 'ResumeSession' && c.status === 200)).toBe(true);

      term.write('exit\r');
      expect(await exited).toBe(0);
      expect(output).toContain(`Exiting session with sessionId: ${started.SessionId}`);
    } finally {
      term.kill();
    }
  }, 60_000);
});
