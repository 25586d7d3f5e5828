/**
 * Endpoints configured for a profile in the shared AWS config file.
 */
import { loadSharedConfigFiles } from '@smithy/core/config';

type IniSection = Record<string, string | undefined>;

export interface ProfileEndpoints {
  /** `endpoint_url` of the profile: every service. */
  endpoint?: string;
  /** `endpoint_url` per service from the profile's `services` section. */
  endpoints?: { ssm?: string; ec2?: string; sts?: string; kms?: string };
}

/**
 * The endpoints a profile configures (`endpoint_url`, and per service through `services = name`),
 * as the AWS CLI applies them. The SDK reads these only for the profile named by AWS_PROFILE, not
 * for a profile chosen at run time, so we resolve them here. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * or `ignore_configured_endpoint_urls = true` turns this off.
 */
export async function profileEndpoints(
  profile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProfileEndpoints> {
  if (/^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '')) return {};
  let configFile: Record<string, IniSection>;
  try {
    configFile = (await loadSharedConfigFiles({ ignoreCache: true })).configFile as Record<
      string,
      IniSection
    >;
  } catch {
    return {};
  }
  const section = configFile[profile];
  if (!section || /^true$/i.test(section.ignore_configured_endpoint_urls ?? '')) return {};
  const out: ProfileEndpoints = {};
  if (section.endpoint_url) out.endpoint = section.endpoint_url;
  const services = section.services ? configFile[`services.${section.services}`] : undefined;
  if (services) {
    const per: NonNullable<ProfileEndpoints['endpoints']> = {};
    for (const svc of ['ssm', 'ec2', 'sts', 'kms'] as const) {
      const url = services[`${svc}.endpoint_url`];
      if (url) per[svc] = url;
    }
    if (Object.keys(per).length > 0) out.endpoints = per;
  }
  return out;
}
