/**
 * UI benchmarks in Chromium: the workspace on an embedded sandbox, served in web mode, driven by
 * playwright-core (test/e2e-ui/harness.ts). Each figure stands beside a baseline from the same run:
 *
 * - Terminal render throughput: a session opened in the UI (filter + Enter), a command printing
 *   N MB, timed from pressing Enter until its end marker is in xterm's buffer (so every byte has
 *   been parsed by the terminal, drawn at its frame rate, and acknowledged for flow control).
 *   Baseline: the same command through the same workspace to a Node consumer that acknowledges
 *   each batch at once (no browser on the critical path; the page still receives the events and
 *   drops them, as for any session it shows no pane for). Also xterm alone: the same bytes written
 *   straight into a fresh xterm (the app's xterm package and renderer addon, same font, size and
 *   scrollback) on a blank page of the same Chromium; nothing of the app's renderer is changed.
 * - Responsiveness with 20 sessions open in the UI (filter + Enter, 20 times), each printing
 *   continuously (~20 KB every 100 ms; also a moderate ~2 KB, not in --quick): event-loop lag in
 *   the page (a 16 ms interval's lateness), long tasks, animation frames per second, and the
 *   latency of real input (tab clicks, view switches, keystrokes in the instance filter) from the
 *   input event's timestamp to the end of the next frame after its handlers ran. Baseline: the
 *   same probes with the 20 sessions open and idle. The load is stated as the output rate.
 *   These run with every scrollback full (a terminal in use for a while); heavy output into fresh
 *   terminals, whose scrollbacks are still filling, costs the page much more and is measured
 *   apart (lag and frames only).
 *
 * BENCH_DEBUG=1 prints progress. The renderer bundle is rebuilt first when its sources are newer
 * (as before the browser tests).
 *
 * Profiling: BENCH_UI_PROFILE=<dir> records the page's CPU profile (Chromium's Profiler domain
 * over CDP) during each measured render-throughput run and writes <dir>/ui-render-<n>.cpuprofile
 * (summarise with bench/lib/cpuprofile-summary.ts). BENCH_UI_TRACE=<dir> records a Chromium
 * trace of the page (tasks, frames, messages) for the same runs and for xterm alone (summarise
 * with bench/lib/trace-summary.ts), and of the page during each phase's interactions
 * (ui-input-<phase>.json). BENCH_UI_ONLY=throughput skips the responsiveness part,
 * BENCH_UI_ONLY=responsiveness the render throughput.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';
import type { BridgeEvent } from '../preload/api.js';
import { buildNeeded, findProjectRoot, runBuild } from '../main/cli/commands/app.js';
import { canStartSession } from '../main/sandbox/fleet.js';
import { CHROMIUM, startUi, type UiHarness } from '../test/e2e-ui/harness.js';
import { summarize, type Summary } from './lib/stats.js';

export interface UiFigure {
  name: string;
  unit: string;
  better: 'lower' | 'higher';
  summary: Summary;
  target?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = findProjectRoot(here);
const MB = 1024 * 1024;
const SESSIONS = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
/** Progress on stderr with BENCH_DEBUG set. */
function debug(message: string): void {
  if (process.env.BENCH_DEBUG)
    process.stderr.write(`ui bench +${((performance.now() - started) / 1000).toFixed(1)}s: ${message}\n`);
}

/** Why the UI bench cannot run here (undefined: it can). */
export function uiBenchUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM))
    return `no Chromium at ${CHROMIUM} (install Debian's chromium, or set CHROMIUM_PATH)`;
  return undefined;
}

/** Output of every session, as the main side emits it (bytes and a short tail of text). */
class OutputWatch {
  readonly tails = new Map<string, string>();
  total = 0;
  private readonly listeners = new Set<(e: BridgeEvent & { name: 'session.output' }) => void>();

  /** The resource governor's changes during the run (they change what the page does). */
  readonly governor: string[] = [];

  handle(e: BridgeEvent): void {
    if (e.name === 'governor.changed' && e.payload.change)
      this.governor.push(`${e.payload.change.from} -> ${e.payload.change.to}: ${e.payload.change.message}`);
    if (e.name !== 'session.output') return;
    const { sessionId, bytes, data } = e.payload;
    this.total += bytes;
    const t = (this.tails.get(sessionId) ?? '') + data;
    this.tails.set(sessionId, t.length > 4096 ? t.slice(-4096) : t);
    for (const l of this.listeners) l(e);
  }

