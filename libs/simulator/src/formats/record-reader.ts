import { StreamtrainError } from '@streamtrain/contracts';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseCsvRow, readCsvRows } from './csv';
import type { FileFormat, RecordCodec } from './record-codecs';

function issuesOf(error: {
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>;
}): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validates a candidate record, or throws with where it was found. */
function validate<T>(codec: RecordCodec<T>, candidate: unknown, where: string): T {
  const parsed = codec.schema.safeParse(candidate);
  if (!parsed.success) {
    throw new StreamtrainError(
      'CONTRACT_SCHEMA_MISMATCH',
      `${where}: invalid ${codec.kind}: ${issuesOf(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** Parses and validates one JSON line. */
export function parseJsonlRecord<T>(codec: RecordCodec<T>, line: string, where = 'line'): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw new StreamtrainError(
      'CONTRACT_INVALID_JSON',
      `${where}: not valid JSON (${(error as Error).message})`,
      { cause: error },
    );
  }
  return validate(codec, json, where);
}

/**
 * Maps a CSV header to column positions. Every codec column must be present; their order and any
 * extra columns are free, so a file edited in a spreadsheet still reads.
 */
export function csvColumnPositions<T>(
  codec: RecordCodec<T>,
  header: string | readonly string[],
): Map<string, number> {
  const names = typeof header === 'string' ? parseCsvRow(header) : header;
  const positions = new Map(names.map((name, position) => [name.trim(), position] as const));
  const missing = codec.columns.filter((column) => !positions.has(column));
  if (missing.length > 0) {
    throw new StreamtrainError(
      'CONTRACT_SCHEMA_MISMATCH',
      `${codec.kind} CSV header lacks column(s): ${missing.join(', ')}`,
    );
  }
  return positions;
}

/**
 * What is wrong with a CSV record's shape, given the header's width, or `undefined`: every record
 * has as many fields as the header (RFC 4180), so a short or long row is named as such rather
 * than reported as whatever its misplaced fields fail on.
 */
export function csvFieldCountProblem<T>(
  codec: RecordCodec<T>,
  positions: ReadonlyMap<string, number>,
  headerWidth: number,
  fields: readonly string[],
): string | undefined {
  if (fields.length === headerWidth) return undefined;
  const missing = codec.columns.filter((column) => (positions.get(column) ?? 0) >= fields.length);
  return (
    `${fields.length} field${fields.length === 1 ? '' : 's'} where the header has ${headerWidth}` +
    (missing.length > 0 ? ` (no ${missing.join(', ')})` : '')
  );
}

/** The candidate record of a CSV row's fields (not yet validated), by the header's positions. */
export function csvCandidate<T>(
  codec: RecordCodec<T>,
  positions: ReadonlyMap<string, number>,
  fields: readonly string[],
): unknown {
  const byName: Record<string, string> = {};
  for (const column of codec.columns) {
    const value = fields[positions.get(column) ?? -1];
    if (value !== undefined) byName[column] = value;
  }
  return codec.fromFields(byName);
}

/** Parses and validates one CSV row, given the header's column positions. */
export function parseCsvRecord<T>(
  codec: RecordCodec<T>,
  positions: ReadonlyMap<string, number>,
  line: string,
  where = 'line',
): T {
  let fields: string[];
  try {
    fields = parseCsvRow(line);
  } catch (error) {
    throw new StreamtrainError(
      'CONTRACT_SCHEMA_MISMATCH',
      `${where}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const byName: Record<string, string> = {};
  for (const column of codec.columns) {
    const value = fields[positions.get(column) as number];
    if (value !== undefined) byName[column] = value;
  }
  return validate(codec, codec.fromFields(byName), where);
}

/**
 * Reads and validates the records of a JSONL or CSV stream, one at a time. Blank lines are
 * skipped; the first bad line stops the read with its line number.
 *
 * @param source - Name of the input in error messages, e.g. the file path.
 * @throws StreamtrainError `CONTRACT_INVALID_JSON` or `CONTRACT_SCHEMA_MISMATCH`.
 */
export async function* readRecords<T>(
  input: Readable,
  codec: RecordCodec<T>,
  format: FileFormat,
  source = 'input',
): AsyncGenerator<T, void, undefined> {
  if (format === 'csv') {
    yield* readCsvRecords(input, codec, source);
    return;
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      yield parseJsonlRecord(codec, line, `${source}:${lineNumber}`);
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

async function* readCsvRecords<T>(
  input: Readable,
  codec: RecordCodec<T>,
  source: string,
): AsyncGenerator<T, void, undefined> {
  let positions: Map<string, number> | undefined;
  let headerWidth = 0;
  for await (const row of readCsvRows(input)) {
    const where = `${source}:${row.line}`;
    const problem =
      row.problem ??
      (positions === undefined || row.fields === undefined
        ? undefined
        : csvFieldCountProblem(codec, positions, headerWidth, row.fields));
    if (problem !== undefined || row.fields === undefined) {
      throw new StreamtrainError('CONTRACT_SCHEMA_MISMATCH', `${where}: ${problem ?? 'no fields'}`);
    }
    if (positions === undefined) {
      positions = csvColumnPositions(codec, row.fields);
      headerWidth = row.fields.length;
    } else {
      yield validate(codec, csvCandidate(codec, positions, row.fields), where);
    }
  }
}

/** {@link readRecords} of a file. */
export function readRecordFile<T>(
  path: string,
  codec: RecordCodec<T>,
  format: FileFormat,
): AsyncGenerator<T, void, undefined> {
  return readRecords(createReadStream(path), codec, format, path);
}
