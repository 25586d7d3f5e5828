/**
 * Shared fixture of the credentials tests: a sandbox (short STS durations allowed), a
 * temporary AWS config with one profile of each kind pointed at it, and a scripted prompter
 * that plays the user (MFA codes from the sandbox's public TOTP secret, SSO approvals
 * through the sandbox admin API).
 */
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type {
  CredentialPrompter,
  MfaPromptContext,
  SsoDeviceLoginInfo,
} from '../../../main/core/credentials/types.js';
import {
  SANDBOX_MFA_SECRET,
  SANDBOX_MFA_SERIAL,
  totp,
  verifyTotp,
} from '../../../main/sandbox/credentials.js';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../../../main/sandbox/server.js';
import { tempAwsConfig, type TempAwsConfig } from '../../helpers/aws-profile.js';

export const REGION = 'eu-west-1';
export const START_URL = 'https://sandbox.awsapps.com/start';
export const LEGACY_START_URL = 'https://legacy.awsapps.com/start';
export const ROLE = (name: string): string => `arn:aws:iam::123456789012:role/${name}`;

export interface CredentialsFixture {
  sandbox: SandboxHandle;
  aws: TempAwsConfig;
  /** Folder for credential_process scripts. */
  scripts: string;
  close(): Promise<void>;
}

/** The config file: every kind of profile, all pointed at the sandbox with endpoint_url. */
export function configText(endpoint: string, scripts: string): string {
  const common = `region = ${REGION}\nendpoint_url = ${endpoint}\n`;
  const p = (name: string, body: string): string => `[profile ${name}]\n${common}${body}\n`;
  return [
    p('base', ''),
    p(
      'admin',
      `role_arn = ${ROLE('SandboxAdmin')}\nsource_profile = base\nrole_session_name = admin-session`,
    ),
    p(
      'chained',
      `role_arn = ${ROLE('SandboxReadOnly')}\nsource_profile = admin\nrole_session_name = chained-session`,
    ),
    p('chained-long', `role_arn = ${ROLE('SandboxAdmin')}\nsource_profile = admin\nduration_seconds = 7200`),
    p('mfa', `role_arn = ${ROLE('SandboxMfa')}\nsource_profile = base\nmfa_serial = ${SANDBOX_MFA_SERIAL}`),
    p(
      'mfa-short',
      `role_arn = ${ROLE('SandboxMfa')}\nsource_profile = base\nmfa_serial = ${SANDBOX_MFA_SERIAL}\nduration_seconds = 4`,
    ),
    p(
      'partner',
      `role_arn = ${ROLE('SandboxPartner')}\nsource_profile = base\nexternal_id = sandbox-external-id`,
    ),
    p(
      'partner-wrong',
      `role_arn = ${ROLE('SandboxPartner')}\nsource_profile = base\nexternal_id = not-the-one`,
    ),
    p('short', `role_arn = ${ROLE('SandboxAdmin')}\nsource_profile = base\nduration_seconds = 4`),
    p('selfie', `role_arn = ${ROLE('SandboxReadOnly')}\nsource_profile = selfie`),
    p('env-role', `role_arn = ${ROLE('SandboxAdmin')}\ncredential_source = Environment`),
    p('loop-a', `role_arn = ${ROLE('SandboxAdmin')}\nsource_profile = loop-b`),
    p('loop-b', `role_arn = ${ROLE('SandboxAdmin')}\nsource_profile = loop-a`),
    p('no-role', 'source_profile = base'),
    p('no-source', `role_arn = ${ROLE('SandboxAdmin')}`),
    p('sso-dev', 'sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = SandboxAdmin'),
    p('sso-ro', 'sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = SandboxReadOnly'),
    p('sso-denied-role', 'sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = SandboxMfa'),
    p(
      'sso-legacy',
      `sso_start_url = ${LEGACY_START_URL}\nsso_region = ${REGION}\nsso_account_id = 123456789012\nsso_role_name = SandboxReadOnly`,
    ),
    p(
      'sso-role',
      `role_arn = ${ROLE('SandboxPartner')}\nsource_profile = sso-dev\nexternal_id = sandbox-external-id`,
    ),
    p('sso-broken', 'sso_session = nowhere\nsso_account_id = 123456789012\nsso_role_name = SandboxAdmin'),
    p('proc', `credential_process = node ${path.join(scripts, 'creds.mjs')}`),
    p('proc-fail', `credential_process = node ${path.join(scripts, 'fail.mjs')}`),
    p('proc-junk', `credential_process = node ${path.join(scripts, 'junk.mjs')}`),
    '[sso-session corp]',
    `sso_start_url = ${START_URL}`,
    `sso_region = ${REGION}`,
    'sso_registration_scopes = sso:account:access',
    '',
  ].join('\n');
}

