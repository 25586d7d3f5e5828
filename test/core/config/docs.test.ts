/** docs/config.md lists every key, variable and preset as the schema has them. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_DOC,
  renderEnv,
  renderKeys,
  renderPresets,
  updateConfigDoc,
} from '../../../main/core/config/docs.js';
import { CONFIG_KEYS } from '../../../main/core/config/schema.js';
import { PRESET_NAMES } from '../../../main/core/config/presets.js';

describe('docs/config.md', () => {
  const text = fs.readFileSync(CONFIG_DOC, 'utf8');

  it('is up to date with the schema (run `npm run docs:config` when this fails)', () => {
    expect(updateConfigDoc(text) === text, 'docs/config.md is out of date: run npm run docs:config').toBe(
      true,
    );
  });

  it('has a row for every key, variable and preset', () => {
    const keys = renderKeys();
    for (const k of CONFIG_KEYS) {
      expect(keys, k.key).toContain(`| \`${k.key.slice(k.section.length + 1)}\` |`);
      if (k.env) expect(renderEnv(), k.env).toContain(`| \`${k.env}\` | \`${k.key}\` |`);
    }
    for (const name of PRESET_NAMES) expect(renderPresets()).toContain(`| \`${name}\` |`);
    // every row of a table has the header's number of cells
    for (const table of [keys, renderEnv(), renderPresets()])
      for (const line of table.split('\n').filter((l) => l.startsWith('|'))) {
        const cells = line.replace(/\\\|/g, '').split('|').length;
        expect(cells, line).toBe(table.startsWith('| Variable') || table.startsWith('| Preset') ? 5 : 8);
      }
  });

  it('fails loudly without its markers', () => {
    expect(() => updateConfigDoc('# nothing')).toThrow(/markers/);
  });
});
