import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMON_REGIONS, discoverProfiles } from '../../../main/core/workspace/profiles.js';

describe('discoverProfiles', () => {
  let dir: string;
  const saved = { config: process.env.AWS_CONFIG_FILE, creds: process.env.AWS_SHARED_CREDENTIALS_FILE };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-aws-'));
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  });
  afterEach(async () => {
    for (const [k, v] of [
      ['AWS_CONFIG_FILE', saved.config],
      ['AWS_SHARED_CREDENTIALS_FILE', saved.creds],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('offers only the sandbox when there are no AWS config files', async () => {
    const found = await discoverProfiles('us-east-1', {});
    expect(found.profiles).toEqual([
      { name: 'sandbox', kind: 'sandbox', region: 'us-east-1', source: 'built-in' },
    ]);
    expect(found.regions[0]).toBe('us-east-1');
    expect(found.regions).toEqual(expect.arrayContaining(COMMON_REGIONS));
    expect(found.warnings).toEqual([]);
  });

  it('offers the built-in environment profile when access keys are in the environment', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-never-shown',
      AWS_SESSION_TOKEN: 'token-never-shown',
      AWS_REGION: 'eu-central-2',
    };
    const found = await discoverProfiles('us-east-1', env);
    expect(found.profiles[1]).toEqual({
      name: 'environment',
      kind: 'environment',
      region: 'eu-central-2',
      source: 'built-in (AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN)',
    });
    expect(found.regions.slice(0, 2)).toEqual(['us-east-1', 'eu-central-2']);
    expect(JSON.stringify(found)).not.toMatch(/never-shown/);
    // Only with both keys; and a profile of that name in the files takes its place.
    expect((await discoverProfiles('us-east-1', { AWS_ACCESS_KEY_ID: 'AKIA' })).profiles).toHaveLength(1);
    await writeFile(process.env.AWS_CONFIG_FILE!, '[profile environment]\nregion = us-west-2\n');
    const shadowed = await discoverProfiles('us-east-1', env);
    expect(shadowed.profiles.filter((p) => p.name === 'environment')).toEqual([
      expect.objectContaining({ kind: 'other', region: 'us-west-2' }),
    ]);
  });

  it('lists config and credentials profiles with their kind and region, never their secrets', async () => {
    await writeFile(
      process.env.AWS_CONFIG_FILE!,
      [
        '[default]',
        'region = eu-west-1',
        '[profile prod.admin]',
        'sso_session = corp',
        'sso_account_id = 123456789012',
        'sso_role_name = Admin',
        'region = ap-southeast-7',
        '[sso-session corp]',
        'sso_start_url = https://corp.awsapps.com/start',
        '[services local]',
        'ec2 =',
        '  endpoint_url = http://127.0.0.1:1',
        '[profile deploy]',
        'role_arn = arn:aws:iam::123456789012:role/deploy',
        'source_profile = default',
        '[profile vault]',
        'credential_process = /usr/local/bin/vault-creds',
        '[profile sandbox]',
        'region = us-west-2',
        '[profile odd]',
        'region = moon',
        '',
      ].join('\n'),
    );
    await writeFile(
      process.env.AWS_SHARED_CREDENTIALS_FILE!,
      '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = SECRETSECRET\n[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = x\n',
    );
    const found = await discoverProfiles('us-east-1');
    const byName = Object.fromEntries(found.profiles.map((p) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(['sandbox', 'ci', 'default', 'deploy', 'odd', 'prod.admin', 'vault']);
    expect(byName.sandbox!.kind).toBe('sandbox');
    expect(byName.default).toMatchObject({
      kind: 'static',
      region: 'eu-west-1',
      source: process.env.AWS_CONFIG_FILE,
    });
    expect(byName.ci).toMatchObject({ kind: 'static', source: process.env.AWS_SHARED_CREDENTIALS_FILE });
    expect(byName['prod.admin']).toMatchObject({ kind: 'sso', region: 'ap-southeast-7' });
    expect(byName.deploy!.kind).toBe('assume-role');
    expect(byName.vault!.kind).toBe('process');
    expect(byName.odd!.region).toBeUndefined();
    expect(found.regions.slice(0, 3)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-7']);
    expect(found.warnings.join('\n')).toMatch(/named "sandbox".*hidden/);
    expect(found.warnings.join('\n')).toMatch(/"odd" has region "moon"/);
    expect(JSON.stringify(found)).not.toMatch(/SECRET|AKIA/);
  });
});
