/**
 * connection.ca_bundle for real: the sandbox serves HTTPS and wss with a certificate from a
 * test CA (test/fixtures/tls). Without the bundle the certificate is refused; with it the control
 * plane and the data channel work, directly and through a CONNECT tunnel; a bundle that cannot
 * be used is refused up front with an error naming the file and the setting.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkOptions } from '../../../main/core/config/apply.js';
import { loadConfig } from '../../../main/core/config/load.js';
import { NetworkConfigError } from '../../../main/core/net/errors.js';
import { Network, type NetworkOptions } from '../../../main/core/net/network.js';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { DataChannel, DataChannelError } from '../../../main/core/ssm/data-channel.js';
import { AwsCallError } from '../../../main/core/ssm/errors.js';
import { resolveProfile } from '../../../main/sandbox/embedded-profile.js';
import { startSandbox, type SandboxHandle } from '../../../main/sandbox/server.js';
import {
  linuxInstance,
  rejectionOf,
  shellWorks,
  startConnectProxy,
  type ConnectProxy,
} from './connect-proxy.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/tls');
const CA = path.join(FIXTURES, 'ca.pem');
const TLS = {
  key: readFileSync(path.join(FIXTURES, 'server.key')),
  cert: readFileSync(path.join(FIXTURES, 'server.pem')),
};
const CERT_ERROR =
  /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify the first certificate|self[- ]signed|UNABLE_TO_GET_ISSUER_CERT/i;

let direct: SandboxHandle;
let behindProxy: SandboxHandle;
let proxy: ConnectProxy;
let tmp: string;
const planes: ControlPlane[] = [];

beforeAll(async () => {
  direct = await startSandbox({ port: 0, tls: TLS });
  behindProxy = await startSandbox({ port: 0, tls: TLS, advertisedHost: 'ssm.sandbox.test' });
  proxy = await startConnectProxy();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'ec2c-ca-'));
});
afterAll(async () => {
  for (const cp of planes) cp.dispose();
  await direct.close();
  await behindProxy.close();
  await proxy.close();
  rmSync(tmp, { recursive: true, force: true });
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

describe('the sandbox over TLS', () => {
  it('serves https:// and wss:// with the test certificate', async () => {
    expect(direct.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const cp = controlPlane(direct, { caBundle: CA });
    const started = await cp.startSession({ target: linuxInstance(direct) });
    expect(started.streamUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/data-channel\//);
    await cp.terminateSession(started.sessionId);
  });
});

describe('without connection.ca_bundle', () => {
  it('the control plane refuses the certificate, and says which setting fixes it', async () => {
    const err = await rejectionOf(controlPlane(direct).getCallerIdentity());
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err.message).toMatch(CERT_ERROR);
    expect(err.message).toMatch(
      /TLS certificate of the AWS endpoint for us-east-1 is not trusted.*connection\.ca_bundle/,
    );
    expect((err as AwsCallError).retryable).toBe(false);
  });

  it('the data channel refuses it too', async () => {
    const started = await controlPlane(direct, { caBundle: CA }).startSession({
      target: linuxInstance(direct),
    });
    const channel = new DataChannel({ ...started, network: new Network({}) });
    const err = await rejectionOf(channel.open());
    channel.dispose();
    expect(err).toBeInstanceOf(DataChannelError);
    expect(err.message).toMatch(CERT_ERROR);
  });

  it('through a proxy, TLS to the endpoint still fails inside the tunnel', async () => {
    const before = proxy.tunnels.length;
    const err = await rejectionOf(controlPlane(behindProxy, { proxy: proxy.url }).listInstances());
    expect(err.message).toMatch(CERT_ERROR);
    // The tunnel was opened: it is the endpoint's certificate that is refused.
    expect(proxy.tunnels.length).toBeGreaterThan(before);
  });
});

describe('with connection.ca_bundle', () => {
  it('trusts the bundle on top of Node’s own roots', () => {
    const network = new Network({ caBundle: CA });
    expect(network.trustedCertificates).toHaveLength(tls.rootCertificates.length + 1);
    expect(network.trustedCertificates).toEqual(expect.arrayContaining([...tls.rootCertificates]));
    expect(network.describe().caBundle).toBe(`${CA} (connection.ca_bundle)`);
    network.dispose();
    // Without a bundle Node's defaults stay in force (no `ca` option at all).
    expect(new Network({}).trustedCertificates).toBeUndefined();
  });

  it('control-plane calls and a session (wss) work', async () => {
    const cp = controlPlane(direct, { caBundle: CA });
    expect((await cp.listInstances()).length).toBeGreaterThan(3);
    const session = await shellWorks(cp, linuxInstance(direct));
    expect(session.channel.url).toMatch(/^wss:/);
    await session.terminate();
    session.dispose();
  });

  it('through a CONNECT proxy: TLS inside the tunnels, for the control plane and the data channel', async () => {
    const before = proxy.tunnels.length;
    const cp = controlPlane(behindProxy, { proxy: proxy.url, caBundle: CA });
    const session = await shellWorks(cp, linuxInstance(behindProxy));
    try {
      expect(session.channel.url).toMatch(/^wss:\/\/ssm\.sandbox\.test:\d+\//);
      const tunnels = proxy.tunnels.slice(before);
      // At least one for the API calls and one for the WebSocket; each starts with a TLS ClientHello.
      expect(tunnels.length).toBeGreaterThanOrEqual(2);
      for (const t of tunnels) {
        expect(t.target).toBe(`ssm.sandbox.test:${new URL(behindProxy.endpoint).port}`);
        expect(t.firstBytes.charCodeAt(0)).toBe(0x16);
        expect(t.sent).not.toContain('x-amz-target');
      }
    } finally {
      await session.terminate();
      session.dispose();
    }
  });

  it('AWS_CA_BUNDLE is used when connection.ca_bundle is not set (networkOptions from the configuration)', async () => {
    const loaded = loadConfig({ content: { exists: true, data: {}, problem: null }, env: {} });
    const options = networkOptions(loaded.config, { AWS_CA_BUNDLE: CA });
    expect(options).toMatchObject({ proxy: null, noProxy: null, caBundle: null, env: { AWS_CA_BUNDLE: CA } });
    const cp = controlPlane(direct, options);
    expect(cp.network.caBundle).toEqual({ file: CA, key: 'AWS_CA_BUNDLE' });
    expect((await cp.getCallerIdentity()).arn).toContain('arn:aws:');
  });

  it('resolveProfile({ network }) gives the sandbox profile the bundle', async () => {
    const resolved = await resolveProfile({
      profile: 'sandbox',
      endpoint: direct.endpoint,
      network: { caBundle: CA },
    });
    try {
      expect(resolved.network?.caBundle?.file).toBe(CA);
      expect((await resolved.controlPlane.listInstances()).length).toBeGreaterThan(3);
    } finally {
      await resolved.dispose();
    }
  });
});

describe('a CA bundle that cannot be used', () => {
  function failure(options: NetworkOptions): NetworkConfigError {
    try {
      new Network(options).dispose();
    } catch (err) {
      expect(err).toBeInstanceOf(NetworkConfigError);
      return err as NetworkConfigError;
    }
    throw new Error('expected the Network to refuse the bundle');
  }

  it('a missing file, a folder, a file that is not PEM, a broken certificate: each named, with the fix', () => {
    const missing = path.join(tmp, 'nowhere.pem');
    const text = path.join(tmp, 'notes.txt');
    writeFileSync(text, 'this is not a certificate\n');
    const broken = path.join(tmp, 'broken.pem');
    writeFileSync(
      broken,
      '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
    );
    const cases: Array<[string, RegExp]> = [
      [missing, /there is no such file/],
      [tmp, /it is a folder, not a file/],
      [text, /holds no PEM certificate \(no -----BEGIN CERTIFICATE----- block\)/],
      [broken, /certificate 1 of 1 in .* is not a valid certificate/],
    ];
    for (const [file, why] of cases) {
      const err = failure({ caBundle: file });
      expect(err.key).toBe('connection.ca_bundle');
      expect(err.message).toContain(file);
      expect(err.message).toMatch(/^connection\.ca_bundle: /);
      expect(err.message).toMatch(why);
      expect(err.message).toMatch(/Set connection\.ca_bundle to a PEM file .* or unset it\./);
    }
  });

  it('from AWS_CA_BUNDLE: the variable is named; connection.ca_bundle wins over it', () => {
    const err = failure({ env: { AWS_CA_BUNDLE: path.join(tmp, 'gone.pem') } });
    expect(err.key).toBe('AWS_CA_BUNDLE');
    expect(err.message).toMatch(
      /^AWS_CA_BUNDLE: cannot read the CA bundle .*gone\.pem \(there is no such file\)\. Point AWS_CA_BUNDLE at a PEM file/,
    );
    expect(
      new Network({ caBundle: CA, env: { AWS_CA_BUNDLE: path.join(tmp, 'gone.pem') } }).caBundle?.file,
    ).toBe(CA);
  });

  it('is refused before anything starts: control plane, resolveProfile', async () => {
    const missing = path.join(tmp, 'missing.pem');
    expect(() => new ControlPlane({ region: 'us-east-1', network: { caBundle: missing } })).toThrow(
      NetworkConfigError,
    );
    const err = await rejectionOf(resolveProfile({ profile: 'sandbox', network: { caBundle: missing } }));
    expect(err).toBeInstanceOf(NetworkConfigError);
    expect(err.message).toContain(missing);
  });
});
