/**
 * What a profile of the shared AWS config and credentials files asks for, read with the
 * SDK's own loader (so names, merging and precedence are the SDK's): its kind, the chain of
 * source_profile hops down to where credentials come from (keys, SSO, credential_process,
 * a credential_source), the MFA devices on the way, its SSO settings, and the endpoints
 * and region its credential clients (STS, SSO, SSO OIDC) must use.
 *
 * This is a check before the SDK resolves anything: problems the SDK would report vaguely
 * (a source_profile loop, source_profile without role_arn, a missing sso-session) become
 * {@link CredentialError}s naming the profile and the fix. No network, no secrets returned.
 */
import path from 'node:path';
import { getHomeDir, loadSharedConfigFiles } from '@smithy/core/config';
import { CredentialError } from './types.js';

export type IniSection = Record<string, string | undefined>;

/** The built-in profile that takes AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) from the environment. */
export const ENVIRONMENT_PROFILE = 'environment';

export type CredentialSourceKind =
  'static' | 'sso' | 'process' | 'credential-source' | 'web-identity' | 'environment' | 'other';

export type ProfileKind = 'static' | 'sso' | 'assume-role' | 'process' | 'environment' | 'other';

export interface SsoSettings {
  /** The profile with the sso_* settings. */
  profile: string;
  startUrl: string;
  /** sso_region: where the SSO OIDC and portal endpoints are. */
  region: string;
  /** The [sso-session NAME] the profile uses (tokens are cached under the session name); absent for legacy profiles. */
  sessionName?: string;
  /** sso_registration_scopes of the session (comma-separated in the file). */
  scopes?: string[];
  accountId: string;
  roleName: string;
}

export interface RoleHop {
  profile: string;
  roleArn: string;
  mfaSerial?: string;
  externalId?: string;
  durationSeconds?: number;
}

export interface ProfilePlan {
  profile: string;
  kind: ProfileKind;
  /** The named profile, then each source_profile followed, down to the source. */
  chain: string[];
  /** The roles assumed, from the source up to the named profile's. */
  roles: RoleHop[];
  source: { kind: CredentialSourceKind; profile: string; detail?: string };
  /** Set when the credentials start from an SSO sign-in. */
  sso?: SsoSettings;
  /** The named profile's region, if set. */
  region?: string;
  /** The config and credentials files read. */
  files: { config: string; credentials: string };
}

export interface LoadedConfig {
  /** Profiles (config and credentials merged; credentials win, as in the SDK). */
  profiles: Record<string, IniSection>;
  /** `sso-session.NAME` and `services.NAME` sections, and config-file profiles, as the SDK keeps them. */
  configFile: Record<string, IniSection>;
  files: { config: string; credentials: string };
}

export function configFiles(env: NodeJS.ProcessEnv = process.env): { config: string; credentials: string } {
  return {
    config: env.AWS_CONFIG_FILE || path.join(getHomeDir(), '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || path.join(getHomeDir(), '.aws', 'credentials'),
  };
}

/** Reads both files fresh (edits since the last read count). A missing file is empty. */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const files = configFiles(env);
  const loaded = await loadSharedConfigFiles({
    ignoreCache: true,
    filepath: files.credentials,
    configFilepath: files.config,
  });
  const configFile = loaded.configFile as Record<string, IniSection>;
  const credentialsFile = loaded.credentialsFile as Record<string, IniSection>;
  const profiles: Record<string, IniSection> = {};
  for (const [name, section] of Object.entries(configFile)) {
    if (/^(sso-session|services)\./.test(name)) continue;
    profiles[name] = { ...section };
  }
  for (const [name, section] of Object.entries(credentialsFile)) {
    profiles[name] = { ...profiles[name], ...section };
  }
  return { profiles, configFile, files };
}

const isStatic = (s: IniSection): boolean =>
  typeof s.aws_access_key_id === 'string' && typeof s.aws_secret_access_key === 'string';
const isSso = (s: IniSection): boolean =>
  Boolean(s.sso_session || s.sso_start_url || s.sso_account_id || s.sso_region || s.sso_role_name);

function where(files: LoadedConfig['files']): string {
  return `${files.config} or ${files.credentials}`;
}

