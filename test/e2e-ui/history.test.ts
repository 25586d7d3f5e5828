/**
 * The History view end to end, in Chromium, in web mode against the embedded sandbox with the
 * history database in a temporary folder: a closed and an open session are recorded, the list
 * filters by instance, outcome and date, the detail shows the events and the metrics charts,
 * and "Reconnect to this instance" opens a working shell on the same instance in a new tab.
 * Screenshots: test/artifacts/ui/history-*.png.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

async function tabSessionIds(page: Page): Promise<string[]> {
  return (
    await page
      .locator('[data-testid="tab"]')
      .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''))
  ).filter(Boolean);
}

async function rowAttrs(page: Page): Promise<Array<{ id: string; outcome: string }>> {
  return page.getByTestId('history-row').evaluateAll((rows) =>
    rows.map((r) => ({
      id: r.getAttribute('data-session-id') ?? '',
      outcome: r.getAttribute('data-outcome') ?? '',
    })),
  );
}

/** Today as an <input type="date"> value, shifted by whole days. */
function day(offsetDays = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

describe.skipIf(!haveChromium)('the History view in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let dbDir: string;
  const savedDb = process.env.EC2_CONNECT_DB;
  let closedId = '';
  let openId = '';
  let reopenedId = '';

  beforeAll(async () => {
    dbDir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-ui-history-'));
    process.env.EC2_CONNECT_DB = path.join(dbDir, 'sessions.db');
    // The harness's workspace records into EC2_CONNECT_DB.
    ui = await startUi({ metricsIntervalMs: 500 });
    page = ui.page;
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    if (savedDb === undefined) delete process.env.EC2_CONNECT_DB;
    else process.env.EC2_CONNECT_DB = savedDb;
    if (dbDir) await rm(dbDir, { recursive: true, force: true });
  });

  it('records a session that was closed and one that is still open', async () => {
    await page.locator('[data-testid="instance-row"]').first().waitFor();
    const filter = page.getByTestId('instance-filter');
    await filter.fill('api-1');
    await filter.press('Enter');
    await expect.poll(() => tabSessionIds(page), { timeout: 15_000 }).toHaveLength(1);
    [closedId] = await tabSessionIds(page);
    await waitForText(page, closedId!, '$');
    await typeInto(page, closedId!, 'echo "hist-$((6*7))"\n');
    await waitForText(page, closedId!, 'hist-42');
    // Let a few metrics samples be recorded (one every 500 ms here).
    await page.waitForTimeout(1_500);
    await page.locator(`[data-testid="tab"][data-session-id="${closedId}"]`).getByTestId('tab-close').click();
    await expect.poll(() => ui.workspace.sessionCount(), { timeout: 15_000 }).toBe(0);

    await filter.fill('bastion');
    await filter.press('Enter');
    await expect.poll(() => tabSessionIds(page), { timeout: 15_000 }).toHaveLength(1);
    [openId] = await tabSessionIds(page);
    expect(openId).not.toBe(closedId);
    await waitForText(page, openId!, '$');
  });

  it('lists both, newest first, with their outcomes', async () => {
    await page.getByTestId('view-history').click();
    await page.getByTestId('history-view').waitFor();
    await expect
      .poll(() => rowAttrs(page), { timeout: 10_000 })
      .toEqual([
        { id: openId, outcome: 'open' },
        { id: closedId, outcome: 'terminated' },
      ]);
    expect(await page.getByTestId('history-status-problem').count()).toBe(0);
    const closedRow = page.locator(`[data-testid="history-row"][data-session-id="${closedId}"]`);
    expect(await closedRow.innerText()).toContain('api-1');
    expect(await closedRow.innerText()).toContain('sandbox');
    await ui.screenshot('history-01-list');
  });

  it('filters by instance text, outcome and date', async () => {
    const instance = page.getByTestId('history-filter-instance');
    await instance.fill('api');
    await expect.poll(() => rowAttrs(page)).toEqual([{ id: closedId, outcome: 'terminated' }]);
    await instance.fill('i-0e12e3cfd372c9b23'); // bastion, by id
    await expect.poll(() => rowAttrs(page)).toEqual([{ id: openId, outcome: 'open' }]);
    await instance.fill('');
    await expect.poll(async () => (await rowAttrs(page)).length).toBe(2);

    const outcome = page.getByTestId('history-filter-outcome');
    await outcome.selectOption('open');
    await expect.poll(() => rowAttrs(page)).toEqual([{ id: openId, outcome: 'open' }]);
    await outcome.selectOption('failed');
    await page.getByTestId('history-empty').waitFor();
    await ui.screenshot('history-02-no-match');
    await outcome.selectOption('');
    await expect.poll(async () => (await rowAttrs(page)).length).toBe(2);

    await page.getByTestId('history-filter-from').fill(day(1));
    await page.getByTestId('history-empty').waitFor();
    await page.getByTestId('history-filter-from').fill(day(0));
    await page.getByTestId('history-filter-to').fill(day(0));
    await expect.poll(async () => (await rowAttrs(page)).length).toBe(2);
    await page.getByTestId('history-filter-clear').click();
    await expect.poll(async () => (await rowAttrs(page)).length).toBe(2);
  });

  it('shows the closed session’s events and metrics charts', async () => {
    await page.locator(`[data-testid="history-row"][data-session-id="${closedId}"]`).click();
    const detail = page.getByTestId('history-detail');
    await detail.waitFor();
    await expect
      .poll(() =>
        detail.getByTestId('history-event').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))),
      )
      .toEqual(expect.arrayContaining(['opened', 'closed']));
    await expect.poll(() => detail.getByTestId('line-chart').count()).toBe(2);
    expect(await detail.locator('canvas').count()).toBeGreaterThanOrEqual(2);
    expect(await detail.getByTestId('history-detail-outcome').innerText()).toBe('terminated');
    expect(await detail.innerText()).toContain('i-022e45fccb4896048');
    await ui.screenshot('history-03-detail');
  });

  it('reconnects to the same instance in a new tab, with a working shell', async () => {
    const reopen = page.getByTestId('history-reopen');
    expect(await reopen.isEnabled()).toBe(true);
    await reopen.click();
    await expect.poll(() => tabSessionIds(page), { timeout: 15_000 }).toHaveLength(2);
    reopenedId = (await tabSessionIds(page)).find((id) => id !== openId)!;
    expect(reopenedId).not.toBe(closedId);
    const tab = page.locator(`[data-testid="tab"][data-session-id="${reopenedId}"]`);
    expect(await tab.innerText()).toContain('api-1');
    expect(await tab.getAttribute('aria-selected')).toBe('true');
    await waitForText(page, reopenedId, '$');
    await typeInto(page, reopenedId, 'echo "again-$((3*5))"\n');
    await waitForText(page, reopenedId, 'again-15');
    const live = await ui.workspace.handlers['sessions.list'](undefined);
    expect(live.find((s) => s.id === reopenedId)?.instanceId).toBe('i-022e45fccb4896048');
    await ui.screenshot('history-04-reopened');
  });

  it('lists the new session too, and keeps to the light theme', async () => {
    await page.getByTestId('history-back').click();
    await expect
      .poll(() => rowAttrs(page), { timeout: 10_000 })
      .toEqual([
        { id: reopenedId, outcome: 'open' },
        { id: openId, outcome: 'open' },
        { id: closedId, outcome: 'terminated' },
      ]);
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await ui.screenshot('history-05-list-light');
    await page.locator(`[data-testid="history-row"][data-session-id="${closedId}"]`).click();
    await page.getByTestId('history-detail').getByTestId('line-chart').first().waitFor();
    await ui.screenshot('history-06-detail-light');
    await page.emulateMedia({ colorScheme: 'dark' });
  });

  it('reports no console errors or CSP violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
