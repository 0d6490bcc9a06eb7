import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every project metric starts with this prefix, except kafka-lag-exporter's names. */
export const METRIC_PREFIX = 'streamtrain_';

/**
 * A registry with Node's process metrics (`streamtrain_process_*`, `streamtrain_nodejs_*`), each
 * service's own metrics register on it. One registry per service instance, never the global one,
 * so tests can run several services in one process.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

/**
 * Consumer-group lag under kafka-lag-exporter's names, so its Grafana dashboards work unchanged.
 * Labels follow it: `cluster_name`, `group`, `topic`, `partition`.
 */
export interface KafkaLagMetrics {
  groupLag: Gauge<'cluster_name' | 'group' | 'topic' | 'partition'>;
  groupMaxLag: Gauge<'cluster_name' | 'group'>;
  groupSumLag: Gauge<'cluster_name' | 'group'>;
  partitionLatestOffset: Gauge<'cluster_name' | 'topic' | 'partition'>;
  groupOffset: Gauge<'cluster_name' | 'group' | 'topic' | 'partition'>;
}

/** Registers the kafka-lag-exporter gauges on `registry`. */
export function createKafkaLagMetrics(registry: Registry): KafkaLagMetrics {
  return {
    groupLag: new Gauge({
      name: 'kafka_consumergroup_group_lag',
      help: 'Consumer group offset lag of a partition (latest offset - committed offset).',
      labelNames: ['cluster_name', 'group', 'topic', 'partition'],
      registers: [registry],
    }),
    groupMaxLag: new Gauge({
      name: 'kafka_consumergroup_group_max_lag',
      help: 'Largest offset lag over the partitions of a consumer group.',
      labelNames: ['cluster_name', 'group'],
      registers: [registry],
    }),
    groupSumLag: new Gauge({
      name: 'kafka_consumergroup_group_sum_lag',
      help: 'Sum of offset lag over the partitions of a consumer group.',
      labelNames: ['cluster_name', 'group'],
      registers: [registry],
    }),
    partitionLatestOffset: new Gauge({
      name: 'kafka_partition_latest_offset',
      help: 'Latest (high watermark) offset of a partition.',
      labelNames: ['cluster_name', 'topic', 'partition'],
      registers: [registry],
    }),
    groupOffset: new Gauge({
      name: 'kafka_consumergroup_group_offset',
      help: 'Last committed offset of a consumer group on a partition.',
      labelNames: ['cluster_name', 'group', 'topic', 'partition'],
      registers: [registry],
    }),
  };
}