/** The SSO settings of an SSO profile (its own or from its [sso-session]), or a CredentialError. */
function ssoSettings(name: string, s: IniSection, cfg: LoadedConfig, top: string): SsoSettings {
  let startUrl = s.sso_start_url;
  let region = s.sso_region;
  let scopes: string[] | undefined;
  const sessionName = s.sso_session;
  if (sessionName) {
    const session = cfg.configFile[`sso-session.${sessionName}`];
    if (!session) {
      throw new CredentialError(
        'profile-invalid',
        top,
        `profile "${name}" uses sso_session = ${sessionName}, but there is no [sso-session ${sessionName}] section in ${cfg.files.config}`,
        `Add that section with sso_start_url and sso_region (\`aws configure sso-session\` writes it), or fix the name.`,
      );
    }
    for (const key of ['sso_start_url', 'sso_region'] as const) {
      if (s[key] && session[key] && s[key] !== session[key]) {
        throw new CredentialError(
          'profile-invalid',
          top,
          `profile "${name}" sets ${key} = ${s[key]}, which conflicts with [sso-session ${sessionName}] (${session[key]})`,
          `Remove ${key} from the profile; the sso-session section sets it.`,
        );
      }
    }
    startUrl = session.sso_start_url;
    region = session.sso_region;
    if (session.sso_registration_scopes !== undefined) {
      scopes = session.sso_registration_scopes
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    }
  }
  const missing: string[] = [];
  if (!startUrl) missing.push('sso_start_url');
  if (!region) missing.push('sso_region');
  if (!s.sso_account_id) missing.push('sso_account_id');
  if (!s.sso_role_name) missing.push('sso_role_name');
  if (missing.length > 0) {
    throw new CredentialError(
      'profile-invalid',
      top,
      `the SSO profile "${name}" is missing ${missing.join(', ')}`,
      `Add ${missing.length === 1 ? 'it' : 'them'} to [profile ${name}]${sessionName ? ` or [sso-session ${sessionName}]` : ''} in ${cfg.files.config} (\`aws configure sso --profile ${name}\` writes a complete profile).`,
    );
  }
  return {
    profile: name,
    startUrl: startUrl!,
    region: region!,
    ...(sessionName ? { sessionName } : {}),
    ...(scopes ? { scopes } : {}),
    accountId: s.sso_account_id!,
    roleName: s.sso_role_name!,
  };
}

/**
 * Follows the profile as the SDK will (fromIni's order: keys of a source profile first, then
 * role_arn, keys, web identity, credential_process, SSO) and returns the plan, or throws a
 * CredentialError for what would fail.
 */
