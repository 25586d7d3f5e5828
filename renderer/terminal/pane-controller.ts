/**
 * One terminal pane: an xterm (from xterm-kit) bound to at most one session at a time.
 *
 * - Output: 'session.output' batches go through an OutputSink (write, then coalesced acks).
 * - Input: xterm's onData goes through an InputQueue ('sessions.write', serialised, chunked).
 *   Pastes (the native paste event, so no clipboard permission is needed) are confirmed first
 *   when they have more lines than the pasteWarningLines setting; xterm brackets them.
 * - Size: fitted to its container (ResizeObserver, debounced); 'sessions.resize' only when
 *   cols/rows differ from what the session was last told.
 *
 * The controller owns its host element; the pane component moves that element into its own
 * container on mount (a split re-mounts components, never the terminal), so the xterm instance,
 * its scrollback and its renderer live as long as the pane.
 */
import type { Ec2ConnectBridge, Settings } from '../../preload/api.js';
import { InputQueue } from './input-queue.js';
import { countLines, needsPasteConfirmation, reservedForApp } from './keys.js';
import { OutputSink, type OutputBatch } from './output-sink.js';
import { NO_POLICY, economyRenderer, type TerminalPolicy } from './governor.js';
import type { SearchColors } from './theme.js';
import type { ITheme } from '@xterm/xterm';
import { createTerminalKit, type RendererInUse, type SearchResults, type TerminalKit } from './xterm-kit.js';

export const FIT_DEBOUNCE_MS = 40;
const COPY_ON_SELECT_DELAY_MS = 150;

export interface Size {
  cols: number;
  rows: number;
}

export interface PaneHost {
  bridge: Pick<Ec2ConnectBridge, 'invoke'>;
  settings(): Settings;
  theme(): { theme: ITheme; search: SearchColors };
  isMac(): boolean;
  /** Ask the user whether to paste (an in-app dialog). */
  confirmPaste(text: string, lines: number): Promise<boolean>;
  /** The terminal got the focus. */
  onFocus(): void;
  /** The terminal has a measured size (new tabs open with the last one). */
  onSize(size: Size): void;
  onSearchResults(results: SearchResults): void;
  /** The renderer drawing this terminal changed (WebGL lost its context, a setting). */
  onRendererChange(renderer: RendererInUse): void;
  /** Input could not be delivered (a write failed). */
  onInputError(message: string): void;
  openLink(uri: string): void;
}

export type FindDirection = 'next' | 'previous';

export interface FindOptions {
  caseSensitive: boolean;
  regex: boolean;
  incremental?: boolean;
}

