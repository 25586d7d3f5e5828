/**
 * The profiles a user can switch to: the built-in sandbox, the built-in `environment` profile
 * when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set, and every profile of the shared
 * AWS config and credentials files (`~/.aws/config`, `~/.aws/credentials`, or the files named
 * by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), read with the SDK's own loader, so names
 * and precedence match what the SDK will resolve. Nothing here reads or returns secrets: only
 * names, regions and what kind of credentials a profile uses.
 */
import os from 'node:os';
import path from 'node:path';
import { loadSharedConfigFiles } from '@smithy/core/config';
import type { ProfileEntry } from '../../../preload/api.js';
import { ENVIRONMENT_PROFILE } from '../credentials/profile-config.js';
import { SANDBOX_PROFILE } from '../../sandbox/embedded-profile.js';

/** Offered in the region switcher after the profiles' own regions. */
export const COMMON_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'sa-east-1',
  'me-central-1',
  'af-south-1',
];

const REGION_RE = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;
const NAME_RE = /^[A-Za-z0-9_.@+=,:/-]{1,128}$/;

export interface ProfileDiscovery {
  profiles: ProfileEntry[];
  regions: string[];
  warnings: string[];
}

type IniSection = Record<string, string | undefined>;

function kindOf(config: IniSection | undefined, creds: IniSection | undefined): ProfileEntry['kind'] {
  const c = { ...creds, ...config };
  if (c.sso_session || c.sso_start_url || c.sso_account_id) return 'sso';
  if (c.role_arn) return 'assume-role';
  if (c.credential_process) return 'process';
  if (c.aws_access_key_id) return 'static';
  return 'other';
}

export function configFilePaths(env: NodeJS.ProcessEnv = process.env): {
  config: string;
  credentials: string;
} {
  const home = os.homedir();
  return {
    config: env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials'),
  };
}

export async function discoverProfiles(
  sandboxRegion: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProfileDiscovery> {
  const warnings: string[] = [];
  const files = configFilePaths();
  let configFile: Record<string, IniSection> = {};
  let credentialsFile: Record<string, IniSection> = {};
  try {
    const loaded = await loadSharedConfigFiles({ ignoreCache: true });
    configFile = loaded.configFile as Record<string, IniSection>;
    credentialsFile = loaded.credentialsFile as Record<string, IniSection>;
  } catch (err) {
    warnings.push(
      `Could not read the AWS config files (${files.config}, ${files.credentials}): ${(err as Error).message}`,
    );
  }
  // The loader keeps [sso-session x] and [services x] sections as "sso-session.x" / "services.x".
  const isProfileKey = (key: string): boolean => !/^(sso-session|services)\./.test(key);
  const names = new Set([...Object.keys(configFile).filter(isProfileKey), ...Object.keys(credentialsFile)]);
  const profiles: ProfileEntry[] = [
    { name: SANDBOX_PROFILE, kind: 'sandbox', region: sandboxRegion, source: 'built-in' },
  ];
  const regions = new Set<string>([sandboxRegion]);
  // Keys in the environment (a CI job, `aws-vault exec`, a shell that exported them) are a
  // profile of their own, unless the files define one by that name.
  const envProfile = !names.has(ENVIRONMENT_PROFILE) && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY;
  if (envProfile) {
    const entry: ProfileEntry = {
      name: ENVIRONMENT_PROFILE,
      kind: 'environment',
      source: `built-in (AWS_ACCESS_KEY_ID${env.AWS_SESSION_TOKEN ? ', AWS_SESSION_TOKEN' : ''})`,
    };
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    if (region && REGION_RE.test(region)) {
      entry.region = region;
      regions.add(region);
    }
    profiles.push(entry);
  }
  for (const name of [...names].sort()) {
    if (name === SANDBOX_PROFILE) {
      warnings.push(
        `A profile named "${SANDBOX_PROFILE}" in your AWS config is hidden by the built-in sandbox; rename it to use it here.`,
      );
      continue;
    }
    if (!NAME_RE.test(name)) {
      warnings.push(
        `Profile "${name.slice(0, 60)}" has characters EC2 Connect does not accept in a name; skipped.`,
      );
      continue;
    }
    const config = configFile[name];
    const creds = credentialsFile[name];
    const region = config?.region ?? creds?.region;
    const entry: ProfileEntry = {
      name,
      kind: kindOf(config, creds),
      source: config ? files.config : files.credentials,
    };
    if (region !== undefined) {
      if (REGION_RE.test(region)) {
        entry.region = region;
        regions.add(region);
      } else {
        warnings.push(
          `Profile "${name}" has region "${region.slice(0, 40)}", which is not a region name; ignored.`,
        );
      }
    }
    profiles.push(entry);
  }
  for (const r of COMMON_REGIONS) regions.add(r);
  return { profiles, regions: [...regions], warnings };
}
