/**
 * Terminal input in Chromium (web mode, embedded sandbox; the shells are real PTYs here): a 1 MiB
 * paste through the app's paste path with its progress strip and the byte count on the remote
 * side, a paste cancelled mid-way (the strip says how much was sent and the remote stops
 * receiving exactly there), Ctrl-C during `yes` bringing the prompt back, the bytes keys send in
 * normal and application cursor mode (as a local xterm sends them), and the remote size after a
 * reconnect. Screenshots: test/artifacts/ui/paste-*.png.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startUi, typeInto, waitForText, type UiHarness } from './harness.js';

const haveChromium = existsSync(CHROMIUM);

/** What xterm sends for a paste: line breaks as CR. */
function asTyped(text: string): string {
  return text.replace(/\r?\n/g, '\r');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Paste `text` into a session's terminal the way the browser does (a paste event with clipboard data). */
async function paste(page: Page, sessionId: string, text: string): Promise<void> {
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
    { id: sessionId, data: text },
  );
}

describe.skipIf(!haveChromium)('terminal input in Chromium (web mode)', () => {
  let ui: UiHarness;
  let page: Page;
  let dir: string;
  /** Raw output of each session, as the workspace emits it. */
  const output = new Map<string, string>();
  /** The size each session was opened with (sessions.open, as the page asked for it). */
  const openedWith = new Map<string, { cols?: number; rows?: number }>();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ec2c-ui-input-'));
    ui = await startUi();
    page = ui.page;
    ui.workspace.onEvent((e) => {
      if (e.name !== 'session.output') return;
      const { sessionId, data } = e.payload as { sessionId: string; data: string };
      output.set(sessionId, (output.get(sessionId) ?? '') + data);
    });
    const handlers = ui.workspace.handlers;
    const open = handlers['sessions.open'];
    handlers['sessions.open'] = async (req) => {
      const info = await open(req);
      openedWith.set(info.id, { cols: req.cols, rows: req.rows });
      return info;
    };
  }, 60_000);

  afterAll(async () => {
    ui?.sandbox.faults.reset();
    await ui?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Open a session to `name` in a new tab; resolves with its id once the prompt shows. */
  async function openSession(name: string): Promise<string> {
    const before = new Set(
      await page
        .locator('[data-testid="tab"]')
        .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? '')),
    );
    const filter = page.getByTestId('instance-filter');
    // (Clicking the active view's icon would collapse the side panel.)
    if (!(await filter.isVisible())) await page.getByTestId('view-instances').click();
    await filter.fill(name);
    await page.locator('[data-testid="instance-row"]', { hasText: name }).first().dblclick();
    let id = '';
    await expect
      .poll(
        async () => {
          const ids = await page
            .locator('[data-testid="tab"][data-state="open"]')
            .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''));
          id = ids.find((x) => x && !before.has(x)) ?? '';
          return id;
        },
        { timeout: 15_000 },
      )
      .not.toBe('');
    await waitForText(page, id, '$');
    return id;
  }

  /** Wait until a session's raw output (from `from` on) contains `needle`. */
  async function waitForOutput(id: string, needle: string, from = 0, timeout = 20_000): Promise<void> {
    await expect.poll(() => (output.get(id) ?? '').slice(from).includes(needle), { timeout }).toBe(true);
  }

  /** Wait until a session's raw output (from `from` on) matches `pattern`; returns the match. */
  async function waitForMatch(
    id: string,
    pattern: RegExp,
    from = 0,
    timeout = 20_000,
  ): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await expect
      .poll(() => (match = pattern.exec((output.get(id) ?? '').slice(from))) !== null, { timeout })
      .toBe(true);
    return match!;
  }

  function mark(id: string): number {
    return (output.get(id) ?? '').length;
  }

  async function paneSize(id: string): Promise<{ cols: number; rows: number }> {
    const host = page.locator(`[data-testid="terminal-pane"][data-session-id="${id}"] .terminal-host`);
    const [cols, rows] = await host.evaluate((el) => [
      Number((el as HTMLElement).dataset.cols),
      Number((el as HTMLElement).dataset.rows),
    ]);
    return { cols: cols!, rows: rows! };
  }

  let shell = '';

  it('pastes 1 MiB (multi-line, multi-byte) after the confirmation, with a progress strip, byte-exact', async () => {
    shell = await openSession('api-1');
    // A network with some latency (25 ms each way), so the paste takes a moment.
    ui.sandbox.faults.set({ dataChannel: { delayMs: 25 } });
    const lines: string[] = [];
    for (let i = 0, n = 0; n < 1024 * 1024; i++) {
      const line = `${String(i).padStart(6, '0')} ünïcødé 日本語 😀 ${'x'.repeat(i % 50)}`;
      lines.push(line);
      n += Buffer.byteLength(line) + 1;
    }
    const text = `${lines.join('\n')}\n`;
    const remote = asTyped(text);
    const bytes = Buffer.byteLength(remote);
    expect(bytes).toBeGreaterThanOrEqual(1024 * 1024);
    const file = path.join(dir, 'pasted.txt');
    const from = mark(shell);
    await typeInto(
      page,
      shell,
      `stty raw -echo -iexten; echo RE""ADY; head -c ${bytes} > ${file}; stty sane; sha256sum ${file}\n`,
    );
    await waitForOutput(shell, 'READY', from);
    // Every text the strip shows, recorded as it changes (the paste may not wait for the test).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { stripTexts: string[] }).stripTexts = seen;
      new MutationObserver(() => {
        const text = document.querySelector('[data-testid="paste-progress-text"]')?.textContent?.trim();
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await paste(page, shell, text);
    await page.getByTestId('paste-confirm').waitFor();
    await page.getByTestId('paste-ok').click();
    const strip = page.locator(
      `[data-testid="terminal-pane"][data-session-id="${shell}"] [data-testid="paste-progress"]`,
    );
    await waitForOutput(shell, `${sha256(remote)}  ${file}`, from, 30_000);
    expect((await stat(file)).size).toBe(bytes);
    // The strip showed the progress, and went once the paste was complete.
    await strip.waitFor({ state: 'hidden', timeout: 10_000 });
    const texts = await page.evaluate(() => (window as unknown as { stripTexts: string[] }).stripTexts);
    expect(texts.length).toBeGreaterThan(1);
    for (const t of texts) expect(t).toMatch(/^Pasting .* of 1\.\d MiB \(\d+ %\)$/);
    ui.sandbox.faults.reset();
  }, 90_000);

  it('cancels a paste mid-way: the strip says how much was sent, and the remote stops exactly there', async () => {
    const id = await openSession('bastion');
    ui.sandbox.faults.set({ dataChannel: { delayMs: 25 } });
    const file = path.join(dir, 'cancelled.txt');
    const total = 4 * 1024 * 1024;
    const from = mark(id);
    await typeInto(page, id, `stty raw -echo -iexten; echo RE""ADY; cat > ${file}\n`);
    await waitForOutput(id, 'READY', from);
    await paste(page, id, 'c'.repeat(total)); // one line: no confirmation
    const strip = page.locator(
      `[data-testid="terminal-pane"][data-session-id="${id}"] [data-testid="paste-progress"]`,
    );
    await expect
      .poll(async () => Number((await strip.getAttribute('data-sent', { timeout: 10_000 })) ?? 0), {
        timeout: 15_000,
      })
      .toBeGreaterThan(200 * 1024);
    await ui.screenshot('paste-progress');
    await strip.getByTestId('paste-cancel').click();
    await expect.poll(() => strip.getAttribute('data-state')).toBe('cancelled');
    const sent = Number(await strip.getAttribute('data-sent'));
    expect(sent).toBeGreaterThan(200 * 1024);
    expect(sent).toBeLessThan(total);
    expect(await strip.getByTestId('paste-progress-text').innerText()).toMatch(
      /^Paste cancelled: .* of 4\.0 MiB sent$/,
    );
    await ui.screenshot('paste-cancelled');
    // Everything handed over arrives, and nothing more.
    await expect.poll(async () => (await stat(file)).size, { timeout: 10_000 }).toBe(sent);
    await page.waitForTimeout(500);
    expect((await stat(file)).size).toBe(sent);
    ui.sandbox.faults.reset();
    await page.locator(`[data-testid="tab"][data-session-id="${id}"]`).getByTestId('tab-close').click();
  }, 90_000);

  it('Ctrl-C during `yes` brings the prompt back', async () => {
    await page.locator(`[data-testid="tab"][data-session-id="${shell}"]`).click();
    const from = mark(shell);
    await typeInto(page, shell, 'yes\n');
    await waitForOutput(shell, 'y\r\ny\r\ny\r\n', from);
    await page.waitForTimeout(1500); // the pipeline fills up
    await page.keyboard.press('Control+c');
    await page.keyboard.type('echo after-$((1+1))\n');
    await waitForText(page, shell, 'after-2', 20_000);
    await typeInto(page, shell, 'echo still-$((2+2))\n');
    await waitForText(page, shell, 'still-4');
    await ui.screenshot('ctrl-c-after-yes');
  }, 60_000);

  it('keys send what a local xterm sends, in normal and application cursor mode', async () => {
    const id = await openSession('worker-1');
    // [key, normal mode, application cursor mode (DECCKM set by the remote)]
    const table: Array<[string, string, string?]> = [
      ['ArrowUp', '\x1b[A', '\x1bOA'],
      ['ArrowDown', '\x1b[B', '\x1bOB'],
      ['ArrowRight', '\x1b[C', '\x1bOC'],
      ['ArrowLeft', '\x1b[D', '\x1bOD'],
      ['Home', '\x1b[H', '\x1bOH'],
      ['End', '\x1b[F', '\x1bOF'],
      ['Shift+ArrowUp', '\x1b[1;2A'],
      ['Control+ArrowLeft', '\x1b[1;5D'],
      ['Control+ArrowRight', '\x1b[1;5C'],
      ['Alt+ArrowLeft', '\x1b[1;3D'],
      ['Alt+ArrowRight', '\x1b[1;3C'],
      ['Alt+ArrowUp', '\x1b[1;3A'],
      ['Alt+ArrowDown', '\x1b[1;3B'],
      ['Control+Shift+ArrowRight', '\x1b[1;6C'],
      ['Control+Home', '\x1b[1;5H'],
      ['Shift+End', '\x1b[1;2F'],
      ['Insert', '\x1b[2~'],
      ['Delete', '\x1b[3~'],
      ['Shift+Delete', '\x1b[3;2~'],
      ['PageUp', '\x1b[5~'],
      ['PageDown', '\x1b[6~'],
      ['Control+PageUp', '\x1b[5;5~'],
      ['Alt+PageDown', '\x1b[6;3~'],
      ['Alt+Insert', '\x1b[2;3~'],
      ['F1', '\x1bOP'],
      ['F2', '\x1bOQ'],
      ['F3', '\x1bOR'],
      ['F4', '\x1bOS'],
      ['F5', '\x1b[15~'],
      ['F6', '\x1b[17~'],
      ['F7', '\x1b[18~'],
      ['F8', '\x1b[19~'],
      ['F9', '\x1b[20~'],
      ['F10', '\x1b[21~'],
      ['F11', '\x1b[23~'],
      ['F12', '\x1b[24~'],
      ['Shift+F5', '\x1b[15;2~'],
      ['Control+F1', '\x1b[1;5P'],
      ['Backspace', '\x7f'],
      ['Control+Backspace', '\x08'],
      ['Alt+Backspace', '\x1b\x7f'],
      ['Tab', '\t'],
      ['Shift+Tab', '\x1b[Z'],
      ['Enter', '\r'],
      ['Escape', '\x1b'],
      ['Alt+b', '\x1bb'],
      ['Alt+Shift+F', '\x1bF'],
      ['Alt+Digit1', '\x1b1'],
      ['Control+a', '\x01'],
      ['Control+Alt+a', '\x1b\x01'],
      ['Control+BracketLeft', '\x1b'],
      ['Control+Space', '\x00'],
      ['Control+2', '\x00'],
      ['Control+Slash', '\x1f'],
      ['Control+c', '\x03'],
    ];
    const hex = (s: string): string =>
      [...Buffer.from(s, 'latin1')].map((b) => b.toString(16).padStart(2, '0') + '.').join('');
    for (const appMode of [false, true]) {
      const from = mark(id);
      // A reader that prints each byte it gets in hex, one read(2) of one byte at a time (raw mode:
      // the terminal driver passes every byte as it is; bash's own `read -n` would turn ISIG and
      // ICRNL back on). A period (2e) separates the keys, W (57) ends it.
      const decckm = appMode ? "printf '\\033[?1h'; " : '';
      // The keys are pressed only once xterm itself shows this round's marker: by then it has
      // parsed the mode switch printed before it (main-side output can be ahead of the page).
      const ready = appMode ? 'READY-app' : 'READY-normal';
      await typeInto(
        page,
        id,
        `stty raw -echo -iexten; ${decckm}echo; echo RE""${ready.slice(2)}; while :; do b=$(dd bs=1 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n'); [ "$b" = 57 ] && break; printf '%s.' "$b"; done; stty sane; printf '\\033[?1l'; echo; echo DO""NE\n`,
      );
      await waitForOutput(id, ready, from);
      await waitForText(page, id, ready);
      const start = mark(id);
      for (const [key] of table) {
        await page.keyboard.press(key);
        await page.keyboard.press('Period');
      }
      await page.keyboard.press('Shift+W');
      await waitForOutput(id, 'DONE', start);
      // The hex stream, before what the shell prints after the reader.
      const got = (await waitForMatch(id, /((?:[0-9a-f]{2}\.)+)/, start))[1]!.split('2e.');
      const rows = table.map(([key, normal, app], i) => ({
        key,
        want: hex(appMode ? (app ?? normal) : normal),
        got: got[i],
      }));
      expect(
        rows.filter((r) => r.want !== r.got),
        appMode ? 'application cursor mode' : 'normal mode',
      ).toEqual([]);
    }
    await page.locator(`[data-testid="tab"][data-session-id="${id}"]`).getByTestId('tab-close').click();
  }, 90_000);

  it('opens with the pane’s real size and keeps the remote size right through a reconnect', async () => {
    await page.locator(`[data-testid="tab"][data-session-id="${shell}"]`).click();
    /** The remote terminal's size, as `stty size` tells it, in cols x rows. */
    const sizeNow = async (): Promise<string> => {
      const from = mark(shell);
      await typeInto(page, shell, 'echo "sz=$(stty size)"\n');
      const m = await waitForMatch(shell, /sz=(\d+) (\d+)/, from);
      return `${m[2]}x${m[1]}`;
    };
    const size = await paneSize(shell);
    expect(size.cols).toBeGreaterThan(80);
    // The session learnt the pane's size when it was opened (never xterm's 80x24 default).
    expect(openedWith.get(shell)).toEqual(size);
    expect(await sizeNow()).toBe(`${size.cols}x${size.rows}`);

    // The connection drops and stays down while the window changes size.
    const session = (await ui.workspace.handlers['sessions.list'](undefined)).find((s) => s.id === shell)!;
    ui.sandbox.fleet.update(session.instanceId, { pingStatus: 'ConnectionLost' });
    ui.sandbox.faults.dropSockets(session.awsSessionId);
    const overlay = page.locator(
      `[data-testid="terminal-pane"][data-session-id="${shell}"] [data-testid="reconnect-overlay"]`,
    );
    await overlay.waitFor({ timeout: 10_000 });
    await page.setViewportSize({ width: 1100, height: 700 });
    await expect.poll(async () => (await paneSize(shell)).cols, { timeout: 5_000 }).toBeLessThan(size.cols);
    ui.sandbox.fleet.update(session.instanceId, { pingStatus: 'Online' });
    await overlay.waitFor({ state: 'hidden', timeout: 20_000 });
    const after = await paneSize(shell);
    expect(await sizeNow()).toBe(`${after.cols}x${after.rows}`);
    await page.setViewportSize({ width: 1400, height: 900 });
    await expect.poll(async () => (await paneSize(shell)).cols).toBe(size.cols);
    expect(await sizeNow()).toBe(`${size.cols}x${size.rows}`);
    expect(ui.problems).toEqual([]);
  }, 90_000);
});
