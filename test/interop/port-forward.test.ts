/**
 * Interop for port sessions: the official session-manager-plugin forwards a local port through
 * the sandbox (multiplexed with smux, as with a current agent; one connection at a time with an
 * old one) and carries an SSH-style stream on its stdin/stdout. If the official client works,
 * the sandbox's agent side of port sessions is faithful.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { plugin, pluginOnPipes } from '../helpers/plugin.js';
import { startFixture, type Fixture } from '../helpers/sandbox.js';

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => res(port));
    });
  });
}

/**
 * One HTTP request through the forward. It is a POST whose body does not end in a newline, on
 * purpose: the official plugin rewrites any message that is exactly one "\n" byte into "\r"
 * (a winpty workaround in its SendInputDataMessage, applied to port sessions too). It reads the
 * smux connection 1024 bytes at a time, so when a batch of frames ends one byte past a multiple
 * of 1024 and that byte is the "\n" that ends a GET's headers, the target receives "\r\n\r\r"
 * and answers 400 (seen about once in 10,000 requests under load). A real agent behind the
 * plugin sees the same corruption; the sandbox is not at fault, so the test avoids the pattern.
 */
function post(port: number, path: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => res(r.statusCode === 200 ? body : `HTTP ${r.statusCode}: ${body}`));
    });
    req.on('error', rej);
    req.end('.');
  });
}

describe.skipIf(!plugin)('official session-manager-plugin: port sessions against the sandbox', () => {
  let fx: Fixture;
  let web: http.Server;
  let webPort: number;
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    fx = await startFixture();
    web = http.createServer((req, res) => res.end(`plugin ${req.url}`));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    webPort = (web.address() as net.AddressInfo).port;
  });
  afterEach(() => {
    for (const p of procs.splice(0)) p.kill('SIGKILL');
  });
  afterAll(async () => {
    web.close();
    await fx.close();
  });

  async function launch(documentName: string, parameters: Record<string, string[]>) {
    const started = await fx.cp.startSession({ target: fx.instanceId, documentName, parameters });
    const { proc, output } = pluginOnPipes(fx, {
      started,
      request: { Target: fx.instanceId, DocumentName: documentName, Parameters: parameters },
    });
    procs.push(proc);
    return { proc, waitFor: (re: RegExp) => output.waitFor(re) };
  }

  it('forwards a local port with smux: 30 parallel HTTP requests', async () => {
    const local = await freePort();
    const { waitFor } = await launch('AWS-StartPortForwardingSession', {
      portNumber: [String(webPort)],
      localPortNumber: [String(local)],
    });
    await waitFor(new RegExp(`Port ${local} opened`));
    const bodies = await Promise.all(Array.from({ length: 30 }, (_, i) => post(local, `/p${i}`)));
    expect(bodies).toEqual(Array.from({ length: 30 }, (_, i) => `plugin /p${i}`));
  }, 60_000);

  it('forwards one connection at a time with an old agent', async () => {
    fx.sandbox.fleet.update(fx.instanceId, { agentVersion: '3.0.161.0' });
    try {
      const local = await freePort();
      const { waitFor } = await launch('AWS-StartPortForwardingSession', {
        portNumber: [String(webPort)],
        localPortNumber: [String(local)],
      });
      await waitFor(new RegExp(`Port ${local} opened`));
      expect(await post(local, '/first')).toBe('plugin /first');
      expect(await post(local, '/second')).toBe('plugin /second');
    } finally {
      fx.sandbox.fleet.update(fx.instanceId, { agentVersion: '3.3.1142.0' });
    }
  }, 60_000);

  it('carries an SSH-style stream on stdin and stdout (AWS-StartSSHSession)', async () => {
    const echo = net.createServer((s) => {
      s.write('SSH-2.0-Echo\r\n');
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const port = (echo.address() as net.AddressInfo).port;
    try {
      const { proc, waitFor } = await launch('AWS-StartSSHSession', { portNumber: [String(port)] });
      await waitFor(/SSH-2\.0-Echo/);
      proc.stdin!.write('through the plugin\n');
      await waitFor(/through the plugin/);
    } finally {
      echo.close();
    }
  }, 60_000);
});
