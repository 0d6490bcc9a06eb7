import type { PartitionLag } from './types';

/**
 * A partition's lag as kafka-lag-exporter computes it: latest offset minus committed offset
 * (the whole partition when nothing is committed), never below zero.
 */
export function partitionLag(
  topic: string,
  partition: number,
  latestOffset: string,
  committedOffset: string | null,
): PartitionLag {
  const lag = BigInt(latestOffset) - BigInt(committedOffset ?? '0');
  return {
    topic,
    partition,
    latestOffset,
    committedOffset,
    lag: (lag < 0n ? 0n : lag).toString(),
  };
}
