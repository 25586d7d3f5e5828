/** Test fixture: an embedded sandbox plus a control plane signed with its credentials. */
import { StringDecoder } from 'node:string_decoder';
import { ControlPlane } from '../../main/core/ssm/control-plane.js';
import { SsmSession, type SessionOpenOptions } from '../../main/core/ssm/session.js';
import { canStartSession } from '../../main/sandbox/fleet.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../../main/sandbox/server.js';

export interface Fixture {
  sandbox: SandboxHandle;
  cp: ControlPlane;
  /** First running + Online instance of the default fleet. */
  instanceId: string;
  open(opts?: Partial<SessionOpenOptions>): Promise<SsmSession>;
  close(): Promise<void>;
}

export async function startFixture(options: SandboxOptions = {}): Promise<Fixture> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const cp = new ControlPlane({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: {
      accessKeyId: sandbox.credentials.accessKeyId,
      secretAccessKey: sandbox.credentials.secretAccessKey,
    },
    maxAttempts: 1,
  });
  const online = sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux');
  if (!online) throw new Error('the default fleet has no running, online Linux instance');
  const sessions: SsmSession[] = [];
  return {
    sandbox,
    cp,
    instanceId: online.instanceId,
    async open(opts = {}) {
      const s = await SsmSession.open({
        controlPlane: cp,
        target: online.instanceId,
        cols: 120,
        rows: 40,
        ...opts,
      });
      sessions.push(s);
      return s;
    },
    async close() {
      for (const s of sessions) s.dispose();
      cp.dispose();
      await sandbox.close();
    },
  };
}

/** Collects a session's output and waits for patterns in it (searching only new output, so it stays linear). */
export class OutputCollector {
  private decoder = new StringDecoder('utf8');
  private _text = '';
  private _bytes = 0;
  private waiters: Array<() => void> = [];
  constructor(session: SsmSession) {
    session.onOutput((b) => {
      this._text += this.decoder.write(b);
      this._bytes += b.length;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  get text(): string {
    return this._text;
  }
  get byteCount(): number {
    return this._bytes;
  }
  /** Resolve with the output from `from` on once it matches (a match may span at most 4 KiB of new output). */
  async waitFor(pattern: RegExp | string, timeoutMs = 15_000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let checked = from;
    for (;;) {
      const start = Math.max(from, checked - 4096);
      const t = this._text;
      const hit = typeof pattern === 'string' ? t.indexOf(pattern, start) >= 0 : pattern.test(t.slice(start));
      if (hit) return t.slice(from);
      checked = t.length;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${String(pattern)}; last output: ${JSON.stringify(t.slice(-300))}`,
        );
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }
  mark(): number {
    return this._text.length;
  }
}
