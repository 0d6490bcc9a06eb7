import type { KafkaAdmin } from '@streamtrain/kafka';
import type { KafkaLagMetrics, Logger } from '@streamtrain/observability';

/** Options of {@link startLagMonitor}. */
export interface LagMonitorOptions {
  admin: KafkaAdmin;
  groupId: string;
  /** Topics to report; called each round, so a pattern subscription sees new topics. */
  topics: () => Promise<string[]>;
  metrics: KafkaLagMetrics;
  intervalMs: number;
  logger: Logger;
  /** kafka-lag-exporter's `cluster_name` label. @default 'local' */
  clusterName?: string;
}

/**
 * Reads committed offsets and high watermarks every `intervalMs` and exports lag under
 * kafka-lag-exporter's names. Lag is measured against committed offsets, so it counts what
 * is not yet durable in the warehouse. Returns a function that stops it.
 */
export function startLagMonitor(options: LagMonitorOptions): () => Promise<void> {
  const cluster = options.clusterName ?? 'local';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const round = async (): Promise<void> => {
    try {
      const lags = await options.admin.groupLag(options.groupId, await options.topics());
      let max = 0;
      let sum = 0;
      for (const lag of lags) {
        const value = Number(lag.lag);
        const partition = String(lag.partition);
        options.metrics.groupLag.set(
          { cluster_name: cluster, group: options.groupId, topic: lag.topic, partition },
          value,
        );
        options.metrics.partitionLatestOffset.set(
          { cluster_name: cluster, topic: lag.topic, partition },
          Number(lag.latestOffset),
        );
        if (lag.committedOffset !== null) {
          options.metrics.groupOffset.set(
            { cluster_name: cluster, group: options.groupId, topic: lag.topic, partition },
            Number(lag.committedOffset),
          );
        }
        max = Math.max(max, value);
        sum += value;
      }
      options.metrics.groupMaxLag.set({ cluster_name: cluster, group: options.groupId }, max);
      options.metrics.groupSumLag.set({ cluster_name: cluster, group: options.groupId }, sum);
    } catch (error) {
      options.logger.warn({ err: error }, 'reading consumer lag failed');
    }
  };
  const loop = (): void => {
    current = round().finally(() => {
      if (!stopped) timer = setTimeout(loop, options.intervalMs);
    });
  };
  loop();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await current;
  };
}
