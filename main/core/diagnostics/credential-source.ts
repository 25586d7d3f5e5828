/**
 * Where a profile's credentials come from (SSO, an assumed role, a credential_process, static
 * keys), read from the shared AWS config and credentials files, so that a failure can be told
 * with the fix that fits it (`aws sso login --profile X` for SSO, ...).
 */
import { loadSharedConfigFiles } from '@smithy/core/config';

export type CredentialSourceKind =
  'sandbox' | 'sso' | 'assume-role' | 'process' | 'static' | 'env' | 'unknown';

export interface CredentialSource {
  kind: CredentialSourceKind;
  /** For sso (also an assumed role whose chain starts at an SSO profile): the profile to log in with. */
  loginProfile?: string;
}

type Section = Record<string, string | undefined>;

/** Classify `profile` from the shared files (never throws; `unknown` when the files cannot be read). */
export async function credentialSourceFor(
  profile: string,
  sandboxProfile = 'sandbox',
): Promise<CredentialSource> {
  if (profile === sandboxProfile) return { kind: 'sandbox' };
  let config: Record<string, Section>;
  let credentials: Record<string, Section>;
  try {
    const files = await loadSharedConfigFiles({ ignoreCache: true });
    config = files.configFile as Record<string, Section>;
    credentials = files.credentialsFile as Record<string, Section>;
  } catch {
    return { kind: 'unknown' };
  }
  const seen = new Set<string>();
  let name = profile;
  let first: CredentialSourceKind | undefined;
  for (let depth = 0; depth < 8 && !seen.has(name); depth++) {
    seen.add(name);
    const c = config[name] ?? {};
    const k = credentials[name] ?? {};
    const kind: CredentialSourceKind =
      c.sso_session || c.sso_start_url
        ? 'sso'
        : c.role_arn || k.role_arn
          ? 'assume-role'
          : c.credential_process || k.credential_process
            ? 'process'
            : c.aws_access_key_id || k.aws_access_key_id
              ? 'static'
              : 'unknown';
    first ??= kind;
    if (kind === 'sso') {
      return first === 'assume-role'
        ? { kind: 'assume-role', loginProfile: name }
        : { kind: 'sso', loginProfile: name };
    }
    if (kind !== 'assume-role') return { kind: first };
    const source = c.source_profile ?? k.source_profile;
    if (!source) return { kind: first };
    name = source;
  }
  return { kind: first ?? 'unknown' };
}