  on(fn: (e: BridgeEvent & { name: 'session.output' }) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  async waitFor(sessionId: string, test: (tail: string) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test(this.tails.get(sessionId) ?? '')) {
      if (Date.now() > deadline)
        throw new Error(
          `session ${sessionId}: expected output never came; tail: ${JSON.stringify((this.tails.get(sessionId) ?? '').slice(-300))}`,
        );
      await sleep(20);
    }
  }
}

/**
 * Functions passed to page.evaluate are compiled by tsx (esbuild with keepNames), which wraps
 * named inner functions in a `__name(fn, name)` helper that only exists in Node: give the page one.
 */
async function allowNamedFunctions(page: Page): Promise<void> {
  await page.evaluate('globalThis.__name ??= (fn) => fn');
}

async function tabSessionIds(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="tab"]')
    .evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-session-id') ?? ''));
}

/** Open a session the way a user does: the instance filter, then Enter. Resolves with its id. */
async function openViaUi(ui: UiHarness, watch: OutputWatch, instanceId: string): Promise<string> {
  const { page } = ui;
  const before = new Set(await tabSessionIds(page));
  const filter = page.getByTestId('instance-filter');
  if (!(await filter.isVisible())) await page.getByTestId('view-instances').click();
  await filter.fill(instanceId);
  const rows = page.locator('[data-testid="instance-row"]');
  const deadline = Date.now() + 10_000;
  while ((await rows.count()) !== 1 || (await rows.first().getAttribute('data-instance-id')) !== instanceId) {
    if (Date.now() > deadline) throw new Error(`the filter never narrowed the list to ${instanceId}`);
    await sleep(20);
  }
  await filter.press('Enter');
  for (;;) {
    const id = (await tabSessionIds(page)).find((s) => s && !before.has(s));
    if (id) {
      const tab = page.locator(`[data-testid="tab"][data-session-id="${id}"]`);
      if ((await tab.getAttribute('data-state')) === 'open') {
        await watch.waitFor(id, (t) => t.includes('$'));
        return id;
      }
    }
    if (Date.now() > deadline + 10_000) throw new Error(`no session tab opened for ${instanceId}`);
    await sleep(20);
  }
}

/** Does the terminal of `sessionId` show `needle`? (Reads xterm's whole buffer: poll gently.) */
/** Whether the last 200 lines of the session's terminal hold `needle` (a cheap poll for the page). */
function terminalShows(page: Page, sessionId: string, needle: string): Promise<boolean> {
  return page.evaluate(([id, n]) => (window.__ec2connectTest?.bufferText(id, 200) ?? '').includes(n), [
    sessionId,
    needle,
  ] as const);
}

// ---- 1. render throughput ---------------------------------------------------------------------

interface ThroughputSetup {
  ui: UiHarness;
  watch: OutputWatch;
}

/** `bytes` of 'x' in 100-column lines, then a marker only the shell can produce (not its echo). */
function bigCommand(bytes: number, tag: string): { command: string; echoed: string; marker: string } {
  return {
    command: `head -c ${bytes} /dev/zero | tr '\\0' x | fold -w 100; echo ${tag}-$((6*7))`,
    echoed: `echo ${tag}-$((6*7))`,
    marker: `${tag}-42`,
  };
}

/** Count a session's output bytes from now until `marker` has been emitted. */
function countUntil(
  watch: OutputWatch,
  sessionId: string,
  marker: string,
  onBatch?: (bytes: number) => void,
): Promise<{ bytes: number; at: number }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let tail = '';
    const off = watch.on((e) => {
      if (e.payload.sessionId !== sessionId) return;
      bytes += e.payload.bytes;
      onBatch?.(e.payload.bytes);
      const text = tail + e.payload.data;
      tail = text.slice(-marker.length);
      if (text.includes(marker)) {
        off();
        resolve({ bytes, at: performance.now() });
      }
    });
  });
}

/** Output lost on the way would show here: `bytes` 'x' in 100-column lines, CR LF between them. */
function checkBytes(consumer: string, got: number, bytes: number): void {
  const want = bytes + 2 * (bytes / 100 - 1);
  if (got < want)
    process.stderr.write(`ui bench: ${consumer} run received ${got} bytes, fewer than the ${want} printed\n`);
}

interface UiRun {
  mbps: number;
  bytes: number;
  /** Enter to the marker leaving the main side, as a share of the whole run. */
  mainShare: number;
  /** Animation frames per second in the page during the run. */
  fps: number;
}