function clampSize(size: Size): Size {
  return {
    cols: Math.min(1000, Math.max(2, Math.round(size.cols))),
    rows: Math.min(500, Math.max(1, Math.round(size.rows))),
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function terminalOptions(s: Settings, theme: ITheme) {
  return {
    fontFamily: s.fontFamily,
    fontSize: s.fontSize,
    lineHeight: s.lineHeight,
    scrollback: s.scrollback,
    cursorBlink: s.cursorBlink,
    theme,
  };
}

export class PaneController {
  /** The element xterm lives in; the pane component puts it into its container. */
  readonly element: HTMLDivElement;
  readonly kit: TerminalKit;
  private sessionIdValue: string | null = null;
  private sink: OutputSink | null = null;
  private readonly input: InputQueue;
  /** What the bound session was last told (or opened with). */
  private lastSent: Size | null = null;
  /** The terminal has been fitted to a real container at least once. */
  private measured = false;
  private ended = false;
  private container: HTMLElement | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private fitTimer: ReturnType<typeof setTimeout> | undefined;
  private copyTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposers: Array<() => void> = [];
  private applied: Pick<
    Settings,
    'fontFamily' | 'fontSize' | 'lineHeight' | 'scrollback' | 'cursorBlink' | 'renderer'
  >;
  /** What the resource governor asks of this terminal (see setGovernor). */
  private policy: TerminalPolicy = NO_POLICY;
  private disposed = false;

  constructor(
    readonly paneId: string,
    private readonly host: PaneHost,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'terminal-host';
    const settings = host.settings();
    this.applied = { ...settings };
    this.kit = createTerminalKit({
      terminal: terminalOptions(settings, host.theme().theme),
      renderer: settings.renderer,
      openLink: (uri) => host.openLink(uri),
      onRendererChange: (renderer) => host.onRendererChange(renderer),
    });
    const term = this.kit.term;
    this.input = new InputQueue(
      {
        send: (data) => {
          const sessionId = this.sessionIdValue;
          if (!sessionId) return Promise.reject(new Error('no session'));
          return host.bridge.invoke('sessions.write', { sessionId, data });
        },
        onError: (err, dropped) => {
          if (this.ended) return;
          host.onInputError(`${dropped} characters of input were not delivered: ${errorMessage(err)}`);
        },
      },
      { paused: true },
    );
    const subs = [
      term.onData((data) => this.input.push(data)),
      term.onResize((size) => this.sizeChanged(size)),
      term.onSelectionChange(() => this.selectionChanged()),
      this.kit.onSearchResults((results) => host.onSearchResults(results)),
    ];
    for (const sub of subs) this.disposers.push(() => sub.dispose());
    term.attachCustomKeyEventHandler((event) => !reservedForApp(event, host.isMac()));
    this.listen(this.element, 'paste', this.onPaste as EventListener, true);
    this.listen(this.element, 'focusin', () => host.onFocus());
  }

  get sessionId(): string | null {
    return this.sessionIdValue;
  }

  /** Bytes parsed and not yet acknowledged, and the output offset reached (for tests and diagnostics). */
  get outputState(): { offset: number; pendingAck: number; buffering: boolean } | null {
    return this.sink
      ? { offset: this.sink.offset, pendingAck: this.sink.pendingAck, buffering: this.sink.isBuffering }
      : null;
  }

  private listen(target: EventTarget, type: string, listener: EventListener, capture = false): void {
    target.addEventListener(type, listener, capture);
    this.disposers.push(() => target.removeEventListener(type, listener, capture));
  }

  // ------------------------------------------------------------------------------------------
  // DOM
  // ------------------------------------------------------------------------------------------

  /** Put the terminal into `container` (opening it the first time) and follow its size. */
  mount(container: HTMLElement): void {
    if (this.disposed) return;
    if (this.container && this.container !== container) this.unmount(this.container);
    this.container = container;
    if (this.element.parentNode !== container) container.appendChild(this.element);
    this.kit.open(this.element);
    if (typeof ResizeObserver !== 'undefined') {
      this.resizeObserver = new ResizeObserver(() => this.scheduleFit());
      this.resizeObserver.observe(container);
    }
    this.fitNow();
  }

  unmount(container: HTMLElement): void {
    if (this.container !== container) return;
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.container = null;
    if (this.element.parentNode === container) container.removeChild(this.element);
  }

  scheduleFit(delay = FIT_DEBOUNCE_MS): void {
    if (this.disposed) return;
    clearTimeout(this.fitTimer);
    this.fitTimer = setTimeout(() => this.fitNow(), delay);
  }

  fitNow(): void {
    clearTimeout(this.fitTimer);
    this.fitTimer = undefined;
    if (this.disposed) return;
    if (this.kit.fit()) {
      this.measured = true;
      const size = this.size();
      this.host.onSize(size);
      this.syncSize(size);
    }
  }

  /** The terminal's size (xterm's default 80x24 until it is fitted). */
  size(): Size {
    return clampSize({ cols: this.kit.term.cols, rows: this.kit.term.rows });
  }

  get isMeasured(): boolean {
    return this.measured;
  }

  focus(): void {
    if (!this.disposed) this.kit.term.focus();
  }

  /** The tab became visible again: redraw and fit. */
  shown(): void {
    if (this.disposed) return;
    this.fitNow();
    this.kit.term.refresh(0, this.kit.term.rows - 1);
  }

  private sizeChanged(size: Size): void {
    if (this.disposed) return;
    this.host.onSize(clampSize(size));
    this.syncSize(clampSize(size));
  }

  /** Tell the session the terminal's size if it differs from what it was last told. */
  private syncSize(size: Size): void {
    const sessionId = this.sessionIdValue;
    if (!sessionId || this.ended || !this.measured) return;
    if (this.lastSent && this.lastSent.cols === size.cols && this.lastSent.rows === size.rows) return;
    this.lastSent = size;
    this.host.bridge.invoke('sessions.resize', { sessionId, cols: size.cols, rows: size.rows }).catch(() => {
      // closed or gone: the session no longer has a size
    });
  }

  // ------------------------------------------------------------------------------------------
  // Session binding
  // ------------------------------------------------------------------------------------------

  /**
   * Show `sessionId` here. `replay`: the session ran before this page (a reload): output is
   * held until `replayed` writes the replay. `openedWith`: the size sessions.open was given.
   */
  bind(sessionId: string, options: { replay?: boolean; openedWith?: Size } = {}): void {
    if (this.disposed) return;
    this.sink?.dispose(true);
    this.sessionIdValue = sessionId;
    this.ended = false;
    this.lastSent = options.openedWith ? clampSize(options.openedWith) : null;
    const term = this.kit.term;
    const bridge = this.host.bridge;
    this.sink = new OutputSink({
      buffering: options.replay ?? false,
      write: (data, parsed) => term.write(data, parsed),
      ack: (bytes) => {
        bridge.invoke('sessions.ack', { sessionId, bytes }).catch(() => {
          // the session closed meanwhile
        });
      },
    });
    this.input.resume();
    this.syncSize(this.size());
  }

  /** A 'session.output' batch of the bound session. */
  output(batch: OutputBatch): void {
    this.sink?.push(batch);
  }

  /** The replay of a late-attached session: write it, then go live from its end. */
  replayed(replay: { data: string; endOffset: number; truncated: boolean }): void {
    if (this.disposed || !this.sink) return;
    if (replay.truncated) this.kit.term.write('\x1b[2m[earlier output is no longer available]\x1b[0m\r\n');
    if (replay.data) this.kit.term.write(replay.data);
    this.sink.startLive(replay.endOffset);
  }

  /** The replay could not be fetched: show what arrives from now on. */
  replayFailed(): void {
    this.sink?.startLive(0);
  }

  /** The session closed: input stops (output that still arrives is written). */
  sessionEnded(): void {
    this.ended = true;
    this.input.clear();
    this.input.pause();
    this.sink?.flush();
  }

  /**
   * Before a new session in this pane: leave whatever mode the old program left the terminal
   * in (alternate screen, mouse reporting, bracketed paste) and draw a separator; the old
   * scrollback stays above it.
   */
  separate(label: string): void {
    if (this.disposed) return;
    this.sink?.dispose(false);
    this.sink = null;
    this.sessionIdValue = null;
    this.input.clear();
    this.input.pause();
    const cols = this.kit.term.cols;
    const text = ` ${label} `;
    const side = Math.max(2, Math.floor((cols - text.length) / 2));
    const line = '─'.repeat(side) + text + '─'.repeat(Math.max(2, cols - side - text.length - 1));
    // Leave the alternate screen only if in it (1049l also restores the saved cursor, which
    // would otherwise move the cursor up and overwrite the old output).
    const leaveAlternate = this.kit.term.buffer.active.type === 'alternate' ? '\x1b[?1049l' : '';
    this.kit.term.write(
      `\x1b[0m${leaveAlternate}\x1b[?25h\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l` +
        `\r\n\x1b[2m${line}\x1b[0m\r\n`,
    );
  }

  // ------------------------------------------------------------------------------------------
  // Clipboard, search, settings
  // ------------------------------------------------------------------------------------------

  private readonly onPaste = (event: ClipboardEvent): void => {
    const text = event.clipboardData?.getData('text/plain') ?? '';
    event.preventDefault();
    event.stopPropagation();
    void this.paste(text);
  };

  /** Paste `text` (confirmed first when long); xterm adds bracketed-paste markers when asked to. */
  async paste(text: string): Promise<boolean> {
    if (this.disposed || !text) return false;
    const warnAbove = this.host.settings().pasteWarningLines;
    if (needsPasteConfirmation(text, warnAbove)) {
      const ok = await this.host.confirmPaste(text, countLines(text));
      if (!ok || this.disposed) return false;
    }
    this.kit.term.paste(text);
    this.focus();
    return true;
  }

  hasSelection(): boolean {
    return this.kit.term.hasSelection();
  }

  /** Copy the selection: a copy command (needs no clipboard permission), else the Clipboard API. */
  copySelection(): boolean {
    const text = this.kit.term.getSelection();
    if (!text) return false;
    copyText(text);
    return true;
  }

  private selectionChanged(): void {
    if (!this.host.settings().copyOnSelect) return;
    clearTimeout(this.copyTimer);
    // Shortly after the mouse is released (still within the user activation a copy needs).
    this.copyTimer = setTimeout(() => {
      const text = this.kit.term.getSelection();
      if (text) copyText(text);
    }, COPY_ON_SELECT_DELAY_MS);
  }

  /** Search the scrollback; 'invalid' for a bad regular expression. */
  find(query: string, options: FindOptions, direction: FindDirection): boolean | 'invalid' {
    if (this.disposed) return false;
    if (!query) {
      this.kit.clearSearch();
      this.host.onSearchResults({ resultIndex: -1, resultCount: 0 });
      return false;
    }
    if (options.regex) {
      try {
        new RegExp(query);
      } catch {
        this.kit.clearSearch();
        return 'invalid';
      }
    }
    const request = { ...options, colors: this.host.theme().search };
    return direction === 'next' ? this.kit.findNext(query, request) : this.kit.findPrevious(query, request);
  }

  clearSearch(): void {
    if (!this.disposed) this.kit.clearSearch();
  }

  clear(): void {
    if (!this.disposed) this.kit.term.clear();
  }

  applySettings(s: Settings): void {
    if (this.disposed) return;
    const term = this.kit.term;
    const a = this.applied;
    const refit = a.fontFamily !== s.fontFamily || a.fontSize !== s.fontSize || a.lineHeight !== s.lineHeight;
    if (a.fontFamily !== s.fontFamily) term.options.fontFamily = s.fontFamily;
    if (a.fontSize !== s.fontSize) term.options.fontSize = s.fontSize;
    if (a.lineHeight !== s.lineHeight) term.options.lineHeight = s.lineHeight;
    const rendererChanged = a.renderer !== s.renderer;
    this.applied = { ...s };
    // Scrollback, cursor blink and renderer as the settings say, unless the governor holds them.
    this.enforce(rendererChanged);
    if (refit) this.scheduleFit(0);
  }

  /**
   * The resource governor's policy for this terminal (renderer/terminal/governor.ts). Economy
   * switches to xterm's DOM renderer and stops the cursor blinking; a scrollback cap trims the
   * scrollback (older lines are gone for good). Lifting either restores the settings' values.
   */
  setGovernor(policy: TerminalPolicy): void {
    if (this.disposed) return;
    const economyChanged = policy.economy !== this.policy.economy;
    this.policy = { ...policy };
    this.enforce(economyChanged);
  }

  get governorPolicy(): TerminalPolicy {
    return this.policy;
  }

  /** Make the terminal's options match the settings under the governor's policy. */
  private enforce(renderer: boolean): void {
    const term = this.kit.term;
    const { economy, scrollbackCap } = this.policy;
    if (renderer)
      this.kit.setRenderer(economy ? economyRenderer(this.applied.renderer) : this.applied.renderer);
    const blink = economy ? false : this.applied.cursorBlink;
    if (term.options.cursorBlink !== blink) term.options.cursorBlink = blink;
    const scrollback =
      scrollbackCap === null ? this.applied.scrollback : Math.min(scrollbackCap, this.applied.scrollback);
    if (term.options.scrollback !== scrollback) term.options.scrollback = scrollback;
  }

  applyTheme(theme: ITheme): void {
    if (!this.disposed) this.kit.term.options.theme = theme;
  }

  /** The buffer's text, lines trimmed on the right, trailing empty lines dropped. */
  bufferText(): string {
    const buffer = this.kit.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < buffer.length; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.fitTimer);
    clearTimeout(this.copyTimer);
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    for (const d of this.disposers.splice(0)) d();
    this.input.dispose();
    this.sink?.dispose(false);
    this.sink = null;
    this.sessionIdValue = null;
    this.element.remove();
    this.container = null;
    this.kit.dispose();
  }
}

function copyText(text: string): void {
  if (copyWithCommand(text)) return;
  const clipboard = typeof navigator !== 'undefined' ? navigator.clipboard : undefined;
  clipboard?.writeText(text).catch(() => {
    // no clipboard access at all: nothing more to try
  });
}

/** document.execCommand('copy') with our text: works in a user gesture without clipboard permission. */
function copyWithCommand(text: string): boolean {
  if (typeof document === 'undefined' || typeof document.execCommand !== 'function') return false;
  const onCopy = (event: ClipboardEvent): void => {
    event.clipboardData?.setData('text/plain', text);
    event.preventDefault();
    event.stopImmediatePropagation();
  };
  document.addEventListener('copy', onCopy, true);
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    document.removeEventListener('copy', onCopy, true);
  }
}
