/**
 * The one place that constructs xterm.js and its addons (tests replace this module with a fake:
 * happy-dom has no canvas measurements).
 *
 * Renderers and the page's Content-Security-Policy (`style-src 'self'`, no 'unsafe-inline'):
 * xterm's DOM renderer injects <style> elements (and, with minimumContrastRatio > 1, style=""
 * attributes), which the policy blocks, so it is never created by accident here:
 * - the renderer addon (WebGL, else canvas) is loaded *before* `open`, so xterm never builds its
 *   default DOM renderer;
 * - whenever xterm would build a throw-away DOM renderer (disposing a renderer addon on a
 *   renderer switch or WebGL context loss, or disposing the terminal), the terminal's element is
 *   taken out of the document first, so the injected <style> elements never reach the page;
 * - 'dom' is used only when the settings ask for it. Its <style> elements are still refused by
 *   the policy (and reported as violations), so their rules are mirrored into constructable
 *   stylesheets (document.adoptedStyleSheets), which the policy does not govern.
 * The canvas and WebGL renderers only set styles through the CSSOM, which the policy allows.
 */
import { Terminal, type IDisposable, type ITerminalOptions } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebglAddon } from '@xterm/addon-webgl';
import { CanvasAddon } from '@xterm/addon-canvas';
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
 * Mirrors the rules of the <style> elements under `root` (xterm's DOM renderer writes its colours
 * and row sizes into two of them per terminal) into constructable stylesheets adopted by the
 * document: same rules, no inline <style> for the CSP to refuse.
 */
export class InlineStyleMirror {
  private readonly sheets = new Map<HTMLStyleElement, { sheet: CSSStyleSheet; text: string }>();
  private readonly observer: MutationObserver;

  static supported(doc: Document): boolean {
    return (
      'adoptedStyleSheets' in doc &&
      typeof CSSStyleSheet === 'function' &&
      'replaceSync' in CSSStyleSheet.prototype
    );
  }

  constructor(private readonly root: HTMLElement) {
    this.observer = new MutationObserver(() => this.sync());
    this.observer.observe(root, { childList: true, subtree: true, characterData: true });
    this.sync();
  }

  sync(): void {
    const doc = this.root.ownerDocument;
    const present = new Set(this.root.querySelectorAll('style'));
    const gone: CSSStyleSheet[] = [];
    let changed = false;
    for (const [el, entry] of this.sheets) {
      if (!present.has(el)) {
        this.sheets.delete(el);
        gone.push(entry.sheet);
        changed = true;
      }
    }
    for (const el of present) {
      const text = el.textContent ?? '';
      let entry = this.sheets.get(el);
      if (!entry) {
        entry = { sheet: new CSSStyleSheet(), text: '' };
        this.sheets.set(el, entry);
        changed = true;
      }
      if (entry.text !== text) {
        entry.sheet.replaceSync(text);
        entry.text = text;
      }
    }
    if (changed) {
      const mine = new Set([...this.sheets.values()].map((e) => e.sheet));
      const others = doc.adoptedStyleSheets.filter((sheet) => !gone.includes(sheet) && !mine.has(sheet));
      doc.adoptedStyleSheets = [...others, ...mine];
    }
  }

  dispose(): void {
    this.observer.disconnect();
    const doc = this.root.ownerDocument;
    const mine = new Set([...this.sheets.values()].map((e) => e.sheet));
    this.sheets.clear();
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((sheet) => !mine.has(sheet));
  }
}

class XtermKit implements TerminalKit {
  readonly term: Terminal;
  private readonly fitAddon = new FitAddon();
  private readonly search = new SearchAddon({ highlightLimit: 1000 });
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
      this.applyRenderer();
    }
    this.updateStyleMirror();
  }

  /** The DOM renderer's styles reach the page only through the mirror. */
  private updateStyleMirror(): void {
    const el = this.term.element;
    const want =
      this.inUse === 'dom' && !this.disposed && !!el && InlineStyleMirror.supported(el.ownerDocument);
    if (want && !this.styleMirror) this.styleMirror = new InlineStyleMirror(el!);
    else if (!want && this.styleMirror) {
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
    const want = this.wanted();
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
   * Run `fn` with the terminal's element out of the document, so a throw-away DOM renderer
   * built meanwhile by xterm never puts its <style> elements into the page (CSP).
   */
  private offPage(fn: () => void): void {
    const el = this.term.element;
    const parent = el?.parentNode;
    if (!el || !parent || this.inUse === 'dom' || this.wanted() === 'dom') {
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