export function planProfile(profile: string, cfg: LoadedConfig): ProfilePlan {
  if (profile === ENVIRONMENT_PROFILE && !cfg.profiles[profile]) {
    return {
      profile,
      kind: 'environment',
      chain: [profile],
      roles: [],
      source: { kind: 'environment', profile },
      files: cfg.files,
    };
  }
  const chain: string[] = [];
  const roles: RoleHop[] = [];
  const visitedSources = new Set<string>();
  let name = profile;
  let plan: Pick<ProfilePlan, 'source' | 'sso'> | undefined;
  while (!plan) {
    const s = cfg.profiles[name];
    chain.push(name);
    if (!s) {
      if (name === profile) {
        throw new CredentialError(
          'profile-not-found',
          profile,
          `there is no such profile in ${where(cfg.files)}`,
          `Check the name, or add it (\`aws configure --profile ${profile}\`, or \`aws configure sso --profile ${profile}\` for IAM Identity Center).`,
        );
      }
      const from = chain[chain.length - 2]!;
      throw new CredentialError(
        'profile-invalid',
        profile,
        `profile "${from}" has source_profile = ${name}, but there is no profile "${name}" in ${where(cfg.files)}`,
        `Fix source_profile in [profile ${from}], or add the profile "${name}".`,
      );
    }
    // A source profile with keys is the end of the chain (even with role_arn: the SDK takes its keys).
    if (visitedSources.size > 0 && isStatic(s)) {
      plan = { source: { kind: 'static', profile: name } };
      break;
    }
    if (s.role_arn !== undefined) {
      if (s.source_profile !== undefined && s.credential_source !== undefined) {
        throw new CredentialError(
          'profile-invalid',
          profile,
          `profile "${name}" sets both source_profile and credential_source`,
          `Keep one of them in [profile ${name}]: source_profile names a profile, credential_source is Environment, Ec2InstanceMetadata or EcsContainer.`,
        );
      }
      const hop: RoleHop = { profile: name, roleArn: s.role_arn };
      if (s.mfa_serial) hop.mfaSerial = s.mfa_serial;
      if (s.external_id) hop.externalId = s.external_id;
      if (s.duration_seconds) hop.durationSeconds = Number(s.duration_seconds);
      roles.unshift(hop);
      if (s.credential_source !== undefined) {
        if (!['Environment', 'Ec2InstanceMetadata', 'EcsContainer'].includes(s.credential_source)) {
          throw new CredentialError(
            'profile-invalid',
            profile,
            `profile "${name}" has credential_source = ${s.credential_source}, which is not Environment, Ec2InstanceMetadata or EcsContainer`,
            `Use one of those three, or source_profile = <profile>.`,
          );
        }
        plan = { source: { kind: 'credential-source', profile: name, detail: s.credential_source } };
        break;
      }
      const next = s.source_profile;
      if (next === undefined) {
        throw new CredentialError(
          'missing-source',
          profile,
          `profile "${name}" has role_arn but neither source_profile nor credential_source, so there are no credentials to assume the role with`,
          `Add source_profile = <a profile with credentials> (or credential_source = Environment) to [profile ${name}].`,
        );
      }
      // Back to a profile already on the way (one with keys would end the chain there, as the SDK allows).
      const nextSection = cfg.profiles[next];
      if (visitedSources.has(next) || (chain.includes(next) && !(nextSection && isStatic(nextSection)))) {
        throw new CredentialError(
          'source-profile-loop',
          profile,
          `source_profile goes round in a loop: ${[...chain, next].join(' -> ')}`,
          `Make the chain end at a profile with keys, SSO or credential_process (change source_profile in [profile ${name}]).`,
        );
      }
      visitedSources.add(next);
      name = next;
      continue;
    }
    if (s.source_profile !== undefined) {
      throw new CredentialError(
        'missing-role-arn',
        profile,
        `profile "${name}" has source_profile = ${s.source_profile} but no role_arn`,
        `Add role_arn = arn:aws:iam::<account>:role/<name> to [profile ${name}] (the role to assume), or remove source_profile.`,
      );
    }
    if (isStatic(s)) plan = { source: { kind: 'static', profile: name } };
    else if (s.web_identity_token_file) plan = { source: { kind: 'web-identity', profile: name } };
    else if (s.credential_process)
      plan = { source: { kind: 'process', profile: name, detail: s.credential_process } };
    else if (isSso(s))
      plan = { source: { kind: 'sso', profile: name }, sso: ssoSettings(name, s, cfg, profile) };
    else if (s.login_session) plan = { source: { kind: 'other', profile: name } };
    else if (typeof s.aws_access_key_id === 'string') {
      throw new CredentialError(
        'profile-invalid',
        profile,
        `profile "${name}" has aws_access_key_id but no aws_secret_access_key`,
        `Add aws_secret_access_key to [${name}] in ${cfg.files.credentials}.`,
      );
    } else {
      throw new CredentialError(
        'no-credentials',
        profile,
        `profile "${name}" has no credentials settings`,
        `Give it keys (aws_access_key_id and aws_secret_access_key), SSO settings (sso_session, sso_account_id, sso_role_name), role_arn with source_profile, or credential_process.`,
      );
    }
  }
  const top = cfg.profiles[profile]!;
  const kind: ProfileKind =
    roles.length > 0
      ? 'assume-role'
      : plan.source.kind === 'static'
        ? 'static'
        : plan.source.kind === 'sso'
          ? 'sso'
          : plan.source.kind === 'process'
            ? 'process'
            : 'other';
  return {
    profile,
    kind,
    chain,
    roles,
    ...plan,
    ...(top.region ? { region: top.region } : {}),
    files: cfg.files,
  };
}

export type CredentialService = 'sts' | 'sso' | 'sso_oidc';

const ENV_SUFFIX: Record<CredentialService, string> = { sts: 'STS', sso: 'SSO', sso_oidc: 'SSO_OIDC' };

/**
 * The endpoint a credential client must use, as the AWS CLI and SDK decide it, but for the
 * profile being resolved (the SDK reads the config file's endpoint settings for AWS_PROFILE
 * only): AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then the profile's
 * `services` section (`sts.endpoint_url`, `sso.endpoint_url`, `sso_oidc.endpoint_url`), then
 * its `endpoint_url` (the named profile first, then the others of its chain). Undefined: the
 * AWS default. `ignore_configured_endpoint_urls` turns it off.
 */
export function credentialEndpoint(
  service: CredentialService,
  chain: readonly string[],
  cfg: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')) return undefined;
  const fromEnv = env[`AWS_ENDPOINT_URL_${ENV_SUFFIX[service]}`] || env.AWS_ENDPOINT_URL;
  if (fromEnv) return fromEnv;
  for (const name of chain) {
    const section = cfg.configFile[name];
    if (!section) continue;
    if (/^true$/i.test(section.ignore_configured_endpoint_urls ?? '')) return undefined;
    const services = section.services ? cfg.configFile[`services.${section.services}`] : undefined;
    const specific = services?.[`${service}.endpoint_url`];
    if (specific) return specific;
    if (section.endpoint_url) return section.endpoint_url;
  }
  return undefined;
}
