/**
 * KMS-encrypted sessions shown as such, in Chromium, in web mode against the embedded sandbox:
 * web-1 patched to require KMS encryption (its kmsKeyId), Connect opens a shell that works, and
 * its tab and its row in Sessions show a lock whose tooltip names the key; a session to an
 * instance without it shows no lock. Screenshot: test/artifacts/ui/encrypted-tab.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_KMS_ALIAS } from '../../main/sandbox/api/kms-keys.js';
import { CHROMIUM, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);
const WEB1 = 'i-0b5bb7865829a72f8';
const API1 = 'i-022e45fccb4896048';

async function connect(page: Page, instanceId: string): Promise<string> {
  const before = await page.locator('[data-testid="tab"]').count();
  const row = page.locator(`[data-testid="instance-row"][data-instance-id="${instanceId}"]`);
  await row.waitFor();
  await row.click();
  await row.getByTestId('instance-connect').click();
  await expect.poll(() => page.locator('[data-testid="tab"]').count(), { timeout: 15_000 }).toBe(before + 1);
  // The tab appears while its session is still opening; it gets the session's id once open.
  const tab = page.locator('[data-testid="tab"]').last();
  await expect.poll(() => tab.getAttribute('data-session-id'), { timeout: 15_000 }).toBeTruthy();
  return (await tab.getAttribute('data-session-id'))!;
}

describe.skipIf(!haveChromium)('KMS-encrypted sessions in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;

  beforeAll(async () => {
    ui = await startUi({ viewport: { width: 1200, height: 640 } });
    page = ui.page;
    ui.sandbox.fleet.update(WEB1, { kmsKeyId: DEFAULT_KMS_ALIAS });
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('shows a lock naming the KMS key on the tab and in Sessions, and none for a plain session', async () => {
    const secure = await connect(page, WEB1);
    await waitForText(page, secure, '$ ');
    await typeInto(page, secure, 'echo "sea""led-$((6*7))"\n');
    await waitForText(page, secure, 'sealed-42');
    const plain = await connect(page, API1);
    await waitForText(page, plain, '$ ');

    const title = `Encrypted with KMS key ${DEFAULT_KMS_ALIAS}`;
    const secureTab = page.locator(`[data-testid="tab"][data-session-id="${secure}"]`);
    const lock = secureTab.getByTestId('tab-encrypted');
    await lock.waitFor();
    expect(await lock.getAttribute('title')).toBe(title);
    expect(await lock.getAttribute('aria-label')).toBe(title);
    expect(await lock.isVisible()).toBe(true);
    const box = await lock.boundingBox();
    expect(box?.width).toBeGreaterThan(8);
    const plainTab = page.locator(`[data-testid="tab"][data-session-id="${plain}"]`);
    expect(await plainTab.getByTestId('tab-encrypted').count()).toBe(0);

    // The Sessions view marks the row the same way.
    await page.getByTestId('view-sessions').click();
    const row = page.locator(`[data-testid="session-row"][data-session-id="${secure}"]`);
    await row.waitFor();
    expect(await row.getByTestId('session-encrypted').getAttribute('title')).toBe(title);
    const plainRow = page.locator(`[data-testid="session-row"][data-session-id="${plain}"]`);
    expect(await plainRow.getByTestId('session-encrypted').count()).toBe(0);

    await secureTab.click();
    await ui.screenshot('encrypted-tab');
    expect(ui.problems).toEqual([]);
  }, 90_000);
});
