/**
 * The resource governor and performance monitor end to end (issue 7), in Chromium, in web mode
 * against the embedded sandbox: the Performance view's per-process charts, governor card,
 * endpoint probes and CSV export; a tiny memory limit set in Settings makes the governor refuse
 * new sessions (status bar badge, toast, the refusal shown where the session would have opened)
 * while the open session keeps working; the limit restored, back to normal; low-power mode on
 * shows the indicator and switches terminals to economy rendering.
 * Screenshots: test/artifacts/ui/resources-*.png.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

async function sessionIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tab"]')
    .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''));
}

async function setNumber(page: Page, testId: string, value: string): Promise<void> {
  const input = page.getByTestId(testId);
  await input.fill(value);
  await input.press('Tab'); // change: saved
}

describe.skipIf(!haveChromium)('resources in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let first = '';

  beforeAll(async () => {
    ui = await startUi({
      metricsIntervalMs: 500,
      // Fast sampling, set the way an administrator would (the Settings view says so).
      env: { EC2_CONNECT_MONITORING_INTERVAL: '500ms' },
    });
    page = ui.page;
    await page.locator('[data-testid="instance-row"]').first().waitFor();
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('opens a session to work in', async () => {
    const filter = page.getByTestId('instance-filter');
    await filter.fill('api-1');
    await filter.press('Enter');
    await page.locator('[data-testid="tab"][data-state="open"]').first().waitFor({ timeout: 15_000 });
    [first] = await sessionIds(page);
    await waitForText(page, first!, '$');
    await typeInto(page, first!, 'echo "hello-$((6*7))"\n');
    await waitForText(page, first!, 'hello-42');
  });

  it('shows the governor, per-process CPU and memory charts, the process table and the leak watch', async () => {
    await page.getByTestId('view-performance').click();
    await page.getByTestId('performance-view').waitFor();
    const governor = page.getByTestId('governor-card');
    await expect.poll(() => governor.getAttribute('data-level'), { timeout: 10_000 }).toBe('normal');
    expect(await governor.getByTestId('governor-level').innerText()).toBe('Normal');
    expect(await governor.getByTestId('gauge-memory').innerText()).toMatch(/MiB of 1\.5 GiB/);
    // One series per role: this process, and the sandbox's shell of the open session.
    const cpu = page.getByTestId('process-cpu-chart');
    await expect
      .poll(async () => (await cpu.getAttribute('data-roles'))?.split(',') ?? [], { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['main', 'pty']));
    expect(await page.getByTestId('process-memory-chart').getAttribute('data-roles')).toBe(
      await cpu.getAttribute('data-roles'),
    );
    // uPlot drew both (a canvas each, with a legend naming the roles).
    expect(await cpu.locator('canvas').count()).toBe(1);
    expect(await cpu.locator('.u-legend').innerText()).toContain('main');
    const mainRow = page.locator('[data-testid="process-row"][data-role="main"]');
    expect(await mainRow.innerText()).toMatch(/\d+(\.\d)? MiB/);
    const ptyRow = page.locator('[data-testid="process-row"][data-role="pty"]').first();
    expect(await ptyRow.innerText()).toMatch(/\bno$/); // shown, not governed
    // The charts grow with the samples.
    const count = async () => (await ui.workspace.handlers['resources.get'](undefined)).history.length;
    const n0 = await count();
    await expect.poll(count, { timeout: 10_000 }).toBeGreaterThan(n0 + 2);
    await expect(page.getByTestId('leak-status').innerText()).resolves.toContain('Leak watch');
    expect(await page.getByTestId('low-power-state').innerText()).toBe('Off');
  });

  it('probes the endpoints on demand and exports the connection metrics as CSV', async () => {
    await page.getByTestId('probe-now').click();
    const row = page.locator('[data-testid="probe-row"][data-service="ssm"]');
    await row.first().waitFor({ timeout: 10_000 });
    expect(await row.first().getAttribute('data-ok')).toBe('true');
    expect(await row.first().innerText()).toMatch(/127\.0\.0\.1:\d+\s+[\d.]+ ms/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-csv').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const file = path.join(ARTIFACTS, 'resources-export.csv');
    await download.saveAs(file);
    const csv = await readFile(file, 'utf8');
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    expect(header).toMatch(/p95/);
    expect(rows.length).toBeGreaterThan(0);
    expect(csv).toContain(first);
  });

  it('looks right in the dark and light themes', async () => {
    // Traffic, so the session charts have something to show.
    await typeInto(page, first, 'for i in $(seq 1 10); do seq 1 500; sleep 0.1; done\n');
    await page.waitForTimeout(2500);
    const panel = page.getByTestId('side-panel');
    const shot = (name: string) => panel.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    await page.getByTestId('governor-card').scrollIntoViewIfNeeded();
    await ui.screenshot('resources-01-performance-dark');
    await shot('resources-02-governor-dark');
    await page.getByTestId('process-table').scrollIntoViewIfNeeded();
    await shot('resources-03-processes-dark');
    await page.getByTestId('probes-card').scrollIntoViewIfNeeded();
    await shot('resources-03b-connections-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.waitForTimeout(300);
    await page.getByTestId('governor-card').scrollIntoViewIfNeeded();
    await ui.screenshot('resources-04-performance-light');
    await shot('resources-05-governor-light');
    await page.getByTestId('process-table').scrollIntoViewIfNeeded();
    await shot('resources-05b-processes-light');
    await page.getByTestId('probes-card').scrollIntoViewIfNeeded();
    await shot('resources-05c-connections-light');
    await page.emulateMedia({ colorScheme: 'dark' });
  });

  it('refuses new sessions over a tiny memory limit, says so everywhere, and keeps the open session', async () => {
    await page.getByTestId('view-settings').click();
    await setNumber(page, 'config-input-resources.max_memory_mb', '1');
    await expect.poll(() => ui.workspace.governorState().level, { timeout: 10_000 }).toBe('refuse');

    // The status bar, a toast, and low power (automatic: over a limit).
    const badge = page.getByTestId('status-governor');
    await expect.poll(() => badge.getAttribute('data-level'), { timeout: 10_000 }).toBe('refuse');
    expect(await badge.innerText()).toContain('Refusing sessions');
    const toast = page.locator('[data-testid="toast"][data-kind="resources"]');
    await toast.first().waitFor({ timeout: 10_000 });
    expect(await toast.allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringMatching(/new sessions are refused/i)]),
    );
    const lowPower = page.getByTestId('status-low-power');
    await lowPower.waitFor();
    expect(await lowPower.getAttribute('data-reasons')).toBe('limits');
    await ui.screenshot('resources-06-refusing');

    // Opening a session fails, and the user is told why.
    await page.getByTestId('view-instances').click();
    await page.getByTestId('instances-refusal').waitFor();
    const filter = page.getByTestId('instance-filter');
    await filter.fill('bastion');
    await filter.press('Enter');
    const error = page.getByTestId('pane-error-message');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.innerText()).toMatch(/New sessions are refused.*max_memory_mb/s);
    await ui.screenshot('resources-07-refused-open');
    expect(ui.workspace.sessionCount()).toBe(1);
    await page.getByTestId('pane-error-close').click();

    // The open session is still open and usable, in economy rendering.
    await page.locator(`[data-testid="tab"][data-session-id="${first}"]`).click();
    const pane = page.locator(`[data-testid="terminal-pane"][data-session-id="${first}"]`);
    expect(await pane.getAttribute('data-state')).toBe('open');
    await expect.poll(() => pane.getAttribute('data-economy')).toBe('true');
    expect(await pane.getAttribute('data-renderer')).not.toBe('webgl');
    await typeInto(page, first, 'echo "still-$((2*21))"\n');
    await waitForText(page, first, 'still-42');

    // The Performance view tells the whole story.
    await badge.click();
    const governor = page.getByTestId('governor-card');
    await expect.poll(() => governor.getAttribute('data-level')).toBe('refuse');
    expect(await governor.getByTestId('governor-refusal').innerText()).toMatch(/refused/);
    expect(await governor.getByTestId('governor-actions').innerText()).toMatch(/New sessions are refused/);
    expect(await governor.getByTestId('gauge-memory').getAttribute('data-tone')).toBe('bad');
    expect(await governor.getByTestId('governor-change').count()).toBeGreaterThan(0);
    await ui.screenshot('resources-08-performance-refusing');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'resources-09-governor-refusing.png') });
  });

  it('returns to normal when the limit is restored, and opens sessions again', async () => {
    await page.getByTestId('view-settings').click();
    await setNumber(page, 'config-input-resources.max_memory_mb', '1536');
    await expect.poll(() => ui.workspace.governorState().level, { timeout: 10_000 }).toBe('normal');
    await page.getByTestId('status-governor').waitFor({ state: 'hidden', timeout: 10_000 });
    await page.getByTestId('status-low-power').waitFor({ state: 'hidden', timeout: 10_000 });
    const pane = page.locator(`[data-testid="terminal-pane"][data-session-id="${first}"]`);
    await expect.poll(() => pane.getAttribute('data-economy')).toBe('false');

    await page.getByTestId('view-instances').click();
    await page.getByTestId('instances-refusal').waitFor({ state: 'hidden' });
    const filter = page.getByTestId('instance-filter');
    await filter.fill('bastion');
    await filter.press('Enter');
    await expect
      .poll(async () => (await sessionIds(page)).filter(Boolean).length, { timeout: 15_000 })
      .toBe(2);
    const second = (await sessionIds(page)).find((id) => id && id !== first)!;
    await waitForText(page, second, '$');
    await page.locator(`[data-testid="tab"][data-session-id="${second}"]`).getByTestId('tab-close').click();
    await expect.poll(() => ui.workspace.sessionCount(), { timeout: 15_000 }).toBe(1);
  });

  it('shows low-power mode turned on in Settings, and which values the environment overrides', async () => {
    await page.getByTestId('view-settings').click();
    const env = page.getByTestId('config-pinned-resources.monitoring_interval');
    expect(await env.innerText()).toMatch(/Set by EC2_CONNECT_MONITORING_INTERVAL.*; read-only here/);
    await page.getByTestId('config-input-resources.low_power_mode-on').click();
    const lowPower = page.getByTestId('status-low-power');
    await lowPower.waitFor({ timeout: 10_000 });
    expect(await lowPower.getAttribute('data-reasons')).toBe('config');
    expect(await lowPower.getAttribute('title')).toContain('turned on in Settings');
    expect(await page.getByTestId('status-governor').count()).toBe(0); // not a limit
    const pane = page.locator(`[data-testid="terminal-pane"][data-session-id="${first}"]`);
    await expect.poll(() => pane.getAttribute('data-economy')).toBe('true');
    expect(await pane.getAttribute('data-renderer')).not.toBe('webgl');
    await typeInto(page, first, 'echo "low-$((5*5))"\n');
    await waitForText(page, first, 'low-25');
    await page.getByTestId('view-performance').click();
    const card = page.getByTestId('low-power-card');
    await expect.poll(() => card.getAttribute('data-active')).toBe('true');
    expect(await card.getByTestId('low-power-reasons').innerText()).toContain('turned on in Settings');
    await ui.screenshot('resources-10-low-power');

    await page.getByTestId('view-settings').click();
    await page.getByTestId('config-input-resources.low_power_mode-auto').click();
    await lowPower.waitFor({ state: 'hidden', timeout: 10_000 });
    await expect.poll(() => pane.getAttribute('data-economy')).toBe('false');
  });

  it('reports no console errors or CSP violations (economy rendering included) and closes cleanly', async () => {
    await page.locator('[data-testid="tab"]').first().getByTestId('tab-close').click();
    await expect.poll(() => ui.workspace.sessionCount(), { timeout: 15_000 }).toBe(0);
    expect(ui.problems).toEqual([]);
  });
});
