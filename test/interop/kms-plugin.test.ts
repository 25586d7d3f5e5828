/**
 * Interop: the official session-manager-plugin holds a KMS-encrypted shell through the sandbox.
 * Its KMS client (aws-sdk-go v1) has no endpoint override, so it is pointed at the sandbox the
 * way a corporate proxy would be: HTTPS_PROXY names a proxy here that terminates TLS for
 * kms.us-east-1.amazonaws.com (a test certificate the plugin trusts through AWS_CA_BUNDLE) and
 * relays the requests to the sandbox, which checks their SigV4 signature as KMS would. If the
 * official client negotiates encryption with the sandbox's agent and KMS, both are faithful
 * where our own client is tested against them.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_KMS_ALIAS } from '../../main/sandbox/api/kms-keys.js';
import { plugin, pluginInTerminal } from '../helpers/plugin.js';
import { startFixture, type Fixture } from '../helpers/sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const certs = resolve(here, 'fixtures/kms-tls');
const KMS_HOST = 'kms.us-east-1.amazonaws.com';

/**
 * An HTTPS proxy that answers CONNECT to the KMS host itself: TLS with the test certificate,
 * the plain requests relayed to the sandbox. Any other host is refused.
 */
async function kmsProxy(sandboxPort: number) {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const key = readFileSync(resolve(certs, 'server.key'));
  const cert = readFileSync(resolve(certs, 'server.pem'));
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const target = /^CONNECT (\S+) HTTP\/1\.[01]\r\n/.exec(head.toString('latin1'))?.[1] ?? '';
      connects.push(target);
      if (target !== `${KMS_HOST}:443`) {
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const secure = new tls.TLSSocket(client, { isServer: true, key, cert });
      const upstream = net.connect({ host: '127.0.0.1', port: sandboxPort });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      for (const s of [secure, upstream]) s.on('error', () => (secure.destroy(), upstream.destroy()));
      secure.pipe(upstream).pipe(secure);
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connects,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.skipIf(!plugin)('official session-manager-plugin with KMS encryption against the sandbox', () => {
  let fx: Fixture;
  let proxy: Awaited<ReturnType<typeof kmsProxy>>;
  beforeAll(async () => {
    fx = await startFixture();
    proxy = await kmsProxy(Number(new URL(fx.sandbox.endpoint).port));
    fx.sandbox.fleet.update(fx.instanceId, { kmsKeyId: DEFAULT_KMS_ALIAS });
  });
  afterAll(async () => {
    await proxy?.close();
    await fx?.close();
  });

  it('negotiates encryption with KMS and the agent, runs a shell, survives a dropped socket and exits', async () => {
    const generate = vi.spyOn(fx.sandbox.kms, 'generateDataKey');
    const started = await fx.cp.startSession({ target: fx.instanceId });
    const { proc, screen, exitShell } = pluginInTerminal(fx, {
      started,
      request: { Target: fx.instanceId },
      env: { HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: resolve(certs, 'ca.pem') },
    });
    try {
      await screen.waitFor(/\[ssm-user@[^\]]+\]\$ /);
      // The plugin asked our KMS (through the proxy) for the data key with the session's context.
      expect(proxy.connects).toContain(`${KMS_HOST}:443`);
      expect(generate).toHaveBeenCalledTimes(1);
      expect(generate.mock.calls[0]!.slice(0, 3)).toEqual([
        DEFAULT_KMS_ALIAS,
        64,
        { 'aws:ssm:SessionId': started.sessionId, 'aws:ssm:TargetId': fx.instanceId },
      ]);
      proc.write('echo kms-interop $((6*7))\r');
      await screen.waitFor(/kms-interop 42\r+\n/);

      fx.sandbox.faults.dropSockets(started.sessionId);
      await new Promise((r) => setTimeout(r, 300));
      const from = screen.text.length;
      proc.write('echo after-drop $((1+2))\r');
      await screen.waitFor(/after-drop 3/, 30_000, from);
      expect(generate).toHaveBeenCalledTimes(1);

      expect(await exitShell()).toBe(0);
      expect(fx.sandbox.registry.get(started.sessionId)?.status).toBe('Terminated');
    } finally {
      proc.kill();
      generate.mockRestore();
    }
  }, 90_000);
});