/** The page's CPU profile over CDP, when BENCH_UI_PROFILE names a folder for it. */
async function startPageProfile(page: Page): Promise<CDPSession | undefined> {
  if (!process.env.BENCH_UI_PROFILE) return undefined;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return cdp;
}

async function stopPageProfile(cdp: CDPSession | undefined, name: string): Promise<void> {
  const dir = process.env.BENCH_UI_PROFILE;
  if (!cdp || !dir) return;
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`ui bench: wrote ${file}\n`);
}

/**
 * A Chromium trace of the page (tasks, animation frames, WebSocket messages, timers: what the
 * Performance panel shows) when BENCH_UI_TRACE names a folder for it; open the JSON in
 * chrome://tracing or https://ui.perfetto.dev, or summarise it with bench/lib/trace-summary.ts.
 */
async function startPageTrace(ui: UiHarness, page: Page, name: string): Promise<void> {
  const dir = process.env.BENCH_UI_TRACE;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await ui.browser.startTracing(page, {
    path: file,
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8.execute'],
  });
  process.stderr.write(`ui bench: tracing into ${file}\n`);
}

async function stopPageTrace(ui: UiHarness): Promise<void> {
  if (process.env.BENCH_UI_TRACE) await ui.browser.stopTracing();
}

/** One run in the UI: type the command, press Enter, wait for the marker in xterm's buffer. */
async function uiRun(s: ThroughputSetup, sessionId: string, bytes: number, tag: string): Promise<UiRun> {
  const { page } = s.ui;
  const { command, echoed, marker } = bigCommand(bytes, tag);
  await page.locator(`[data-testid="terminal-pane"][data-session-id="${sessionId}"] .xterm`).click();
  // The command arrives as one text input (as from an input method); Enter is a real key press.
  await page.keyboard.insertText(command);
  await s.watch.waitFor(sessionId, (t) => t.includes(echoed));
  await sleep(200);
  await page.evaluate(() => {
    const g = globalThis as unknown as { __frames: { n: number; on: boolean } };
    g.__frames = { n: 0, on: true };
    const tick = () => {
      if (!g.__frames.on) return;
      g.__frames.n++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const counting = countUntil(s.watch, sessionId, marker);
  const profiling = await startPageProfile(page);
  await startPageTrace(s.ui, page, `ui-render-${tag}`);
  const t0 = performance.now();
  await page.keyboard.press('Enter');
  const main = await counting;
  // The marker has left the main side; the renderer has at most the flow-control window
  // (1 MiB) left to parse. Poll the buffer at a modest rate (each poll reads the whole buffer).
  while (!(await terminalShows(page, sessionId, marker))) await sleep(25);
  const totalMs = performance.now() - t0;
  await stopPageProfile(profiling, `ui-render-${tag}`);
  await stopPageTrace(s.ui);
  checkBytes('UI', main.bytes, bytes);
  const tail = await page.evaluate(
    (id) => (window.__ec2connectTest?.bufferText(id) ?? '').slice(-400),
    sessionId,
  );
  // fold ends the last line without a newline: the marker follows on the same line (which may wrap).
  if (!tail.replace(/\n/g, '').includes(`${'x'.repeat(200)}${marker}`))
    process.stderr.write(
      `ui bench: the terminal does not end as expected: ${JSON.stringify(tail.slice(-250))}\n`,
    );
  const frames = await page.evaluate(() => {
    const g = globalThis as unknown as { __frames: { n: number; on: boolean } };
    g.__frames.on = false;
    return g.__frames.n;
  });
  return {
    mbps: main.bytes / MB / (totalMs / 1000),
    bytes: main.bytes,
    mainShare: (main.at - t0) / totalMs,
    fps: (frames * 1000) / totalMs,
  };
}

/** The same through the same workspace to a Node consumer that acknowledges at once. */
async function nodeRun(s: ThroughputSetup, sessionId: string, bytes: number, tag: string): Promise<number> {
  const h = s.ui.workspace.handlers;
  const { command, echoed, marker } = bigCommand(bytes, tag);
  await h['sessions.write']({ sessionId, data: command });
  await s.watch.waitFor(sessionId, (t) => t.includes(echoed));
  await sleep(200);
  const counting = countUntil(s.watch, sessionId, marker, (n) => {
    void h['sessions.ack']({ sessionId, bytes: n });
  });
  const t0 = performance.now();
  await h['sessions.write']({ sessionId, data: '\r' });
  const done = await counting;
  checkBytes('Node', done.bytes, bytes);
  return done.bytes / MB / ((done.at - t0) / 1000);
}

/**
 * xterm alone: a blank page (no CSP, nothing of the app) with the app's xterm build and renderer
 * addon, the app's font settings and the terminal's size. Nothing in the app's renderer changes.
 */
async function openRawXterm(
  ui: UiHarness,
  renderer: string,
  size: { cols: number; rows: number },
): Promise<Page> {
  const settings = await ui.workspace.handlers['settings.get'](undefined);
  const raw = await ui.context.newPage();
  const mod = (p: string) => path.join(ROOT, 'node_modules', '@xterm', p);
  await raw.setContent('<!doctype html><html><body style="margin:0"><div id="t"></div></body></html>');
  await allowNamedFunctions(raw);
  await raw.addStyleTag({ path: mod('xterm/css/xterm.css') });
  await raw.addScriptTag({ path: mod('xterm/lib/xterm.js') });
  if (renderer === 'webgl') await raw.addScriptTag({ path: mod('addon-webgl/lib/addon-webgl.js') });
  if (renderer === 'canvas') await raw.addScriptTag({ path: mod('addon-canvas/lib/addon-canvas.js') });
  await raw.evaluate(
    ({ renderer, size, s }) => {
      type Addon = new () => object;
      const g = globalThis as unknown as {
        Terminal: new (o: object) => { loadAddon(a: object): void; open(el: HTMLElement): void };
        WebglAddon?: { WebglAddon: Addon };
        CanvasAddon?: { CanvasAddon: Addon };
        __term: unknown;
      };
      const term = new g.Terminal({ ...size, ...s, minimumContrastRatio: 1, allowProposedApi: true });
      if (renderer === 'webgl' && g.WebglAddon) term.loadAddon(new g.WebglAddon.WebglAddon());
      if (renderer === 'canvas' && g.CanvasAddon) term.loadAddon(new g.CanvasAddon.CanvasAddon());
      term.open(document.getElementById('t')!);
      g.__term = term;
    },
    {
      renderer,
      size,
      s: {
        fontFamily: settings.fontFamily,
        fontSize: settings.fontSize,
        lineHeight: settings.lineHeight,
        scrollback: settings.scrollback,
      },
    },
  );
  return raw;
}

/**
 * `bytes` of the same 100-column lines written into xterm alone in 64 KiB pieces (the main
 * side's batch size), all at once, timed until the last piece is parsed and a frame drawn after.
 */
async function rawXtermRun(ui: UiHarness, raw: Page, bytes: number): Promise<number> {
  await raw.bringToFront();
  await startPageTrace(ui, raw, `xterm-alone-${bytes}`);
  const r = await raw.evaluate(async (total) => {
    const term = (globalThis as unknown as { __term: { write(d: string, cb?: () => void): void } }).__term;
    const line = 'x'.repeat(100) + '\r\n';
    const piece = line.repeat(Math.floor(65536 / line.length));
    const n = Math.ceil(total / piece.length);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      for (let i = 0; i < n; i++) term.write(piece, i === n - 1 ? resolve : undefined);
    });
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return { ms: performance.now() - t0, bytes: n * piece.length };
  }, bytes);
  await stopPageTrace(ui);
  return r.bytes / MB / (r.ms / 1000);
}

async function throughputBench(ui: UiHarness, watch: OutputWatch, quick: boolean): Promise<UiFigure[]> {
  const reps = quick ? 2 : 3;
  const bytes = (quick ? 4 : 16) * 1_000_000;
  const s: ThroughputSetup = { ui, watch };
  const target = ui.sandbox.fleet.list().find((i) => canStartSession(i) && i.platformType === 'Linux')!;
  const uiSession = await openViaUi(ui, watch, target.instanceId);
  const h = ui.workspace.handlers;
  // The terminal's size, for the baseline session and for xterm alone.
  await h['sessions.write']({ sessionId: uiSession, data: 'echo "size=$(stty size)"\r' });
  await watch.waitFor(uiSession, (t) => /size=\d+ \d+/.test(t));
  const [, rows, cols] = /size=(\d+) (\d+)/.exec(watch.tails.get(uiSession)!)!;
  const size = { cols: Number(cols), rows: Number(rows) };
  const renderer =
    (await ui.page
      .locator(`[data-testid="terminal-pane"][data-session-id="${uiSession}"]`)
      .getAttribute('data-renderer')) ?? 'canvas';
  const base = await h['sessions.open']({ instanceId: target.instanceId, ...size });
  await watch.waitFor(base.id, (t) => t.includes('$'));
  const raw = await openRawXterm(ui, renderer, size);
  await ui.page.bringToFront();

  const ours: UiRun[] = [];
  const nodeMbps: number[] = [];
  const rawMbps: number[] = [];
  // A smaller unmeasured round first (JIT, fonts, a scrollback that is full from then on).
  for (let i = 0; i <= reps; i++) {
    const n = i === 0 ? bytes / 4 : bytes;
    const r = await uiRun(s, uiSession, n, `UI${i}X`);
    const b = await nodeRun(s, base.id, n, `NODE${i}X`);
    const x = await rawXtermRun(ui, raw, r.bytes);
    await ui.page.bringToFront();
    if (i === 0) continue;
    ours.push(r);
    nodeMbps.push(b);
    rawMbps.push(x);
  }
  await raw.close();
  await h['sessions.close']({ sessionId: base.id });
  await closeViaUi(ui, uiSession);
  const o = summarize(ours.map((r) => r.mbps));
  const node = summarize(nodeMbps);
  const xterm = summarize(rawMbps);
  return [
    {
      name: `terminal render throughput in Chromium (${bytes / 1e6} MB of 100-column lines, Enter to last byte in xterm)`,
      unit: 'MB/s',
      better: 'higher',
      summary: o,
    },
    {
      name: '  baseline: same command and workspace, a Node consumer acknowledging at once',
      unit: 'MB/s',
      better: 'higher',
      summary: node,
    },
    {
      name: '  ratio to that baseline (medians)',
      unit: 'x',
      better: 'higher',
      summary: summarize([o.median / node.median]),
    },
    {
      name: `  xterm alone in the same Chromium (${renderer} renderer, same bytes in 64 KiB writes)`,
      unit: 'MB/s',
      better: 'higher',
      summary: xterm,
    },
    {
      name: '  ratio to xterm alone (medians)',
      unit: 'x',
      better: 'higher',
      summary: summarize([o.median / xterm.median]),
    },
    {
      name: '  animation frames per second in the page during the run',
      unit: 'fps',
      better: 'higher',
      summary: summarize(ours.map((r) => r.fps)),
    },
    {
      name: '  share of the run before the marker left the main side (flow control waits on the page)',
      unit: '%',
      better: 'lower',
      summary: summarize(ours.map((r) => r.mainShare * 100)),
    },
  ];
}

async function closeViaUi(ui: UiHarness, sessionId: string): Promise<void> {
  await ui.page
    .locator(`[data-testid="tab"][data-session-id="${sessionId}"]`)
    .getByTestId('tab-close')
    .click();
  const deadline = Date.now() + 10_000;
  while ((await ui.workspace.handlers['sessions.list'](undefined)).some((s) => s.id === sessionId)) {
    if (Date.now() > deadline) throw new Error(`session ${sessionId} did not close`);
    await sleep(50);
  }
}

// ---- 2. responsiveness with 20 busy sessions ---------------------------------------------------

interface LagResult {
  lags: number[];
  longTaskMs: number;
  fps: number;
  ms: number;
}

/** Event-loop lag in the page: how late a 16 ms interval fires; long tasks; animation frames. */
function lagProbe(page: Page, ms: number): Promise<LagResult> {
  return page.evaluate(async (durationMs) => {
    const lags: number[] = [];
    let longTaskMs = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTaskMs += e.duration;
    });
    obs.observe({ type: 'longtask' });
    let frames = 0;
    let running = true;
    const frame = () => {
      frames++;
      if (running) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lags.push(Math.max(0, now - last - 16));
      last = now;
    }, 16);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, durationMs));
    clearInterval(timer);
    running = false;
    for (const e of obs.takeRecords()) longTaskMs += e.duration;
    obs.disconnect();
    const elapsed = performance.now() - t0;
    return { lags, longTaskMs, fps: (frames * 1000) / elapsed, ms: elapsed };
  }, ms);
}