export async function startCredentialsFixture(options: SandboxOptions = {}): Promise<CredentialsFixture> {
  const sandbox = await startSandbox({ port: 0, region: REGION, sts: { minDurationSeconds: 1 }, ...options });
  const aws = await tempAwsConfig('');
  const scripts = aws.dir;
  await aws.write(
    configText(sandbox.endpoint, scripts),
    [
      `[base]\naws_access_key_id = ${sandbox.credentials.accessKeyId}\naws_secret_access_key = ${sandbox.credentials.secretAccessKey}\n`,
      // A role profile that takes its own keys as the source (source_profile = itself).
      `[selfie]\naws_access_key_id = ${sandbox.credentials.accessKeyId}\naws_secret_access_key = ${sandbox.credentials.secretAccessKey}\n`,
    ].join('\n'),
  );
  await writeFile(
    path.join(scripts, 'creds.mjs'),
    `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: ${JSON.stringify(sandbox.credentials.accessKeyId)}, SecretAccessKey: ${JSON.stringify(sandbox.credentials.secretAccessKey)} }));\n`,
  );
  await writeFile(
    path.join(scripts, 'fail.mjs'),
    `process.stderr.write('token broker: refresh token revoked for alice\\n'); process.exit(3);\n`,
  );
  await writeFile(path.join(scripts, 'junk.mjs'), `process.stdout.write('this is not json');\n`);
  for (const f of ['creds.mjs', 'fail.mjs', 'junk.mjs']) await chmod(path.join(scripts, f), 0o700);
  return {
    sandbox,
    aws,
    scripts,
    async close() {
      await aws.restore();
      await sandbox.close();
    },
  };
}

/** Plays the user through the admin API: approve (or deny, expire...) a sign-in request. */
export async function adminSso(
  sandbox: SandboxHandle,
  userCode: string,
  action: 'approve' | 'deny' | 'expire' | 'slow-down' = 'approve',
): Promise<void> {
  const res = await fetch(`${sandbox.endpoint}/__sandbox/sso/device`, {
    method: 'POST',
    headers: { 'x-sandbox-admin-token': sandbox.adminToken, 'content-type': 'application/json' },
    body: JSON.stringify({ userCode, action }),
  });
  if (res.status !== 200) throw new Error(`admin ${action} ${userCode}: ${res.status} ${await res.text()}`);
}

/** A 6-digit code that is wrong for the default MFA device now. */
export function wrongCode(): string {
  for (let n = 0; ; n++) {
    const code = String((Number(totp(SANDBOX_MFA_SECRET)) + 500_000 + n) % 1_000_000).padStart(6, '0');
    if (!verifyTotp(SANDBOX_MFA_SECRET, code)) return code;
  }
}

export interface MfaCall {
  profile: string;
  serial: string;
  context: MfaPromptContext | undefined;
  signal: AbortSignal;
}
export interface SsoCall extends SsoDeviceLoginInfo {
  signal: AbortSignal;
}

/** A prompter whose answers the test scripts (default: the right MFA code; approve SSO sign-ins). */
export class ScriptedPrompter implements CredentialPrompter {
  readonly mfaCalls: MfaCall[] = [];
  readonly ssoCalls: SsoCall[] = [];
  answerMfa: (call: MfaCall) => string | Promise<string> = () => totp(SANDBOX_MFA_SECRET);
  onSso: (call: SsoCall) => void | Promise<void>;

  constructor(private readonly sandbox: SandboxHandle) {
    this.onSso = (call) => {
      void adminSso(this.sandbox, call.userCode);
    };
  }

  mfa(profile: string, serial: string, signal: AbortSignal, context?: MfaPromptContext): Promise<string> {
    const call = { profile, serial, context, signal };
    this.mfaCalls.push(call);
    return Promise.resolve(this.answerMfa(call));
  }

  ssoDeviceLogin(info: SsoDeviceLoginInfo, signal: AbortSignal): void | Promise<void> {
    const call = { ...info, signal };
    this.ssoCalls.push(call);
    return this.onSso(call);
  }
}

/** Who the credentials are, according to the sandbox's STS. */
export async function whoami(sandbox: SandboxHandle, credentials: AwsCredentialIdentity): Promise<string> {
  const sts = new STSClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials,
    maxAttempts: 1,
  });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
  } finally {
    sts.destroy();
  }
}

export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}
