import { StreamtrainError } from '@streamtrain/contracts';

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One CSV field: quoted (with inner quotes doubled) only when it must be. */
export function formatCsvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** One CSV row, without its line ending. */
export function formatCsvRow(fields: readonly string[]): string {
  return fields.map(formatCsvField).join(',');
}

/**
 * Splits one CSV row into its fields (RFC 4180 quoting: `"a,b"` and `""` inside quotes). Rows are
 * read line by line, so a quoted field may not span lines; the simulator's ids, amounts and
 * timestamps never contain a line break.
 *
 * @throws StreamtrainError `CONTRACT_SCHEMA_MISMATCH` on an unterminated quote or text after one.
 */
export function parseCsvRow(line: string): string[] {
  const fields: string[] = [];
  let index = 0;
  for (;;) {
    if (line[index] === '"') {
      let value = '';
      index += 1;
      for (;;) {
        const close = line.indexOf('"', index);
        if (close < 0) {
          throw new StreamtrainError('CONTRACT_SCHEMA_MISMATCH', 'unterminated quoted CSV field');
        }
        value += line.slice(index, close);
        if (line[close + 1] === '"') {
          value += '"';
          index = close + 2;
        } else {
          index = close + 1;
          break;
        }
      }
      fields.push(value);
      if (index < line.length && line[index] !== ',') {
        throw new StreamtrainError(
          'CONTRACT_SCHEMA_MISMATCH',
          `unexpected text after a quoted CSV field at column ${index + 1}`,
        );
      }
    } else {
      const comma = line.indexOf(',', index);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(index, end));
      index = end;
    }
    if (index >= line.length) return fields;
    index += 1; // past the comma
  }
}
