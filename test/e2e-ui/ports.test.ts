/**
 * The Ports view end to end (issue 9), in Chromium, in web mode against the embedded sandbox
 * (whose agent dials 127.0.0.1:<remote port> for the instance's own ports): a local HTTP server
 * in this process is web-1's "remote" port. A forward started from the form carries requests made
 * from Node through the local port the UI shows, its row following the connections and bytes;
 * Stop closes it (the local port refuses); a forward saved from the form re-opens from Saved with
 * one click; a session terminated on the sandbox leaves a failed row with the reason and a toast;
 * a local port already in use is refused under the form in the back end's words; "Forward a
 * port…" on an instance row opens the form with it chosen.
 * Screenshots: test/artifacts/ui/ports-*.png.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, startUi, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

const WEB1 = 'i-0b5bb7865829a72f8';
const WEB2 = 'i-0a03534fd537d6397';
/** What the test's web server answers: big enough to show in the byte counters. */
const BODY = 'x'.repeat(96 * 1024);

/** GET through a forward; `agent` keeps the connection open afterwards (keep-alive). */
function get(address: string, agent?: http.Agent): Promise<{ status: number; body: string }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host, port: Number(port), path: '/hello', agent: agent ?? false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET http://${address}/hello timed out`)));
    req.on('error', reject);
  });
}

/** Does anything accept a TCP connection at this address? */
function accepts(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: host!, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const rows = (page: Page) => page.getByTestId('forward-row');

/** The newest row (live ones come first, newest first) in a state. */
function rowIn(page: Page, state: string): Locator {
  return page.locator(`[data-testid="forward-row"][data-state="${state}"]`).first();
}

async function fillForm(
  page: Page,
  fields: { instanceId?: string; remotePort: number; localPort?: number; label?: string; save?: boolean },
): Promise<void> {
  if (fields.instanceId) await page.getByTestId('ports-instance').selectOption(fields.instanceId);
  await page.getByTestId('ports-remote-port').fill(String(fields.remotePort));
  await page.getByTestId('ports-local-port').fill(fields.localPort ? String(fields.localPort) : '');
  await page.getByTestId('ports-label').fill(fields.label ?? '');
  await page.getByTestId('ports-save').setChecked(fields.save ?? false);
}

/** Nothing in the side panel is wider than the panel (no horizontal overflow). */
async function panelOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const body = document.querySelector('[data-testid="ports-view"] .view-body') as HTMLElement;
    const right = body.getBoundingClientRect().right + 0.5;
    const out: string[] = [];
    if (body.scrollWidth > body.clientWidth)
      out.push(`view-body scrolls sideways (${body.scrollWidth} > ${body.clientWidth})`);
    for (const el of body.querySelectorAll<HTMLElement>('*')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > right)
        out.push(`${el.tagName.toLowerCase()}.${el.className}: right ${r.right} > ${right}`);
    }
    return out;
  });
}

