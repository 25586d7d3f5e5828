/**
 * Interop: the official AWS session-manager-plugin (built from source, in ../shared/tools)
 * holds a shell through our sandbox, reconnects through ResumeSession after a dropped
 * socket, and exits cleanly. If the official client works against the sandbox, the
 * sandbox is faithful where our own client is tested against it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFixture, type Fixture } from '../helpers/sandbox.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const candidates = [
  process.env.SESSION_MANAGER_PLUGIN,
  resolve(repo, '../shared/tools/session-manager-plugin/session-manager-plugin'),
  '/usr/local/bin/session-manager-plugin',
  '/usr/local/sessionmanagerplugin/bin/session-manager-plugin',
].filter((p): p is string => Boolean(p));
const plugin = candidates.find((p) => existsSync(p));
if (!plugin)
  console.warn(
    `session-manager-plugin not found (looked in ${candidates.join(', ')}); interop tests skipped`,
  );

class Screen {
  text = '';
  constructor(readonly p: pty.IPty) {
    p.onData((d) => (this.text += d));
  }
  async waitFor(re: RegExp, timeoutMs = 20_000, from = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.text.slice(from))) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${re}; screen: ${JSON.stringify(this.text.slice(-500))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe.skipIf(!plugin)('official session-manager-plugin against the sandbox', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  function launch(started: { sessionId: string; tokenValue: string; streamUrl: string }) {
    const proc = pty.spawn(
      plugin!,
      [
        JSON.stringify({
          SessionId: started.sessionId,
          TokenValue: started.tokenValue,
          StreamUrl: started.streamUrl,
        }),
        fx.sandbox.region,
        'StartSession',
        '',
        JSON.stringify({ Target: fx.instanceId }),
        fx.sandbox.endpoint,
      ],
      {
        name: 'xterm-256color',
        cols: 100,
        rows: 30,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          AWS_ACCESS_KEY_ID: fx.sandbox.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: fx.sandbox.credentials.secretAccessKey,
          AWS_REGION: fx.sandbox.region,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    const exited = new Promise<number>((r) => proc.onExit((e) => r(e.exitCode)));
    return { proc, screen: new Screen(proc), exited };
  }

  it('holds a shell: prompt, command output, terminal size, exit', async () => {
    const started = await fx.cp.startSession({ target: fx.instanceId });
    const { proc, screen, exited } = launch(started);
    try {
      await screen.waitFor(/Starting session with SessionId/);
      await screen.waitFor(/\[ssm-user@[^\]]+\]\$ /);
      proc.write('echo interop $((6*7)); stty size\r');
      await screen.waitFor(/interop 42\r+\n30 100\r+\n/);
      proc.write('exit\r');
      await screen.waitFor(/Exiting session with sessionId/);
      expect(await exited).toBe(0);
      expect(fx.sandbox.registry.get(started.sessionId)?.status).toBe('Terminated');
    } finally {
      proc.kill();
    }
  }, 60_000);

  it('reconnects through ResumeSession after the socket drops, without losing output', async () => {
    const started = await fx.cp.startSession({ target: fx.instanceId });
    const { proc, screen, exited } = launch(started);
    try {
      await screen.waitFor(/\[ssm-user@[^\]]+\]\$ /);
      const resume = vi.spyOn(fx.sandbox.registry, 'resume');
      fx.sandbox.faults.dropSockets(started.sessionId);
      await new Promise((r) => setTimeout(r, 300));
      const from = screen.text.length;
      proc.write('echo after-drop $((1+2))\r');
      await screen.waitFor(/after-drop 3/, 30_000, from);
      // The plugin asked the control plane for a fresh token (signed by the Go SDK) and reconnected with it.
      expect(resume).toHaveBeenCalledWith(started.sessionId);
      resume.mockRestore();
      proc.write('exit\r');
      await screen.waitFor(/Exiting session/, 20_000);
      expect(await exited).toBe(0);
    } finally {
      proc.kill();
    }
  }, 60_000);
});
