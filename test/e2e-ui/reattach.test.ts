/**
 * Persistent sessions in Chromium (web mode, the embedded sandbox): a shell in tmux, a drop the
 * service does not outlast, the pane's notice, Re-attach, the old screen above the separator,
 * and the shell working again; the same with persistence off (a fresh shell below the old
 * screen, also after a reload of the window) and with auto re-attach. Screenshots: test/artifacts/ui/reattach*.png.
 */
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, bufferText, startUi, typeInto, waitForText, type UiHarness } from './harness.js';
import { haveTool, processesNamed } from '../helpers/processes.js';

const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium || !haveTool('tmux'))('re-attach after a long drop, in Chromium', () => {
  let ui: UiHarness;
  let page: Page;
  const tmuxNames: string[] = [];

  beforeAll(async () => {
    ui = await startUi({
      // A drop is given up quickly (the sandbox ends the session on its side at once anyway).
      manager: { reconnect: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 200, jitter: 0 } },
    });
    page = ui.page;
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    // The sandbox took its tmux server with it.
    for (const name of tmuxNames) expect(processesNamed(name)).toEqual([]);
  });

  async function configure(values: Record<string, string | boolean>): Promise<void> {
    await ui.workspace.handlers['config.update']({ values });
  }

  /** Open a session to `name` from the Instances view; resolves with its id. */
  async function open(name: string): Promise<string> {
    const before = new Set(await tabSessions());
    const filter = page.getByTestId('instance-filter');
    await filter.fill(name);
    await filter.press('Enter');
    let id = '';
    await expect
      .poll(
        async () => {
          id = (await tabSessions()).find((s) => s && !before.has(s)) ?? '';
          return id;
        },
        { timeout: 15_000 },
      )
      .not.toBe('');
    return id;
  }

  function tabSessions(): Promise<string[]> {
    return page
      .locator('[data-testid="terminal-pane"]')
      .evaluateAll((panes) => panes.map((p) => p.getAttribute('data-session-id') ?? ''));
  }

  function pane(sessionId: string) {
    return page.locator(`[data-testid="terminal-pane"][data-session-id="${sessionId}"]`);
  }

  /** The drop outlasts the service's reconnect window (the sandbox ends the session on its side). */
  async function loseForGood(sessionId: string): Promise<void> {
    const info = (await ui.workspace.handlers['sessions.list'](undefined)).find((s) => s.id === sessionId)!;
    ui.sandbox.faults.expireSessions(info.awsSessionId);
  }

  /** The session that took `old`'s place in its pane. */
  async function successorOf(old: string): Promise<string> {
    let next = '';
    await expect
      .poll(
        async () => {
          const info = (await ui.workspace.handlers['sessions.list'](undefined)).find(
            (s) => s.reattachedFrom === old,
          );
          next = info?.id ?? '';
          return next && (await pane(next).count());
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    return next;
  }

  it('tmux: the notice, Re-attach, the same shell with its screen, the old screen above the separator', async () => {
    await configure({ 'session.persistence': 'tmux' });
    const first = await open('api-1');
    const info = (await ui.workspace.handlers['sessions.list'](undefined)).find((s) => s.id === first)!;
    expect(info.persistence?.tool).toBe('tmux');
    const name = info.persistence!.name;
    tmuxNames.push(name);
    // tmux's status line shows the start of the session's name once it runs.
    await waitForText(page, first, `[${name.slice(0, 9)}`);
    await waitForText(page, first, '$');
    await typeInto(page, first, 'seq 1 12 | sed "s/^/row-/"; echo "before-$((20+22))"\n');
    await waitForText(page, first, 'before-42');

    await loseForGood(first);
    const notice = pane(first).getByTestId('reattach-notice');
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.getByTestId('reattach-title').innerText()).toBe(
      'Connection lost for longer than the service keeps sessions.',
    );
    expect(await notice.getByTestId('reattach-kept').innerText()).toContain(
      `tmux session ${name} keeps running`,
    );
    // The old screen is still there while the notice is up.
    expect(await bufferText(page, first)).toContain('before-42');
    await ui.screenshot('reattach-lost');

    await notice.getByTestId('reattach-button').click();
    const second = await successorOf(first);
    // tmux redraws the screen it kept: the old output is on it, and the shell answers.
    await waitForText(page, second, 'before-42');
    await typeInto(page, second, 'echo back-$((1+1))\n');
    await waitForText(page, second, 'back-2');
    expect(await pane(second).getByTestId('reattach-notice').count()).toBe(0);
    await ui.screenshot('reattach');

    // Leaving tmux ends the session and shows the pane's own buffer: the restored old screen,
    // then the separator, then what the new session printed.
    await typeInto(page, second, 'exit\n');
    await pane(second).getByTestId('session-ended').waitFor({ timeout: 15_000 });
    const text = await bufferText(page, second);
    const separator = text.search(
      new RegExp(`re-attached to tmux session ${name} on api-1 at \\d\\d:\\d\\d`),
    );
    expect(separator).toBeGreaterThan(0);
    expect(text.indexOf('row-12')).toBeGreaterThan(-1);
    expect(text.indexOf('row-12')).toBeLessThan(separator);
    expect(text.lastIndexOf('before-42')).toBeLessThan(separator);
    expect(text.slice(separator)).toContain('[exited]');
    await ui.screenshot('reattach-exited');
  });

  it('persistence off: Re-attach opens a fresh shell below the old screen', async () => {
    await configure({ 'session.persistence': 'off' });
    const first = await open('bastion');
    await waitForText(page, first, '$');
    await typeInto(page, first, 'export MARK=old; echo "old-$((3*3))"\n');
    await waitForText(page, first, 'old-9');

    await loseForGood(first);
    await pane(first).getByTestId('reattach-notice').waitFor({ timeout: 15_000 });
    // A reload of the window brings the lost tab back with its screen (kept in sessionStorage).
    await expect
      .poll(() => page.evaluate(() => Object.keys(sessionStorage).join(' ')))
      .toContain('ec2connect.screen');
    await page.reload();
    const notice = pane(first).getByTestId('reattach-notice');
    await notice.waitFor({ timeout: 15_000 });
    await waitForText(page, first, 'old-9');
    expect(await notice.getByTestId('reattach-kept').innerText()).toMatch(
      /Nothing was kept running on bastion/,
    );
    await notice.getByTestId('reattach-button').click();
    const second = await successorOf(first);
    await typeInto(page, second, 'echo "back-$((1+1))-${MARK:-fresh}"\n');
    const text = await waitForText(page, second, 'back-2-fresh');
    const separator = text.search(/new shell on bastion at \d\d:\d\d: nothing was kept running there/);
    expect(separator).toBeGreaterThan(0);
    expect(text.lastIndexOf('old-9')).toBeLessThan(separator);
    expect(text.lastIndexOf('back-2-fresh')).toBeGreaterThan(separator);
    await ui.screenshot('reattach-fresh');
  });

  it('auto re-attach: the pane follows by itself, and no console errors or CSP violations', async () => {
    await configure({ 'session.persistence': 'off', 'session.auto_reattach': true });
    const first = await open('web-1');
    await waitForText(page, first, '$');
    await typeInto(page, first, 'echo "auto-$((5*5))"\n');
    await waitForText(page, first, 'auto-25');
    // The instance is unreachable at first: the first automatic attempt fails, the pane says so.
    const instanceId = ui.sandbox.fleet.list().find((i) => i.tags.Name === 'web-1')!.instanceId;
    ui.sandbox.fleet.update(instanceId, { pingStatus: 'ConnectionLost' });
    try {
      await loseForGood(first);
      const auto = pane(first).getByTestId('reattach-auto');
      await expect.poll(() => auto.innerText(), { timeout: 15_000 }).toMatch(/attempt 2 of 5/);
      expect(await auto.innerText()).toMatch(/not connected/);
      await ui.screenshot('reattach-auto');
    } finally {
      ui.sandbox.fleet.update(instanceId, { pingStatus: 'Online' });
    }
    const second = await successorOf(first);
    await typeInto(page, second, 'echo "again-$((6*6))"\n');
    const text = await waitForText(page, second, 'again-36');
    expect(text.indexOf('auto-25')).toBeLessThan(text.search(/new shell on web-1/));
    await configure({ 'session.auto_reattach': false });
    expect(ui.problems).toEqual([]);
  });
});
