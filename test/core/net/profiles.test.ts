/**
 * resolveProfile({ network }) and CredentialResolver({ network }) through a CONNECT proxy: the
 * embedded sandbox profile (control plane and the data channels of the session manager's
 * sessions), an assume-role profile (STS AssumeRole), and an SSO profile (the device sign-in's
 * SSO OIDC calls, the SSO portal and STS). The sandbox is reachable only as ssm.sandbox.test,
 * which only the proxy resolves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialResolver } from '../../../main/core/credentials/resolver.js';
import { CredentialError, type CredentialPrompter } from '../../../main/core/credentials/types.js';
import { Network } from '../../../main/core/net/network.js';
import { SessionManager } from '../../../main/core/sessions/session-manager.js';
import { resolveProfile } from '../../../main/sandbox/embedded-profile.js';
import type { SandboxHandle } from '../../../main/sandbox/server.js';
import { startCredentialsFixture, type CredentialsFixture } from '../credentials/fixture.js';
import { linuxInstance, rejectionOf, startConnectProxy, type ConnectProxy } from './connect-proxy.js';

const HOST = 'ssm.sandbox.test';
let proxy: ConnectProxy;
let fx: CredentialsFixture;

beforeAll(async () => {
  proxy = await startConnectProxy();
  fx = await startCredentialsFixture({ advertisedHost: HOST, sso: { deviceCodeTtlSeconds: 30 } });
});
afterAll(async () => {
  await fx.close();
  await proxy.close();
});

/** Everything the clients sent through tunnels to the sandbox since `from`. */
const sentSince = (from: number): string =>
  proxy.tunnels
    .slice(from)
    .filter((t) => t.target.startsWith(`${HOST}:`))
    .map((t) => t.sent)
    .join('\n');

/** Approves SSO sign-ins through the admin API at the sandbox's real address. */
class ApprovingPrompter implements CredentialPrompter {
  readonly shown: string[] = [];
  constructor(private readonly sandbox: SandboxHandle) {}
  mfa(): Promise<string> {
    return Promise.reject(new Error('no MFA expected'));
  }
  async ssoDeviceLogin(info: { userCode: string }): Promise<void> {
    this.shown.push(info.userCode);
    const res = await fetch(`${this.sandbox.localEndpoint}/__sandbox/sso/device`, {
      method: 'POST',
      headers: { 'x-sandbox-admin-token': this.sandbox.adminToken, 'content-type': 'application/json' },
      body: JSON.stringify({ userCode: info.userCode, action: 'approve' }),
    });
    if (res.status !== 200) throw new Error(`approve: ${res.status} ${await res.text()}`);
  }
}

describe('the embedded sandbox profile', () => {
  it('control plane and the session manager’s data channels go through the proxy', async () => {
    const from = proxy.tunnels.length;
    const resolved = await resolveProfile({
      profile: 'sandbox',
      sandbox: { advertisedHost: HOST },
      network: { proxy: proxy.url },
    });
    const manager = new SessionManager({ controlPlaneFor: () => resolved.controlPlane });
    try {
      expect(resolved.endpoint).toMatch(/^http:\/\/ssm\.sandbox\.test:\d+$/);
      const info = await manager.open({
        profile: 'sandbox',
        region: resolved.region,
        target: linuxInstance(resolved.sandbox!),
      });
      let out = '';
      const seen = new Promise<void>((r) =>
        manager.onOutput(({ id, data }) => {
          if (id !== info.id) return;
          out += data.toString('utf8');
          if (out.includes('via-proxy-9')) r();
        }),
      );
      manager.write(info.id, 'echo via-proxy-$((4+5))\n');
      await seen;
      expect(manager.get(info.id)?.dataChannelEndpoint).toMatch(/^ssm\.sandbox\.test:\d+$/);
      const sent = sentSince(from);
      expect(sent).toMatch(/x-amz-target: AmazonSSM\.StartSession/i);
      expect(sent).toMatch(/GET \/v1\/data-channel\//);
      await manager.terminate(info.id);
    } finally {
      manager.dispose();
      await resolved.dispose();
    }
  });
});

describe('AWS profiles', () => {
  it('assume-role: STS AssumeRole (the owned resolver) and the control plane through the proxy', async () => {
    const from = proxy.tunnels.length;
    const resolved = await resolveProfile({ profile: 'admin', network: { proxy: proxy.url } });
    try {
      expect(resolved.endpoint).toMatch(/^http:\/\/ssm\.sandbox\.test:/);
      expect((await resolved.controlPlane.getCallerIdentity()).arn).toContain('assumed-role/SandboxAdmin/');
      const sent = sentSince(from);
      expect(sent).toMatch(/Action=AssumeRole/);
      expect(sent).toMatch(/Action=GetCallerIdentity/);
    } finally {
      await resolved.dispose();
    }
  });

  it('without the proxy STS is unreachable, and the error says so', async () => {
    const resolved = await resolveProfile({ profile: 'admin' });
    try {
      const err = await rejectionOf(resolved.controlPlane.getCallerIdentity());
      expect(err).toBeInstanceOf(CredentialError);
      expect(err.message).toMatch(/cannot reach STS to get credentials \((ENOTFOUND|EAI_AGAIN)/);
    } finally {
      await resolved.dispose();
    }
  });

  it('SSO: the device sign-in, the portal and STS through a shared Network, which outlives its users', async () => {
    const network = new Network({ proxy: proxy.url });
    const prompter = new ApprovingPrompter(fx.sandbox);
    const resolver = new CredentialResolver({ prompter, network });
    try {
      const from = proxy.tunnels.length;
      const resolved = await resolveProfile({ profile: 'sso-role', credentials: resolver, network });
      expect((await resolved.controlPlane.getCallerIdentity()).arn).toContain('assumed-role/SandboxPartner/');
      await resolved.dispose();
      expect(prompter.shown).toHaveLength(1);
      const sent = sentSince(from);
      for (const path of ['/client/register', '/device_authorization', '/token', '/federation/credentials'])
        expect(sent).toContain(` ${path}`);
      expect(sent).toMatch(/Action=AssumeRole/);
      expect(proxy.plainRequests).toEqual([]);
      // Neither the profile nor the resolver disposed the caller's Network.
      expect(() => network.webSocketAgent(`ws://${HOST}/`)).not.toThrow();
    } finally {
      resolver.dispose();
      network.dispose();
    }
  });
});
