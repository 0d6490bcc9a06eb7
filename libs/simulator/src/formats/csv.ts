import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { CsvError, Options } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
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
 * Splits one CSV row into its fields with csv-parse (RFC 4180: `"a,b"`, `""` inside quotes, a
 * quoted line break).
 *
 * @throws StreamtrainError `CONTRACT_SCHEMA_MISMATCH` saying what is wrong, e.g. an unclosed quote.
 */
export function parseCsvRow(line: string): string[] {
  let records: string[][];
  try {
    records = parseSync(line, { relax_column_count: true, relax_quotes: RELAX_QUOTES });
  } catch (error) {
    throw new StreamtrainError('CONTRACT_SCHEMA_MISMATCH', csvProblem(error), { cause: error });
  }
  if (records.length > 1) {
    throw new StreamtrainError('CONTRACT_SCHEMA_MISMATCH', 'more than one CSV record');
  }
  return records[0] ?? [''];
}

/** One record of a CSV stream: its fields, or what is wrong with it. */
export interface CsvRow {
  /** Line of the input where the record starts (1-based; a quoted line break spans lines). */
  line: number;
  /** The record's text as it was in the input, without its line ending. */
  raw: string;
  /** The fields, when the record parsed. */
  fields?: string[];
  /** Why the record could not be parsed, e.g. `Quote Not Closed: …`. */
  problem?: string;
}

/** A csv-parse error as one sentence, without its internal details. */
function csvProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/,? ?(trimable character \(if activated\) or comment)/, '');
}

/**
 * A quote inside a field that does not start with one is taken literally (`5,a"b`, `"x"y`), as
 * spreadsheets write them: without this, csv-parse cannot tell where the bad record ends and
 * reports the rest of the file again with every later quote. A quote that opens a field and is
 * never closed still refuses the record (and, unavoidably, the lines after it).
 */
const RELAX_QUOTES = true;

/** A record's text without the blank lines before it and its line ending. */
function withoutLineEnding(raw: string): string {
  return raw.replace(/^(?:\r\n|\n|\r)+/, '').replace(/\r?\n$|\r$/, '');
}

/**
 * Reads the records of a CSV stream with csv-parse: RFC 4180 quoting (commas, quotes and line
 * breaks inside quotes), a UTF-8 byte-order mark, CRLF or LF endings; blank lines are skipped. A
 * record that does not parse is yielded with its `problem` and reading goes on, so one bad row does
 * not stop an import. Field counts are not checked here: the caller knows the header.
 */
export async function* readCsvRows(input: Readable): AsyncGenerator<CsvRow, void, undefined> {
  // Line numbers are counted here, in parse order, from each record's raw text: csv-parse's own
  // count takes a CRLF inside quotes for two lines.
  let nextLine = 1;
  const place = (raw: string): number => {
    const leading = /^(?:\r\n|\n|\r)*/.exec(raw)?.[0] ?? '';
    const start = nextLine + lineBreaks(leading);
    nextLine += lineBreaks(raw);
    return start;
  };
  const refused: CsvRow[] = [];
  // With `raw`, each record comes as { record, raw } (csv-parse types it as the bare record).
  const toRow = (parsed: { record: string[]; raw: string }): CsvRow => ({
    line: place(parsed.raw),
    raw: withoutLineEnding(parsed.raw),
    fields: parsed.record,
  });
  const parser = input.pipe(
    parse({
      bom: true,
      // Either ending, even mixed in one file (a spreadsheet's CRLF, a line appended with LF).
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      relax_quotes: RELAX_QUOTES,
      skip_empty_lines: true,
      skip_records_with_error: true,
      raw: true,
      on_record: toRow,
    } as unknown as Options),
  );
  parser.on('skip', (error: CsvError & { raw?: string }) => {
    const raw = error.raw ?? '';
    refused.push({ line: place(raw), raw: withoutLineEnding(raw), problem: csvProblem(error) });
  });
  try {
    for await (const chunk of parser) {
      const row = chunk as CsvRow;
      // The parser runs ahead of this loop: refusals reported so far may lie after this record.
      while (refused[0] !== undefined && refused[0].line < row.line)
        yield refused.shift() as CsvRow;
      yield row;
    }
    yield* refused.splice(0);
  } finally {
    input.destroy();
  }
}

function lineBreaks(text: string): number {
  return text.match(/\r\n|\n|\r/g)?.length ?? 0;
}
