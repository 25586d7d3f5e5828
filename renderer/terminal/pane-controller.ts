/**
 * One terminal pane: an xterm (from xterm-kit) bound to at most one session at a time.
 *
 * - Output: 'session.output' batches go through an OutputSink (write, then coalesced acks).
 * - Input: xterm's onData goes through an InputQueue ('sessions.write', serialised, chunked).
 *   While the pane is in a broadcast group, what the user types or pastes goes to the group's
 *   router instead (setInputRouter), which hands it to each member's sendInput.
 *   Pastes (the native paste event, so no clipboard permission is needed) are confirmed first
 *   when they have more lines than the pasteWarningLines setting; xterm brackets them. They
 *   go with bounded flight and a progress strip (pasteStatus; Cancel or Esc stops them), and
 *   what is typed meanwhile follows them, except Ctrl-C, which cancels the paste, goes out at
 *   once and lets a terminal that is behind a flood of output skip to its end.
 * - Keys: as a local xterm sends them (keys.ts keySequence fixes where xterm.js differs).
 * - Size: fitted to its container (ResizeObserver, trailing debounce); 'sessions.resize' only
 *   when cols/rows differ from what the session was last told (or opened with).
 *
 * The controller owns its host element; the pane component moves that element into its own
 * container on mount (a split re-mounts components, never the terminal), so the xterm instance,
 * its scrollback and its renderer live as long as the pane.
 */
import type { Ec2ConnectBridge, Settings } from '../../preload/api.js';
import { InputQueue } from './input-queue.js';
import { UserInputGate } from './user-input.js';
import { countLines, keySequence, needsPasteConfirmation, reservedForApp } from './keys.js';
import { OutputSink, type OutputBatch } from './output-sink.js';
import { PasteStatus } from './paste-progress.js';
import { NO_POLICY, economyRenderer, type TerminalPolicy } from './governor.js';
import type { SearchColors } from './theme.js';
import type { ITheme } from '@xterm/xterm';
import { createTerminalKit, type RendererInUse, type SearchResults, type TerminalKit } from './xterm-kit.js';

/** Trailing debounce of a container's size changes: the terminal is fitted, and the session told, once they stop. */
export const FIT_DEBOUNCE_MS = 50;
/** Ctrl-C: it interrupts (cancels a paste, skips undrawn output) besides going to the remote. */
const INTERRUPT = '\x03';
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

