/**
 * The workspace on the configuration (main/core/config), credentials that need the user
 * (an MFA prompt answered through the bridge) and the diagnostics, against the sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStateSchema, DiagnosticReportSchema } from '../../../preload/api.js';
import { startSandbox, type SandboxHandle } from '../../../main/sandbox/server.js';
import {
  SANDBOX_ACCOUNT_ID,
  SANDBOX_MFA_SECRET,
  SANDBOX_MFA_SERIAL,
  totp,
} from '../../../main/sandbox/credentials.js';
import { canStartSession } from '../../../main/sandbox/fleet.js';
import { Workspace, type WorkspaceOptions } from '../../../main/core/workspace/workspace.js';
import { tempAwsConfig, type TempAwsConfig } from '../../helpers/aws-profile.js';
import { Recorder } from '../../helpers/workspace-recorder.js';
import { ConfigStore } from '../../../main/core/config/store.js';

const workspaces: Workspace[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(workspaces.splice(0).map((w) => w.close()));
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: WorkspaceOptions = {}) {
  const ws = await Workspace.start({ profile: 'sandbox', ...options });
  workspaces.push(ws);
  const rec = new Recorder(ws);
  const sandbox = ws.activeProfile()!.sandbox!;
  const online = sandbox.fleet.list().filter((i) => canStartSession(i) && i.platformType === 'Linux');
  return { ws, rec, sandbox, instanceId: online[0]!.instanceId, second: online[1]!.instanceId };
}

describe('Workspace configuration', () => {
  it('serves the configuration, applies changes live, and refuses invalid values with the reason', async () => {
    const { ws, rec, instanceId, second } = await start({ env: {} });
    const h = ws.handlers;
    const state = ConfigStateSchema.parse(await h['config.get'](undefined));
    expect(state.file).toBe('(in memory)');
    expect(state.keys.length).toBeGreaterThan(50);
    expect(state.values['session.max_total_sessions']).toBe(100);

    // A UI key: config.changed and settings.changed, one file behind both.
    await h['config.update']({ values: { 'ui.font_size': 17 } });
    expect(rec.of('config.changed').at(-1)!.values['ui.font_size']).toBe(17);
    expect(rec.of('settings.changed').at(-1)!.fontSize).toBe(17);
    expect((await h['settings.get'](undefined)).fontSize).toBe(17);
    await h['settings.update']({ resources: { maxMemoryMb: 2048 } });
    expect((await h['config.get'](undefined)).values['resources.max_memory_mb']).toBe(2048);
    expect(ws.governorState().memory.limitBytes).toBe(2048 * 2 ** 20);

    // Invalid: nothing changes, and the message names the key, the value and the range.
    await expect(
      h['config.update']({ values: { 'session.max_total_sessions': 0, 'ui.font_size': 12 } }),
    ).rejects.toThrow(
      /session\.max_total_sessions.*0.*1 to 1000|session\.max_total_sessions.*from 1 to 1000/,
    );
    expect((await h['config.get'](undefined)).values['ui.font_size']).toBe(17);

    // Limits apply live: one session in total, the next is refused.
    await h['config.update']({ values: { 'session.max_total_sessions': 1 } });
    await h['sessions.open']({ instanceId });
    await expect(h['sessions.open']({ instanceId: second })).rejects.toThrow(/max_total_sessions = 1/);

    // A preset is a base the file overrides.
    await h['config.preset']({ name: 'low-end' });
    const lowEnd = await h['config.get'](undefined);
    expect(lowEnd.preset).toBe('low-end');
    expect(lowEnd.sources['resources.low_power_mode']).toBe('preset');
    expect(lowEnd.sources['session.max_total_sessions']).toBe('file');
    expect(ws.governorState().lowPower).toMatchObject({ active: true, mode: 'on' });
  });

  it('takes EC2_CONNECT_* over the file, and reports an invalid value without refusing to start', async () => {
    const { ws } = await start({
      env: { EC2_CONNECT_MAX_TOTAL_SESSIONS: '7', EC2_CONNECT_INACTIVE_TIMEOUT: 'soon' },
    });
    const state = await ws.handlers['config.get'](undefined);
    expect(state.values['session.max_total_sessions']).toBe(7);
    expect(state.sources['session.max_total_sessions']).toBe('env');
    expect(state.problems.map((p) => p.key)).toContain('session.inactive_timeout');
    expect(state.problems.find((p) => p.key === 'session.inactive_timeout')!.message).toMatch(
      /EC2_CONNECT_INACTIVE_TIMEOUT/,
    );
  });

  it('runs the diagnostics with live progress, and names an offline instance as the cause', async () => {
    const { ws, rec, sandbox, instanceId } = await start();
    const report = DiagnosticReportSchema.parse(
      await ws.handlers['diagnostics.run']({ kind: 'preventive', instanceId }),
    );
    expect(report.summary.fail).toBe(0);
    expect(report.checks.find((c) => c.id === 'instance')?.status).toBe('pass');
    expect(rec.of('diagnostics.progress').length).toBe(report.checks.length);

    const offline = sandbox.fleet.list().find((i) => i.state === 'running' && i.pingStatus !== 'Online')!;
    const bad = await ws.handlers['diagnostics.run']({ kind: 'preventive', instanceId: offline.instanceId });
    const instance = bad.checks.find((c) => c.id === 'instance')!;
    expect(instance.status).toBe('fail');
    expect(instance.fix).toBeTruthy();

    const full = await ws.handlers['diagnostics.run']({ kind: 'full', instanceId, timeoutSeconds: 10 });
    expect(full.kind).toBe('full');
    expect(full.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['resources', 'store']));
  }, 60_000);
});

describe('Workspace credentials', () => {
  let sandbox: SandboxHandle;
  let aws: TempAwsConfig;

  it('asks for an MFA code through the bridge and uses the role once answered', async () => {
    sandbox = await startSandbox({ port: 0, region: 'eu-west-1' });
    cleanups.push(() => sandbox.close());
    aws = await tempAwsConfig(
      [
        '[profile base]',
        'region = eu-west-1',
        `endpoint_url = ${sandbox.endpoint}`,
        '[profile mfa]',
        'region = eu-west-1',
        `endpoint_url = ${sandbox.endpoint}`,
        'source_profile = base',
        `role_arn = arn:aws:iam::${SANDBOX_ACCOUNT_ID}:role/SandboxMfa`,
        `mfa_serial = ${SANDBOX_MFA_SERIAL}`,
        '',
      ].join('\n'),
      `[base]\naws_access_key_id = ${sandbox.credentials.accessKeyId}\naws_secret_access_key = ${sandbox.credentials.secretAccessKey}\n`,
    );
    cleanups.push(() => aws.restore());
    const { ws, rec } = await start();
    // Answer prompts as the renderer would.
    ws.onEvent((e) => {
      if (e.name === 'credentials.prompt' && e.payload.kind === 'mfa')
        void ws.handlers['credentials.answer']({ id: e.payload.id, code: totp(SANDBOX_MFA_SECRET) });
    });
    const info = await ws.handlers['profiles.select']({ profile: 'mfa', region: 'eu-west-1' });
    expect(info.profile).toBe('mfa');
    const list = await ws.handlers['instances.list']({ refresh: true });
    expect(list.instances.length).toBeGreaterThan(0);
    const prompts = rec.of('credentials.prompt');
    expect(prompts.length).toBeGreaterThanOrEqual(1);
    expect(prompts[0]).toMatchObject({ kind: 'mfa', profile: 'mfa', mfaSerial: SANDBOX_MFA_SERIAL });
    expect(rec.of('credentials.promptDone').map((d) => d.outcome)).toContain('answered');
    await expect(ws.handlers['profiles.login']({ profile: 'sandbox' })).rejects.toThrow(/needs no sign-in/);
  }, 60_000);

  it('opens the SSO sign-in page through openUrl when aws.sso_open_browser is on, and only shows it when off', async () => {
    sandbox = await startSandbox({ port: 0, region: 'eu-west-1' });
    cleanups.push(() => sandbox.close());
    const profile = (name: string, session: string) =>
      [
        `[profile ${name}]`,
        'region = eu-west-1',
        `endpoint_url = ${sandbox.endpoint}`,
        `sso_session = ${session}`,
        'sso_account_id = 123456789012',
        'sso_role_name = SandboxReadOnly',
      ].join('\n');
    const ssoSession = (session: string) =>
      [
        `[sso-session ${session}]`,
        `sso_start_url = https://${session}.awsapps.com/start`,
        'sso_region = eu-west-1',
      ].join('\n');
    aws = await tempAwsConfig(
      [profile('sso-a', 'one'), profile('sso-b', 'two'), ssoSession('one'), ssoSession('two'), ''].join('\n'),
    );
    cleanups.push(() => aws.restore());
    const act = async (userCode: string, action: 'approve' | 'deny') => {
      const res = await fetch(`${sandbox.endpoint}/__sandbox/sso/device`, {
        method: 'POST',
        headers: { 'x-sandbox-admin-token': sandbox.adminToken, 'content-type': 'application/json' },
        body: JSON.stringify({ userCode, action }),
      });
      expect(res.status).toBe(200);
    };

    const opened: string[] = [];
    const { ws } = await start({ openUrl: (url) => opened.push(url) });
    ws.onEvent((e) => {
      if (e.name === 'credentials.prompt' && e.payload.sso) void act(e.payload.sso.userCode, 'approve');
    });
    await ws.handlers['profiles.login']({ profile: 'sso-a' });
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatch(new RegExp(`^${sandbox.endpoint}/device\\?user_code=[A-Z]{4}-[A-Z]{4}$`));

    // Off in the configuration: the prompt still comes (the dialog shows the link), nothing opens.
    const shown: string[] = [];
    const off = await start({
      config: new ConfigStore({
        inMemory: true,
        content: { exists: true, data: { aws: { sso_open_browser: false } }, problem: null },
      }),
      openUrl: (url) => shown.push(`opened ${url}`),
    });
    off.ws.onEvent((e) => {
      if (e.name === 'credentials.prompt' && e.payload.sso) {
        shown.push('prompt');
        void act(e.payload.sso.userCode, 'deny');
      }
    });
    await expect(off.ws.handlers['profiles.login']({ profile: 'sso-b' })).rejects.toThrow(/denied/i);
    expect(shown).toEqual(['prompt']);
  }, 60_000);

  it('a CA bundle that cannot be read fails AWS profiles by name, while the sandbox keeps working', async () => {
    sandbox = await startSandbox({ port: 0, region: 'eu-west-1' });
    cleanups.push(() => sandbox.close());
    aws = await tempAwsConfig(
      `[profile base]\nregion = eu-west-1\nendpoint_url = ${sandbox.endpoint}\n`,
      `[base]\naws_access_key_id = ${sandbox.credentials.accessKeyId}\naws_secret_access_key = ${sandbox.credentials.secretAccessKey}\n`,
    );
    cleanups.push(() => aws.restore());
    const { ws } = await start({
      config: new ConfigStore({
        inMemory: true,
        content: { exists: true, data: { connection: { ca_bundle: '/nonexistent/ca.pem' } }, problem: null },
      }),
    });
    expect((await ws.handlers['instances.list']({ refresh: true })).instances.length).toBeGreaterThan(0);
    await expect(ws.handlers['profiles.select']({ profile: 'base', region: 'eu-west-1' })).rejects.toThrow(
      /connection\.ca_bundle.*\/nonexistent\/ca\.pem/s,
    );
  }, 60_000);
});