interface InputSample {
  kind: string;
  ms: number;
}

/**
 * Record, for every click and keydown, the time from the input event (its timestamp: when the
 * browser created it, so time spent queued behind other work counts) to the end of the next
 * frame: handlers and Vue's DOM update (a microtask) run before that frame, and a message posted
 * from its requestAnimationFrame callback arrives once the frame has been rendered.
 */
async function installInputProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as { __uiBench?: { on: boolean; samples: InputSample[] } };
    if (g.__uiBench) return;
    const state = { on: false, samples: [] as InputSample[] };
    g.__uiBench = state;
    const record = (e: Event) => {
      if (!state.on) return;
      const t0 = e.timeStamp;
      const target = e.target instanceof Element ? e.target : null;
      const view = target?.closest('[data-testid^="view-"]');
      const kind =
        e.type === 'keydown'
          ? target?.closest('[data-testid="instance-filter"]')
            ? 'filter keystroke'
            : 'other keystroke'
          : target?.closest('[data-testid="tab"]')
            ? 'tab switch (click)'
            : view
              ? `view switch to ${view.getAttribute('data-testid')!.slice('view-'.length)} (click)`
              : 'other click';
      requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => state.samples.push({ kind, ms: performance.now() - t0 });
        ch.port2.postMessage(null);
      });
    };
    window.addEventListener('click', record, true);
    window.addEventListener('keydown', record, true);
  });
}

