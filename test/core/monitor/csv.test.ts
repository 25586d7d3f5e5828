import { describe, expect, it } from 'vitest';
import { csvField, recordsToCsv, toCsv } from '../../../main/core/monitor/csv.js';

/** RFC 4180 parser (CRLF or LF records) to check round trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      field += c;
      i++;
    }
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe('csv', () => {
  it('quotes fields with commas, quotes and newlines, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
    expect(csvField(' padded ')).toBe('" padded "');
    expect(csvField('"')).toBe('""""');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(3.25)).toBe('3.25');
    expect(csvField(false)).toBe('false');
    expect(csvField(10n)).toBe('10');
    expect(csvField(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe('2024-01-02T03:04:05.000Z');
  });

  it('joins records with CRLF and round-trips through a parser', () => {
    const rows = [
      ['t', 'pid', 'note'],
      ['1', '42', 'a,b'],
      ['2', '43', 'quote " inside'],
      ['3', '44', 'multi\r\nline\nvalue'],
      ['4', '', ''],
    ];
    const text = toCsv(rows);
    expect(text).toBe(
      't,pid,note\r\n1,42,"a,b"\r\n2,43,"quote "" inside"\r\n3,44,"multi\r\nline\nvalue"\r\n4,,\r\n',
    );
    expect(parseCsv(text)).toEqual(rows);
    expect(toCsv([])).toBe('');
    expect(toCsv([['a']], { eol: '\n' })).toBe('a\n');
  });

  it('writes records with a header row', () => {
    const text = recordsToCsv([
      { t: 1, role: 'main', cpu: 1.5 },
      { t: 2, role: 'pty, "x"', cpu: null },
    ]);
    expect(text).toBe('t,role,cpu\r\n1,main,1.5\r\n2,"pty, ""x""",\r\n');
    expect(recordsToCsv([{ a: 1, b: 2 }], ['b'])).toBe('b\r\n2\r\n');
    expect(recordsToCsv([])).toBe('');
  });

  it('optionally guards against spreadsheet formulas', () => {
    expect(csvField('=SUM(A1)', { guardFormulas: true })).toBe("'=SUM(A1)");
    expect(csvField('@cmd', { guardFormulas: true })).toBe("'@cmd");
    expect(csvField('=1+1')).toBe('=1+1');
    expect(csvField(-5, { guardFormulas: true })).toBe('-5');
  });
});
