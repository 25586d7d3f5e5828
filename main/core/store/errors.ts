/**
 * What a database error means for the store: a fault of the disk or the file that turns history
 * off (full disk, read-only folder, I/O error, damaged file), a lock held by another process that
 * passes (retry later), or a problem with one record (skip it). And the sentence a user reads.
 */
import path from 'node:path';

export type ErrorKind = 'fatal' | 'busy' | 'record';

/** SQLite result codes (primary, as better-sqlite3 names them) that make the file unusable for writing. */
const FATAL_SQLITE = ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_CORRUPT'];
const FATAL_SQLITE_EXACT = ['SQLITE_NOTADB', 'SQLITE_PERM', 'SQLITE_NOMEM', 'SQLITE_NOLFS', 'SQLITE_AUTH'];
/** Node system errors of the same kinds (from mkdir, chmod, rename, stat). */
const FATAL_NODE = ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'ENOTDIR', 'EISDIR', 'ENOENT'];

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function classifyError(err: unknown): ErrorKind {
  const code = errorCode(err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (FATAL_SQLITE.some((c) => code === c || code.startsWith(c + '_'))) return 'fatal';
  if (FATAL_SQLITE_EXACT.includes(code) || FATAL_NODE.includes(code)) return 'fatal';
  // A closed connection ("The database connection is not open") is as good as gone.
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) return 'fatal';
  return 'record';
}

const KEEPS_WORKING = 'EC2 Connect keeps working without history.';

/** One sentence (or two) saying why history is off and what to do, for the UI and the CLI. */
export function problemText(err: unknown, file: string): string {
  const code = errorCode(err) || 'error';
  const dir = path.dirname(file);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT')
    return `History is off: the disk holding ${file} is full (${code}). Free some space; ${KEEPS_WORKING}`;
  if (code.startsWith('SQLITE_READONLY') || ['EROFS', 'EACCES', 'EPERM', 'SQLITE_PERM'].includes(code))
    return (
      `History is off: ${file} cannot be written, the file or its folder is read-only (${code}). ` +
      `Make ${dir} writable, or set EC2_CONNECT_DB to a writable file; ${KEEPS_WORKING}`
    );
  if (code.startsWith('SQLITE_CANTOPEN') || ['ENOTDIR', 'EISDIR', 'ENOENT'].includes(code))
    return (
      `History is off: ${file} cannot be opened or created (${code}). ` +
      `Check that ${dir} is a writable folder, or set EC2_CONNECT_DB to another file; ${KEEPS_WORKING}`
    );
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO')
    return `History is off: the disk reported an error with ${file} (${code}). Check the disk; ${KEEPS_WORKING}`;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return (
      `History is off: ${file} is damaged (${code}). It is checked, moved aside and replaced by a new ` +
      `file when EC2 Connect next starts; ${KEEPS_WORKING}`
    );
  const message = err instanceof Error ? err.message : String(err);
  return `History is off: ${file} could not be used (${message}). ${KEEPS_WORKING}`;
}

export function newerSchemaText(file: string, found: number, known: number): string {
  return (
    `History is off: ${file} was created by a newer EC2 Connect (schema ${found}, this version knows up ` +
    `to ${known}); upgrade, or set EC2_CONNECT_DB to another file. ${KEEPS_WORKING}`
  );
}

/** An open that failed in a way the user must act on; `message` is the problem text. */
export class StoreOpenError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}
