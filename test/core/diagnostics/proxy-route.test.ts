/**
 * Diagnostics behind a proxy: the endpoint checks take the route of EC2 Connect's own
 * connections (the control plane's Network, or the `network` option). The sandbox is reached as
 * ssm.sandbox.test, a name only the test CONNECT proxy resolves, so a check can pass only
 * through it; a TLS sandbox (test CA in test/fixtures/tls) passes only with the CA bundle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, type NetworkOptions } from '../../../main/core/net/network.js';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { startSandbox, type SandboxHandle } from '../../../main/sandbox/server.js';
import { closedPort, startConnectProxy, type ConnectProxy } from '../net/connect-proxy.js';
import { check, runPreventive } from './fixtures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/tls');
const CA = path.join(FIXTURES, 'ca.pem');
const TLS = {
  key: readFileSync(path.join(FIXTURES, 'server.key')),
  cert: readFileSync(path.join(FIXTURES, 'server.pem')),
};

let plain: SandboxHandle;
let secure: SandboxHandle;
let proxy: ConnectProxy;
let authProxy: ConnectProxy;
const planes: ControlPlane[] = [];

beforeAll(async () => {
  plain = await startSandbox({ port: 0, advertisedHost: 'ssm.sandbox.test' });
  secure = await startSandbox({ port: 0, tls: TLS, advertisedHost: 'ssm.sandbox.test' });
  proxy = await startConnectProxy();
  authProxy = await startConnectProxy({ auth: { user: 'alice', password: 's3cret/pw' } });
});
afterAll(async () => {
  for (const cp of planes) cp.dispose();
  await plain.close();
  await secure.close();
  await proxy.close();
  await authProxy.close();
});

function controlPlane(sandbox: SandboxHandle, network?: NetworkOptions): ControlPlane {
  const cp = new ControlPlane({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: sandbox.credentials,
    maxAttempts: 1,
    circuitBreaker: false,
    ...(network ? { network } : {}),
  });
  planes.push(cp);
  return cp;
}

const tunnelsTo = (p: ConnectProxy, host: string): number =>
  p.tunnels.filter((t) => t.target.startsWith(`${host}:`)).length;

describe('diagnostics through the proxy EC2 Connect uses', () => {
  it('the SSM endpoint and the data channel pass through the proxy, and say so (password hidden)', async () => {
    expect(plain.endpoint).toMatch(/^http:\/\/ssm\.sandbox\.test:\d+$/);
    const url = authProxy.urlWith('alice', 's3cret/pw');
    const cp = controlPlane(plain, { proxy: url });
    const before = tunnelsTo(authProxy, 'ssm.sandbox.test');
    const report = await runPreventive(cp, {
      checks: ['credentials', 'ssm-endpoint', 'start-session', 'data-channel', 'clock', 'proxy'],
      proxy: { url },
    });
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['credentials', 'pass'],
      ['ssm-endpoint', 'pass'],
      ['start-session', 'pass'],
      ['data-channel', 'pass'],
      ['clock', 'pass'],
      ['proxy', 'pass'],
    ]);
    const ssm = check(report, 'ssm-endpoint');
    expect(ssm.figure).toMatch(/\(connect .* via proxy\)$/);
    expect(ssm.detail).toMatch(
      /^ssm\.sandbox\.test:\d+ answered an unsigned request \(MissingAuthenticationTokenException\) through the proxy http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+ \(connection\.proxy\) in .*; connecting took .* \(tunnel .*, no TLS\)\.$/,
    );
    const dc = check(report, 'data-channel');
    expect(dc.figure).toMatch(/\(ssm\.sandbox\.test:\d+ via proxy\)$/);
    expect(dc.detail).toMatch(
      /test session's StreamUrl\) through the proxy http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+ \(connection\.proxy\) in .*: tunnel .*, no TLS\./,
    );
    const px = check(report, 'proxy');
    expect(px.detail).toMatch(/EC2 Connect follows these settings\./);
    // One host for both: the proxy is asked once.
    expect(px.detail).toMatch(/Checked: the proxy opened a tunnel to ssm\.sandbox\.test:\d+ in [^;]*\.$/);
    // ssm-endpoint, data-channel, the proxy check (and the SDK's calls).
    expect(tunnelsTo(authProxy, 'ssm.sandbox.test') - before).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(report)).not.toContain('s3cret');
  });

  it('a `network` option overrides the control plane’s', async () => {
    const cp = controlPlane(plain); // direct: ssm.sandbox.test does not resolve without the proxy
    const network = new Network({ proxy: proxy.url });
    try {
      const report = await runPreventive(cp, { checks: ['ssm-endpoint'], network });
      expect(check(report, 'ssm-endpoint')).toMatchObject({ status: 'pass' });
      expect(check(report, 'ssm-endpoint').detail).toMatch(/through the proxy http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      network.dispose();
    }
  });

  it('the proxy down: the SSM endpoint check fails naming the proxy and its setting', async () => {
    const port = await closedPort();
    const cp = controlPlane(plain, { env: { HTTP_PROXY: `http://bob:hunter2@127.0.0.1:${port}` } });
    const c = check(await runPreventive(cp, { checks: ['ssm-endpoint'] }), 'ssm-endpoint');
    expect(c).toMatchObject({ status: 'fail', figure: 'proxy unreachable' });
    expect(c.detail).toMatch(
      new RegExp(
        `^Could not reach the SSM endpoint http://ssm\\.sandbox\\.test:\\d+: cannot connect to the proxy http://bob:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(HTTP_PROXY\\) to reach ssm\\.sandbox\\.test:\\d+: connection refused`,
      ),
    );
    expect(c.fix).toBe(
      'Check the proxy address in HTTP_PROXY and that the proxy runs, or unset it if this network needs no proxy.',
    );
    expect(JSON.stringify(c)).not.toContain('hunter2');
  });

  it('the proxy refuses (407 without credentials): says so, and where the credentials go', async () => {
    const cp = controlPlane(plain, { proxy: authProxy.url });
    const report = await runPreventive(cp, {
      checks: ['ssm-endpoint', 'proxy'],
      proxy: { url: authProxy.url },
    });
    const c = check(report, 'ssm-endpoint');
    expect(c).toMatchObject({ status: 'fail', figure: 'proxy refused (HTTP 407)' });
    expect(c.detail).toMatch(
      /refused the tunnel to ssm\.sandbox\.test:\d+ \(HTTP 407 Proxy Authentication Required\)/,
    );
    expect(c.fix).toMatch(
      /^The proxy wants credentials: put them in connection\.proxy as http:\/\/user:password@host:port/,
    );
    const px = check(report, 'proxy');
    expect(px.status).toBe('warn');
    expect(px.detail).toMatch(
      /refuses CONNECT to ssm\.sandbox\.test:\d+ for the SSM API and the data channel \(HTTP 407 Proxy Authentication Required\)/,
    );
    expect(px.fix).toMatch(/wants credentials: put them in connection\.proxy/);
  });

  it('a proxy the settings report as down: the proxy check says which and how to fix it', async () => {
    const port = await closedPort();
    const dead = `http://127.0.0.1:${port}`;
    const cp = controlPlane(plain, { proxy: dead });
    const c = check(await runPreventive(cp, { checks: ['proxy'], proxy: { url: dead } }), 'proxy');
    expect(c.status).toBe('warn');
    expect(c.detail).toMatch(
      new RegExp(
        `Problem: cannot connect to the proxy http://127\\.0\\.0\\.1:${port} \\(connection\\.proxy\\) to reach ssm\\.sandbox\\.test:\\d+: connection refused`,
      ),
    );
    expect(c.fix).toMatch(/Check the proxy address in connection\.proxy and that the proxy runs/);
  });
});

describe('diagnostics and the CA bundle', () => {
  it('through the proxy, the TLS sandbox passes only with connection.ca_bundle', async () => {
    const without = check(
      await runPreventive(controlPlane(secure, { proxy: proxy.url }), { checks: ['ssm-endpoint'] }),
      'ssm-endpoint',
    );
    expect(without).toMatchObject({ status: 'fail', figure: 'unreachable' });
    expect(without.detail).toMatch(
      /^Could not reach the SSM endpoint https:\/\/ssm\.sandbox\.test:\d+ through the proxy http:\/\/127\.0\.0\.1:\d+ \(connection\.proxy\): the TLS certificate of ssm\.sandbox\.test:\d+ is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    );
    expect(without.fix).toMatch(/set connection\.ca_bundle \(or AWS_CA_BUNDLE\)/);

    const withCa = check(
      await runPreventive(controlPlane(secure, { proxy: proxy.url, caBundle: CA }), {
        checks: ['ssm-endpoint'],
      }),
      'ssm-endpoint',
    );
    expect(withCa.status).toBe('pass');
    expect(withCa.detail).toMatch(/through the proxy http:\/\/127\.0\.0\.1:\d+ .*\(tunnel .* \+ TLS .*\)\.$/);
  });

  it('directly, the TLS sandbox passes only with the bundle too (AWS_CA_BUNDLE)', async () => {
    const direct = await startSandbox({ port: 0, tls: TLS });
    try {
      const bare = check(
        await runPreventive(controlPlane(direct), { checks: ['ssm-endpoint'] }),
        'ssm-endpoint',
      );
      expect(bare).toMatchObject({ status: 'fail', figure: 'unreachable' });
      expect(bare.detail).toMatch(/TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
      const trusted = check(
        await runPreventive(controlPlane(direct, { env: { AWS_CA_BUNDLE: CA } }), {
          checks: ['ssm-endpoint'],
        }),
        'ssm-endpoint',
      );
      expect(trusted.status).toBe('pass');
      expect(trusted.detail).not.toMatch(/proxy/);
    } finally {
      await direct.close();
    }
  });
});
