import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** PostgreSQL's epoch (2000-01-01), from which binary timestamps count microseconds. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
/** `float8` in pg_type: the element type of a `double precision[]`. */
const FLOAT8_OID = 701;
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Rows are sent in buffers of about this size. */
const FLUSH_BYTES = 1 << 20;

/**
 * Rows in COPY's binary format, so neither side turns numbers and times into text and back
 * (tens of thousands of rows a pipeline pass). Write each row's fields in the table's column
 * order, then {@link copyInto} sends them.
 */
export class BinaryCopyRows {
  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(FLUSH_BYTES * 2);
  private at = 0;
  private rows = 0;

  constructor() {
    this.ensure(SIGNATURE.length + 8);
    SIGNATURE.copy(this.buffer, 0);
    this.buffer.writeInt32BE(0, SIGNATURE.length);
    this.buffer.writeInt32BE(0, SIGNATURE.length + 4);
    this.at = SIGNATURE.length + 8;
  }

  /** Rows written. */
  get count(): number {
    return this.rows;
  }

  private ensure(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    this.flush();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
  }

  private flush(): void {
    if (this.at === 0) return;
    this.chunks.push(Buffer.from(this.buffer.subarray(0, this.at)));
    this.at = 0;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): this {
    if (this.at >= FLUSH_BYTES) this.flush();
    this.ensure(2);
    this.at = this.buffer.writeInt16BE(fields, this.at);
    this.rows += 1;
    return this;
  }

  text(value: string): this {
    const length = Buffer.byteLength(value, 'utf8');
    this.ensure(4 + length);
    this.at = this.buffer.writeInt32BE(length, this.at);
    this.at += this.buffer.write(value, this.at, 'utf8');
    return this;
  }

  int2(value: number): this {
    this.ensure(6);
    this.at = this.buffer.writeInt32BE(2, this.at);
    this.at = this.buffer.writeInt16BE(value, this.at);
    return this;
  }

  int4(value: number): this {
    this.ensure(8);
    this.at = this.buffer.writeInt32BE(4, this.at);
    this.at = this.buffer.writeInt32BE(value, this.at);
    return this;
  }

  bool(value: boolean): this {
    this.ensure(5);
    this.at = this.buffer.writeInt32BE(1, this.at);
    this.at = this.buffer.writeUInt8(value ? 1 : 0, this.at);
    return this;
  }

  /** A `timestamptz` from epoch milliseconds. */
  timestamp(epochMs: number): this {
    this.ensure(12);
    this.at = this.buffer.writeInt32BE(8, this.at);
    this.at = this.buffer.writeBigInt64BE(BigInt(epochMs - PG_EPOCH_MS) * 1000n, this.at);
    return this;
  }

  /** A one-dimensional `double precision[]` without nulls. */
  float8Array(values: readonly number[]): this {
    const size = 20 + 12 * values.length;
    this.ensure(4 + size);
    const { buffer } = this;
    let at = buffer.writeInt32BE(size, this.at);
    at = buffer.writeInt32BE(1, at);
    at = buffer.writeInt32BE(0, at);
    at = buffer.writeInt32BE(FLOAT8_OID, at);
    at = buffer.writeInt32BE(values.length, at);
    at = buffer.writeInt32BE(1, at);
    for (const value of values) {
      at = buffer.writeInt32BE(8, at);
      at = buffer.writeDoubleBE(value, at);
    }
    this.at = at;
    return this;
  }

  /** The whole COPY stream, trailer included; the writer is done after this. */
  finish(): Buffer[] {
    this.ensure(2);
    this.at = this.buffer.writeInt16BE(-1, this.at);
    this.flush();
    return this.chunks;
  }
}

/**
 * Sends `rows` by `COPY table (columns) FROM STDIN (FORMAT binary)` on the caller's client (its
 * transaction). `table` and `columns` are code, never input.
 */
export async function copyInto(
  client: PoolClient,
  table: string,
  columns: readonly string[],
  rows: BinaryCopyRows,
): Promise<void> {
  const copy = client.query(
    copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`),
  );
  await pipeline(Readable.from(rows.finish()), copy);
}
