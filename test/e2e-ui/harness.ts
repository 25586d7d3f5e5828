/**
 * Browser end-to-end harness: the workspace on an embedded sandbox, served in web mode exactly
 * as `npm run web` serves it, and Debian's Chromium driven by playwright-core. Screenshots go
 * to test/artifacts/ui/ (kept by CI as artifacts, and looked at before an issue is resolved).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findProjectRoot } from '../../main/cli/commands/app.js';
import { startWebServer, type WebServerHandle } from '../../main/core/web/server.js';
import { Workspace, type WorkspaceOptions } from '../../main/core/workspace/workspace.js';
import { openHistoryStore } from '../../main/core/store/index.js';
import type { SandboxHandle } from '../../main/sandbox/server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = findProjectRoot();
export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts', 'ui');

export interface UiHarness {
  workspace: Workspace;
  server: WebServerHandle;
  sandbox: SandboxHandle;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and CSP violations seen by any page. */
  problems: string[];
  /** A new page on the app (a second window, or a reload). */
  openPage(): Promise<Page>;
  screenshot(name: string, page?: Page): Promise<string>;
  close(): Promise<void>;
}

export async function startUi(
  options: WorkspaceOptions & {
    viewport?: { width: number; height: number };
    colorScheme?: 'light' | 'dark';
  } = {},
): Promise<UiHarness> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'ec2c-ui-'));
  const workspace = await Workspace.start({
    profile: 'sandbox',
    configFile: path.join(home, 'config.json'),
    // A history of its own (EC2_CONNECT_DB when a test sets one, else a temporary file).
    history: openHistoryStore({
      file: process.env.EC2_CONNECT_DB ?? path.join(home, 'sessions.db'),
      flushIntervalMs: 100,
    }),
    historySource: 'web',
    manager: { reconnect: { baseDelayMs: 300, maxDelayMs: 1_000, jitter: 0, maxAttempts: 5 } },
    ...options,
  });
  const server = await startWebServer({
    host: '127.0.0.1',
    port: 0,
    handlers: workspace.handlers,
    staticDir: path.join(ROOT, 'out', 'renderer'),
  });
  const forward = workspace.onEvent((e) => server.emit(e.name, e.payload));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless=new',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-dev-shm-usage',
    ],
  });
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1400, height: 900 },
    colorScheme: options.colorScheme ?? 'dark',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  const problems: string[] = [];
  const watch = (page: Page): Page => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    return page;
  };
  const openPage = async (): Promise<Page> => {
    const page = watch(await context.newPage());
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    await page.goto(server.url);
    return page;
  };
  const page = await openPage();
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    workspace,
    server,
    sandbox: workspace.activeProfile()!.sandbox!,
    browser,
    context,
    page,
    problems,
    openPage,
    async screenshot(name, p = page) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      await p.screenshot({ path: file });
      return file;
    },
    async close() {
      forward.dispose();
      await browser.close().catch(() => undefined);
      await server.close();
      await workspace.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** The text of a session's terminal (through the renderer's test hook). */
export async function bufferText(page: Page, sessionId: string): Promise<string> {
  return page.evaluate((id) => window.__ec2connectTest?.bufferText(id) ?? '', sessionId);
}

/** Wait until a session's terminal shows `needle`; the error shows what it does show. */
export async function waitForText(
  page: Page,
  sessionId: string,
  needle: string | RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await bufferText(page, sessionId);
    if (typeof needle === 'string' ? text.includes(needle) : needle.test(text)) return text;
    if (Date.now() > deadline)
      throw new Error(
        `terminal ${sessionId} never showed ${String(needle)}; it shows:\n${JSON.stringify(text.slice(-400))}`,
      );
    await page.waitForTimeout(50);
  }
}

/** Type into a session's terminal, as a user would. */
export async function typeInto(page: Page, sessionId: string, text: string): Promise<void> {
  await page.locator(`[data-testid="terminal-pane"][data-session-id="${sessionId}"] .xterm`).click();
  await page.keyboard.type(text, { delay: 5 });
}