describe.skipIf(!haveChromium)('the Ports view in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let web: http.Server;
  let webPort: number;
  let hits = 0;

  beforeAll(async () => {
    web = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as net.AddressInfo).port;
    ui = await startUi({ portsUpdateIntervalMs: 200 });
    page = ui.page;
    await page.locator('[data-testid="instance-row"]').first().waitFor();
  }, 60_000);

  afterAll(async () => {
    await ui?.close();
    web?.closeAllConnections();
    await new Promise((resolve) => web?.close(resolve));
  });

  it('starts a forward to web-1 from the form; requests go through it; connections and bytes follow', async () => {
    // Ctrl+Shift+P shows the view (Ctrl+7 is the desktop menu's).
    await page.locator('[data-testid="instance-list"]').focus();
    await page.keyboard.press('Control+Shift+P');
    await page.getByTestId('ports-view').waitFor();
    expect(await page.getByTestId('forwards-empty').isVisible()).toBe(true);

    await fillForm(page, { instanceId: WEB1, remotePort: webPort });
    await page.getByTestId('ports-start').click();
    const row = rowIn(page, 'open');
    await row.waitFor({ timeout: 20_000 });
    expect(await rows(page).count()).toBe(1);
    expect(await row.getByTestId('forward-title').innerText()).toBe(`port ${webPort} on web-1`);
    expect(await row.getByTestId('forward-state').innerText()).toBe('open');
    expect(await row.getByTestId('forward-mode').innerText()).toBe('multiplexed');
    const address = await row.getByTestId('forward-local').innerText();
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await page.getByTestId('badge-ports').innerText()).toBe('1');
    // The form is ready for the next one.
    expect(await page.getByTestId('ports-remote-port').inputValue()).toBe('');

    // One request over a connection kept open, then another on its own connection.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(address, agent);
    expect(first.status).toBe(200);
    expect(first.body.length).toBe(BODY.length);
    await expect
      .poll(() => row.getByTestId('forward-connections').innerText(), { timeout: 10_000 })
      .toBe('1 / 1');
    await expect.poll(() => row.getByTestId('forward-bytes-in').innerText()).toMatch(/^9\d(\.\d)? KiB$/);
    expect(await row.getByTestId('forward-bytes-out').innerText()).toMatch(/^\d+ B$/);
    const second = await get(address);
    expect(second.body).toBe(BODY);
    expect(hits).toBe(2);
    await expect.poll(() => row.getByTestId('forward-connections').innerText()).toBe('1 / 2');
    await expect.poll(() => row.getByTestId('forward-bytes-in').innerText()).toMatch(/^19\d(\.\d)? KiB$/);

    // Its current connections: the kept-alive one, with its client address.
    await row.getByTestId('forward-connections-toggle').click();
    const conn = row.getByTestId('forward-connection');
    await expect.poll(() => conn.count()).toBe(1);
    expect(await conn.first().innerText()).toMatch(/127\.0\.0\.1:\d+/);

    // The uptime ticks.
    const before = await row.getByTestId('forward-uptime').innerText();
    await expect
      .poll(() => row.getByTestId('forward-uptime').innerText(), { timeout: 4_000 })
      .not.toBe(before);

    // The copy button puts the address on the clipboard.
    await row.getByTestId('forward-copy').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(address);

    expect(await panelOverflow(page)).toEqual([]);
    await ui.screenshot('ports-01-open');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'ports-02-open-panel.png') });

    agent.destroy();
    await expect.poll(() => row.getByTestId('forward-connections').innerText()).toBe('0 / 2');
  });

  it('Stop closes it: the row says so and the local port refuses', async () => {
    const row = rowIn(page, 'open');
    const id = await row.getAttribute('data-forward-id');
    const address = await row.getByTestId('forward-local').innerText();
    expect(await accepts(address)).toBe(true);
    await row.getByTestId('forward-stop').click();
    const closed = page.locator(`[data-forward-id="${id}"]`);
    await expect.poll(() => closed.getAttribute('data-state'), { timeout: 10_000 }).toBe('closed');
    expect(await closed.getByTestId('forward-reason').innerText()).toMatch(/closed by the user/i);
    expect(await accepts(address)).toBe(false);
    expect(await page.getByTestId('badge-ports').count()).toBe(0);
    // Ended ones stay until dismissed.
    await closed.getByTestId('forward-dismiss').click();
    await expect.poll(() => closed.count()).toBe(0);
  });

  it('saves a forward from the form and opens it again from Saved with one click', async () => {
    await fillForm(page, { instanceId: WEB1, remotePort: webPort, label: 'web-1 app', save: true });
    await page.getByTestId('ports-start').click();
    const row = rowIn(page, 'open');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getByTestId('forward-title').innerText()).toBe('web-1 app');
    const saved = page.getByTestId('saved-row').filter({ hasText: 'web-1 app' });
    await saved.waitFor();
    expect(await saved.getAttribute('data-active')).toBe('true');
    expect(await saved.innerText()).toContain(`port ${webPort} on web-1`);
    expect(await saved.innerText()).toContain('sandbox');
    expect(await saved.getByTestId('saved-open').isDisabled()).toBe(true);

    // Stop it; Open on the saved row brings it back (a new forward).
    const firstId = await row.getAttribute('data-forward-id');
    await row.getByTestId('forward-stop').click();
    await expect.poll(() => saved.getAttribute('data-active')).toBe('false');
    await page.getByTestId('forwards-dismiss-all').click();
    await saved.getByTestId('saved-open').click();
    const again = rowIn(page, 'open');
    await again.waitFor({ timeout: 20_000 });
    expect(await again.getAttribute('data-forward-id')).not.toBe(firstId);
    expect(await again.getByTestId('forward-title').innerText()).toBe('web-1 app');
    await expect.poll(() => saved.getAttribute('data-active')).toBe('true');
    const address = await again.getByTestId('forward-local').innerText();
    expect((await get(address)).body).toBe(BODY);
    await expect.poll(() => again.getByTestId('forward-connections').innerText()).toBe('0 / 1');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'ports-03-saved-panel.png') });
  });

  it('a forward whose session is terminated shows as failed with the reason, and a toast says so', async () => {
    const row = rowIn(page, 'open');
    const id = await row.getAttribute('data-forward-id');
    const sessionId = await row.getAttribute('data-session-id');
    expect(sessionId).toBeTruthy();
    ui.sandbox.registry.terminate(sessionId!, 'maintenance window');
    const failed = page.locator(`[data-forward-id="${id}"]`);
    await expect.poll(() => failed.getAttribute('data-state'), { timeout: 15_000 }).toBe('failed');
    const reason = await failed.getByTestId('forward-reason').innerText();
    expect(reason).toMatch(/maintenance window/);
    const toast = page.getByTestId('toast').filter({ hasText: 'Port forward broke' });
    await toast.waitFor({ timeout: 5_000 });
    expect(await toast.count()).toBe(1);
    expect(await toast.innerText()).toContain('web-1 app');
    expect(await toast.innerText()).toMatch(/maintenance window/);
    await expect.poll(() => toast.evaluate((el) => getComputedStyle(el).opacity)).toBe('1');
    // The saved one is no longer active: one click opens it again.
    const saved = page.getByTestId('saved-row').filter({ hasText: 'web-1 app' });
    expect(await saved.getAttribute('data-active')).toBe('false');
    expect(await panelOverflow(page)).toEqual([]);
    await ui.screenshot('ports-04-failed');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'ports-05-failed-panel.png') });
  });

  it('a local port already in use is refused under the form, in the back end’s words', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busyPort = (blocker.address() as net.AddressInfo).port;
    try {
      const before = await rows(page).count();
      await fillForm(page, { instanceId: WEB1, remotePort: webPort, localPort: busyPort });
      await page.getByTestId('ports-start').click();
      const error = page.getByTestId('ports-form-error');
      await error.waitFor({ timeout: 15_000 });
      expect(await error.innerText()).toMatch(
        new RegExp(`^Local port ${busyPort} on 127\\.0\\.0\\.1 is already in use`),
      );
      // Not listed a second time as a failed forward; the form keeps the values to change.
      expect(await rows(page).count()).toBe(before);
      expect(await page.getByTestId('ports-local-port').inputValue()).toBe(String(busyPort));
      await page
        .getByTestId('side-panel')
        .screenshot({ path: path.join(ARTIFACTS, 'ports-06-port-in-use-panel.png') });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('checks the ports inline before anything is sent', async () => {
    await page.getByTestId('ports-remote-port').fill('70000');
    await page.getByTestId('ports-local-port').fill('-3');
    await page.getByTestId('ports-label').click(); // leave the fields
    expect(await page.getByTestId('ports-error-remotePort').innerText()).toMatch(/1 to 65535/);
    expect(await page.getByTestId('ports-error-localPort').innerText()).toMatch(/0 to 65535/);
    const opensBefore = await rows(page).count();
    await page.getByTestId('ports-start').click();
    expect(await rows(page).count()).toBe(opensBefore);
    await page.getByTestId('ports-remote-port').fill('');
    await page.getByTestId('ports-local-port').fill('');
  });

  it('"Forward a port…" on an instance row opens the form with that instance chosen', async () => {
    await page.getByTestId('view-instances').click();
    const row = page.locator(`[data-testid="instance-row"][data-instance-id="${WEB2}"]`);
    await row.click();
    await row.getByTestId('instance-forward').click();
    await page.getByTestId('ports-view').waitFor();
    expect(await page.getByTestId('ports-instance').inputValue()).toBe(WEB2);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid')))
      .toBe('ports-remote-port');
  });

  it('looks right in the light theme', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    // One open forward, with a connection kept open, beside the failed one.
    await fillForm(page, { instanceId: WEB1, remotePort: webPort, label: 'web-1 app (light)' });
    await page.getByTestId('ports-start').click();
    const row = rowIn(page, 'open');
    await row.waitFor({ timeout: 20_000 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await get(await row.getByTestId('forward-local').innerText(), agent);
    await expect.poll(() => row.getByTestId('forward-connections').innerText()).toBe('1 / 1');
    await row.getByTestId('forward-connections-toggle').click();
    expect(await panelOverflow(page)).toEqual([]);
    await ui.screenshot('ports-07-light');
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'ports-08-light-panel.png') });
    agent.destroy();
    await row.getByTestId('forward-stop').click();
    await page.emulateMedia({ colorScheme: 'dark' });
  });

  it('fits a narrow side panel', async () => {
    await page.evaluate(() => {
      const panel = document.querySelector('[data-testid="side-panel"]') as HTMLElement;
      panel.style.width = '240px';
    });
    expect(await panelOverflow(page)).toEqual([]);
    await page
      .getByTestId('side-panel')
      .screenshot({ path: path.join(ARTIFACTS, 'ports-09-narrow-panel.png') });
    await page.evaluate(() => {
      (document.querySelector('[data-testid="side-panel"]') as HTMLElement).style.width = '';
    });
  });

  it('had no console errors or CSP violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