/** Where what the user types or pastes into a pane goes instead of its own session (broadcast input). */
/** Typed keys, or a piece of a paste (sent with bounded flight and a progress strip). */
export type InputKind = 'keys' | 'paste';
export type InputRouter = (data: string, kind: InputKind) => void;

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
  /** Typed or pasted input goes here when set (renderer/stores/broadcast.ts); xterm's own replies never do. */
  private inputRouter: InputRouter | null = null;
  private readonly userInput: UserInputGate;
  /** xterm is reporting a paste (set around term.paste). */
  private pastingNow = false;
  /** The paste-progress strip of this pane (TerminalPane.vue shows it). */
  readonly pasteStatus = new PasteStatus();

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
        send: (data, kind) => {
          const sessionId = this.sessionIdValue;
          if (!sessionId) return Promise.reject(new Error('no session'));
          // A paste piece answers once the agent has it: only a bounded part of a paste is in flight.
          const request =
            kind === 'paste' ? { sessionId, data, delivery: 'acknowledged' as const } : { sessionId, data };
          return host.bridge.invoke('sessions.write', request);
        },
        onError: (err, dropped) => {
          if (this.ended) return;
          host.onInputError(`${dropped} characters of input were not delivered: ${errorMessage(err)}`);
        },
        onPasteProgress: (progress) => this.pasteStatus.update(progress),
      },
      { paused: true },
    );
    const subs = [
      term.onData((data) => this.userData(data)),
      term.onResize((size) => this.sizeChanged(size)),
      term.onSelectionChange(() => this.selectionChanged()),
      this.kit.onSearchResults((results) => host.onSearchResults(results)),
    ];
    for (const sub of subs) this.disposers.push(() => sub.dispose());
    term.attachCustomKeyEventHandler((event) => this.onKey(event));
    this.userInput = new UserInputGate(this.element);
    this.disposers.push(() => this.userInput.dispose());
    this.listen(this.element, 'paste', this.onPaste as EventListener, true);
    this.listen(this.element, 'focusin', () => host.onFocus());
  }

  get sessionId(): string | null {
    return this.sessionIdValue;
  }

  /** What xterm reports (typed, pasted, or its own replies). */
  private userData(data: string): void {
    if (this.inputRouter && this.userInput.active) this.inputRouter(data, this.pastingNow ? 'paste' : 'keys');
    else if (this.pastingNow) this.input.pushPaste(data);
    else if (data === INTERRUPT) this.interrupt();
    else this.input.push(data);
  }

  /**
   * Ctrl-C: cancel the paste being sent and send \x03 ahead of what is still queued; if the
   * terminal is behind a flood of output, skip what it has not drawn (output-sink.ts).
   */
  private interrupt(): void {
    this.input.interrupt(INTERRUPT);
    // Not in a full-screen program (alternate screen): skipping part of its drawing would leave
    // its screen half-drawn.
    if (this.kit.term.buffer.active.type === 'normal') this.sink?.interrupt();
  }

  /**
   * Keys before xterm handles them: the app's shortcuts are left to the app, Esc cancels a paste
   * in progress (the strip shows it), and keys where xterm.js differs from a local xterm are
   * sent as xterm sends them (keys.ts keySequence).
   */
  private onKey(event: KeyboardEvent): boolean {
    const mac = this.host.isMac();
    if (reservedForApp(event, mac)) return false;
    if (event.type !== 'keydown') return true;
    const plain = !event.ctrlKey && !event.altKey && !event.shiftKey && !event.metaKey;
    if (plain && event.key === 'Escape' && this.pasteStatus.showingProgress) {
      event.preventDefault();
      this.cancelPaste();
      return false;
    }
    const sequence = keySequence(event, mac);
    if (sequence === null) return true;
    event.preventDefault();
    this.userData(sequence);
    return false;
  }

  /** Cancel the paste being sent (the progress strip's Cancel, Esc). */
  cancelPaste(): void {
    this.input.cancelPaste();
    this.focus();
  }

  /** Bytes parsed and not yet acknowledged, and the output offset reached (for tests and diagnostics). */
  get outputState(): {
    offset: number;
    pendingAck: number;
    buffering: boolean;
    behind: number;
    skipping: boolean;
  } | null {
    const sink = this.sink;
    return sink
      ? {
          offset: sink.offset,
          pendingAck: sink.pendingAck,
          buffering: sink.isBuffering,
          behind: sink.behindBytes,
          skipping: sink.isSkipping,
        }
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
    // The size on the element (tests and the inspector compare it with what the remote sees).
    this.element.dataset.cols = String(size.cols);
    this.element.dataset.rows = String(size.rows);
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

  /** Send what the user types or pastes here to `router` instead of this pane's session (null: back to it). */
  setInputRouter(router: InputRouter | null): void {
    this.inputRouter = router;
  }

  /** Input for the bound session from elsewhere (broadcast): queued in order with what is typed here. */
  sendInput(data: string, kind: InputKind = 'keys'): void {
    if (this.disposed || this.ended || !this.sessionIdValue) return;
    // A paste goes as a paste here too (bounded flight, progress, cancel); Ctrl-C typed into the
    // group interrupts here as it would if typed here.
    if (kind === 'paste') this.input.pushPaste(data);
    else if (data === INTERRUPT) this.interrupt();
    else this.input.push(data);
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
    // The old session's output that waits to be drawn goes above the separator.
    this.sink?.drawAll();
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

  /**
   * Before a re-attached session (persistent sessions): draw `screen`, the lost session's screen
   * redrawn and a separator (renderer/terminal/screen-restore.ts); the new session's output follows.
   */
  restore(screen: string): void {
    if (this.disposed) return;
    this.sink?.dispose(false);
    this.sink = null;
    this.sessionIdValue = null;
    this.input.clear();
    this.input.pause();
    this.kit.term.write(screen);
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
    this.pastingNow = true;
    try {
      this.userInput.during(() => this.kit.term.paste(text));
    } finally {
      this.pastingNow = false;
    }
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

  /**
   * The buffer's text, lines trimmed on the right, trailing empty lines dropped; only the last
   * `lastLines` lines when given (a poll that must not cost the page a whole scrollback).
   */
  bufferText(lastLines?: number): string {
    const buffer = this.kit.term.buffer.active;
    const lines: string[] = [];
    const from = lastLines === undefined ? 0 : Math.max(0, buffer.length - lastLines);
    for (let y = from; y < buffer.length; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
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
    this.pasteStatus.dispose();
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
