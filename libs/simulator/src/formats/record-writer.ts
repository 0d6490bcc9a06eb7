import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { formatCsvRow } from './csv';
import { encodeRecord } from './record-codecs';
import type { FileFormat, RecordCodec } from './record-codecs';

/** Characters buffered before a write to the stream: one syscall-sized chunk instead of a line. */
const CHUNK_CHARS = 64 * 1024;

/** Writes records of one kind as lines to a stream, honouring its backpressure. */
export class RecordWriter<T> {
  private readonly out: Writable;
  private readonly codec: RecordCodec<T>;
  private readonly format: FileFormat;
  private buffer: string[] = [];
  private bufferedChars = 0;
  private failure: Error | undefined;
  private written = 0;

  /**
   * Writes to `out` in `format`; a CSV file starts with the codec's header. The writer owns `out`
   * and ends it in {@link RecordWriter.end}.
   */
  constructor(out: Writable, codec: RecordCodec<T>, format: FileFormat) {
    this.out = out;
    this.codec = codec;
    this.format = format;
    // Remembered and rethrown by the next write, so a failing disk never crashes the process.
    out.on('error', (error: Error) => {
      this.failure ??= error;
    });
    if (format === 'csv') this.append(formatCsvRow(codec.columns));
  }

  /** Records written so far. */
  get count(): number {
    return this.written;
  }

  /** Writes one record; resolves at once unless a buffered chunk has to wait for the stream. */
  async write(record: T): Promise<void> {
    this.append(encodeRecord(this.codec, this.format, record));
    this.written += 1;
    if (this.bufferedChars >= CHUNK_CHARS) await this.flush();
  }

  /** Hands the buffered lines to the stream, waiting for `drain` when the stream is full. */
  async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.bufferedChars = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  /** Flushes, ends the stream and waits until it has finished (for a file: written and closed). */
  async end(): Promise<void> {
    await this.flush();
    this.out.end();
    await finished(this.out);
    if (this.failure !== undefined) throw this.failure;
  }

  private append(line: string): void {
    this.buffer.push(line, '\n');
    this.bufferedChars += line.length + 1;
  }
}
