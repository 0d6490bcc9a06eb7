import { StreamtrainError } from '@streamtrain/contracts';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseCsvRow } from './csv';
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
export function csvColumnPositions<T>(codec: RecordCodec<T>, header: string): Map<string, number> {
  const names = parseCsvRow(header);
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
  const lines = createInterface({ input, crlfDelay: Infinity });
  let positions: Map<string, number> | undefined;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      const where = `${source}:${lineNumber}`;
      if (format === 'jsonl') {
        yield parseJsonlRecord(codec, line, where);
      } else if (positions === undefined) {
        positions = csvColumnPositions(codec, line);
      } else {
        yield parseCsvRecord(codec, positions, line, where);
      }
    }
  } finally {
    lines.close();
    input.destroy();
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
