/**
 * Session presets end to end, in Chromium, in web mode against the embedded sandbox: "Connect
 * with…" on web-1 sets run as alice, a login shell and a shell profile and saves them for the
 * instance; the tab opens as alice (its title says so) and the shell really runs as her; the row
 * shows the preset and a plain Connect uses it; Settings lists the preset, edits it (bob) and
 * deletes it; an unsafe user name is refused in the dialog as typed.
 * Screenshots: test/artifacts/ui/presets-*.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);
const WEB1 = 'i-0b5bb7865829a72f8';

async function sessionIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tab"]')
    .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? '').filter(Boolean));
}

describe.skipIf(!haveChromium)('session presets in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;

  beforeAll(async () => {
    ui = await startUi();
    page = ui.page;
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
  });

  it('Connect with… saves a preset for the instance and opens a login shell as alice', async () => {
    const row = page.locator(`[data-testid="instance-row"][data-instance-id="${WEB1}"]`);
    await row.waitFor();
    await row.click();
    await row.getByTestId('instance-connect-with').click();
    const dialog = page.getByTestId('connect-with-dialog');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading').innerText()).toBe('Connect to web-1');

    // An unsafe name is refused as typed, and Connect is off until it is fixed.
    await dialog.getByTestId('connect-with-run-as').fill('alice; reboot');
    expect(await dialog.getByTestId('connect-with-run-as-error').innerText()).toMatch(
      /contains ";", a shell metacharacter/,
    );
    expect(await dialog.getByTestId('connect-with-submit').isDisabled()).toBe(true);

    await dialog.getByTestId('connect-with-run-as').fill('alice');
    expect(await dialog.getByTestId('connect-with-login-shell').isChecked()).toBe(true);
    await dialog.getByTestId('connect-with-shell-profile').fill('export FROM_PRESET=ui-$((40+2))');
    await dialog.getByTestId('connect-with-save').selectOption('instance');
    await dialog.getByTestId('connect-with-name').fill('alice on web-1');
    expect(await dialog.getByTestId('connect-with-submit').innerText()).toBe('Save and connect');
    await ui.screenshot('presets-dialog');

    const before = (await sessionIds(page)).length;
    await dialog.getByTestId('connect-with-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await sessionIds(page)).length, { timeout: 15_000 }).toBe(before + 1);
    const id = (await sessionIds(page)).at(-1)!;
    await waitForText(page, id, '[alice@ip-10-0-1-11 ~]$');
    await typeInto(page, id, 'echo "W=$(whoami) 0=$0 P=$FROM_PRESET"\n');
    await waitForText(page, id, 'W=alice 0=-bash P=ui-42');
    const tab = page.locator(`[data-testid="tab"][data-session-id="${id}"]`);
    expect(await tab.getByTestId('tab-title').innerText()).toBe('alice@web-1');
    await ui.screenshot('presets-session');

    // Saved for the instance: the contract lists it, the row shows it, and Connect uses it.
    const { presets } = await ui.workspace.handlers['presets.list'](undefined);
    expect(presets).toEqual([
      expect.objectContaining({
        name: 'alice on web-1',
        match: { instanceId: WEB1 },
        profile: 'sandbox',
        document: 'shell',
        runAs: 'alice',
        loginShell: true,
        shellProfile: 'export FROM_PRESET=ui-$((40+2))',
      }),
    ]);
    expect(await row.getByTestId('instance-preset').innerText()).toBe('as alice');
    await row.click();
    await row.getByTestId('instance-connect').click();
    await expect.poll(async () => (await sessionIds(page)).length, { timeout: 15_000 }).toBe(before + 2);
    const again = (await sessionIds(page)).at(-1)!;
    await waitForText(page, again, '[alice@ip-10-0-1-11 ~]$');
  });

  it('Settings lists the preset, edits it and deletes it', async () => {
    await page.getByTestId('view-settings').click();
    const item = page.getByTestId('session-preset');
    await item.first().waitFor();
    expect(await item.count()).toBe(1);
    expect(await item.getByTestId('session-preset-runs').innerText()).toBe(
      'shell, as alice, login shell, shell profile',
    );
    await item.scrollIntoViewIfNeeded();
    await ui.screenshot('presets-settings');

    await item.getByTestId('session-preset-edit').click();
    const dialog = page.getByTestId('connect-with-dialog');
    await dialog.waitFor();
    expect(await dialog.getAttribute('data-mode')).toBe('edit');
    expect(await dialog.getByTestId('connect-with-run-as').inputValue()).toBe('alice');
    await dialog.getByTestId('connect-with-run-as').fill('bob');
    await dialog.getByTestId('connect-with-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await expect
      .poll(() => item.getByTestId('session-preset-runs').innerText())
      .toBe('shell, as bob, login shell, shell profile');
    expect((await ui.workspace.handlers['presets.list'](undefined)).presets[0]!.runAs).toBe('bob');

    await item.getByTestId('session-preset-delete').click();
    expect(await item.getByTestId('session-preset-delete').innerText()).toBe('Delete?');
    await item.getByTestId('session-preset-delete').click();
    await expect.poll(() => item.count()).toBe(0);
    expect((await ui.workspace.handlers['presets.list'](undefined)).presets).toEqual([]);
    expect(ui.problems).toEqual([]);
  });
});
