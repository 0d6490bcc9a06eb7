import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { groundTruthOf } from '../events';
import type { SimulatedEvent } from '../events';
import type { ProgressMeter, ProgressSnapshot } from '../progress';
import { RecordWriter } from './record-writer';
import { groundTruthCodec, labelCodec, transactionCodec } from './record-codecs';
import type { FileFormat } from './record-codecs';

/** The three files of a generated dataset. */
export interface SimulationFiles {
  /** `transactions.<format>`: the messages of `tx.<channel>`, in event-time order. */
  readonly transactions: string;
  /** `labels.<format>`: the messages of `tx.labels`, in `reportedAt` order. */
  readonly labels: string;
  /** `truth.<format>`: every transaction's id, whether it is fraud and its scenario. */
  readonly truth: string;
}

/** Paths of the dataset files in `dir`. */
export function simulationFilePaths(dir: string, format: FileFormat): SimulationFiles {
  return {
    transactions: join(dir, `transactions.${format}`),
    labels: join(dir, `labels.${format}`),
    truth: join(dir, `truth.${format}`),
  };
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Options of {@link writeSimulationFiles}. */
export interface WriteSimulationOptions {
  /** Directory of the files; created if missing, files in it overwritten. */
  readonly dir: string;
  /** @default 'jsonl' */
  readonly format?: FileFormat;
  /** Counts the events; its snapshots go to `onProgress`. */
  readonly progress?: ProgressMeter;
  /** Receives a snapshot about once per progress interval. */
  readonly onProgress?: (snapshot: ProgressSnapshot) => void;
  /** Stops early (the files then hold a consistent prefix of the stream). */
  readonly signal?: AbortSignal;
}

/**
 * Writes a simulation's events as a dataset: transactions, labels and ground truth, each to its
 * own file, streaming with bounded memory. Resolves with the paths once every file is closed.
 */
export async function writeSimulationFiles(
  events: Iterable<SimulatedEvent>,
  options: WriteSimulationOptions,
): Promise<SimulationFiles> {
  const format = options.format ?? 'jsonl';
  await mkdir(options.dir, { recursive: true });
  const paths = simulationFilePaths(options.dir, format);
  const transactions = new RecordWriter(
    createWriteStream(paths.transactions),
    transactionCodec,
    format,
  );
  const labels = new RecordWriter(createWriteStream(paths.labels), labelCodec, format);
  const truth = new RecordWriter(createWriteStream(paths.truth), groundTruthCodec, format);
  let failure: Error | undefined;
  try {
    for (const event of events) {
      if (options.signal?.aborted === true) break;
      if (event.kind === 'transaction') {
        await transactions.write(event.tx);
        await truth.write(groundTruthOf(event));
      } else {
        await labels.write(event.label);
      }
      const snapshot = options.progress?.record(event);
      if (snapshot !== undefined) options.onProgress?.(snapshot);
    }
  } catch (error) {
    failure = asError(error);
  }
  // Each writer is ended even if another failed, so no file descriptor is left open; the first
  // error is the one reported.
  const ended = await Promise.allSettled([transactions.end(), labels.end(), truth.end()]);
  const endFailure = ended.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure;
  if (endFailure !== undefined) throw asError(endFailure.reason);
  return paths;
}
