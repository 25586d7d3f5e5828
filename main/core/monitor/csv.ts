/**
 * Rows to CSV per RFC 4180: fields separated by commas, records by CRLF, a field quoted when it
 * contains a comma, a double quote, CR or LF (or leading/trailing space, which some readers trim),
 * with its quotes doubled. Pure functions.
 */

export type CsvValue = string | number | boolean | bigint | Date | null | undefined;

export interface CsvOptions {
  /** Record separator; default CRLF as the RFC says. */
  eol?: string;
  /**
   * Prefix fields that start with =, +, -, @, tab or CR with a single quote so spreadsheets do not
   * run them as formulas (OWASP CSV injection). Off by default: it changes the data. Numbers are
   * never touched.
   */
  guardFormulas?: boolean;
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: CsvValue, options: CsvOptions = {}): string {
  if (value === null || value === undefined) return '';
  let s: string;
  if (value instanceof Date) s = Number.isNaN(value.getTime()) ? '' : value.toISOString();
  else if (typeof value === 'string') {
    s = options.guardFormulas && FORMULA_START.test(value) ? `'${value}` : value;
  } else s = String(value);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Each row is one record; ends with a final EOL when there are rows. */
export function toCsv(rows: readonly (readonly CsvValue[])[], options: CsvOptions = {}): string {
  const eol = options.eol ?? '\r\n';
  if (rows.length === 0) return '';
  return rows.map((row) => row.map((v) => csvField(v, options)).join(',')).join(eol) + eol;
}

/** Objects to CSV with a header row; `columns` picks and orders the keys (default: keys of the first record). */
export function recordsToCsv<T extends Record<string, CsvValue>>(
  records: readonly T[],
  columns?: readonly (keyof T & string)[],
  options: CsvOptions = {},
): string {
  const cols = columns ?? (records[0] ? (Object.keys(records[0]) as (keyof T & string)[]) : []);
  if (cols.length === 0) return '';
  return toCsv([cols, ...records.map((r) => cols.map((c) => r[c]))], options);
}
