/**
 * The one place that constructs xterm.js and its addons (tests replace this module with a fake:
 * happy-dom has no canvas measurements).
 *
 * Renderers and the page's Content-Security-Policy (`style-src 'self'`, no 'unsafe-inline'):
 * xterm's DOM renderer injects <style> elements (and, with minimumContrastRatio > 1 or 24-bit
 * colours, style="" attributes), which the policy blocks, so its <style> elements never reach
 * the page:
 * - the renderer addon (WebGL, else canvas) is loaded *before* `open`, so xterm never builds its
 *   default DOM renderer in the page (with 'dom' wanted, the terminal opens on canvas and
 *   switches right after);
 * - every renderer switch (and WebGL context loss, and disposing the terminal) happens with the
 *   terminal's element out of the document, so the <style> elements a DOM renderer creates
 *   meanwhile are never checked by the policy;
 * - the DOM renderer (the 'dom' setting, or the resource governor's economy mode) keeps its
 *   <style> elements out of the document for good: their rules are mirrored into constructable
 *   stylesheets (document.adoptedStyleSheets, which the policy does not govern) and follow their
 *   text (InlineStyleMirror).
 * The canvas and WebGL renderers only set styles through the CSSOM, which the policy allows.
 */
import { Terminal, type IDisposable, type ITerminalOptions } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebglAddon } from '@xterm/addon-webgl';
import { CanvasAddon } from '@xterm/addon-canvas';
import { SerializeAddon } from '@xterm/addon-serialize';
import '@xterm/xterm/css/xterm.css';
import type { SearchColors } from './theme.js';

export type RendererSetting = 'auto' | 'webgl' | 'canvas' | 'dom';
export type RendererInUse = 'webgl' | 'canvas' | 'dom' | 'none';

/** The part of xterm's Terminal the workbench uses (the real one satisfies it; tests fake it). */
export interface TerminalLike {
  readonly cols: number;
  readonly rows: number;
  readonly element: HTMLElement | undefined;
  readonly buffer: {
    readonly active: {
      readonly type: 'normal' | 'alternate';
      readonly length: number;
      getLine(y: number): { translateToString(trimRight?: boolean): string } | undefined;
    };
  };
  options: ITerminalOptions;
  write(data: string, callback?: () => void): void;
  paste(data: string): void;
  onData(listener: (data: string) => void): IDisposable;
  onResize(listener: (size: { cols: number; rows: number }) => void): IDisposable;
  onSelectionChange(listener: () => void): IDisposable;
  hasSelection(): boolean;
  getSelection(): string;
  attachCustomKeyEventHandler(handler: (event: KeyboardEvent) => boolean): void;
  clear(): void;
  focus(): void;
  refresh(start: number, end: number): void;
  dispose(): void;
}

export interface SearchRequest {
  caseSensitive: boolean;
  regex: boolean;
  colors: SearchColors;
  incremental?: boolean;
}

/** A terminal's screen, to write back later (renderer/terminal/screen-restore.ts). */
export interface ScreenContent {
  /** The normal buffer (its last lines and its screen) as the sequences that draw it again. */
  normal: string;
  /** What a full-screen program (tmux, an editor) showed on the alternate screen, drawn the same way; null when none did. */
  alternate: string | null;
}

export interface SearchResults {
  resultIndex: number;
  resultCount: number;
}

export interface TerminalKit {
  readonly term: TerminalLike;
  /** Which renderer draws now. */
  readonly renderer: RendererInUse;
  /** Open the terminal in `parent` (the first call only). */
  open(parent: HTMLElement): void;
  /**
   * Resize to fill the parent; false when it could not be measured (not open, or the parent
   * has no size, e.g. a hidden tab).
   */
  fit(): boolean;
  setRenderer(setting: RendererSetting): void;
  findNext(query: string, request: SearchRequest): boolean;
  findPrevious(query: string, request: SearchRequest): boolean;
  clearSearch(): void;
  onSearchResults(listener: (results: SearchResults) => void): IDisposable;
  /**
   * The screen and the last `scrollback` lines, serialized (SerializeAddon) without the
   * terminal's modes. Kits without a serializer leave it out (the text of the buffer is used).
   */
  snapshot?(scrollback: number): ScreenContent;
  dispose(): void;
}

