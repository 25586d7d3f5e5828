/**
 * The configuration in the Settings view end to end (issue 8), in Chromium, in web mode against
 * the embedded sandbox and a configuration file of its own: every section generated from the
 * keys, the file's problems with a link to the key, a change saved to the file (source badge
 * "file") and a change made elsewhere followed (config.changed), an invalid value refused with
 * its message (by the form, and by the main side for what only it can check), a preset applied
 * with what it changed, and a key pinned by an EC2_CONNECT_* variable shown read-only.
 * Screenshots: test/artifacts/ui/config-*.png.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, startUi, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

/** The environment the configuration sees. */
const ENV = {
  EC2_CONNECT_MAX_TOTAL_SESSIONS: '7',
} as const;

async function readConfig(
  file: string,
): Promise<Record<string, Record<string, unknown>> & { preset?: string }> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
  } catch {
    return {};
  }
}

const field = (page: Page, key: string) => page.locator(`[data-config-key="${key}"]`);
const source = (page: Page, key: string) => page.getByTestId(`config-source-${key}`);

describe.skipIf(!haveChromium)('configuration in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let dir = '';
  let file = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-ui-config-'));
    file = path.join(dir, 'config.json');
    // One value the app uses, one it cannot (a problem shown at the top).
    await writeFile(
      file,
      `${JSON.stringify({ logging: { level: 'info' }, performance: { ui_update_interval_ms: 2 } }, null, 2)}\n`,
    );
    // The configuration reads EC2_CONNECT_* from this environment (the test process's is untouched).
    ui = await startUi({ configFile: file, env: { ...process.env, ...ENV } });
    page = ui.page;
    await page.locator('[data-testid="instance-row"]').first().waitFor();
    await page.getByTestId('view-settings').click();
    await page.getByTestId('config-card').waitFor({ timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows every section, the file, its problems (linked to the key) and where each value comes from', async () => {
    expect(await page.getByTestId('config-file').innerText()).toBe(file);
    const titles = await page
      .locator('[data-testid^="settings-section-toggle-"] .section-title')
      .allInnerTexts();
    expect(titles.map((t) => t.toLowerCase())).toEqual(
      expect.arrayContaining([
        'appearance',
        'resources',
        'aws',
        'sessions',
        'connection',
        'performance',
        'logging',
        'database',
      ]),
    );
    // Each key once.
    const keys = await page
      .locator('[data-config-key]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-config-key')));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining(['session.max_total_sessions', 'ui.font_size', 'connection.proxy']),
    );

    const problems = page.getByTestId('config-problems');
    await problems.waitFor();
    expect(await problems.innerText()).toMatch(/performance\.ui_update_interval_ms[\s\S]*2/);
    expect(await source(page, 'logging.level').innerText()).toBe('file');
    expect(await source(page, 'logging.format').innerText()).toBe('default');
    await ui.screenshot('config-01-settings');

    await page.getByTestId('config-problem-link-performance.ui_update_interval_ms').click();
    const input = page.getByTestId('config-input-performance.ui_update_interval_ms');
    await expect.poll(() => input.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await field(page, 'performance.ui_update_interval_ms').innerText()).toContain('was not used');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'config-02-problem-field.png') });
  });

  it('saves a change to the file, and follows changes made elsewhere', async () => {
    const input = page.getByTestId('config-input-session.max_sessions_per_instance');
    await input.fill('3');
    await input.press('Tab');
    await expect
      .poll(async () => (await readConfig(file)).session?.max_sessions_per_instance, { timeout: 10_000 })
      .toBe(3);
    await expect.poll(() => source(page, 'session.max_sessions_per_instance').innerText()).toBe('file');

    // Another window changes a key: config.changed brings it here.
    await ui.workspace.handlers['config.update']({ values: { 'session.inactive_timeout': 600 } });
    const timeout = page.getByTestId('config-input-session.inactive_timeout');
    await expect.poll(() => timeout.inputValue(), { timeout: 10_000 }).toBe('600');
    expect(await source(page, 'session.inactive_timeout').innerText()).toBe('file');

    // The file edited by hand.
    const data = await readConfig(file);
    data.connection = { ...(data.connection ?? {}), request_timeout: 20_000 };
    await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
    const request = page.getByTestId('config-input-connection.request_timeout');
    await expect.poll(() => request.inputValue(), { timeout: 10_000 }).toBe('20000');
    expect(await source(page, 'connection.request_timeout').innerText()).toBe('file');
    await field(page, 'session.max_sessions_per_instance').scrollIntoViewIfNeeded();
    await page.getByTestId('side-panel').screenshot({ path: path.join(ARTIFACTS, 'config-03-saved.png') });

    // Reset to default: the key leaves the file.
    await page.getByTestId('config-reset-session.inactive_timeout').click();
    await expect
      .poll(async () => (await readConfig(file)).session?.inactive_timeout, { timeout: 10_000 })
      .toBeUndefined();
    await expect.poll(() => source(page, 'session.inactive_timeout').innerText()).toBe('default');
  });

  it('refuses an invalid value with the message naming the allowed range, and writes nothing', async () => {
    const input = page.getByTestId('config-input-session.max_sessions_per_instance');
    await input.fill('500');
    const error = page.getByTestId('config-error-session.max_sessions_per_instance');
    expect(await error.innerText()).toBe('Must be between 1 and 100 sessions.');
    await input.press('Tab');
    await page.waitForTimeout(300);
    expect((await readConfig(file)).session?.max_sessions_per_instance).toBe(3);

    // What only the main side can check (a region's form): its message, under the field.
    const region = page.getByTestId('config-input-aws.region');
    await region.fill('mars-1');
    await region.press('Tab');
    const refusal = page.getByTestId('config-error-aws.region');
    await refusal.waitFor({ timeout: 10_000 });
    expect(await refusal.innerText()).toMatch(/aws\.region.*mars-1/);
    expect((await readConfig(file)).aws?.region).toBeUndefined();
    await field(page, 'aws.region').scrollIntoViewIfNeeded();
    await page.getByTestId('side-panel').screenshot({ path: path.join(ARTIFACTS, 'config-04-invalid.png') });
    await region.fill('');
    await region.press('Tab');
    await input.fill('3');
    await input.press('Tab');
  });

  it('applies a preset and shows what it changed', async () => {
    await page.getByTestId('config-card').scrollIntoViewIfNeeded();
    await page.getByTestId('config-preset').selectOption('low-end');
    const change = page.getByTestId('preset-change');
    await change.waitFor({ timeout: 10_000 });
    expect(await change.innerText()).toMatch(/Preset low-end: \d+ values changed/);
    // The first few changes show; the rest on request.
    await change.getByTestId('preset-change-more').click({ timeout: 5_000 });
    expect(await change.locator('[data-key="resources.low_power_mode"]').innerText()).toMatch(
      /auto\s*→\s*on/,
    );
    await expect.poll(async () => (await readConfig(file)).preset, { timeout: 10_000 }).toBe('low-end');
    expect(await field(page, 'resources.low_power_mode').getAttribute('data-source')).toBe('preset');
    await ui.screenshot('config-05-preset');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'config-06-preset-panel.png') });

    await page.getByTestId('preset-undo').click();
    await expect.poll(async () => (await readConfig(file)).preset ?? null, { timeout: 10_000 }).toBeNull();
    await expect.poll(() => page.getByTestId('config-preset').inputValue()).toBe('');
  });

  it('shows a key pinned by an environment variable read-only, naming the variable', async () => {
    await page.getByTestId('settings-search').fill('total sessions');
    const input = page.getByTestId('config-input-session.max_total_sessions');
    expect(await input.inputValue()).toBe('7');
    expect(await input.getAttribute('readonly')).not.toBeNull();
    expect(await source(page, 'session.max_total_sessions').innerText()).toBe('env');
    expect(await page.getByTestId('config-pinned-session.max_total_sessions').innerText()).toContain(
      'EC2_CONNECT_MAX_TOTAL_SESSIONS',
    );
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'config-07-env-pinned.png') });
    await page.getByTestId('settings-search').fill('');
  });

  it('looks right in the light theme', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.getByTestId('config-card').scrollIntoViewIfNeeded();
    await ui.screenshot('config-08-settings-light');
    await field(page, 'session.max_total_sessions').scrollIntoViewIfNeeded();
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'config-09-sessions-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
  });

  it('had no console errors or CSP violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
