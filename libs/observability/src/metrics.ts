import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every project metric starts with this prefix, except kafka-lag-exporter's names. */
export const METRIC_PREFIX = 'streamtrain_';

const PROMTOOL_UNFRIENDLY_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * A registry with Node's process and runtime metrics under their stock names (`process_*`,
 * `nodejs_*`, as prom-client's default collectors name them) so stock Node.js dashboards work;
 * each service's own metrics register on it with the `streamtrain_` prefix. One registry per
 * service instance, never the global one, so tests can run several services in one process.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  // prom-client's gauges that end in `_total` break the naming rule `promtool check metrics`
  // enforces; each is the sum of its per-type gauge (`sum(nodejs_active_handles)`), so drop them.
  for (const name of PROMTOOL_UNFRIENDLY_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}

/** Labels of kafka-lag-exporter's per-partition consumer-group metrics. */
export type GroupPartitionLabel =
  'cluster_name' | 'group' | 'topic' | 'partition' | 'member_host' | 'consumer_id' | 'client_id';

/**
 * Consumer-group lag under kafka-lag-exporter's names and labels (seglo/kafka-lag-exporter
 * README, "Metrics"), so its Grafana dashboard works unchanged. One process exports them: the
 * console, which reads committed offsets from the brokers (see docs/OPERATIONS.md).
 */
export interface KafkaLagMetrics {
  groupOffset: Gauge<GroupPartitionLabel>;
  groupLag: Gauge<GroupPartitionLabel>;
  groupLagSeconds: Gauge<GroupPartitionLabel>;
  groupMaxLag: Gauge<'cluster_name' | 'group' | 'is_simple_consumer'>;
  groupMaxLagSeconds: Gauge<'cluster_name' | 'group' | 'is_simple_consumer'>;
  groupSumLag: Gauge<'cluster_name' | 'group'>;
  groupTopicSumLag: Gauge<'cluster_name' | 'group' | 'topic'>;
  partitionLatestOffset: Gauge<'cluster_name' | 'topic' | 'partition'>;
  partitionEarliestOffset: Gauge<'cluster_name' | 'topic' | 'partition'>;
  /**
   * Seconds one poll of every group took. kafka-lag-exporter calls it
   * `kafka_consumergroup_poll_time_ms`, a name `promtool check metrics` rejects (abbreviated unit),
   * and no upstream dashboard reads it, so it takes the project's name and base unit instead.
   */
  pollSeconds: Gauge<'cluster_name'>;
}

const PARTITION_LABELS: GroupPartitionLabel[] = [
  'cluster_name',
  'group',
  'topic',
  'partition',
  'member_host',
  'consumer_id',
  'client_id',
];

/** Registers the kafka-lag-exporter gauges on `registry`. */
export function createKafkaLagMetrics(registry: Registry): KafkaLagMetrics {
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  return {
    groupOffset: gauge(
      'kafka_consumergroup_group_offset',
      'Last group consumed (committed) offset of a partition.',
      PARTITION_LABELS,
    ),
    groupLag: gauge(
      'kafka_consumergroup_group_lag',
      'Group offset lag of a partition (latest offset - committed offset).',
      PARTITION_LABELS,
    ),
    groupLagSeconds: gauge(
      'kafka_consumergroup_group_lag_seconds',
      'Group time lag of a partition, estimated from a lookup table of latest offsets and their times.',
      PARTITION_LABELS,
    ),
    groupMaxLag: gauge(
      'kafka_consumergroup_group_max_lag',
      'Max group offset lag over its partitions.',
      ['cluster_name', 'group', 'is_simple_consumer'],
    ),
    groupMaxLagSeconds: gauge(
      'kafka_consumergroup_group_max_lag_seconds',
      'Max group time lag over its partitions.',
      ['cluster_name', 'group', 'is_simple_consumer'],
    ),
    groupSumLag: gauge('kafka_consumergroup_group_sum_lag', 'Sum of group offset lag.', [
      'cluster_name',
      'group',
    ]),
    groupTopicSumLag: gauge(
      'kafka_consumergroup_group_topic_sum_lag',
      'Sum of group offset lag over the partitions of a topic.',
      ['cluster_name', 'group', 'topic'],
    ),
    partitionLatestOffset: gauge(
      'kafka_partition_latest_offset',
      'Latest offset (high watermark) of a partition.',
      ['cluster_name', 'topic', 'partition'],
    ),
    partitionEarliestOffset: gauge(
      'kafka_partition_earliest_offset',
      'Earliest offset of a partition.',
      ['cluster_name', 'topic', 'partition'],
    ),
    pollSeconds: gauge(
      'streamtrain_console_lag_poll_duration_seconds',
      'Time to poll the offsets of every consumer group (kafka-lag-exporter: poll_time_ms).',
      ['cluster_name'],
    ),
  };
}
