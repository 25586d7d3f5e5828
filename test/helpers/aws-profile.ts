/**
 * A second AWS for profile tests: a standalone sandbox behind a named profile of temporary AWS
 * config and credentials files (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), pointed at with
 * `endpoint_url` and signed with keys from the credentials file, as a real profile would be.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';

export interface SandboxProfile {
  sandbox: SandboxHandle;
  /** Stop the sandbox, remove the files and put the environment back. */
  close(): Promise<void>;
}

export async function sandboxBehindProfile(name: string, region = 'eu-west-1'): Promise<SandboxProfile> {
  const saved = { config: process.env.AWS_CONFIG_FILE, creds: process.env.AWS_SHARED_CREDENTIALS_FILE };
  const sandbox = await startSandbox({ port: 0, region });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-aws-'));
  process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  await writeFile(
    process.env.AWS_CONFIG_FILE,
    `[profile ${name}]\nregion = ${region}\nendpoint_url = ${sandbox.endpoint}\n`,
  );
  await writeFile(
    process.env.AWS_SHARED_CREDENTIALS_FILE,
    `[${name}]\naws_access_key_id = ${sandbox.credentials.accessKeyId}\naws_secret_access_key = ${sandbox.credentials.secretAccessKey}\n`,
  );
  return {
    sandbox,
    async close() {
      for (const [k, v] of [
        ['AWS_CONFIG_FILE', saved.config],
        ['AWS_SHARED_CREDENTIALS_FILE', saved.creds],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Environment variables that would change how the SDK resolves credentials; saved and cleared by {@link tempAwsConfig}. */
const AWS_ENV = [
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'HOME',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_SSO',
  'AWS_ENDPOINT_URL_SSO_OIDC',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
] as const;

export interface TempAwsConfig {
  /** The temporary folder (also HOME, so the SSO token cache is <dir>/.aws/sso/cache). */
  dir: string;
  configFile: string;
  credentialsFile: string;
  /** Where the SDK and the AWS CLI cache SSO tokens for this HOME. */
  ssoCacheDir: string;
  /** Replace the files' contents. */
  write(config: string, credentials?: string): Promise<void>;
  /** Put the environment back and remove the folder. */
  restore(): Promise<void>;
}

/**
 * Temporary AWS config and credentials files, pointed at by AWS_CONFIG_FILE /
 * AWS_SHARED_CREDENTIALS_FILE, with HOME moved to the same temporary folder (the SSO token
 * cache) and every other AWS_* variable that steers credentials cleared until `restore()`.
 */
export async function tempAwsConfig(config: string, credentials = ''): Promise<TempAwsConfig> {
  const saved = new Map(AWS_ENV.map((k) => [k, process.env[k]] as const));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-awscfg-'));
  for (const k of AWS_ENV) delete process.env[k];
  const configFile = path.join(dir, 'config');
  const credentialsFile = path.join(dir, 'credentials');
  process.env.AWS_CONFIG_FILE = configFile;
  process.env.AWS_SHARED_CREDENTIALS_FILE = credentialsFile;
  process.env.HOME = dir;
  const write = async (c: string, k = ''): Promise<void> => {
    await writeFile(configFile, c);
    await writeFile(credentialsFile, k);
  };
  await write(config, credentials);
  return {
    dir,
    configFile,
    credentialsFile,
    ssoCacheDir: path.join(dir, '.aws', 'sso', 'cache'),
    write,
    async restore() {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
