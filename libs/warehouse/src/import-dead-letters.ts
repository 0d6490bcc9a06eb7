import type { Pool } from 'pg';
import { inTransaction } from './pool';

/** A bad line of an imported file: where it is and a digest of its bytes. */
export interface ImportDeadLetterKey {
  /** The file's source name (`file:<name>#<path digest>`). */
  source: string;
  /** Line number in the file. */
  line: number;
  /** Digest of the line's bytes: the same line rewritten is another letter. */
  valueDigest: string;
  /** The dead-letter code, for people reading the table. */
  code: string;
}

/**
 * Dead-letters each bad line of an import once: records the lines not recorded before, calls
 * `send` with their positions in `letters`, and commits only when `send` resolved. A line already
 * recorded (the same file imported again) is not passed to `send`; two imports of the same file
 * at once send each line once, the second waiting on the first's rows. Should the commit fail
 * after `send`, a later import sends those lines again: at least once, never lost.
 * Resolves with the positions that were sent.
 */
export async function sendImportDeadLettersOnce(
  pool: Pool,
  letters: readonly ImportDeadLetterKey[],
  send: (fresh: readonly number[]) => Promise<void>,
): Promise<number[]> {
  if (letters.length === 0) return [];
  return inTransaction(pool, async (client) => {
    const inserted = await client.query<{ source: string; line: string; value_digest: string }>(
      `INSERT INTO import_dead_letters (source, line, value_digest, code)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])
       ON CONFLICT DO NOTHING
       RETURNING source, line, value_digest`,
      [
        letters.map((letter) => letter.source),
        letters.map((letter) => letter.line),
        letters.map((letter) => letter.valueDigest),
        letters.map((letter) => letter.code),
      ],
    );
    const keyOf = (source: string, line: string | number, digest: string): string =>
      `${source}\u0000${line}\u0000${digest}`;
    const fresh = new Set(
      inserted.rows.map((row) => keyOf(row.source, row.line, row.value_digest)),
    );
    const positions = letters.flatMap((letter, position) =>
      fresh.has(keyOf(letter.source, letter.line, letter.valueDigest)) ? [position] : [],
    );
    await send(positions);
    return positions;
  });
}
