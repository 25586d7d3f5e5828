/**
 * connection.proxy / connection.no_proxy for real: the sandbox advertises itself as
 * ssm.sandbox.test, a name that resolves nowhere, so only a proxy that maps it to this machine
 * can reach it. Control-plane calls and the data-channel WebSocket must both go through the
 * proxy's CONNECT tunnels; NO_PROXY sends them direct (and so they fail); credentials in the
 * proxy URL are used and never shown.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../main/core/log/logger.js';
import { DataChannel, DataChannelError } from '../../../main/core/ssm/data-channel.js';
import { SsmSession } from '../../../main/core/ssm/session.js';
import { ControlPlane, type ControlPlaneOptions } from '../../../main/core/ssm/control-plane.js';
import { AwsCallError } from '../../../main/core/ssm/errors.js';
import { Network } from '../../../main/core/net/network.js';
import { NetworkConfigError, ProxyError } from '../../../main/core/net/errors.js';
import { startSandbox, type SandboxHandle } from '../../../main/sandbox/server.js';
import {
  closedPort,
  everyText,
  linuxInstance,
  rejectionOf,
  shellWorks,
  startConnectProxy,
  type ConnectProxy,
} from './connect-proxy.js';

const HOST = 'ssm.sandbox.test';
const USER = 'alice';
// Characters that must be %-encoded in a URL, so decoding is tested too.
const PASSWORD = 'p@ss:w/rd-7Zq!';

let sandbox: SandboxHandle;
let proxy: ConnectProxy;
let authProxy: ConnectProxy;
let target: string;
const planes: ControlPlane[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, advertisedHost: HOST });
  proxy = await startConnectProxy();
  authProxy = await startConnectProxy({ auth: { user: USER, password: PASSWORD } });
  target = linuxInstance(sandbox);
});
afterAll(async () => {
  for (const cp of planes) cp.dispose();
  await proxy.close();
  await authProxy.close();
  await sandbox.close();
});

function controlPlane(network?: ControlPlaneOptions['network']): ControlPlane {
  const cp = new ControlPlane({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: sandbox.credentials,
    maxAttempts: 1,
    circuitBreaker: false,
    connectionTimeoutMs: 3_000,
    ...(network ? { network } : {}),
  });
  planes.push(cp);
  return cp;
}

const hostTunnels = (p: ConnectProxy) =>
  p.tunnels.filter((t) => t.target === `${HOST}:${new URL(sandbox.endpoint).port}`);

describe('the sandbox behind a made-up host name', () => {
  it('advertises ssm.sandbox.test in its endpoint and StreamUrls; without a proxy the name does not resolve', async () => {
    expect(sandbox.endpoint).toMatch(/^http:\/\/ssm\.sandbox\.test:\d+$/);
    expect(sandbox.localEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const err = await rejectionOf(controlPlane().listInstances());
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err.message).toMatch(/cannot reach the AWS endpoint/);
    expect(err.message).toMatch(/(ENOTFOUND|EAI_AGAIN).*ssm\.sandbox\.test/);
  });
});

describe('through a CONNECT proxy (connection.proxy)', () => {
  it('control-plane calls and the data channel go through tunnels, reconnections too', async () => {
    const before = hostTunnels(proxy).length;
    const cp = controlPlane({ proxy: proxy.url });
    expect((await cp.getCallerIdentity()).arn).toContain('arn:aws:');
    expect((await cp.listInstances()).length).toBeGreaterThan(3);
    const session = await shellWorks(cp, target);
    try {
      expect(session.channel.url).toMatch(/^ws:\/\/ssm\.sandbox\.test:\d+\/v1\/data-channel\//);
      const tunnels = hostTunnels(proxy).slice(before);
      expect(tunnels.some((t) => t.firstBytes.startsWith('POST / HTTP/1.1'))).toBe(true);
      expect(tunnels.filter((t) => t.firstBytes.startsWith('GET /v1/data-channel/'))).toHaveLength(1);
      // The SDK's calls were sent inside tunnels, never as forwarded (absolute-form) requests.
      expect(tunnels.map((t) => t.sent).join('')).toMatch(/x-amz-target: AmazonSSM\.StartSession/i);
      expect(proxy.plainRequests).toEqual([]);

      // A dropped socket is reopened through the proxy as well.
      const reconnected = new Promise<void>((r) =>
        session.onConnectionEvent((e) => e.kind === 'reconnected' && r()),
      );
      session.simulateNetworkDrop();
      await reconnected;
      expect(
        hostTunnels(proxy)
          .slice(before)
          .filter((t) => t.firstBytes.startsWith('GET /v1/data-channel/')),
      ).toHaveLength(2);
    } finally {
      await session.terminate();
      session.dispose();
    }
  });

  it('HTTP_PROXY from the environment applies to http:// endpoints, HTTPS_PROXY does not (curl and Go rules)', async () => {
    const before = hostTunnels(proxy).length;
    const viaHttpProxy = controlPlane({ env: { HTTP_PROXY: proxy.url } });
    expect((await viaHttpProxy.listInstances()).length).toBeGreaterThan(3);
    expect(hostTunnels(proxy).length).toBeGreaterThan(before);

    const onlyHttps = controlPlane({ env: { HTTPS_PROXY: proxy.url } });
    expect((await rejectionOf(onlyHttps.listInstances())).message).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('connection.no_proxy (or NO_PROXY) matching the host sends it direct: the proxy sees nothing', async () => {
    for (const network of [
      { proxy: proxy.url, noProxy: '.sandbox.test' },
      { proxy: proxy.url, noProxy: `localhost, ${HOST}:${new URL(sandbox.endpoint).port}` },
      { proxy: proxy.url, env: { NO_PROXY: 'sandbox.test' } },
    ]) {
      const before = proxy.tunnels.length;
      const refusedBefore = proxy.refused.length;
      const cp = controlPlane(network);
      expect(cp.network.route(sandbox.endpoint).proxy).toBeNull();
      const err = await rejectionOf(cp.listInstances());
      // Direct: the name does not resolve, and the proxy was never asked.
      expect(err.message).toMatch(/(ENOTFOUND|EAI_AGAIN).*ssm\.sandbox\.test/);
      expect(proxy.tunnels.length).toBe(before);
      expect(proxy.refused.length).toBe(refusedBefore);
    }
    expect(
      new Network({ proxy: proxy.url, noProxy: '.sandbox.test' }).route(sandbox.endpoint).reason,
    ).toMatch(/connection\.no_proxy entry "\.sandbox\.test"/);

    // An entry for another host does not: through the proxy, working.
    const before = hostTunnels(proxy).length;
    const cp = controlPlane({ proxy: proxy.url, noProxy: 'other.example,.amazonaws.com' });
    expect(cp.network.route(sandbox.endpoint)).toMatchObject({
      proxy: proxy.url,
      source: 'connection.proxy',
    });
    expect((await cp.listInstances()).length).toBeGreaterThan(3);
    expect(hostTunnels(proxy).length).toBeGreaterThan(before);
  });

  it('loopback endpoints are never proxied, even with NO_PROXY empty', async () => {
    const before = proxy.tunnels.length;
    const cp = new ControlPlane({
      region: sandbox.region,
      endpoint: sandbox.localEndpoint,
      credentials: sandbox.credentials,
      maxAttempts: 1,
      network: { proxy: proxy.url },
    });
    planes.push(cp);
    expect((await cp.listInstances()).length).toBeGreaterThan(3);
    expect(proxy.tunnels.length).toBe(before);
  });
});

describe('proxy credentials', () => {
  it('user:password@ in the proxy URL is sent as Proxy-Authorization: sessions work', async () => {
    const cp = controlPlane({ proxy: authProxy.urlWith(USER, PASSWORD) });
    const session = await shellWorks(cp, target);
    try {
      const tunnels = hostTunnels(authProxy);
      expect(tunnels.some((t) => t.firstBytes.startsWith('POST / '))).toBe(true);
      expect(tunnels.some((t) => t.firstBytes.startsWith('GET /v1/data-channel/'))).toBe(true);
      expect(authProxy.refused).toEqual([]);
      // Nothing that describes the network shows the password.
      expect(JSON.stringify(cp.network)).not.toContain('rd-7Zq');
      expect(cp.network.route(sandbox.endpoint).proxy).toBe(`http://${USER}:***@127.0.0.1:${authProxy.port}`);
    } finally {
      await session.terminate();
      session.dispose();
    }
  });

  it('a wrong or missing password: a clear 407 error that never shows the password', async () => {
    const wrong = 'Wr0ng-s3cret!';
    for (const url of [authProxy.urlWith(USER, wrong), authProxy.url]) {
      const cp = controlPlane({ proxy: url });
      const err = await rejectionOf(cp.listInstances());
      expect(err).toBeInstanceOf(AwsCallError);
      expect(err.message).toMatch(
        /the proxy http:\/\/.*127\.0\.0\.1:\d+ \(connection\.proxy\) refused the tunnel to ssm\.sandbox\.test:\d+ \(HTTP 407/,
      );
      expect(err.message).toMatch(url.includes('@') ? /check them/ : /wants credentials/);
      expect(err.cause).toBeInstanceOf(ProxyError);
      expect((err.cause as ProxyError).status).toBe(407);
      const text = everyText(err);
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(encodeURIComponent(wrong));

      // The data channel reports it the same way.
      const channel = new DataChannel({
        streamUrl: `ws://${HOST}:${new URL(sandbox.endpoint).port}/v1/data-channel/s-0?role=publish_subscribe`,
        tokenValue: 't',
        sessionId: 's-0',
        network: cp.network,
      });
      const wsErr = await rejectionOf(channel.open());
      channel.dispose();
      expect(wsErr).toBeInstanceOf(DataChannelError);
      expect(wsErr.message).toMatch(
        /could not open the data channel: the proxy .* refused the tunnel .*HTTP 407/,
      );
      expect(everyText(wsErr)).not.toContain(wrong);
    }
  });

  it('the password of a proxy URL that cannot be used is not echoed either', () => {
    const secret = 'hunter2-xyz';
    const bad = [
      {
        proxy: `socks5://${USER}:${secret}@127.0.0.1:1080`,
        key: 'connection.proxy',
        says: /socks5:\/\/ proxy .*does not support/,
      },
      { proxy: `http://${USER}:${secret}@`, key: 'connection.proxy', says: /is not a proxy URL/ },
      {
        env: { HTTPS_PROXY: `http://${USER}:${secret} x@[bad` },
        key: 'HTTPS_PROXY',
        says: /HTTPS_PROXY is not a proxy URL/,
      },
      {
        env: { http_proxy: `ftp://proxy.example:21` },
        key: 'http_proxy',
        says: /http_proxy is a ftp:\/\/ proxy/,
      },
    ];
    for (const { key, says, ...options } of bad) {
      let err: unknown;
      try {
        new Network(options);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NetworkConfigError);
      expect((err as NetworkConfigError).key).toBe(key);
      expect((err as Error).message).toMatch(says);
      expect((err as Error).message).toMatch(/http:\/\/proxy\.example\.com:3128/);
      expect(everyText(err)).not.toContain(secret);
    }
    // And a scheme-less value is an http:// proxy, as curl and Go read it.
    expect(new Network({ proxy: `127.0.0.1:${authProxy.port}` }).route(sandbox.endpoint).proxy).toBe(
      `http://127.0.0.1:${authProxy.port}`,
    );
  });
});

describe('logs', () => {
  it('a session through an authenticating proxy, logged at debug: the password is in no line', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (l: string) => void lines.push(l) },
    });
    const cp = controlPlane({ proxy: authProxy.urlWith(USER, PASSWORD) });
    const session = await SsmSession.open({ controlPlane: cp, target, logger, cols: 80, rows: 24 });
    session.simulateNetworkDrop();
    await new Promise<void>((r) => session.onConnectionEvent((e) => e.kind === 'reconnected' && r()));
    await session.terminate();
    session.dispose();
    const failing = controlPlane({ proxy: authProxy.urlWith(USER, 'Wr0ng-s3cret') });
    logger.error(
      { err: await rejectionOf(failing.listInstances()), network: failing.network },
      'call failed',
    );
    // Even a raw proxy URL that some caller logs by mistake is redacted.
    logger.warn(
      { proxy: authProxy.urlWith(USER, PASSWORD) },
      `proxy is ${authProxy.urlWith(USER, PASSWORD)}`,
    );
    await new Promise((r) => setTimeout(r, 50));
    const text = lines.join('');
    expect(text).toMatch(/reconnect/);
    expect(text).toMatch(/407/);
    expect(text).toContain(`${USER}:***@127.0.0.1`);
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), 'Wr0ng-s3cret'])
      expect(text).not.toContain(secret);
  });
});

describe('a proxy that is down', () => {
  it('says which proxy and which setting, for control-plane calls and the data channel', async () => {
    const port = await closedPort();
    const cp = controlPlane({ proxy: `http://${USER}:${PASSWORD.replace(/[@:/]/g, '')}@127.0.0.1:${port}` });
    const err = await rejectionOf(cp.listInstances());
    expect(err.message).toMatch(
      new RegExp(
        `cannot connect to the proxy http://alice:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(connection\\.proxy\\) to reach ssm\\.sandbox\\.test:\\d+: connection refused`,
      ),
    );
    expect(err.message).toMatch(/Check that the proxy runs/);
    expect((err as AwsCallError).retryable).toBe(true);
    expect(everyText(err)).not.toContain('rd-7Zq');

    // From the environment, the variable is named (https endpoint: HTTPS_PROXY).
    const envCp = new ControlPlane({
      region: sandbox.region,
      endpoint: `https://${HOST}:443`,
      credentials: sandbox.credentials,
      maxAttempts: 1,
      network: { env: { HTTPS_PROXY: `127.0.0.1:${port}`, HTTP_PROXY: proxy.url } },
    });
    planes.push(envCp);
    expect((await rejectionOf(envCp.getCallerIdentity())).message).toMatch(
      new RegExp(`the proxy http://127\\.0\\.0\\.1:${port} \\(HTTPS_PROXY\\)`),
    );

    const channel = new DataChannel({
      streamUrl: `wss://${HOST}/v1/data-channel/s-1`,
      tokenValue: 't',
      sessionId: 's-1',
      network: envCp.network,
    });
    const wsErr = await rejectionOf(channel.open());
    channel.dispose();
    expect(wsErr.message).toMatch(
      new RegExp(
        `the proxy http://127\\.0\\.0\\.1:${port} \\(HTTPS_PROXY\\) to reach ssm\\.sandbox\\.test:443`,
      ),
    );
  });

  it('a proxy that accepts but never answers: a timeout naming it', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const network = new Network({ proxy: `http://127.0.0.1:${port}`, connectTimeoutMs: 300 });
      const channel = new DataChannel({
        streamUrl: `ws://${HOST}:1/v1/data-channel/s-2`,
        tokenValue: 't',
        sessionId: 's-2',
        connectTimeoutMs: 300,
        network,
      });
      const err = await rejectionOf(channel.open());
      channel.dispose();
      network.dispose();
      expect(err.message).toMatch(
        new RegExp(
          `the proxy http://127\\.0\\.0\\.1:${port} \\(connection\\.proxy\\) did not open a tunnel to ssm\\.sandbox\\.test:1 within 300 ms`,
        ),
      );
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});
