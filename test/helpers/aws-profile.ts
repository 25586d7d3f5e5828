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
