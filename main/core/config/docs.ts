/**
 * The generated parts of docs/config.md (every key, the environment variables, the presets),
 * from CONFIG_KEYS and PRESETS, between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`
 * markers. `npm run docs:config` rewrites them; test/core/config/docs.test.ts fails when the
 * document is out of date.
 *
 *   tsx main/core/config/docs.ts --write   # update docs/config.md
 *   tsx main/core/config/docs.ts --check   # exit 1 when it is out of date
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PRESETS, PRESET_NAMES } from './presets.js';
import {
  CONFIG_KEYS,
  SECTION_DESCRIPTIONS,
  SECTION_NAMES,
  flattenConfig,
  keyMeta,
  type ConfigValue,
} from './schema.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (value: ConfigValue): string => `\`${value === null ? 'null' : JSON.stringify(value)}\``;

/** What a key accepts, compactly: `1 to 60 minutes`, `auto, on, off`, `true, false`. */
function allowed(key: string): string {
  const meta = keyMeta(key)!;
  let out: string;
  switch (meta.type) {
    case 'integer':
    case 'number':
      out = `${meta.type === 'integer' ? 'whole number, ' : ''}${meta.min} to ${meta.max}${meta.unit ? ` ${meta.unit}` : ''}`;
      break;
    case 'enum':
      out = meta.values!.map((v) => `\`${v}\``).join(', ');
      break;
    case 'boolean':
      out = '`true`, `false`';
      break;
    default:
      out = meta.form ?? 'non-empty string';
  }
  if (meta.note) out += ` (${meta.note})`;
  if (meta.nullable) out += `, or \`null\`: ${meta.nullMeans}`;
  return out;
}

export function renderKeys(): string {
  const parts: string[] = [];
  for (const section of SECTION_NAMES) {
    parts.push(`### \`${section}\``, '', SECTION_DESCRIPTIONS[section], '');
    parts.push(
      '| Key | Default | Allowed | Environment | Live | Description |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const k of CONFIG_KEYS.filter((c) => c.section === section)) {
      const name = k.key.slice(section.length + 1);
      parts.push(
        `| \`${name}\` | ${cell(code(k.default))} | ${cell(allowed(k.key))} | ${k.env ? `\`${k.env}\`` : ''} | ${k.live ? 'yes' : 'no'} | ${cell(k.description)} |`,
      );
    }
    parts.push('');
  }
  return parts.join('\n').trimEnd();
}

export function renderEnv(): string {
  const rows = CONFIG_KEYS.filter((k) => k.env).map((k) => {
    const meta = keyMeta(k.key)!;
    return `| \`${k.env}\` | \`${k.key}\` | ${cell(meta.envForm ?? allowed(k.key))} |`;
  });
  return [
    '| Variable | Key | Accepts |',
    '| --- | --- | --- |',
    '| `EC2_CONNECT_CONFIG` | (the file) | a path: the configuration file to use |',
    `| \`EC2_CONNECT_PRESET\` | (the preset) | ${PRESET_NAMES.map((n) => `\`${n}\``).join(', ')} |`,
    ...rows,
  ].join('\n');
}

export function renderPresets(): string {
  const parts: string[] = ['| Preset | For | Sets |', '| --- | --- | --- |'];
  for (const name of PRESET_NAMES) {
    const p = PRESETS[name];
    const sets = Object.entries(flattenConfig(p.values))
      .map(([k, v]) => `\`${k}\` ${code(v)}`)
      .join(', ');
    parts.push(`| \`${name}\` | ${cell(p.description)} | ${cell(sets)} |`);
  }
  return parts.join('\n');
}

const SECTIONS: Record<string, () => string> = { keys: renderKeys, env: renderEnv, presets: renderPresets };

/** The document with every generated part brought up to date. */
export function updateConfigDoc(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(SECTIONS)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`docs/config.md has no ${start} ... ${end} markers`);
    out = `${out.slice(0, i + start.length)}\n${render()}\n${out.slice(j)}`;
  }
  return out;
}

export const CONFIG_DOC = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../docs/config.md',
);

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const text = fs.readFileSync(CONFIG_DOC, 'utf8');
  const next = updateConfigDoc(text);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      process.stderr.write(`${CONFIG_DOC} is out of date: run npm run docs:config\n`);
      process.exitCode = 1;
    }
  } else if (next !== text) {
    fs.writeFileSync(CONFIG_DOC, next);
    process.stdout.write(`updated ${CONFIG_DOC}\n`);
  } else {
    process.stdout.write(`${CONFIG_DOC} is up to date\n`);
  }
}
