/**
 * This process's terminal for the whole of an `ec2-connect connect`: raw mode (entered once and
 * kept across re-attaches, restored exactly at the end), stdin, window size and the signals that
 * reach us, routed to whoever holds the terminal now (the session, or the re-attach between two
 * sessions), and status lines on stderr that read right in raw mode.
 */
import { execFileSync } from 'node:child_process';
import { DisposableStore, toDisposable, type Disposable } from '../core/util/lifecycle.js';

/** Who takes the terminal's input and size now. */
export interface TerminalHolder {
  /** Bytes typed (or piped); a signal that reached us comes as its control byte (Ctrl-C = 0x03). */
  input(data: Buffer): void;
  /** Piped input ended (also called at once for a holder taking over after it ended). */
  end?(): void;
  resize?(cols: number, rows: number): void;
}

// Signals that reach us (not in raw mode, or sent by kill) go on as their control bytes, as the plugin does.
const SIGNAL_BYTES: ReadonlyArray<[NodeJS.Signals, number]> = [
  ['SIGINT', 0x03],
  ['SIGQUIT', 0x1c],
  ['SIGTSTP', 0x1a],
];

/** The start of the sequences that enter (`h`) and leave (`l`) the alternate screen. */
const ALT_SCREEN = Buffer.from('\x1b[?1049');
/**
 * What a full-screen program killed with its session (tmux's client, when the service ended the
 * session) leaves behind: the alternate screen, mouse reporting, bracketed paste, application
 * cursor keys and keypad, a hidden cursor, colours. Undone here as the program would on exit.
 */
const RESTORE_SCREEN =
  '\x1b[0m\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1l\x1b>\x1b[?25h\x1b[?1049l';

export class LocalTerminal implements Disposable {
  private readonly store = new DisposableStore();
  private holder: TerminalHolder | undefined;
  private ended = false;
  /** The remote side switched this terminal to the alternate screen and has not left it. */
  private alternate = false;
  private tail: Buffer = Buffer.alloc(0);
  /** The last thing written was one of our status lines (the next one needs no line break first). */
  private lineEnded = false;
  /** True while the terminal is in raw mode (an interactive session on a TTY). */
  readonly raw: boolean;

  constructor(
    stdin: NodeJS.ReadStream = process.stdin,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
    interactive = true,
  ) {
    this.raw = Boolean(stdin.isTTY) && interactive;
    if (this.raw) this.store.add(enterRawMode(stdin));
    const onData = (d: Buffer): void => this.holder?.input(d);
    // Piped input: when it ends, the remote shell gets end-of-file (see sendEofWhenQuiet).
    const onEnd = (): void => {
      if (stdin.isTTY || !interactive) return;
      this.ended = true;
      this.holder?.end?.();
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
    this.store.add(
      toDisposable(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      }),
    );
    const onResize = (): void => {
      const size = this.size;
      if (size) this.holder?.resize?.(size.cols, size.rows);
    };
    stdout.on('resize', onResize);
    this.store.add(toDisposable(() => stdout.off('resize', onResize)));
    for (const [sig, byte] of SIGNAL_BYTES) {
      const h = (): void => this.holder?.input(Buffer.from([byte]));
      process.on(sig, h);
      this.store.add(toDisposable(() => process.off(sig, h)));
    }
  }

  /** The window size, when stdout is a terminal. */
  get size(): { cols: number; rows: number } | undefined {
    return this.stdout.isTTY ? { cols: this.stdout.columns, rows: this.stdout.rows } : undefined;
  }

  /** Give the terminal to `holder` until the returned disposable (or the next hold). */
  hold(holder: TerminalHolder): Disposable {
    this.holder = holder;
    if (this.ended) holder.end?.();
    return toDisposable(() => {
      if (this.holder === holder) this.holder = undefined;
    });
  }

  /** Follow the remote output (as written to stdout): whether it left us in the alternate screen. */
  sawOutput(chunk: Buffer): void {
    this.lineEnded = false;
    if (!this.raw || !this.stdout.isTTY) return;
    let at = chunk.lastIndexOf(ALT_SCREEN);
    let text = chunk;
    if (at < 0 || at + ALT_SCREEN.length >= chunk.length) {
      // A sequence split between two chunks.
      text = Buffer.concat([this.tail, chunk.subarray(0, ALT_SCREEN.length + 1)]);
      at = text.lastIndexOf(ALT_SCREEN);
    }
    const mode = at >= 0 ? text[at + ALT_SCREEN.length] : undefined;
    if (mode === 0x68) this.alternate = true;
    else if (mode === 0x6c) this.alternate = false;
    this.tail = Buffer.from(chunk.subarray(-ALT_SCREEN.length));
  }

  /**
   * The session is gone while a full-screen program (tmux, screen, an editor) had the screen:
   * back to the normal screen and modes, so what follows (and the user's shell after us) reads
   * right. Nothing when the remote side left the alternate screen itself.
   */
  restoreScreen(): void {
    if (!this.alternate) return;
    this.alternate = false;
    this.tail = Buffer.alloc(0);
    this.stdout.write(RESTORE_SCREEN);
  }

  /**
   * A status line on stderr, on a line of its own: in raw mode (no output post-processing) with
   * explicit carriage returns, so it starts at the left edge whatever the remote side printed.
   */
  line(text: string): void {
    this.stderr.write(this.raw ? `${this.lineEnded ? '' : '\r\n'}${text}\r\n` : `${text}\n`);
    this.lineEnded = true;
  }

  dispose(): void {
    this.holder = undefined;
    this.store.dispose();
  }
}

/**
 * Raw mode as ssh sets it: Node's raw mode keeps output post-processing (LF becomes CRLF),
 * which would turn a remote program's bare LF into CRLF here; turn it off too with stty,
 * and restore the exact previous settings afterwards.
 */
function enterRawMode(stdin: NodeJS.ReadStream): Disposable {
  let saved: string | undefined;
  if (process.platform !== 'win32') {
    try {
      saved = execFileSync('stty', ['-g'], { stdio: ['inherit', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      saved = undefined; // no stty: Node's raw mode alone still works
    }
  }
  stdin.setRawMode(true);
  if (saved) {
    try {
      execFileSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
    } catch {
      // keep Node's raw mode
    }
  }
  return toDisposable(() => {
    stdin.setRawMode(false);
    if (saved) {
      try {
        execFileSync('stty', [saved], { stdio: ['inherit', 'ignore', 'ignore'] });
      } catch {
        // the terminal is gone
      }
    }
  });
}
