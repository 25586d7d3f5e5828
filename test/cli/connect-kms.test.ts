/**
 * `ec2-connect connect` (a child process) to instances that require KMS-encrypted sessions, on
 * a sandbox run by this test (`--endpoint`): a command runs with its output and exit status,
 * and a key KMS refuses is named with the permission, with exit status 255.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';
import { runCliProcess } from '../helpers/cli.js';

let sandbox: SandboxHandle;
const WEB1 = 'i-0b5bb7865829a72f8';
const WEB2 = 'i-0a03534fd537d6397';

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    kmsKeys: [{ aliases: ['alias/locked'], deny: ['kms:GenerateDataKey'] }],
  });
  sandbox.fleet.update(WEB1, { kmsKeyId: 'alias/sandbox-session' });
  sandbox.fleet.update(WEB2, { kmsKeyId: 'alias/locked' });
});
afterAll(async () => {
  await sandbox.close();
});

function connect(instance: string, ...more: string[]) {
  return runCliProcess(['connect', '--endpoint', sandbox.endpoint, '--instance-id', instance, ...more], {
    EC2_CONNECT_NO_HISTORY: '1',
    ...(process.env.EC2_CONNECT_HOME ? { EC2_CONNECT_HOME: process.env.EC2_CONNECT_HOME } : {}),
  });
}

describe('ec2-connect connect to instances that require KMS encryption', () => {
  it('runs a command in an encrypted session: its output and exit status', async () => {
    const r = await connect(
      WEB1,
      '--command',
      'echo secret-$((20+22)); echo warn >&2; exit 5',
      '--non-interactive',
    );
    expect(r.stderr).not.toMatch(/ec2-connect:/);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('secret-42\n');
    expect(r.stderr).toContain('warn\n');
  }, 60_000);

  it('prints which permission KMS denied on which key, and exits 255', async () => {
    const keyArn = sandbox.kms.resolveArn('alias/locked');
    const r = await connect(WEB2, '--command', 'echo never', '--non-interactive');
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `ec2-connect: KMS denied kms:GenerateDataKey on key ${keyArn} for arn:aws:iam::123456789012:user/sandbox-user: ` +
        "allow kms:GenerateDataKey on that key for this identity (Session Manager's KMS encryption needs it), " +
        'or turn off KMS encryption in the Session Manager preferences.\n',
    );
  }, 60_000);
});
