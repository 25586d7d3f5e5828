/**
 * Broadcast input in Chromium (web mode, embedded sandbox): three sessions, two of them selected
 * for broadcast; a command typed into one runs in both and not in the third; Ctrl-C reaches both;
 * the marks are on exactly the member tabs and panes; Ctrl+Shift+B turns it off and input is
 * per pane again. Screenshots: test/artifacts/ui/broadcast*.png (light and dark).
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, bufferText, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

async function tabSessionIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tab"]')
    .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''));
}

/** Open a shell to `name` from the instance filter; its session id once its prompt shows. */
async function openShell(page: Page, name: string): Promise<string> {
  const before = new Set(await tabSessionIds(page));
  const filter = page.getByTestId('instance-filter');
  await filter.fill(name);
  await page.locator('[data-testid="instance-row"]', { hasText: name }).first().waitFor();
  await filter.press('Enter');
  let id = '';
  await expect
    .poll(
      async () => {
        id = (await tabSessionIds(page)).find((s) => s && !before.has(s)) ?? '';
        return id;
      },
      { timeout: 15_000 },
    )
    .not.toBe('');
  await waitForText(page, id, '$');
  return id;
}

function tab(page: Page, sessionId: string) {
  return page.locator(`[data-testid="tab"][data-session-id="${sessionId}"]`);
}

/** Session ids of the tabs that show the broadcast mark. */
async function markedTabs(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tab"]:has([data-testid="tab-broadcast"])')
    .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''));
}

describe.skipIf(!haveChromium)('broadcast input in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let a = '';
  let b = '';
  let c = '';

  beforeAll(async () => {
    ui = await startUi({ colorScheme: 'light', viewport: { width: 1280, height: 760 } });
    page = ui.page;
    await page.locator('[data-testid="instance-row"]').first().waitFor({ timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('opens three sessions and selects two of them for broadcast', async () => {
    a = await openShell(page, 'web-1');
    b = await openShell(page, 'web-2');
    c = await openShell(page, 'api-1');
    expect(new Set([a, b, c]).size).toBe(3);

    await page.getByTestId('broadcast-open').click();
    await page.getByTestId('broadcast-bar').waitFor();
    await expect.poll(() => page.getByTestId('tab-broadcast-check').count()).toBe(3);
    await tab(page, a).getByTestId('tab-broadcast-check').check();
    await tab(page, b).getByTestId('tab-broadcast-check').check();
    await expect.poll(() => page.getByTestId('broadcast-selected').innerText()).toBe('2 of 3 selected');
    await tab(page, a).click();
    await page.waitForTimeout(200);
    await ui.screenshot('broadcast-select');
    // Selected, not yet broadcasting: no marks.
    expect(await markedTabs(page)).toEqual([]);

    await page.getByTestId('broadcast-start').click();
    await page.getByTestId('broadcast-bar').waitFor({ state: 'hidden' });
    await expect.poll(() => markedTabs(page)).toEqual([a, b]);
    expect(await tab(page, a).getByTestId('tab-broadcast').getAttribute('aria-label')).toBe(
      'Receives broadcast input',
    );
    const banner = page.locator(
      `[data-testid="terminal-pane"][data-session-id="${a}"] [data-testid="pane-broadcast"]`,
    );
    expect(await banner.innerText()).toBe('Broadcasting to 2 sessions — Ctrl+Shift+B to stop');
    expect(await page.getByTestId('status-broadcast').innerText()).toBe('Broadcast to 2');
  });

  it('runs a command typed into one member in both members, and not in the third session', async () => {
    await typeInto(page, a, 'echo bc-$((40+2))\n');
    await waitForText(page, a, 'bc-42');
    await waitForText(page, b, 'bc-42');
    // Ctrl-C is broadcast like any key: it interrupts the sleep in both.
    await typeInto(page, a, 'sleep 30\n');
    await page.waitForTimeout(300);
    await page.keyboard.press('Control+c');
    await typeInto(page, a, 'echo after-$((2+3))\n');
    await waitForText(page, a, 'after-5', 10_000);
    await waitForText(page, b, 'after-5', 10_000);
    const third = await bufferText(page, c);
    expect(third).not.toContain('bc-');
    expect(third).not.toContain('after-');

    await ui.screenshot('broadcast');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.waitForTimeout(200);
    await ui.screenshot('broadcast-dark');
  });

  it('input typed into the non-member goes to it alone', async () => {
    await tab(page, c).click();
    await typeInto(page, c, 'echo solo-$((3*3))\n');
    await waitForText(page, c, 'solo-9');
    await page.waitForTimeout(500);
    expect(await bufferText(page, a)).not.toContain('solo-');
    expect(await bufferText(page, b)).not.toContain('solo-');
  });

  it('Ctrl+Shift+B turns broadcasting off: the marks go and input is per pane again', async () => {
    await tab(page, a).click();
    await page.locator(`[data-testid="terminal-pane"][data-session-id="${a}"] .xterm`).click();
    await page.keyboard.press('Control+Shift+B');
    await expect.poll(() => markedTabs(page)).toEqual([]);
    expect(await page.getByTestId('pane-broadcast').count()).toBe(0);
    expect(await page.getByTestId('status-broadcast').count()).toBe(0);
    // xterm left the key to the app: nothing of it reached the shell.
    await typeInto(page, a, 'echo off-$((1+1))\n');
    await waitForText(page, a, 'off-2');
    await page.waitForTimeout(500);
    expect(await bufferText(page, b)).not.toContain('off-');
    expect(await bufferText(page, c)).not.toContain('off-');
  });

  it('a member that closes leaves the group', async () => {
    await page.keyboard.press('Control+Shift+B'); // the same group again
    await expect.poll(() => markedTabs(page)).toEqual([a, b]);
    await tab(page, b).getByTestId('tab-close').click();
    await expect.poll(() => markedTabs(page)).toEqual([a]);
    await expect.poll(() => page.getByTestId('status-broadcast').innerText()).toBe('Broadcast to 1');
    await page.keyboard.press('Control+Shift+B');
    await expect.poll(() => markedTabs(page)).toEqual([]);
  });

  it('had no console errors or CSP violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
