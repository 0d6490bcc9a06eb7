import { InvalidArgumentError } from 'commander';
import { BENCHMARK_NAMES } from './results/benchmark-result';
import type { BenchmarkName } from './results/benchmark-result';

/** Parses a positive integer flag (`400000` or `400k`). */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(k|m)?$/i.exec(value.trim());
  const unit = match?.[2]?.toLowerCase();
  const parsed = Number(match?.[1]) * (unit === 'k' ? 1_000 : unit === 'm' ? 1_000_000 : 1);
  if (match === null || !Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('expected a positive whole number, e.g. 400000 or 400k');
  }
  return parsed;
}

/** Parses `--pipeline-scale-shares 0.1,0.5,1`: ascending shares in (0, 1]. */
export function parseShares(value: string): number[] {
  const shares = value.split(',').map((share) => Number(share.trim()));
  const valid = shares.every(
    (share, i) => share > 0 && share <= 1 && (i === 0 || share > (shares[i - 1] as number)),
  );
  if (!valid || shares.length === 0) {
    throw new InvalidArgumentError('expected ascending shares in (0, 1], e.g. 0.1,0.5,1');
  }
  return shares;
}

/** Parses `--only ingest,trainer`. */
export function parseOnly(value: string): BenchmarkName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(BENCHMARK_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown benchmark ${unknown.join(', ') || '(none)'}; choose from ${BENCHMARK_NAMES.join(', ')}`,
    );
  }
  return BENCHMARK_NAMES.filter((name) => names.includes(name));
}