/** Real input through Playwright: tab clicks, view switches, keystrokes in the instance filter. */
async function interactions(page: Page, count: number): Promise<InputSample[]> {
  await installInputProbe(page);
  const nTabs = await page.locator('[data-testid="tab"]').count();
  const filter = page.getByTestId('instance-filter');
  if (!(await filter.isVisible())) await page.getByTestId('view-instances').click();
  await filter.fill('');
  await page.evaluate(() => {
    const g = globalThis as unknown as { __uiBench: { on: boolean; samples: InputSample[] } };
    g.__uiBench.samples = [];
    g.__uiBench.on = true;
  });
  // A real mouse click at the element's centre: Playwright's own click first waits for the
  // element to be stable over animation frames, which under load takes far longer than the click.
  const clickAt = async (selector: string, nth = 0): Promise<void> => {
    const box = await page.evaluate(
      ([sel, n]) => {
        const el = document.querySelectorAll(sel)[n];
        if (!el) return null;
        el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
        const r = el.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      },
      [selector, nth] as const,
    );
    if (!box) throw new Error(`nothing to click at ${selector} #${nth}`);
    await page.mouse.click(box.x, box.y);
  };
  let tab = 0;
  for (let i = 0; i < count; i++) {
    switch (i % 5) {
      case 0:
        tab = (tab + 7) % nTabs;
        await clickAt('[data-testid="tab"] [data-testid="tab-title"]', tab);
        break;
      case 1:
        await clickAt('[data-testid="view-performance"]');
        break;
      case 2:
        await clickAt('[data-testid="view-instances"]');
        break;
      case 3:
        await filter.focus();
        await page.keyboard.press('w');
        break;
      default:
        await page.keyboard.press('Backspace');
        break;
    }
    await sleep(150);
  }
  await sleep(500);
  const samples = await page.evaluate(() => {
    const g = globalThis as unknown as { __uiBench: { on: boolean; samples: InputSample[] } };
    g.__uiBench.on = false;
    return g.__uiBench.samples;
  });
  if (samples.length !== count)
    process.stderr.write(`ui bench: ${samples.length} input events recorded for ${count} interactions\n`);
  return samples;
}

