/**
 * Interop: the official AWS session-manager-plugin (built from source, in ../shared/tools)
 * holds a shell through our sandbox, reconnects through ResumeSession after a dropped
 * socket, and exits cleanly. If the official client works against the sandbox, the
 * sandbox is faithful where our own client is tested against it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { plugin, pluginInTerminal, type StartedSession } from '../helpers/plugin.js';
import { startFixture, type Fixture } from '../helpers/sandbox.js';

describe.skipIf(!plugin)('official session-manager-plugin against the sandbox', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  function launch(started: StartedSession) {
    return pluginInTerminal(fx, { started, request: { Target: fx.instanceId } });
  }

  it('holds a shell: prompt, command output, terminal size, exit', async () => {
    const started = await fx.cp.startSession({ target: fx.instanceId });
    const { proc, screen, exitShell } = launch(started);
    try {
      await screen.waitFor(/Starting session with SessionId/);
      await screen.waitFor(/\[ssm-user@[^\]]+\]\$ /);
      proc.write('echo interop $((6*7)); stty size\r');
      await screen.waitFor(/interop 42\r+\n30 100\r+\n/);
      expect(await exitShell()).toBe(0);
      expect(fx.sandbox.registry.get(started.sessionId)?.status).toBe('Terminated');
    } finally {
      proc.kill();
    }
  }, 60_000);

  it('reconnects through ResumeSession after the socket drops, without losing output', async () => {
    const started = await fx.cp.startSession({ target: fx.instanceId });
    const { proc, screen, exitShell } = launch(started);
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
      expect(await exitShell()).toBe(0);
    } finally {
      proc.kill();
    }
  }, 60_000);
});
