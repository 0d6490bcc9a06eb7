import type { OffsetLookupTable } from './time-lag';

/** What the brokers say about one partition a group reads. */
export interface PartitionState {
  topic: string;
  partition: number;
  earliest: number;
  latest: number;
  /** The group's committed offset; `null` when it has committed nothing here yet. */
  committed: number | null;
  /** The member holding the partition now, if any. */
  member: { host: string; consumerId: string; clientId: string } | null;
}

/** The lag of one partition, in messages and seconds. */
export interface PartitionLag extends PartitionState {
  lag: number;
  lagSeconds: number | null;
}

/** A consumer group's lag, as kafka-lag-exporter aggregates it. */
export interface GroupLag {
  group: string;
  state: string;
  members: number;
  /** True for a group that commits offsets without joining (no members, no protocol). */
  isSimpleConsumer: boolean;
  partitions: PartitionLag[];
  maxLag: number;
  maxLagSeconds: number | null;
  sumLag: number;
  topicSumLag: Record<string, number>;
}

/**
 * Lag of every partition of a group against the brokers' committed offsets: latest − committed,
 * or latest − earliest where nothing is committed yet (the group would start at the beginning).
 * The time lag comes from each partition's lookup table. One reading of the brokers per group,
 * so the totals do not depend on how many instances the group has.
 */
export function computeGroupLag(input: {
  group: string;
  state: string;
  members: number;
  isSimpleConsumer: boolean;
  partitions: readonly PartitionState[];
  tables: (topic: string, partition: number) => OffsetLookupTable;
  nowMs: number;
}): GroupLag {
  const partitions = input.partitions.map((state) => {
    const position = state.committed ?? state.earliest;
    const lag = Math.max(0, state.latest - position);
    const lagSeconds =
      lag === 0 ? 0 : input.tables(state.topic, state.partition).lagSeconds(position, input.nowMs);
    return { ...state, lag, lagSeconds };
  });
  const topicSumLag: Record<string, number> = {};
  for (const partition of partitions) {
    topicSumLag[partition.topic] = (topicSumLag[partition.topic] ?? 0) + partition.lag;
  }
  const seconds = partitions
    .map((partition) => partition.lagSeconds)
    .filter((value): value is number => value !== null);
  return {
    group: input.group,
    state: input.state,
    members: input.members,
    isSimpleConsumer: input.isSimpleConsumer,
    partitions,
    maxLag: partitions.reduce((max, partition) => Math.max(max, partition.lag), 0),
    maxLagSeconds: seconds.length === 0 ? null : Math.max(...seconds),
    sumLag: partitions.reduce((sum, partition) => sum + partition.lag, 0),
    topicSumLag,
  };
}

/** One sample of a group's lag over time. */
export interface LagSample {
  timeMs: number;
  sumLag: number;
  maxLagSeconds: number | null;
}

/** Which way a group's lag is heading over a window. */
export type LagTrend = 'growing' | 'shrinking' | 'steady';

/**
 * The trend of a group's summed lag over the samples of the last `windowMs`: growing when it
 * rose and is not zero, shrinking when it fell, steady otherwise.
 */
export function lagTrend(samples: readonly LagSample[], nowMs: number, windowMs: number): LagTrend {
  const recent = samples.filter((sample) => sample.timeMs >= nowMs - windowMs);
  const first = recent[0];
  const last = recent[recent.length - 1];
  if (first === undefined || last === undefined || first === last) return 'steady';
  if (last.sumLag > first.sumLag && last.sumLag > 0) return 'growing';
  if (last.sumLag < first.sumLag) return 'shrinking';
  return 'steady';
}
