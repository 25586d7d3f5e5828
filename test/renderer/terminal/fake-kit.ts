/**
 * A stand-in for renderer/terminal/xterm-kit.ts (happy-dom cannot measure canvases):
 *
 *   vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));
 *
 * FakeTerminal keeps what was written (and parses it "later": write callbacks run when
 * `parse()` is called, or on a zero-delay timer when `autoParse` is on), counts its listeners,
 * and keeps a crude line buffer for bufferText. FakeKit.fit() resizes to `fitSize`.
 */
import type { IDisposable, ITerminalOptions } from '@xterm/xterm';
import type {
  RendererInUse,
  RendererSetting,
  SearchRequest,
  SearchResults,
  TerminalKit,
  TerminalKitOptions,
  TerminalLike,
} from '../../../renderer/terminal/xterm-kit.js';

class Emitter<T> {
  readonly listeners = new Set<(value: T) => void>();
  on = (listener: (value: T) => void): IDisposable => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
}

export class FakeTerminal implements TerminalLike {
  cols = 80;
  rows = 24;
  element: HTMLElement | undefined = undefined;
  options: ITerminalOptions;
  bracketedPasteMode = false;
  autoParse = true;
  disposed = false;
  /** Everything written, in order. */
  readonly written: string[] = [];
  private readonly unparsed: Array<(() => void) | undefined> = [];
  private parseTimer: ReturnType<typeof setTimeout> | undefined;
  selection = '';
  keyHandler: ((e: KeyboardEvent) => boolean) | undefined;
  cleared = 0;
  focused = 0;

  readonly data = new Emitter<string>();
  readonly resized = new Emitter<{ cols: number; rows: number }>();
  readonly selectionChanged = new Emitter<void>();

  constructor(options: ITerminalOptions) {
    this.options = { ...options };
  }

  get text(): string {
    return this.written.join('');
  }

  get buffer(): TerminalLike['buffer'] {
    // eslint-disable-next-line no-control-regex
    const lines = this.text.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').split(/\r?\n/);
    return {
      active: {
        type: 'normal',
        length: lines.length,
        getLine: (y: number) =>
          y < lines.length
            ? { translateToString: (trim?: boolean) => (trim ? lines[y]!.trimEnd() : lines[y]!) }
            : undefined,
      },
    };
  }

  write(data: string, callback?: () => void): void {
    if (this.disposed) throw new Error('write after dispose');
    this.written.push(data);
    this.unparsed.push(callback);
    if (this.autoParse && this.parseTimer === undefined) {
      this.parseTimer = setTimeout(() => {
        this.parseTimer = undefined;
        this.parse();
      }, 0);
    }
  }

  /** "Parse" everything written so far: run the write callbacks, in order. */
  parse(count = Infinity): void {
    while (count-- > 0 && this.unparsed.length > 0) this.unparsed.shift()?.();
  }

  get pendingParse(): number {
    return this.unparsed.length;
  }

  paste(data: string): void {
    const text = data.replace(/\r?\n/g, '\r');
    this.data.fire(this.bracketedPasteMode ? `\x1b[200~${text}\x1b[201~` : text);
  }

  /** Typing, as xterm reports it. */
  type(data: string): void {
    this.data.fire(data);
  }

  onData(listener: (data: string) => void): IDisposable {
    return this.data.on(listener);
  }

  onResize(listener: (size: { cols: number; rows: number }) => void): IDisposable {
    return this.resized.on(listener);
  }

  onSelectionChange(listener: () => void): IDisposable {
    return this.selectionChanged.on(listener);
  }

  resize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    this.resized.fire({ cols, rows });
  }

  hasSelection(): boolean {
    return this.selection.length > 0;
  }

  getSelection(): string {
    return this.selection;
  }

  attachCustomKeyEventHandler(handler: (event: KeyboardEvent) => boolean): void {
    this.keyHandler = handler;
  }

  clear(): void {
    this.cleared++;
  }

  focus(): void {
    this.focused++;
  }

  refresh(): void {}

  listenerCount(): number {
    return this.data.listeners.size + this.resized.listeners.size + this.selectionChanged.listeners.size;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.parseTimer);
    this.element?.remove();
  }
}

export class FakeKit implements TerminalKit {
  readonly term: FakeTerminal;
  renderer: RendererInUse = 'canvas';
  rendererSetting: RendererSetting;
  opened = false;
  disposed = false;
  /** What fit() resizes to; null: "not measurable" (hidden). */
  fitSize: { cols: number; rows: number } | null = { cols: 100, rows: 30 };
  readonly searches: Array<{ query: string; direction: 'next' | 'previous'; request: SearchRequest }> = [];
  searchCleared = 0;
  readonly results = new Emitter<SearchResults>();

  constructor(readonly options: TerminalKitOptions) {
    this.term = new FakeTerminal(options.terminal);
    this.rendererSetting = options.renderer;
  }

  open(parent: HTMLElement): void {
    if (this.opened) return;
    this.opened = true;
    const el = document.createElement('div');
    el.className = 'xterm';
    parent.appendChild(el);
    this.term.element = el;
  }

  fit(): boolean {
    if (!this.opened || this.disposed || !this.fitSize) return false;
    this.term.resize(this.fitSize.cols, this.fitSize.rows);
    return true;
  }

  setRenderer(setting: RendererSetting): void {
    this.rendererSetting = setting;
    this.renderer = setting === 'dom' ? 'dom' : 'canvas';
  }

  findNext(query: string, request: SearchRequest): boolean {
    this.searches.push({ query, direction: 'next', request });
    const count = this.term.text.split(query).length - 1;
    this.results.fire({ resultIndex: count > 0 ? 0 : -1, resultCount: count });
    return count > 0;
  }

  findPrevious(query: string, request: SearchRequest): boolean {
    this.searches.push({ query, direction: 'previous', request });
    const count = this.term.text.split(query).length - 1;
    this.results.fire({ resultIndex: count > 0 ? count - 1 : -1, resultCount: count });
    return count > 0;
  }

  clearSearch(): void {
    this.searchCleared++;
  }

  onSearchResults(listener: (results: SearchResults) => void): IDisposable {
    return this.results.on(listener);
  }

  dispose(): void {
    this.disposed = true;
    this.term.dispose();
  }
}

/** Every kit created (tests look terminals up here). */
export const kits: FakeKit[] = [];

export function createTerminalKit(options: TerminalKitOptions): TerminalKit {
  const kit = new FakeKit(options);
  kits.push(kit);
  return kit;
}

export function probeWebgl(): { available: boolean; software: boolean; renderer: string } {
  return { available: false, software: false, renderer: '' };
}

export function isWebLink(uri: string): boolean {
  return /^https?:\/\//i.test(uri);
}
