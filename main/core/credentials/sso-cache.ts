/**
 * The SSO token cache, ~/.aws/sso/cache/, written exactly as the AWS CLI v2 writes it so
 * that `aws`, the SDKs and EC2 Connect share one sign-in:
 *
 * - the token: `<sha1(sso-session name)>.json` (legacy profiles without an sso-session:
 *   `<sha1(start URL)>.json`) with startUrl, region, accessToken, expiresAt and, when the
 *   service gave a refresh token, clientId, clientSecret, registrationExpiresAt and
 *   refreshToken. Times are UTC `YYYY-MM-DDTHH:MM:SSZ`.
 * - the client registration: `<sha1 of the JSON {"region", "scopes", "session_name",
 *   "startUrl", "tool": "botocore"} with sorted keys, as Python's json.dumps writes it>.json`
 *   with clientId, clientSecret, expiresAt (and scopes).
 *
 * Files are 0600 in a 0700 folder, replaced atomically (a reader never sees half a file).
 * The folder follows the SDK's home directory rule (HOME, USERPROFILE, ...).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getSSOTokenFilepath } from '@smithy/core/config';

export interface SsoTokenFile {
  startUrl: string;
  region: string;
  accessToken: string;
  /** UTC, `2024-05-01T18:00:00Z`. */
  expiresAt: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: string;
  refreshToken?: string;
}

export interface SsoRegistrationFile {
  clientId: string;
  clientSecret: string;
  expiresAt: string;
  scopes?: string[];
}

/** The cache id of a token: the sso-session name, or the start URL for legacy profiles. */
export function tokenCacheId(sso: { sessionName?: string; startUrl: string }): string {
  return sso.sessionName ?? sso.startUrl;
}

/** Where the token of `id` is cached (the SDK's own path function). */
export function tokenCachePath(id: string): string {
  return getSSOTokenFilepath(id);
}

/** `2024-05-01T18:00:00Z`: the CLI's format (no milliseconds). */
export function cliTime(date: Date | number): string {
  return new Date(Math.floor(new Date(date).getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** JSON as Python's json.dumps writes it (", " and ": " separators, non-ASCII escaped; keys sorted or in order). */
function pyJson(value: unknown, sortKeys = true): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') {
    const map: Record<string, string> = {
      '\\': '\\\\',
      '"': '\\"',
      '\n': '\\n',
      '\r': '\\r',
      '\t': '\\t',
      '\b': '\\b',
      '\f': '\\f',
    };
    let out = '"';
    for (const c of value) {
      const code = c.charCodeAt(0);
      if (map[c] !== undefined) out += map[c];
      else if (code >= 0x20 && code < 0x7f) out += c;
      else {
        // Python escapes everything outside printable ASCII as \uXXXX (UTF-16 units).
        for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
      }
    }
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => pyJson(v, sortKeys)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (sortKeys) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${pyJson(k)}: ${pyJson(v, sortKeys)}`).join(', ')}}`;
  }
  return String(value);
}

/** The CLI's registration cache id (botocore's SSOTokenFetcher._registration_cache_key). */
export function registrationCacheId(input: {
  startUrl: string;
  region: string;
  scopes?: string[];
  sessionName?: string;
}): string {
  const args = {
    tool: 'botocore',
    startUrl: input.startUrl,
    region: input.region,
    scopes: input.scopes ?? null,
    session_name: input.sessionName ?? null,
  };
  return createHash('sha1').update(pyJson(args)).digest('hex');
}

function cacheDir(): string {
  return path.dirname(getSSOTokenFilepath('x'));
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const data = JSON.parse(text) as unknown;
    return typeof data === 'object' && data !== null ? (data as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Write `data` as the CLI does, 0600, atomically; returns the path. */
async function writeJson(file: string, data: unknown): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, pyJson(data, false), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return file;
}

/** The cached token of `id`, or undefined when there is none or it is unreadable. */
export async function readSsoToken(id: string): Promise<SsoTokenFile | undefined> {
  const data = await readJson<Partial<SsoTokenFile>>(tokenCachePath(id));
  if (!data || typeof data.accessToken !== 'string' || typeof data.expiresAt !== 'string') return undefined;
  if (Number.isNaN(Date.parse(data.expiresAt))) return undefined;
  return data as SsoTokenFile;
}

export function writeSsoToken(id: string, token: SsoTokenFile): Promise<string> {
  // The CLI's key order.
  const ordered: SsoTokenFile = {
    startUrl: token.startUrl,
    region: token.region,
    accessToken: token.accessToken,
    expiresAt: token.expiresAt,
    ...(token.clientId !== undefined ? { clientId: token.clientId } : {}),
    ...(token.clientSecret !== undefined ? { clientSecret: token.clientSecret } : {}),
    ...(token.registrationExpiresAt !== undefined
      ? { registrationExpiresAt: token.registrationExpiresAt }
      : {}),
    ...(token.refreshToken !== undefined ? { refreshToken: token.refreshToken } : {}),
  };
  return writeJson(tokenCachePath(id), ordered);
}

/** Remove the cached token of `id` (sign out locally). */
export async function removeSsoToken(id: string): Promise<boolean> {
  try {
    await unlink(tokenCachePath(id));
    return true;
  } catch {
    return false;
  }
}

export async function readRegistration(id: string): Promise<SsoRegistrationFile | undefined> {
  const data = await readJson<Partial<SsoRegistrationFile>>(path.join(cacheDir(), `${id}.json`));
  if (!data || typeof data.clientId !== 'string' || typeof data.clientSecret !== 'string') return undefined;
  if (typeof data.expiresAt !== 'string' || Number.isNaN(Date.parse(data.expiresAt))) return undefined;
  return data as SsoRegistrationFile;
}

export function writeRegistration(id: string, registration: SsoRegistrationFile): Promise<string> {
  return writeJson(path.join(cacheDir(), `${id}.json`), registration);
}
