/** Words for the generated Settings fields (pure): labels, section titles, sources, hints, search. */
import type { ConfigKey, ConfigSource } from '../../../preload/api.js';

/** Sections in the order the Settings view shows them; others follow in the order the keys give. */
export const SECTION_ORDER: readonly string[] = [
  'ui',
  'resources',
  'aws',
  'session',
  'connection',
  'performance',
  'logging',
  'database',
];

const SECTION_TITLES: Record<string, string> = {
  aws: 'AWS',
  session: 'Sessions',
  performance: 'Performance',
  resources: 'Resources',
  ui: 'Interface',
  logging: 'Logging',
  database: 'Database',
  connection: 'Connection',
};

export function sectionTitle(section: string): string {
  return SECTION_TITLES[section] ?? humanize(section);
}

export function sortSections(sections: readonly string[]): string[] {
  const rank = (s: string): number => {
    const i = SECTION_ORDER.indexOf(s);
    return i === -1 ? SECTION_ORDER.length : i;
  };
  return [...sections].sort((a, b) => rank(a) - rank(b));
}

const WORDS: Record<string, string> = {
  aws: 'AWS',
  cpu: 'CPU',
  ui: 'UI',
  url: 'URL',
  uri: 'URI',
  sso: 'SSO',
  mfa: 'MFA',
  json: 'JSON',
  ssm: 'SSM',
  sts: 'STS',
  ec2: 'EC2',
  db: 'DB',
  ip: 'IP',
  id: 'ID',
  http: 'HTTP',
  https: 'HTTPS',
  tls: 'TLS',
  mb: 'MB',
  mib: 'MiB',
  ms: 'ms',
  sqlite: 'SQLite',
  kms: 'KMS',
  pty: 'PTY',
  ca: 'CA',
  pem: 'PEM',
};

/** `max_sessions_per_instance` -> "Max sessions per instance"; known acronyms kept upper case. */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[_\-\s.]+/)
    .filter(Boolean)
    .map((w) => WORDS[w.toLowerCase()] ?? w.toLowerCase());
  if (words.length === 0) return name;
  const first = words[0]!;
  words[0] = first === first.toLowerCase() ? first[0]!.toUpperCase() + first.slice(1) : first;
  return words.join(' ');
}

/** Unit words that end some key names (`..._ms`), left out of labels: the field shows the unit. */
const UNIT_SUFFIXES = ['ms', 'seconds', 'minutes', 'hours', 'days', 'kib'];

/** The label of a key: its name without the section (nor a unit the field shows beside it). */
export function keyLabel(key: Pick<ConfigKey, 'key' | 'section'> & { unit?: string }): string {
  const prefix = `${key.section}.`;
  let name = key.key.startsWith(prefix) ? key.key.slice(prefix.length) : key.key;
  const parts = name.split('_');
  const last = parts[parts.length - 1]!.toLowerCase();
  if (key.unit && parts.length > 1 && UNIT_SUFFIXES.includes(last) && last === key.unit.toLowerCase())
    name = parts.slice(0, -1).join('_');
  return humanize(name);
}

export const SOURCE_LABELS: Record<ConfigSource, string> = {
  default: 'default',
  preset: 'preset',
  file: 'file',
  env: 'env',
  flag: 'flag',
};

/** A sentence for the source badge's tooltip. */
export function sourceTitle(
  source: ConfigSource,
  context: { file?: string; preset?: string | null; env?: string },
): string {
  switch (source) {
    case 'default':
      return 'The built-in default.';
    case 'preset':
      return context.preset ? `Set by the ${context.preset} preset.` : 'Set by the preset.';
    case 'file':
      return context.file
        ? `Set in the configuration file ${context.file}.`
        : 'Set in the configuration file.';
    case 'env':
      return context.env
        ? `Set by the environment variable ${context.env}.`
        : 'Set by an environment variable.';
    case 'flag':
      return 'Set by a command-line flag for this run.';
  }
}

/** When a change takes effect. */
export function liveHint(live: boolean): string {
  return live ? 'Applies live' : 'Applies to new sessions or at restart';
}

/** Case-insensitive: every word of the query occurs in one of the texts. */
export function matchesQuery(query: string, texts: ReadonlyArray<string | null | undefined>): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = texts
    .filter((t): t is string => !!t)
    .join('\n')
    .toLowerCase();
  return words.every((w) => hay.includes(w));
}

export function presetLabel(name: string | null): string {
  return name === null ? 'None' : name;
}
