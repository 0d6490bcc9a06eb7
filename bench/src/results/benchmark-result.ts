import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MachineInfo } from '../harness/machine';
import { REPO_ROOT } from '../harness/service-process';

/** The benchmarks of the suite, in the order they run and are rendered. */
export const BENCHMARK_NAMES = [
  'ingest',
  'kafka-client',
  'pipeline',
  'trainer',
  'freshness',
  'scoring',
] as const;
/** One benchmark of the suite. */
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

/** `docs/results/<name>.json`: one benchmark's figures, with how and where they were measured. */
export interface BenchmarkResult<R = unknown> {
  readonly name: BenchmarkName;
  readonly generatedAt: string;
  /** The command line of the run that wrote this file. */
  readonly command: string;
  /** The command that reproduces this benchmark alone, with the same sizes. */
  readonly reproduce: string;
  readonly machine: MachineInfo;
  readonly config: Readonly<Record<string, unknown>>;
  readonly durationSeconds: number;
  readonly results: R;
}

/** Where the JSON results live. */
export const RESULTS_DIR = path.join(REPO_ROOT, 'docs', 'results');

/** Writes `docs/results/<name>.json`. */
export async function writeResult(result: BenchmarkResult): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.name}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** Every JSON file in `docs/results`, parsed, by file name without `.json`. */
export async function readResults(dir = RESULTS_DIR): Promise<Map<string, unknown>> {
  const results = new Map<string, unknown>();
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return results;
  }
  for (const file of files.filter((name) => name.endsWith('.json')).sort()) {
    results.set(
      file.slice(0, -'.json'.length),
      JSON.parse(await readFile(path.join(dir, file), 'utf8')) as unknown,
    );
  }
  return results;
}