export interface TerminalKitOptions {
  terminal: ITerminalOptions;
  renderer: RendererSetting;
  /** A link was clicked (http/https only reach this). */
  openLink(uri: string): void;
  onRendererChange?(renderer: RendererInUse): void;
}

export interface WebglSupport {
  available: boolean;
  /** A software rasteriser (SwiftShader, llvmpipe, ...): slower than the canvas renderer. */
  software: boolean;
  renderer: string;
}

let webglSupport: WebglSupport | undefined;

/** Can this page make a WebGL2 context, and on what? (Probed once; the probe context is released.) */
export function probeWebgl(): WebglSupport {
  if (webglSupport === undefined) {
    webglSupport = { available: false, software: false, renderer: '' };
    try {
      const canvas = document.createElement('canvas');
      const gl = canvas.getContext('webgl2');
      if (gl) {
        const info = gl.getExtension('WEBGL_debug_renderer_info');
        const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
        webglSupport = {
          available: true,
          software: /swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer),
          renderer,
        };
        gl.getExtension('WEBGL_lose_context')?.loseContext();
      }
    } catch {
      webglSupport = { available: false, software: false, renderer: '' };
    }
  }
  return webglSupport;
}

export function isWebLink(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Takes the <style> elements under `root` out of the document (xterm's DOM renderer writes its
 * colours and row sizes into two of them per terminal) and mirrors their rules into
 * constructable stylesheets adopted by the document: the same rules, with no inline <style> in
 * the page for the policy to refuse. xterm keeps its references and writes to the detached
 * elements; each one is observed, and its sheet follows. A <style> that reaches the page anyway
 * (inserted while the terminal is on it) is taken out as soon as it is seen. The sheets live
 * until `dispose` (the kit disposes the mirror whenever the DOM renderer goes).
 */
export class InlineStyleMirror {
  private readonly sheets = new Map<
    HTMLStyleElement,
    { sheet: CSSStyleSheet; text: string; observer: MutationObserver }
  >();
  private readonly observer: MutationObserver;
  private disposed = false;

  static supported(doc: Document): boolean {
    return (
      'adoptedStyleSheets' in doc &&
      typeof CSSStyleSheet === 'function' &&
      'replaceSync' in CSSStyleSheet.prototype
    );
  }

  constructor(private readonly root: HTMLElement) {
    this.observer = new MutationObserver(() => this.sync());
    this.observer.observe(root, { childList: true, subtree: true });
    this.sync();
  }

  /** Take in the <style> elements now under the root (call before putting the root on the page). */
  sync(): void {
    if (this.disposed) return;
    let added = false;
    for (const el of this.root.querySelectorAll('style')) {
      if (!this.sheets.has(el)) {
        const observer = new MutationObserver(() => this.update(el));
        observer.observe(el, { childList: true, characterData: true, subtree: true });
        this.sheets.set(el, { sheet: new CSSStyleSheet(), text: '', observer });
        added = true;
      }
      this.update(el);
      el.remove();
    }
    if (added) this.adopt();
  }

  /** How many <style> elements it holds (tests). */
  get size(): number {
    return this.sheets.size;
  }

  private update(el: HTMLStyleElement): void {
    const entry = this.sheets.get(el);
    if (!entry) return;
    const text = el.textContent ?? '';
    if (entry.text === text) return;
    entry.sheet.replaceSync(text);
    entry.text = text;
  }

  private adopt(): void {
    const doc = this.root.ownerDocument;
    const mine = new Set([...this.sheets.values()].map((e) => e.sheet));
    const others = doc.adoptedStyleSheets.filter((sheet) => !mine.has(sheet));
    doc.adoptedStyleSheets = [...others, ...mine];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.observer.disconnect();
    const doc = this.root.ownerDocument;
    const mine = new Set<CSSStyleSheet>();
    for (const entry of this.sheets.values()) {
      entry.observer.disconnect();
      mine.add(entry.sheet);
    }
    this.sheets.clear();
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((sheet) => !mine.has(sheet));
  }
}

class XtermKit implements TerminalKit {
  readonly term: Terminal;
  private readonly fitAddon = new FitAddon();
  private readonly search = new SearchAddon({ highlightLimit: 1000 });
  private readonly serializer = new SerializeAddon();
  private rendererAddon: WebglAddon | CanvasAddon | undefined;
  private inUse: RendererInUse = 'none';
  private setting: RendererSetting;
  /** WebGL failed or lost its context in this terminal: stay on canvas. */
  private webglBroken = false;
  private opened = false;
  private disposed = false;
  private styleMirror: InlineStyleMirror | undefined;

  constructor(private readonly options: TerminalKitOptions) {
    this.term = new Terminal({
      ...options.terminal,
      allowProposedApi: true, // unicode versions and search decorations
      minimumContrastRatio: 1, // >1 makes the DOM renderer write style="" attributes
    });
    this.term.loadAddon(this.fitAddon);
    this.term.loadAddon(this.search);
    this.term.loadAddon(this.serializer);
    this.term.loadAddon(
      new WebLinksAddon((event, uri) => {
        event.preventDefault();
        if (isWebLink(uri)) options.openLink(uri);
      }),
    );
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    this.setting = options.renderer;
    this.applyRenderer();
  }

  get renderer(): RendererInUse {
    return this.inUse;
  }

  open(parent: HTMLElement): void {
    if (this.opened || this.disposed) return;
    this.opened = true;
    this.term.open(parent);
    // The WebGL renderer is built during open; if that failed (xterm swallows the error and
    // falls back to its DOM renderer) there is no canvas: switch to the canvas renderer.
    if (this.inUse === 'webgl' && !this.term.element?.querySelector('canvas')) {
      this.webglBroken = true;
      this.mirrorStyles(); // that DOM renderer's <style> elements, until the switch
    }
    // Also the DOM renderer, when wanted: opened on canvas, it is built now, off the page.
    this.applyRenderer();
    this.updateStyleMirror();
  }

  /** Adopt the <style> elements a DOM renderer put into the terminal, whatever renderer is in use. */
  private mirrorStyles(): void {
    const el = this.term.element;
    if (!el || this.disposed || !InlineStyleMirror.supported(el.ownerDocument)) return;
    this.styleMirror ??= new InlineStyleMirror(el);
    this.styleMirror.sync();
  }

  /** The DOM renderer's styles reach the page only through the mirror. */
  private updateStyleMirror(): void {
    const el = this.term.element;
    const want =
      this.inUse === 'dom' && !this.disposed && !!el && InlineStyleMirror.supported(el.ownerDocument);
    if (want) {
      this.styleMirror ??= new InlineStyleMirror(el!);
      this.styleMirror.sync();
    } else if (this.styleMirror) {
      this.styleMirror.dispose();
      this.styleMirror = undefined;
    }
  }

  fit(): boolean {
    if (!this.opened || this.disposed) return false;
    const el = this.term.element?.parentElement;
    if (!el || el.clientWidth === 0 || el.clientHeight === 0) return false;
    const dims = this.fitAddon.proposeDimensions();
    if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows)) return false;
    const cols = Math.min(1000, Math.max(2, dims.cols));
    const rows = Math.min(500, Math.max(1, dims.rows));
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
    return true;
  }

  setRenderer(setting: RendererSetting): void {
    this.setting = setting;
    this.applyRenderer();
  }

  /**
   * 'auto': WebGL on a GPU; the canvas renderer when WebGL is missing, has failed, or runs on a
   * software rasteriser (measured: 20 MB of output drew in 19 s with WebGL on SwiftShader, 5.5 s
   * with canvas). 'webgl' insists on WebGL unless it is missing or fails.
   */
  private wanted(): RendererInUse {
    if (this.setting === 'dom') return 'dom';
    if (this.setting === 'canvas' || this.webglBroken) return 'canvas';
    const webgl = probeWebgl();
    if (!webgl.available) return 'canvas';
    if (this.setting === 'auto' && webgl.software) return 'canvas';
    return 'webgl';
  }

  private applyRenderer(): void {
    if (this.disposed) return;
    // Before open, 'dom' waits on canvas: xterm's open would build the DOM renderer in the page.
    const want = !this.opened && this.wanted() === 'dom' ? 'canvas' : this.wanted();
    if (want === this.inUse) return;
    this.offPage(() => {
      const old = this.rendererAddon;
      this.rendererAddon = undefined;
      old?.dispose();
      if (want === 'webgl') {
        try {
          const webgl = new WebglAddon();
          webgl.onContextLoss(() => {
            this.webglBroken = true;
            this.applyRenderer();
          });
          this.term.loadAddon(webgl);
          this.rendererAddon = webgl;
          this.inUse = 'webgl';
          return;
        } catch {
          this.webglBroken = true;
        }
      }
      if (want !== 'dom') {
        const canvas = new CanvasAddon();
        this.term.loadAddon(canvas);
        this.rendererAddon = canvas;
        this.inUse = 'canvas';
      } else {
        this.inUse = 'dom';
      }
    });
    this.updateStyleMirror();
    if (this.opened) {
      this.fit();
      this.term.refresh(0, this.term.rows - 1);
    }
    this.options.onRendererChange?.(this.inUse);
  }

  /**
   * Run `fn` with the terminal's element out of the document, so the <style> elements of a DOM
   * renderer built meanwhile by xterm (a throw-away one, or the one wanted) never reach the
   * page (CSP): the style mirror takes them before the element goes back.
   */
  private offPage(fn: () => void): void {
    const el = this.term.element;
    const parent = el?.parentNode;
    if (!el || !parent) {
      fn();
      return;
    }
    const next = el.nextSibling;
    const active = el.ownerDocument.activeElement;
    const hadFocus = !!active && el.contains(active);
    parent.removeChild(el);
    try {
      fn();
    } finally {
      this.updateStyleMirror();
      parent.insertBefore(el, next);
      if (hadFocus) this.term.focus();
    }
  }

  findNext(query: string, request: SearchRequest): boolean {
    return this.search.findNext(query, searchOptions(request));
  }

  findPrevious(query: string, request: SearchRequest): boolean {
    return this.search.findPrevious(query, searchOptions(request));
  }

  clearSearch(): void {
    this.search.clearDecorations();
  }

  onSearchResults(listener: (results: SearchResults) => void): IDisposable {
    return this.search.onDidChangeResults(listener);
  }

  snapshot(scrollback: number): ScreenContent {
    const normal = this.serializer.serialize({ scrollback, excludeAltBuffer: true, excludeModes: true });
    if (this.term.buffer.active.type !== 'alternate') return { normal, alternate: null };
    // The alternate screen comes after this marker when it is the active one.
    const both = this.serializer.serialize({ scrollback: 0, excludeModes: true });
    const marker = '\x1b[?1049h\x1b[H';
    const at = both.indexOf(marker);
    return { normal, alternate: at >= 0 ? both.slice(at + marker.length) : null };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.updateStyleMirror();
    // Off the page first: disposing the renderer addon makes xterm build a DOM renderer.
    this.term.element?.remove();
    this.term.dispose();
    this.rendererAddon = undefined;
  }
}

function searchOptions(request: SearchRequest): Parameters<SearchAddon['findNext']>[1] {
  const { colors } = request;
  return {
    caseSensitive: request.caseSensitive,
    regex: request.regex,
    incremental: request.incremental ?? false,
    decorations: {
      matchBackground: colors.match,
      matchBorder: colors.match,
      matchOverviewRuler: colors.border,
      activeMatchBackground: colors.activeMatch,
      activeMatchBorder: colors.border,
      activeMatchColorOverviewRuler: colors.border,
    },
  };
}

export function createTerminalKit(options: TerminalKitOptions): TerminalKit {
  return new XtermKit(options);
}