interface PhaseResult {
  lag: LagResult;
  input: InputSample[];
  outputMBps: number;
}

async function phase(ui: UiHarness, watch: OutputWatch, quick: boolean, name: string): Promise<PhaseResult> {
  const total0 = watch.total;
  const t0 = performance.now();
  const lag = await lagProbe(ui.page, quick ? 2_500 : 8_000);
  await startPageTrace(ui, ui.page, `ui-input-${name}`);
  const input = await interactions(ui.page, quick ? 15 : 50);
  await stopPageTrace(ui);
  const outputMBps = (watch.total - total0) / MB / ((performance.now() - t0) / 1000);
  return { lag, input, outputMBps };
}

/**
 * A shell loop printing `lines` 85-column log-like lines every ~100 ms until `stopFile` exists.
 * (Not stopped with Ctrl-C: bash now and then misses a SIGINT that lands between two commands
 * of a tight loop, and the loop runs on.)
 */
function printLoop(lines: number, stopFile: string): string {
  return `while [ ! -e ${stopFile} ]; do seq -f 'busy line %06g lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod' 1 ${lines}; sleep 0.1; done\r`;
}

async function busyBench(ui: UiHarness, watch: OutputWatch, quick: boolean): Promise<UiFigure[]> {
  const h = ui.workspace.handlers;
  const targets = ui.sandbox.fleet.list().filter((i) => canStartSession(i) && i.platformType === 'Linux');
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++)
    ids.push(await openViaUi(ui, watch, targets[i % targets.length]!.instanceId));
  await sleep(1_000);

  const stopDir = mkdtempSync(path.join(os.tmpdir(), 'ec2c-ui-bench-'));
  let runs = 0;
  const startLoops = async (lines: number): Promise<string> => {
    const stopFile = path.join(stopDir, `stop-${++runs}`);
    for (const sessionId of ids) await h['sessions.write']({ sessionId, data: printLoop(lines, stopFile) });
    return stopFile;
  };
  const stopLoops = async (stopFile: string): Promise<void> => {
    writeFileSync(stopFile, '');
    await sleep(1_000);
  };
  const run = async (lines: number, name: string): Promise<PhaseResult> => {
    const stopFile = await startLoops(lines);
    await sleep(1_000);
    const result = await phase(ui, watch, quick, name);
    await stopLoops(stopFile);
    return result;
  };
  debug(`${SESSIONS} sessions open`);
  let filling: { lag: LagResult; outputMBps: number };
  let idle: PhaseResult, moderate: PhaseResult | undefined, busy: PhaseResult;
  try {
    // Heavy output into fresh terminals: while their scrollbacks fill up, before xterm starts
    // to recycle its oldest lines (the first ~10,000 lines of each terminal).
    const stopFile = await startLoops(250);
    const total0 = watch.total;
    const t0 = performance.now();
    const lag = await lagProbe(ui.page, quick ? 3_000 : 5_000);
    filling = { lag, outputMBps: (watch.total - total0) / MB / ((performance.now() - t0) / 1000) };
    await stopLoops(stopFile);
    debug('filling phase done');
    // From here on every scrollback is full, as in any terminal that has been used for a while.
    const { scrollback } = await h['settings.get'](undefined);
    for (const sessionId of ids)
      await h['sessions.write']({
        sessionId,
        data: `seq -f 'scrollback filler %06g' 1 ${scrollback + 200}; echo FILLED-$((3*3))\r`,
      });
    for (const sessionId of ids) await watch.waitFor(sessionId, (t) => t.includes('FILLED-9'), 60_000);
    await sleep(1_000);
    idle = await phase(ui, watch, quick, 'idle');
    debug('idle phase done');
    moderate = quick ? undefined : await run(20, 'moderate');
    if (moderate) debug('moderate phase done');
    busy = await run(250, 'busy');
    debug('busy phase done');
  } finally {
    rmSync(stopDir, { recursive: true, force: true });
  }

  // Every terminal still follows its session: a marker in each, seen in its xterm buffer.
  for (const [i, sessionId] of ids.entries())
    await h['sessions.write']({ sessionId, data: `echo alive-$((${i}+1000))\r` });
  const stuck: string[] = [];
  for (const [i, sessionId] of ids.entries()) {
    const deadline = Date.now() + 15_000;
    while (!(await terminalShows(ui.page, sessionId, `alive-${i + 1000}`))) {
      if (Date.now() > deadline) {
        stuck.push(sessionId);
        break;
      }
      await sleep(100);
    }
  }
  for (const sessionId of stuck) {
    const i = ids.indexOf(sessionId);
    const mainTail = watch.tails.get(sessionId) ?? '';
    const shown = await ui.page.evaluate(
      (id) => (window.__ec2connectTest?.bufferText(id) ?? '').slice(-300),
      sessionId,
    );
    const state = await ui.page
      .locator(`[data-testid="tab"][data-session-id="${sessionId}"]`)
      .getAttribute('data-state');
    process.stderr.write(
      `ui bench: the terminal of session ${sessionId} (tab ${i}, ${state}) never showed alive-${i + 1000}; ` +
        `the main side ${mainTail.includes(`alive-${i + 1000}`) ? 'did' : 'did not'} emit it.\n` +
        `  main side tail: ${JSON.stringify(mainTail.slice(-200))}\n  terminal tail: ${JSON.stringify(shown)}\n`,
    );
  }
  await Promise.all(ids.map((sessionId) => h['sessions.close']({ sessionId }).catch(() => undefined)));

  const one = (x: number) => summarize([x]);
  const input = (r: PhaseResult, kind?: string) =>
    summarize(r.input.filter((s) => !kind || s.kind === kind).map((s) => s.ms));
  const bi = input(busy);
  const ii = input(idle);
  const figures: UiFigure[] = [
    {
      name: `UI event handling, ${SESSIONS} busy sessions (input event to next frame drawn; full scrollbacks)`,
      unit: 'ms',
      better: 'lower',
      summary: bi,
      target: '< 100 ms',
    },
    {
      name: `  load: total output of the ${SESSIONS} sessions (250 lines / 100 ms each)`,
      unit: 'MB/s',
      better: 'higher',
      summary: one(busy.outputMBps),
    },
  ];
  if (moderate)
    figures.push(
      { name: '  with moderate output instead', unit: 'ms', better: 'lower', summary: input(moderate) },
      {
        name: '  load: total output, moderate (20 lines / 100 ms each)',
        unit: 'MB/s',
        better: 'higher',
        summary: one(moderate.outputMBps),
      },
    );
  figures.push(
    { name: `  baseline: the ${SESSIONS} sessions idle`, unit: 'ms', better: 'lower', summary: ii },
    { name: '  ratio busy / idle, median', unit: 'x', better: 'lower', summary: one(bi.median / ii.median) },
    { name: '  ratio busy / idle, p99', unit: 'x', better: 'lower', summary: one(bi.p99 / ii.p99) },
  );
  const kinds = [
    'tab switch (click)',
    'view switch to performance (click)',
    'view switch to instances (click)',
    'filter keystroke',
  ];
  for (const kind of kinds) {
    figures.push(
      { name: `    ${kind}, busy`, unit: 'ms', better: 'lower', summary: input(busy, kind) },
      { name: `    ${kind}, idle`, unit: 'ms', better: 'lower', summary: input(idle, kind) },
    );
  }
  const lags: Array<[string, LagResult]> = [
    ['busy', busy.lag],
    ...(moderate ? [['moderate', moderate.lag] as [string, LagResult]] : []),
    ['busy, fresh terminals (scrollbacks filling)', filling.lag],
    ['baseline: idle', idle.lag],
  ];
  figures.push({
    name: `page event-loop lag, ${SESSIONS} busy sessions (lateness of a 16 ms interval)`,
    unit: 'ms',
    better: 'lower',
    summary: summarize(busy.lag.lags),
  });
  for (const [label, r] of lags.slice(1))
    figures.push({ name: `  ${label}`, unit: 'ms', better: 'lower', summary: summarize(r.lags) });
  figures.push({
    name: '  load: total output, fresh terminals',
    unit: 'MB/s',
    better: 'higher',
    summary: one(filling.outputMBps),
  });
  for (const [label, r] of lags)
    figures.push({
      name: `  event-loop lag max, ${label}`,
      unit: 'ms',
      better: 'lower',
      summary: one(Math.max(...r.lags)),
    });
  for (const [label, r] of lags)
    figures.push({
      name: `  time in long tasks (> 50 ms), ${label}`,
      unit: '%',
      better: 'lower',
      summary: one((100 * r.longTaskMs) / r.ms),
    });
  for (const [label, r] of lags)
    figures.push({
      name: `  animation frames per second, ${label}`,
      unit: 'fps',
      better: 'higher',
      summary: one(r.fps),
    });
  return figures;
}

