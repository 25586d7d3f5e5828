/**
 * Connection diagnostics in the app end to end (issue 8), in Chromium, in web mode against the
 * embedded sandbox: a preventive check of an online instance passes; one of an instance whose
 * agent lost its connection (started from the instance row's "Diagnose") and one of a stopped
 * instance show the failing check with its fix; checks show live while the run goes on; a full
 * diagnosis ranks the regions by latency and its report is copied as JSON.
 * Screenshots: test/artifacts/ui/diagnostics-*.png.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, startUi, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

const WEB1 = 'i-0b5bb7865829a72f8';
const DB_REPLICA = 'i-0cff4813ded0cd81b'; // running, agent ConnectionLost
const WORKER2 = 'i-00c33943c694df560'; // stopped

/** Record every status a check row shows (pending ones included) from now on. */
async function watchStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen = new Set<string>();
    (window as unknown as { __statuses: Set<string> }).__statuses = seen;
    const record = (): void => {
      for (const el of document.querySelectorAll('[data-testid="diagnostic-check"]'))
        seen.add(el.getAttribute('data-status') ?? '');
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['data-status'],
    });
  });
}

async function seenStatuses(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(window as unknown as { __statuses: Set<string> }).__statuses]);
}

async function finished(page: Page): Promise<void> {
  await page.getByTestId('diagnostics-summary').waitFor({ timeout: 30_000 });
}

const checkRow = (page: Page, id: string) =>
  page.locator(`[data-testid="diagnostic-check"][data-check-id="${id}"]`);

describe.skipIf(!haveChromium)('diagnostics in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;

  beforeAll(async () => {
    ui = await startUi();
    page = ui.page;
    await page.locator('[data-testid="instance-row"]').first().waitFor();
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('runs a preventive check of an online instance: it passes, checks shown as they finish', async () => {
    await page.getByTestId('view-diagnostics').click();
    await page.getByTestId('diagnostics-view').waitFor();
    await page.getByTestId('diagnostics-instance').selectOption(WEB1);
    await watchStatuses(page);
    await page.getByTestId('diagnostics-run-preventive').click();
    await finished(page);
    expect(await seenStatuses(page)).toContain('pending');
    expect(await page.getByTestId('diagnostics-run-title').innerText()).toBe('Preventive check of web-1');
    expect(await page.getByTestId('count-fail').innerText()).toBe('0 failed');
    expect(await page.getByTestId('diagnostics-summary').getAttribute('data-tone')).not.toBe('bad');
    expect(await checkRow(page, 'instance').getAttribute('data-status')).toBe('pass');
    expect(await checkRow(page, 'credentials').getAttribute('data-status')).toBe('pass');
    expect(await page.locator('[data-testid="diagnostic-check"][data-status="pending"]').count()).toBe(0);
    await ui.screenshot('diagnostics-01-online');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'diagnostics-02-online-panel.png') });
  });

  it('diagnoses an instance whose agent stopped reporting from its row: the failing check and its fix', async () => {
    await page.getByTestId('view-instances').click();
    const row = page.locator(`[data-testid="instance-row"][data-instance-id="${DB_REPLICA}"]`);
    // The row is aria-disabled (no session can open), which Playwright takes for its buttons too.
    await row.click({ force: true });
    await row.getByTestId('instance-diagnose').click({ force: true });
    await page.getByTestId('diagnostics-view').waitFor();
    expect(await page.getByTestId('diagnostics-instance').inputValue()).toBe(DB_REPLICA);
    await finished(page);
    expect(await page.getByTestId('diagnostics-summary').getAttribute('data-tone')).toBe('bad');
    const failing = checkRow(page, 'instance');
    expect(await failing.getAttribute('data-status')).toBe('fail');
    expect(await failing.getByTestId('check-detail').innerText()).toMatch(
      /ConnectionLost|not (reporting|online)|lost/i,
    );
    const fix = await failing.getByTestId('check-fix').innerText();
    expect(fix.replace(/^How to fix\s*/i, '').length).toBeGreaterThan(10);
    await failing.scrollIntoViewIfNeeded();
    await ui.screenshot('diagnostics-03-offline');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'diagnostics-04-offline-panel.png') });
  });

  it('says what is wrong with a stopped instance (Diagnose from the reason it cannot connect)', async () => {
    await page.getByTestId('view-instances').click();
    const filter = page.getByTestId('instance-filter');
    await filter.fill('worker-2');
    await filter.press('Enter');
    expect(await page.getByTestId('instance-message').innerText()).toMatch(/Cannot connect to worker-2/);
    await page.getByTestId('instance-message-diagnose').click();
    await page.getByTestId('diagnostics-view').waitFor();
    expect(await page.getByTestId('diagnostics-instance').inputValue()).toBe(WORKER2);
    expect(await page.getByTestId('diagnostics-blocker').innerText()).toMatch(/stopped/i);
    await finished(page);
    await page.getByTestId('view-instances').click();
    await filter.fill('');
    await page.getByTestId('view-diagnostics').click();
    const failing = checkRow(page, 'instance');
    expect(await failing.getAttribute('data-status')).toBe('fail');
    expect(await failing.innerText()).toMatch(/stopped/i);
    expect(await failing.getByTestId('check-fix').innerText()).toMatch(/start/i);
  });

  it('runs a full diagnosis: regions ranked by latency, the report copied as JSON, run again', async () => {
    await page.getByTestId('diagnostics-instance').selectOption(WEB1);
    await page.getByTestId('diagnostics-run-full').click();
    await finished(page);
    const regions = page.getByTestId('region-row');
    await regions.first().waitFor();
    expect(await regions.count()).toBeGreaterThan(0);
    expect(await regions.first().getAttribute('data-ok')).toBe('true');
    expect(await regions.first().innerText()).toMatch(/\d+(\.\d+)? ms/);
    for (const id of ['region-latency', 'resources', 'store', 'recent-failures'])
      expect(await checkRow(page, id).count()).toBe(1);

    await page.getByTestId('diagnostics-copy').click();
    await page.getByTestId('diagnostics-copied').waitFor();
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText())) as {
      kind: string;
      instanceId: string | null;
      checks: unknown[];
      regions?: unknown[];
    };
    expect(copied.kind).toBe('full');
    expect(copied.instanceId).toBe(WEB1);
    expect(copied.checks.length).toBe(await page.getByTestId('diagnostic-check').count());
    expect(copied.regions?.length).toBe(await regions.count());
    await page.getByTestId('diagnostics-regions').scrollIntoViewIfNeeded();
    await ui.screenshot('diagnostics-05-full');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'diagnostics-06-full-panel.png') });

    await page.getByTestId('diagnostics-rerun').click();
    await finished(page);
    expect(await page.getByTestId('diagnostics-run-title').innerText()).toBe('Full diagnosis of web-1');
  });

  it('looks right in the light theme', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.getByTestId('diagnostics-instance').selectOption(DB_REPLICA);
    await page.getByTestId('diagnostics-run-preventive').click();
    await finished(page);
    await checkRow(page, 'instance').scrollIntoViewIfNeeded();
    await ui.screenshot('diagnostics-07-light');
    await page.emulateMedia({ colorScheme: 'dark' });
  });

  it('had no console errors or CSP violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
