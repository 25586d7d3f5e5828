/**
 * The UI end to end, in Chromium, in web mode against the embedded sandbox: list and filter
 * instances, open two sessions, type and read output in the terminal, resize, survive an
 * injected disconnect with the scrollback intact, see the charts update, switch profile, and
 * no console errors or CSP violations on the way. Screenshots: test/artifacts/ui/*.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canStartSession } from '../../main/sandbox/fleet.js';
import type { SandboxHandle } from '../../main/sandbox/server.js';
import { sandboxBehindProfile, type SandboxProfile } from '../helpers/aws-profile.js';
import { CHROMIUM, bufferText, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

async function activeSessionIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tab"]')
    .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''));
}

describe.skipIf(!haveChromium)('the workspace in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let staging: SandboxHandle;
  let profile: SandboxProfile;
  let first = '';
  let second = '';

  beforeAll(async () => {
    // A second AWS for the profile switch: a standalone sandbox behind a profile of the AWS config.
    profile = await sandboxBehindProfile('staging');
    staging = profile.sandbox;
    ui = await startUi({ metricsIntervalMs: 500 });
    page = ui.page;
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    await profile?.close();
  });

  it('lists the instances and filters them by text, tag and state', async () => {
    const rows = page.locator('[data-testid="instance-row"]');
    await rows.first().waitFor();
    const total = ui.sandbox.fleet.list().length;
    await expect.poll(() => rows.count()).toBe(total);
    await ui.screenshot('01-instances');

    const filter = page.getByTestId('instance-filter');
    await filter.fill('db-');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.allInnerTexts()).toEqual([
      expect.stringContaining('db-primary'),
      expect.stringContaining('db-replica'),
    ]);
    await filter.fill('Environment=staging');
    const staged = ui.sandbox.fleet.list().filter((i) => i.tags.Environment === 'staging');
    expect(staged.length).toBeGreaterThan(0);
    await expect.poll(() => rows.count()).toBe(staged.length);
    expect(await rows.first().innerText()).toContain(staged.map((i) => i.tags.Name).sort()[0]);
    await filter.fill('');
    await page.getByTestId('state-stopped').click();
    await expect
      .poll(() => rows.count())
      .toBe(ui.sandbox.fleet.list().filter((i) => i.state === 'stopped').length);
    await ui.screenshot('02-filter-stopped');
    await page.getByTestId('state-all').click();
    await expect.poll(() => rows.count()).toBe(total);

    // An instance that cannot take a session says why.
    const stopped = page.locator('[data-testid="instance-row"]', { hasText: 'worker-2' });
    expect(await stopped.getByTestId('instance-reason').innerText()).toMatch(/stopped/);
  });

  it('opens a session from the keyboard, runs a command and shows its output', async () => {
    const filter = page.getByTestId('instance-filter');
    await filter.fill('api-1');
    await filter.press('Enter');
    const tab = page.locator('[data-testid="tab"][data-state="open"]');
    await tab.first().waitFor({ timeout: 15_000 });
    [first] = await activeSessionIds(page);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    await waitForText(page, first!, '$');
    await typeInto(page, first!, 'echo "ui-$((6*7))"\n');
    await waitForText(page, first!, 'ui-42');
    await ui.screenshot('03-session');
  });

  it('opens a second session by double-click, in its own tab', async () => {
    const filter = page.getByTestId('instance-filter');
    await filter.fill('bastion');
    await page.locator('[data-testid="instance-row"]', { hasText: 'bastion' }).dblclick();
    await expect
      .poll(async () => (await activeSessionIds(page)).filter(Boolean).length, { timeout: 15_000 })
      .toBe(2);
    second = (await activeSessionIds(page)).find((id) => id && id !== first)!;
    await waitForText(page, second, '$');
    await typeInto(page, second, 'hostname\n');
    await waitForText(page, second, /bastion|ip-10-0-0-5/);
    expect(ui.workspace.sessionCount()).toBe(2);
    expect(await page.getByTestId('session-count').innerText()).toMatch(/2/);
    await ui.screenshot('04-two-sessions');
  });

  it('pastes 300 KiB whole and in order, after asking because it is long', async () => {
    const lines = Array.from(
      { length: 6000 },
      (_, i) => `paste-${String(i).padStart(5, '0')} ${'x'.repeat(38)}`,
    );
    const text = `${lines.join('\n')}\n`;
    await typeInto(page, second, 'stty -echo; cksum; stty echo\n');
    await page.waitForTimeout(300);
    await page.evaluate(
      ({ id, data }) => {
        const pane = document.querySelector(`[data-testid="terminal-pane"][data-session-id="${id}"]`)!;
        const target = pane.querySelector('textarea') ?? pane;
        const dt = new DataTransfer();
        dt.setData('text/plain', data);
        target.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
        );
      },
      { id: second, data: text },
    );
    await page.getByTestId('paste-confirm').waitFor();
    await ui.screenshot('04b-paste-confirm');
    await page.getByTestId('paste-ok').click();
    // End of input for cksum: Ctrl-D on an empty line.
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+d');
    const { execFileSync } = await import('node:child_process');
    const expected = execFileSync('cksum', { input: text }).toString().trim();
    await waitForText(page, second, expected, 30_000);
  });

  it('resizes the remote terminal with the window', async () => {
    await page.locator(`[data-testid="tab"][data-session-id="${first}"]`).click();
    await typeInto(page, first, 'echo "size=$(stty size)"\n');
    const before = /size=(\d+) (\d+)/.exec(await waitForText(page, first, /size=\d+ \d+/))!;
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.waitForTimeout(400);
    await typeInto(page, first, 'echo "size2=$(stty size)"\n');
    const after = /size2=(\d+) (\d+)/.exec(await waitForText(page, first, /size2=\d+ \d+/))!;
    expect(Number(after[2])).toBeLessThan(Number(before[2]));
    expect(Number(after[1])).toBeLessThan(Number(before[1]));
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.waitForTimeout(300);
  });

  it('survives a disconnect: shows the reconnect overlay, keeps the scrollback, and works again', async () => {
    await typeInto(page, first, 'seq 1 200 | sed "s/^/line-/"; echo marker-$((7*6))\n');
    await waitForText(page, first, 'marker-42');
    const info = ui.workspace.handlers;
    const session = (await info['sessions.list'](undefined)).find((s) => s.id === first)!;
    const instanceId = session.instanceId;
    // The agent goes offline, so reconnect attempts fail for a while: the overlay stays up.
    ui.sandbox.fleet.update(instanceId, { pingStatus: 'ConnectionLost' });
    ui.sandbox.faults.dropSockets(session.awsSessionId);
    const overlay = page.locator(
      `[data-testid="terminal-pane"][data-session-id="${first}"] [data-testid="reconnect-overlay"]`,
    );
    await overlay.waitFor({ timeout: 10_000 });
    await expect.poll(() => overlay.getByTestId('reconnect-text').innerText()).toMatch(/attempt \d+ of \d+/i);
    await ui.screenshot('05-reconnecting');
    ui.sandbox.fleet.update(instanceId, { pingStatus: 'Online' });
    await overlay.waitFor({ state: 'hidden', timeout: 15_000 });
    const text = await bufferText(page, first);
    expect(text).toContain('ui-42');
    expect(text).toContain('line-1\n');
    expect(text).toContain('line-200');
    await typeInto(page, first, 'echo back-$((2+3))\n');
    await waitForText(page, first, 'back-5');
    await ui.screenshot('06-reconnected');
  });

  it('draws live latency and throughput charts', async () => {
    await page.getByTestId('view-performance').click();
    await page.getByTestId('performance-view').waitFor();
    const cards = page.getByTestId('performance-card');
    await expect.poll(() => cards.count()).toBeGreaterThanOrEqual(3); // all sessions + 2
    // Some traffic, so the throughput lines move.
    await page.locator(`[data-testid="tab"][data-session-id="${second}"]`).click();
    await typeInto(page, second, 'for i in $(seq 1 20); do seq 1 2000; sleep 0.1; done\n');
    // A card's charts are built once it comes near the viewport: scrolled to, the last one has them.
    await cards.last().scrollIntoViewIfNeeded();
    await expect.poll(() => cards.last().getByTestId('line-chart').count()).toBe(2);
    const charts = page.getByTestId('line-chart');
    await expect.poll(() => charts.count()).toBeGreaterThanOrEqual(6);
    await cards.first().scrollIntoViewIfNeeded();
    const history = async (): Promise<number> =>
      (await ui.workspace.handlers['metrics.history'](undefined)).sessions.reduce(
        (n, s) => n + s.samples.length,
        0,
      );
    const n0 = await history();
    const card = cards.first();
    const before = await card.innerText();
    await expect.poll(history, { timeout: 10_000 }).toBeGreaterThan(n0 + 4);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).not.toBe(before);
    await ui.screenshot('07-performance');
  });

  it('switches profile and region, and lists that profile’s instances without a restart', async () => {
    await page.getByTestId('view-instances').click();
    await page.getByTestId('instance-filter').fill('');
    await page.getByTestId('profile-select').selectOption('staging');
    await expect
      .poll(() => page.getByTestId('region-select').inputValue(), { timeout: 15_000 })
      .toBe('eu-west-1');
    await page.getByTestId('profile-switching').waitFor({ state: 'hidden', timeout: 5_000 });
    const stagingIds = new Set(staging.fleet.list().map((i) => i.instanceId));
    const rows = page.locator('[data-testid="instance-row"]');
    await expect
      .poll(
        async () => {
          const ids = await rows.evaluateAll((els) =>
            els.map((e) => e.getAttribute('data-instance-id') ?? ''),
          );
          return ids.length > 0 && ids.every((id) => stagingIds.has(id));
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    // A session on the new profile goes to the other AWS.
    const target = staging.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!;
    const filter = page.getByTestId('instance-filter');
    await filter.fill(target.instanceId);
    await filter.press('Enter');
    await expect
      .poll(async () => (await activeSessionIds(page)).filter(Boolean).length, { timeout: 15_000 })
      .toBe(3);
    const third = (await activeSessionIds(page)).find((id) => id && id !== first && id !== second)!;
    await waitForText(page, third, '$');
    expect(staging.registry.list('Active')).toHaveLength(1);
    await ui.screenshot('08-staging-profile');
    // The sandbox sessions kept running.
    await typeInto(page, third, 'echo staging-ok\n');
    await waitForText(page, third, 'staging-ok');
  });

  it('reattaches to running sessions with their scrollback after a page reload', async () => {
    const reloaded = await ui.openPage();
    await reloaded.locator('[data-testid="tab"]').nth(2).waitFor({ timeout: 15_000 });
    await waitForText(reloaded, first, 'back-5');
    await ui.screenshot('09-reloaded', reloaded);
    await reloaded.close();
  });

  it('closes sessions from their tabs and reports no console errors or CSP violations', async () => {
    for (let i = 0; i < 3; i++) {
      await page.locator('[data-testid="tab"]').first().getByTestId('tab-close').click();
    }
    await expect.poll(() => ui.workspace.sessionCount(), { timeout: 15_000 }).toBe(0);
    await page.getByTestId('workbench-empty').waitFor();
    expect(ui.problems).toEqual([]);
  });

  it('follows a light OS theme', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await ui.screenshot('10-light');
  });
});
