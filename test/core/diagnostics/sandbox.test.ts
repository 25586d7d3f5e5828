/**
 * runDiagnostics against the embedded sandbox with faults injected: every failing check names
 * the real cause (expired or unknown credentials, an offline or unregistered instance, an old
 * agent, AccessDenied on StartSession, a refused data-channel endpoint, clock skew, throttling,
 * a check that hangs past its deadline, a proxy that refuses CONNECT), and a full run adds the
 * region ranking, resources, store health and recent failures.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialSourceFor } from '../../../main/core/diagnostics/credential-source.js';
import { runDiagnostics } from '../../../main/core/diagnostics/index.js';
import { Network } from '../../../main/core/net/network.js';
import { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { ADMIN_TOKEN_HEADER } from '../../../main/sandbox/http-server.js';
import { startSandbox, type SandboxHandle } from '../../../main/sandbox/server.js';
import { DiagnosticReportSchema, type HistorySession } from '../../../preload/api.js';
import { blackHole, check, closedPort, fakeProxy, runPreventive, until, WEB1 } from './fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rig {
  sandbox: SandboxHandle;
  cp: ControlPlane;
}

async function rig(options: Parameters<typeof startSandbox>[0] = {}): Promise<Rig> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const cp = controlPlane(sandbox.endpoint, sandbox.region, sandbox.credentials);
  cleanups.push(() => sandbox.close());
  return { sandbox, cp };
}

function controlPlane(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): ControlPlane {
  const cp = new ControlPlane({
    region,
    endpoint,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    maxAttempts: 1,
  });
  cleanups.push(() => cp.dispose());
  return cp;
}

async function admin(sandbox: SandboxHandle, path: string, body: unknown): Promise<Record<string, string>> {
  const res = await fetch(`${sandbox.endpoint}/__sandbox${path}`, {
    method: 'POST',
    headers: { [ADMIN_TOKEN_HEADER]: sandbox.adminToken, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

describe('preventive diagnostics against the sandbox', () => {
  it('pass on a healthy instance, report each check as it finishes, and produce a valid report', async () => {
    const { cp } = await rig();
    const seen: string[] = [];
    const report = await runPreventive(cp, { instanceId: 'web-1', onCheck: (c) => seen.push(c.id) });
    expect(DiagnosticReportSchema.parse(report)).toEqual(report);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['credentials', 'pass'],
      ['ssm-endpoint', 'pass'],
      ['instance', 'pass'],
      ['agent-version', 'pass'],
      ['start-session', 'pass'],
      ['data-channel', 'pass'],
      ['clock', 'pass'],
      ['proxy', 'pass'],
    ]);
    expect(seen.sort()).toEqual(report.checks.map((c) => c.id).sort());
    expect(report.summary).toEqual({ pass: 8, warn: 0, fail: 0, skip: 0 });
    expect(report).toMatchObject({
      kind: 'preventive',
      profile: 'sandbox',
      region: 'us-east-1',
      instanceId: 'web-1',
    });
    expect(report).not.toHaveProperty('regions');
    expect(check(report, 'credentials').figure).toBe(
      'arn:aws:iam::123456789012:user/sandbox-user (account 123456789012)',
    );
    expect(check(report, 'instance').detail).toMatch(
      /^i-0b5bb7865829a72f8 \(web-1\) is registered with Systems Manager and Online/,
    );
    expect(check(report, 'agent-version').figure).toBe('agent 3.3.1142.0');
    expect(check(report, 'start-session').detail).toMatch(
      /StartSession for i-0b5bb7865829a72f8 succeeded \(session sandbox-user-[0-9a-f]{17}, terminated at once\)/,
    );
    expect(check(report, 'data-channel').detail).toMatch(/test session's StreamUrl/);
    expect(check(report, 'ssm-endpoint').detail).toMatch(/MissingAuthenticationTokenException/);
  });

  it('the test session is terminated at once', async () => {
    const { sandbox, cp } = await rig();
    await runPreventive(cp, { checks: ['credentials', 'start-session'] });
    const sessions = sandbox.registry.list('History');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      status: 'Terminated',
      reason: expect.stringMatching(/EC2 Connect diagnostics/),
    });
    expect(sandbox.registry.list('Active')).toHaveLength(0);
  });

  it('expired credentials: the credentials check says so, with the fix for where they come from', async () => {
    const { sandbox } = await rig();
    const creds = await admin(sandbox, '/credentials/temporary', { expiresInSeconds: -60 });
    const cp = controlPlane(sandbox.endpoint, sandbox.region, {
      accessKeyId: creds.AccessKeyId!,
      secretAccessKey: creds.SecretAccessKey!,
      sessionToken: creds.SessionToken!,
    });
    const report = await runPreventive(cp, {
      credentialSource: { kind: 'sso', loginProfile: 'corp-sso' },
      profile: 'corp',
    });
    const c = check(report, 'credentials');
    expect(c).toMatchObject({ status: 'fail', figure: 'expired' });
    expect(c.detail).toMatch(
      /The credentials of profile corp \(access key ASIA…\w{4}\) have expired \(ExpiredToken/,
    );
    expect(c.fix).toBe('Sign in again: run `aws sso login --profile corp-sso`, or sign in from the app.');
    // What needs credentials is skipped with the reason; the rest still runs.
    expect(check(report, 'instance')).toMatchObject({
      status: 'skip',
      detail: 'Not checked: it needs "Credentials valid", which failed (expired).',
    });
    expect(check(report, 'start-session').status).toBe('skip');
    expect(check(report, 'ssm-endpoint').status).toBe('pass');
    expect(report.summary).toMatchObject({ fail: 1 });
  });

  it('an unknown access key and a wrong secret are told apart', async () => {
    const { sandbox } = await rig();
    const unknown = await runPreventive(
      controlPlane(sandbox.endpoint, sandbox.region, {
        accessKeyId: 'AKIAUNKNOWNKEY000001',
        secretAccessKey: 'x',
      }),
      {
        credentialSource: { kind: 'static' },
        profile: 'dev',
      },
    );
    expect(check(unknown, 'credentials')).toMatchObject({
      status: 'fail',
      figure: 'unknown access key AKIA…0001',
    });
    expect(check(unknown, 'credentials').detail).toMatch(/InvalidClientTokenId/);
    expect(check(unknown, 'credentials').fix).toMatch(
      /aws_access_key_id in ~\/\.aws\/credentials \(\[dev\]\)/,
    );
    const wrong = await runPreventive(
      controlPlane(sandbox.endpoint, sandbox.region, {
        accessKeyId: sandbox.credentials.accessKeyId,
        secretAccessKey: 'wrong',
      }),
      { credentialSource: { kind: 'static' } },
    );
    expect(check(wrong, 'credentials')).toMatchObject({ status: 'fail', figure: 'wrong secret key' });
    expect(check(wrong, 'credentials').detail).toMatch(/SignatureDoesNotMatch/);
  });

  it("the app's credential resolver errors keep their own words and fix", async () => {
    const { sandbox } = await rig();
    const cp = new ControlPlane({
      region: 'us-east-1',
      endpoint: sandbox.endpoint,
      maxAttempts: 1,
      credentials: () =>
        Promise.reject(
          Object.assign(new Error('Profile "corp": the SSO session expired. Sign in again.'), {
            name: 'CredentialError',
            code: 'sso-token-expired',
            problem: 'The SSO session of profile corp expired at 09:00',
            fix: 'Sign in again from the app, or run `aws sso login --profile corp`.',
          }),
        ),
    });
    cleanups.push(() => cp.dispose());
    const c = check(await runPreventive(cp, { checks: ['credentials'], profile: 'corp' }), 'credentials');
    expect(c).toEqual(
      expect.objectContaining({
        status: 'fail',
        figure: 'expired',
        detail: 'The SSO session of profile corp expired at 09:00.',
        fix: 'Sign in again from the app, or run `aws sso login --profile corp`.',
      }),
    );
  });

  it('no credentials for a named profile: says so, with how to set it up', async () => {
    const { sandbox } = await rig();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-diag-'));
    const saved = { c: process.env.AWS_CONFIG_FILE, k: process.env.AWS_SHARED_CREDENTIALS_FILE };
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    await writeFile(process.env.AWS_CONFIG_FILE, '[profile other]\nregion = us-east-1\n');
    await writeFile(process.env.AWS_SHARED_CREDENTIALS_FILE, '');
    cleanups.push(async () => {
      for (const [k, v] of [
        ['AWS_CONFIG_FILE', saved.c],
        ['AWS_SHARED_CREDENTIALS_FILE', saved.k],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(dir, { recursive: true, force: true });
    });
    const cp = new ControlPlane({
      region: 'us-east-1',
      endpoint: sandbox.endpoint,
      profile: 'nope',
      maxAttempts: 1,
    });
    cleanups.push(() => cp.dispose());
    const report = await runDiagnostics({
      kind: 'preventive',
      controlPlane: cp,
      profile: 'nope',
      instanceId: WEB1,
      env: {},
    });
    const c = check(report, 'credentials');
    expect(c).toMatchObject({ status: 'fail', figure: 'no credentials' });
    expect(c.detail).toMatch(/No credentials were found for profile nope/);
    expect(c.fix).toMatch(/`aws configure --profile nope`/);
  });

  it('an offline instance (ConnectionLost): names the agent and what to check', async () => {
    const { sandbox, cp } = await rig();
    sandbox.fleet.update(WEB1, { pingStatus: 'ConnectionLost' });
    const report = await runPreventive(cp);
    const c = check(report, 'instance');
    expect(c.status).toBe('fail');
    expect(c.figure).toMatch(/^ConnectionLost \(last ping \d+ s ago\)$/);
    expect(c.detail).toMatch(/is running but its SSM agent stopped reporting \(PingStatus ConnectionLost\)/);
    expect(c.fix).toMatch(/amazon-ssm-agent/);
    expect(c.fix).toMatch(/AmazonSSMManagedInstanceCore/);
    expect(c.fix).toMatch(/ssmmessages\.us-east-1\.amazonaws\.com/);
    // IAM allows the session; the instance is what is missing.
    expect(check(report, 'start-session')).toMatchObject({
      status: 'pass',
      figure: 'not denied (instance not connected)',
    });
  });

  it('a stopped instance: says it is stopped and to start it', async () => {
    const { sandbox, cp } = await rig();
    sandbox.fleet.update(WEB1, { state: 'stopped' });
    const c = check(await runPreventive(cp), 'instance');
    expect(c).toMatchObject({ status: 'fail', figure: 'ConnectionLost (instance stopped)' });
    expect(c.fix).toMatch(/aws ec2 start-instances --instance-ids i-0b5bb7865829a72f8/);
  });

  it('an instance not registered with SSM: names the instance profile, the agent and the route', async () => {
    const { sandbox, cp } = await rig();
    sandbox.fleet.update(WEB1, { ssmManaged: false });
    const report = await runPreventive(cp);
    const c = check(report, 'instance');
    expect(c).toMatchObject({ status: 'fail', figure: 'not registered with SSM' });
    expect(c.detail).toMatch(
      /EC2 knows i-0b5bb7865829a72f8 \(web-1\) \(running\) but Systems Manager does not/,
    );
    expect(c.fix).toMatch(/instance profile \(IAM role\) with the AmazonSSMManagedInstanceCore policy/);
    expect(check(report, 'agent-version')).toMatchObject({ status: 'skip' });
    expect(check(report, 'agent-version').detail).toMatch(/not registered with Systems Manager/);
  });

  it('an unknown instance id or name: not found, and the session check is skipped', async () => {
    const { cp } = await rig();
    const byId = await runPreventive(cp, { instanceId: 'i-0123456789abcdef0' });
    expect(check(byId, 'instance')).toMatchObject({ status: 'fail', figure: 'not found' });
    expect(check(byId, 'start-session').detail).toBe(
      'Not checked: the instance i-0123456789abcdef0 was not found.',
    );
    const byName = await runPreventive(cp, { instanceId: 'no-such-name' });
    expect(check(byName, 'instance')).toMatchObject({
      status: 'fail',
      figure: 'no instance named "no-such-name"',
    });
  });

  it('an old agent: fails before Session Manager, warns when it lacks features EC2 Connect uses', async () => {
    const { sandbox, cp } = await rig();
    sandbox.fleet.update(WEB1, { agentVersion: '2.3.50.0' });
    const old = check(
      await runPreventive(cp, { checks: ['credentials', 'instance', 'agent-version'] }),
      'agent-version',
    );
    expect(old).toMatchObject({ status: 'fail', figure: 'agent 2.3.50.0' });
    expect(old.detail).toMatch(/predates Session Manager, which needs 2\.3\.68\.0 or later/);
    expect(old.fix).toMatch(/AWS-UpdateSSMAgent/);
    sandbox.fleet.update(WEB1, { agentVersion: '3.0.900.0' });
    const older = check(
      await runPreventive(cp, { checks: ['credentials', 'instance', 'agent-version'] }),
      'agent-version',
    );
    expect(older.status).toBe('warn');
    expect(older.detail).toMatch(/non-interactive commands .*needs 3\.0\.1124\.0 or later/);
  });

  it('AccessDenied on StartSession: names ssm:StartSession, the instance and the document', async () => {
    const { sandbox, cp } = await rig();
    sandbox.fleet.update(WEB1, { startSessionDenied: true });
    const report = await runPreventive(cp);
    const c = check(report, 'start-session');
    expect(c).toMatchObject({ status: 'fail', figure: 'AccessDenied on ssm:StartSession' });
    expect(c.detail).toMatch(
      /AccessDeniedException: User: arn:aws:iam::123456789012:user\/sandbox-user is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:123456789012:instance\/i-0b5bb7865829a72f8/,
    );
    expect(c.fix).toMatch(
      /Allow ssm:StartSession for arn:aws:iam::123456789012:user\/sandbox-user on the instance/,
    );
    expect(c.fix).toMatch(/document\/SSM-SessionManagerRunShell/);
    expect(check(report, 'instance').status).toBe('pass');
    // Without a StreamUrl the data channel is checked at the region's endpoint (here the sandbox).
    expect(check(report, 'data-channel').detail).toMatch(/the region's data-channel endpoint/);
  });

  it('a data-channel endpoint that refuses connections: the data-channel check names it', async () => {
    const { sandbox, cp } = await rig();
    const port = await closedPort();
    sandbox.fleet.update(WEB1, { dataChannelEndpoint: `ws://127.0.0.1:${port}` });
    const report = await runPreventive(cp);
    const c = check(report, 'data-channel');
    expect(c).toMatchObject({ status: 'fail', figure: 'unreachable' });
    expect(c.detail).toMatch(
      new RegExp(
        `Could not connect to 127\\.0\\.0\\.1:${port} \\(the test session's StreamUrl\\): connection refused`,
      ),
    );
    expect(c.fix).toMatch(new RegExp(`TCP connections from this computer to 127\\.0\\.0\\.1:${port}`));
    expect(check(report, 'start-session').status).toBe('pass');
  });

  it('clock skew: warns above a minute, fails above 5 minutes, saying which way', async () => {
    const { cp } = await rig();
    const ahead = check(
      await runPreventive(cp, { now: () => Date.now() + 2 * 60_000, checks: ['ssm-endpoint', 'clock'] }),
      'clock',
    );
    expect(ahead).toMatchObject({
      status: 'warn',
      figure: expect.stringMatching(/^clock (1 min 5\d s|2 min( \d s)?) ahead$/),
    });
    expect(ahead.detail).toMatch(/This computer's clock is .* ahead of AWS's \(AWS's Date header: /);
    const behind = check(
      await runPreventive(cp, { now: () => Date.now() - 6 * 60_000, checks: ['ssm-endpoint', 'clock'] }),
      'clock',
    );
    expect(behind).toMatchObject({
      status: 'fail',
      figure: expect.stringMatching(/^clock (5 min 5\d s|6 min( \d s)?) behind$/),
    });
    expect(behind.detail).toMatch(/refuses requests signed more than 5 minutes off/);
    expect(behind.fix).toBeTruthy();
  });

  it("AWS's own clock off by more than STS allows: the credentials check blames the clock", async () => {
    const { cp } = await rig({ now: () => Date.now() + 20 * 60_000 });
    const c = check(await runPreventive(cp, { checks: ['credentials'] }), 'credentials');
    expect(c).toMatchObject({ status: 'fail', figure: 'signature expired (clock)' });
    expect(c.fix).toMatch(/Clock in sync/);
  });

  it('throttling: the checks that call AWS say they were throttled; the unsigned endpoint check still passes', async () => {
    const { sandbox, cp } = await rig();
    sandbox.faults.set({ controlPlane: { throttleRate: 1 } });
    const report = await runPreventive(cp);
    const c = check(report, 'credentials');
    expect(c).toMatchObject({ status: 'fail', figure: 'throttled' });
    expect(c.detail).toBe(
      'AWS throttled STS GetCallerIdentity (ThrottlingException: Rate exceeded), so this could not be checked.',
    );
    expect(c.fix).toMatch(/Too many API calls/);
    expect(check(report, 'ssm-endpoint').status).toBe('pass');
  });

  it('a check that hangs past its deadline fails with "did not finish within" and what it waited for; the run ends on time', async () => {
    const { sandbox, cp } = await rig();
    sandbox.faults.set({ controlPlane: { delayMs: 10_000 } });
    const t0 = Date.now();
    const report = await runPreventive(cp, { timeoutMs: 400 });
    expect(Date.now() - t0).toBeLessThan(3000);
    const c = check(report, 'credentials');
    expect(c).toMatchObject({ status: 'fail', figure: 'did not finish within 0.4 s' });
    expect(c.detail).toMatch(
      /^It was still waiting for STS GetCallerIdentity at 127\.0\.0\.1:\d+ after 0\.4 s; that work was stopped\.$/,
    );
    expect(c.durationMs).toBeGreaterThanOrEqual(390);
    expect(check(report, 'instance').status).toBe('skip');
  });

  it('an endpoint that never answers: every check that waits fails at its deadline and no connection is left open', async () => {
    const hole = await blackHole();
    cleanups.push(() => hole.close());
    const cp = controlPlane(hole.url, 'us-east-1', {
      accessKeyId: 'AKIAEXAMPLEEXAMPLE01',
      secretAccessKey: 'x',
    });
    const report = await runPreventive(cp, { timeoutMs: 300 });
    expect(check(report, 'credentials').figure).toBe('did not finish within 0.3 s');
    expect(check(report, 'ssm-endpoint')).toMatchObject({ status: 'fail' });
    expect(check(report, 'clock').status).toBe('skip');
    expect(hole.accepted()).toBeGreaterThanOrEqual(2);
    await until(() => hole.open() === 0, 2000);
  });

  it('proxy settings: reports which proxy applies to each host and warns when it refuses CONNECT to the data channel', async () => {
    const { sandbox, cp } = await rig();
    // The data channel at an AWS host name: only the (fake) proxy is ever asked about it.
    sandbox.fleet.update(WEB1, { dataChannelEndpoint: 'wss://ssmmessages.us-east-1.amazonaws.com' });
    const only = ['credentials', 'start-session', 'proxy'];
    const refusing = await fakeProxy(403, 'Forbidden');
    cleanups.push(() => refusing.close());
    // The probes' Network made from the same settings, as the app and the CLI pass it.
    const network = new Network({ env: { HTTPS_PROXY: refusing.url } });
    cleanups.push(() => network.dispose());
    const warn = check(
      await runPreventive(cp, { checks: only, env: { HTTPS_PROXY: refusing.url }, network }),
      'proxy',
    );
    expect(warn.status).toBe('warn');
    expect(warn.figure).toBe(`HTTPS_PROXY=${refusing.url}`);
    expect(warn.detail).toMatch(/SSM API \(127\.0\.0\.1:\d+\): direct \(no HTTP_PROXY is set\)/);
    expect(warn.detail).toMatch(
      /data channel \(ssmmessages\.us-east-1\.amazonaws\.com:443\): through http:\/\/127\.0\.0\.1:\d+ \(HTTPS_PROXY applies\)/,
    );
    expect(warn.detail).toMatch(
      /refuses CONNECT to ssmmessages\.us-east-1\.amazonaws\.com:443 for the data channel \(HTTP 403 Forbidden\)/,
    );
    expect(warn.detail).toMatch(/EC2 Connect follows these settings\./);
    expect(warn.fix).toMatch(
      /Add ssmmessages\.us-east-1\.amazonaws\.com \(or \.amazonaws\.com\) to NO_PROXY/,
    );
    expect(refusing.requests).toEqual(['ssmmessages.us-east-1.amazonaws.com:443']);

    // Settings that differ from the Network EC2 Connect's connections follow (the control
    // plane's, direct here): the check says how those really go.
    const differs = check(
      await runPreventive(cp, { checks: only, env: { HTTPS_PROXY: refusing.url } }),
      'proxy',
    );
    expect(differs.detail).toMatch(
      /EC2 Connect's own connections are set up differently: ssmmessages\.us-east-1\.amazonaws\.com directly \(no HTTPS_PROXY is set\)/,
    );

    const excluded = check(
      await runPreventive(cp, {
        checks: only,
        env: { HTTPS_PROXY: refusing.url, NO_PROXY: '.amazonaws.com' },
      }),
      'proxy',
    );
    expect(excluded.status).toBe('pass');
    expect(excluded.detail).toMatch(/direct \(excluded by NO_PROXY entry "\.amazonaws\.com"\)/);

    const open = await fakeProxy(200, 'Connection established');
    cleanups.push(() => open.close());
    const ok = check(await runPreventive(cp, { checks: only, env: { https_proxy: open.url } }), 'proxy');
    expect(ok.status).toBe('pass');
    expect(ok.detail).toMatch(/the proxy opened a tunnel to ssmmessages\.us-east-1\.amazonaws\.com:443/);
  });

  it('rejects unknown check ids', async () => {
    const { cp } = await rig();
    await expect(runPreventive(cp, { checks: ['nope'] })).rejects.toThrow(
      /unknown check "nope" for a preventive run/,
    );
  });
});

describe('full diagnostics', () => {
  const failed = (over: Partial<HistorySession>): HistorySession => ({
    id: Math.random().toString(36).slice(2),
    awsSessionId: 'sandbox-user-0123456789abcdef0',
    instanceId: WEB1,
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    source: 'app',
    user: 'me',
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    endedAt: new Date().toISOString(),
    outcome: 'failed',
    endReason: 'TargetNotConnected: i-0b5bb7865829a72f8 is not connected.',
    exitCode: null,
    bytesIn: 0,
    bytesOut: 0,
    reconnects: 0,
    openMs: null,
    ...over,
  });

  it('adds the region ranking (unreachable last), resources, store health and recent failures', async () => {
    const { sandbox, cp } = await rig();
    const port = await closedPort();
    const report = await runDiagnostics({
      kind: 'full',
      controlPlane: cp,
      profile: 'sandbox',
      instanceId: null,
      env: {},
      credentialSource: { kind: 'sandbox' },
      regions: [
        { region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}` },
        { region: 'us-east-1', endpoint: sandbox.endpoint },
      ],
      resources: {
        governor: {
          level: 'refuse',
          memory: { usedBytes: 900 * 1024 * 1024, limitBytes: 800 * 1024 * 1024 },
          cpu: { percent: 12, limitPercent: 80 },
          reason: 'memory 900 MiB is above the limit of 800 MiB',
          refusal: 'New sessions are refused: memory 900 MiB is above the limit of 800 MiB.',
        },
      },
      store: {
        status: { available: true, problem: null, file: '/tmp/sessions.db' },
        stats: { fileBytes: 4096 * 10, walBytes: 0, rows: { sessions: 3 } },
        integrity: ['*** in database main ***\nPage 7: btreeInitPage() returns error code 11'],
      },
      recentSessions: [
        failed({}),
        failed({}),
        failed({
          instanceId: 'i-0a03534fd537d6397',
          instanceName: 'web-2',
          endReason: 'AccessDeniedException',
        }),
        failed({ startedAt: new Date(Date.now() - 3 * 86_400_000).toISOString() }),
        failed({ outcome: 'ended' }),
      ],
    });
    expect(DiagnosticReportSchema.parse(report)).toEqual(report);
    expect(report.checks.map((c) => c.id)).toEqual([
      'credentials',
      'ssm-endpoint',
      'instance',
      'agent-version',
      'start-session',
      'data-channel',
      'clock',
      'proxy',
      'region-latency',
      'resources',
      'store',
      'recent-failures',
    ]);
    // Without an instance its checks are skipped, and the data channel is checked at the region's endpoint.
    expect(check(report, 'instance')).toMatchObject({
      status: 'skip',
      detail: 'No instance was given (--instance-id).',
    });
    expect(check(report, 'data-channel').status).toBe('pass');

    expect(report.regions!.map((r) => [r.region, r.ok])).toEqual([
      ['us-east-1', true],
      ['eu-west-1', false],
    ]);
    expect(report.regions![1]!.error).toMatch(/connection refused/);
    const regions = check(report, 'region-latency');
    expect(regions.status).toBe('pass');
    expect(regions.detail).toMatch(
      /1 of 2 regions answered; fastest us-east-1 .* Your region us-east-1 is 1st/,
    );

    const res = check(report, 'resources');
    expect(res).toMatchObject({
      status: 'fail',
      figure: 'memory 900.0 MiB of 800.0 MiB (113 %), CPU 12 % of 80 %',
    });
    expect(res.detail).toMatch(/refuses new sessions: New sessions are refused/);

    const store = check(report, 'store');
    expect(store.status).toBe('fail');
    expect(store.detail).toMatch(/integrity check of \/tmp\/sessions\.db found problems: .*btreeInitPage/);

    const recent = check(report, 'recent-failures');
    expect(recent).toMatchObject({ status: 'warn', figure: '3 failed in 24 h' });
    expect(recent.detail).toMatch(
      /web-1 \(i-0b5bb7865829a72f8\): 2 \(last 1 h ago; "TargetNotConnected: i-0b5bb7865829a72f8 is not connected\."\)/,
    );
    expect(recent.detail).toMatch(/web-2 \(i-0a03534fd537d6397\): 1/);
    expect(recent.fix).toMatch(/ec2-connect diagnose preventive --instance-id i-0b5bb7865829a72f8/);
  });

  it('skips what it was not given, with the reason, and passes a healthy store and an empty history', async () => {
    const { sandbox, cp } = await rig();
    const report = await runDiagnostics({
      kind: 'full',
      controlPlane: cp,
      profile: 'sandbox',
      instanceId: WEB1,
      env: {},
      credentialSource: { kind: 'sandbox' },
      regions: [{ region: 'us-east-1', endpoint: sandbox.endpoint }],
      resourcesUnavailable: 'Not checked: no EC2 Connect app is running.',
      store: {
        status: { available: true, problem: null, file: '/tmp/s.db' },
        stats: { fileBytes: 8192, walBytes: 0, schemaVersion: 4, rows: { sessions: 0 } },
        integrity: ['ok'],
      },
      recentSessions: [],
    });
    expect(check(report, 'resources')).toMatchObject({
      status: 'skip',
      detail: 'Not checked: no EC2 Connect app is running.',
    });
    expect(check(report, 'store')).toMatchObject({
      status: 'pass',
      figure: '0 sessions, 8.0 KiB (WAL 0 B), integrity ok',
    });
    expect(check(report, 'recent-failures')).toMatchObject({ status: 'pass', figure: 'none in 24 h' });
    expect(report.summary.fail).toBe(0);
  });
});

describe('credentialSourceFor', () => {
  it('reads SSO, assume-role chains, credential_process and static keys from the shared files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-diag-'));
    const saved = { c: process.env.AWS_CONFIG_FILE, k: process.env.AWS_SHARED_CREDENTIALS_FILE };
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    cleanups.push(async () => {
      for (const [k, v] of [
        ['AWS_CONFIG_FILE', saved.c],
        ['AWS_SHARED_CREDENTIALS_FILE', saved.k],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(dir, { recursive: true, force: true });
    });
    await writeFile(
      process.env.AWS_CONFIG_FILE,
      [
        '[profile sso]',
        'sso_session = corp',
        'sso_account_id = 123456789012',
        '[profile admin]',
        'role_arn = arn:aws:iam::123456789012:role/Admin',
        'source_profile = sso',
        '[profile keys-role]',
        'role_arn = arn:aws:iam::123456789012:role/Admin',
        'source_profile = keys',
        '[profile proc]',
        'credential_process = /bin/echo',
        '[sso-session corp]',
        'sso_start_url = https://corp.awsapps.com/start',
        '',
      ].join('\n'),
    );
    await writeFile(
      process.env.AWS_SHARED_CREDENTIALS_FILE,
      '[keys]\naws_access_key_id = AKIA1\naws_secret_access_key = x\n',
    );
    expect(await credentialSourceFor('sso')).toEqual({ kind: 'sso', loginProfile: 'sso' });
    expect(await credentialSourceFor('admin')).toEqual({ kind: 'assume-role', loginProfile: 'sso' });
    expect(await credentialSourceFor('keys-role')).toEqual({ kind: 'assume-role' });
    expect(await credentialSourceFor('proc')).toEqual({ kind: 'process' });
    expect(await credentialSourceFor('keys')).toEqual({ kind: 'static' });
    expect(await credentialSourceFor('missing')).toEqual({ kind: 'unknown' });
    expect(await credentialSourceFor('sandbox')).toEqual({ kind: 'sandbox' });
  });
});
