/**
 * A pino destination that writes a log file asynchronously (SonicBoom) and rotates it by size:
 * when main.log passes `maxBytes` it becomes main.1.log, main.1.log becomes main.2.log, and so
 * on; the oldest beyond `maxFiles` (the current file included) is deleted. Files are created with
 * mode 0600 in a folder created with mode 0700. Write errors (a full disk, a folder removed) are
 * counted and dropped: logging never takes EC2 Connect down.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';

/** pino's asynchronous file writer (SonicBoom). */
type SonicBoom = ReturnType<typeof pino.destination>;

export interface RotatingFileOptions {
  /** The current file, e.g. `<logs>/main.log`. */
  file: string;
  /** Rotate when the file grows past this many bytes. */
  maxBytes: number;
  /** Files kept, the current one included (at least 1). */
  maxFiles: number;
  /** Write synchronously (tests, a process about to exit); default false. */
  sync?: boolean;
}

/** `main.log` -> `main.<n>.log` (n = 0 is the file itself). */
export function rotatedName(file: string, n: number): string {
  if (n === 0) return file;
  const ext = path.extname(file);
  return ext ? `${file.slice(0, -ext.length)}.${n}${ext}` : `${file}.${n}`;
}

export class RotatingFileStream extends EventEmitter {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private sonic: SonicBoom;
  private size = 0;
  /** Rotations done, and write errors dropped (for tests and diagnostics). */
  rotations = 0;
  errors = 0;
  private closed = false;

  constructor(options: RotatingFileOptions) {
    super();
    this.file = path.resolve(options.file);
    this.maxBytes = Math.max(1, options.maxBytes);
    this.maxFiles = Math.max(1, Math.floor(options.maxFiles));
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    try {
      this.size = fs.statSync(this.file).size;
      fs.chmodSync(this.file, 0o600); // a file left by an older version or another umask
    } catch {
      this.size = 0;
    }
    this.sonic = pino.destination({
      dest: this.file,
      append: true,
      mkdir: true,
      mode: 0o600,
      sync: options.sync ?? false,
    });
    this.sonic.on('error', (err: Error) => this.onError(err));
  }

  write(chunk: string): boolean {
    if (this.closed) return false;
    let ok = true;
    try {
      ok = this.sonic.write(chunk);
    } catch (err) {
      this.onError(err as Error);
    }
    this.size += Buffer.byteLength(chunk);
    if (this.size >= this.maxBytes) this.rotate();
    return ok;
  }

  /** Move the files along now and start a new current file. */
  rotate(): void {
    if (this.closed) return;
    this.size = 0;
    this.rotations++;
    try {
      this.removeBeyond(this.maxFiles);
      if (this.maxFiles === 1) fs.rmSync(this.file, { force: true });
      for (let n = this.maxFiles - 1; n >= 1; n--) {
        const from = rotatedName(this.file, n - 1);
        if (fs.existsSync(from)) fs.renameSync(from, rotatedName(this.file, n));
      }
    } catch (err) {
      this.onError(err as Error);
    }
    // Writes in flight finish in the renamed file; what is buffered goes to the new one.
    try {
      this.sonic.reopen();
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Delete rotated files numbered `from` and above (left by a larger max_files). */
  private removeBeyond(from: number): void {
    const dir = path.dirname(this.file);
    const ext = path.extname(this.file);
    const stem = path.basename(this.file, ext);
    const pattern = new RegExp(`^${escapeRegExp(stem)}\\.(\\d+)${escapeRegExp(ext)}$`);
    for (const name of fs.readdirSync(dir)) {
      const m = pattern.exec(name);
      if (m && Number(m[1]) >= from && Number(m[1]) > 0) fs.rmSync(path.join(dir, name), { force: true });
    }
  }

  flushSync(): void {
    if (this.closed) return;
    try {
      this.sonic.flushSync();
    } catch {
      // not open yet, or the disk refused: nothing more to do
    }
  }

  flush(cb?: (err?: Error) => void): void {
    if (this.closed) {
      cb?.();
      return;
    }
    this.sonic.flush((err) => cb?.(err ?? undefined));
  }

  /** Write out what is buffered and close the file. */
  end(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      this.sonic.once('close', () => resolve());
      this.sonic.once('error', () => resolve());
      this.sonic.end();
    });
  }

  private onError(err: Error): void {
    this.errors++;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