export async function runUiBench(opts: { quick: boolean }): Promise<UiFigure[]> {
  const reason = buildNeeded(
    ROOT,
    ['out/renderer/index.html'],
    ['renderer', 'preload', 'electron.vite.config.ts'],
  );
  if (reason) {
    // As the browser tests do (test/global-setup.ts): measure the current sources.
    process.stderr.write(`ui bench: building the renderer (${reason}) ...\n`);
    await runBuild(ROOT);
  }
  const ui = await startUi();
  const watch = new OutputWatch();
  const sub = ui.workspace.onEvent((e) => watch.handle(e));
  try {
    await allowNamedFunctions(ui.page);
    await ui.page.locator('[data-testid="instance-row"]').first().waitFor({ timeout: 30_000 });
    debug('started');
    const only = process.env.BENCH_UI_ONLY;
    const figures = only === 'responsiveness' ? [] : await throughputBench(ui, watch, opts.quick);
    debug('throughput done');
    if (only !== 'throughput') figures.push(...(await busyBench(ui, watch, opts.quick)));
    debug('busy bench done');
    if (ui.problems.length) process.stderr.write(`ui bench: page problems:\n  ${ui.problems.join('\n  ')}\n`);
    process.stdout.write(
      watch.governor.length
        ? `ui bench: the resource governor acted during the run:\n  ${watch.governor.join('\n  ')}\n`
        : 'ui bench: the resource governor stayed normal during the run\n',
    );
    return figures;
  } finally {
    sub.dispose();
    await ui.close();
  }
}
