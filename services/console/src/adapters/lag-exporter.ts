import type { KafkaAdmin } from '@streamtrain/kafka';
import type { KafkaLagMetrics, Logger } from '@streamtrain/observability';
import { computeGroupLag, lagTrend } from '../domain/group-lag';
import type { GroupLag, LagSample, LagTrend, PartitionState } from '../domain/group-lag';
import { OffsetLookupTable } from '../domain/time-lag';

/** Options of {@link LagExporter}. */
export interface LagExporterOptions {
  admin: () => KafkaAdmin | undefined;
  groups: readonly string[];
  clusterName: string;
  metrics: KafkaLagMetrics;
  logger: Logger;
  tablePoints: number;
  historyMs: number;
  trendWindowMs: number;
  now?: () => number;
}

/** A group's lag with its recent history and trend, for the page. */
export interface GroupLagView extends GroupLag {
  trend: LagTrend;
  history: LagSample[];
}

/** What the last poll found. */
export interface LagReport {
  polledAt: string | null;
  groups: GroupLagView[];
  error: string | null;
}

/**
 * kafka-lag-exporter inside the console: each poll reads, from the brokers, every configured
 * group's committed offsets and members and the earliest and latest offsets of the partitions it
 * reads, and exports them under kafka-lag-exporter's metric names. It reads the brokers, not the
 * consumers, so the series stay (and keep growing) while every ingest instance is down, and one
 * exporter reports each group once however many instances it has.
 */
export class LagExporter {
  private readonly tables = new Map<string, OffsetLookupTable>();
  private readonly history = new Map<string, LagSample[]>();
  private report: LagReport = { polledAt: null, groups: [], error: null };
  private readonly now: () => number;

  constructor(private readonly options: LagExporterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The last poll's result. */
  current(): LagReport {
    return this.report;
  }

  /** Reads the brokers once and updates the gauges. Never throws: a failure is reported. */
  async poll(): Promise<void> {
    const admin = this.options.admin();
    if (admin === undefined) return;
    const started = this.now();
    try {
      const descriptions = new Map(
        (await admin.describeGroups(this.options.groups)).map((group) => [group.groupId, group]),
      );
      const latestByTopic = new Map<string, Map<number, { earliest: number; latest: number }>>();
      const offsetsOf = async (topic: string) => {
        let offsets = latestByTopic.get(topic);
        if (offsets === undefined) {
          offsets = new Map(
            (await admin.partitionOffsets(topic)).map((p) => [
              p.partition,
              { earliest: Number(p.earliest), latest: Number(p.latest) },
            ]),
          );
          latestByTopic.set(topic, offsets);
        }
        return offsets;
      };
      const states = new Map<string, PartitionState[]>();
      for (const group of this.options.groups) {
        const description = descriptions.get(group);
        const owner = new Map<string, PartitionState['member']>();
        for (const member of description?.members ?? []) {
          for (const [topic, partitions] of Object.entries(member.assignment)) {
            for (const partition of partitions) {
              owner.set(`${topic}/${partition}`, {
                host: member.clientHost.replace(/^\//, ''),
                consumerId: member.memberId,
                clientId: member.clientId,
              });
            }
          }
        }
        const committed = await admin.committedOffsets(group);
        const rows: PartitionState[] = [];
        for (const entry of committed) {
          const offsets = (await offsetsOf(entry.topic)).get(entry.partition);
          if (offsets === undefined) continue;
          rows.push({
            topic: entry.topic,
            partition: entry.partition,
            earliest: offsets.earliest,
            latest: offsets.latest,
            committed: entry.offset === null ? null : Number(entry.offset),
            member: owner.get(`${entry.topic}/${entry.partition}`) ?? null,
          });
        }
        states.set(group, rows);
      }
      const nowMs = this.now();
      for (const [topic, partitions] of latestByTopic) {
        for (const [partition, offsets] of partitions) {
          this.table(topic, partition).add({ offset: offsets.latest, timeMs: nowMs });
        }
      }
      const groups = this.options.groups.map((group) => {
        const description = descriptions.get(group);
        return computeGroupLag({
          group,
          state: description?.state ?? 'Unknown',
          members: description?.members.length ?? 0,
          isSimpleConsumer: description === undefined || description.protocolType === '',
          partitions: (states.get(group) ?? []).sort(
            (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition,
          ),
          tables: (topic, partition) => this.table(topic, partition),
          nowMs,
        });
      });
      this.export(groups, latestByTopic, nowMs - started);
      this.report = {
        polledAt: new Date(nowMs).toISOString(),
        groups: groups.map((group) => this.withHistory(group, nowMs)),
        error: null,
      };
    } catch (error) {
      this.options.logger.warn({ err: error }, 'reading consumer lag failed');
      this.report = { ...this.report, error: (error as Error).message };
    }
  }

  private table(topic: string, partition: number): OffsetLookupTable {
    const key = `${topic}/${partition}`;
    let table = this.tables.get(key);
    if (table === undefined) {
      table = new OffsetLookupTable(this.options.tablePoints);
      this.tables.set(key, table);
    }
    return table;
  }

  private withHistory(group: GroupLag, nowMs: number): GroupLagView {
    const samples = this.history.get(group.group) ?? [];
    samples.push({ timeMs: nowMs, sumLag: group.sumLag, maxLagSeconds: group.maxLagSeconds });
    while (samples.length > 0 && (samples[0]?.timeMs ?? nowMs) < nowMs - this.options.historyMs)
      samples.shift();
    this.history.set(group.group, samples);
    return {
      ...group,
      trend: lagTrend(samples, nowMs, this.options.trendWindowMs),
      history: [...samples],
    };
  }

  /**
   * Replaces every series in one synchronous step, so a scrape never sees a partial set, and a
   * partition that moved to another member loses its old member labels.
   */
  private export(
    groups: readonly GroupLag[],
    offsets: Map<string, Map<number, { earliest: number; latest: number }>>,
    pollMs: number,
  ): void {
    const m = this.options.metrics;
    const cluster = this.options.clusterName;
    for (const gauge of [
      m.groupOffset,
      m.groupLag,
      m.groupLagSeconds,
      m.groupMaxLag,
      m.groupMaxLagSeconds,
      m.groupSumLag,
      m.groupTopicSumLag,
      m.partitionLatestOffset,
      m.partitionEarliestOffset,
    ]) {
      gauge.reset();
    }
    for (const [topic, partitions] of offsets) {
      for (const [partition, { earliest, latest }] of partitions) {
        const labels = { cluster_name: cluster, topic, partition: String(partition) };
        m.partitionLatestOffset.set(labels, latest);
        m.partitionEarliestOffset.set(labels, earliest);
      }
    }
    for (const group of groups) {
      const simple = String(group.isSimpleConsumer);
      for (const partition of group.partitions) {
        const labels = {
          cluster_name: cluster,
          group: group.group,
          topic: partition.topic,
          partition: String(partition.partition),
          member_host: partition.member?.host ?? 'unknown',
          consumer_id: partition.member?.consumerId ?? 'unknown',
          client_id: partition.member?.clientId ?? 'unknown',
        };
        if (partition.committed !== null) m.groupOffset.set(labels, partition.committed);
        m.groupLag.set(labels, partition.lag);
        if (partition.lagSeconds !== null) m.groupLagSeconds.set(labels, partition.lagSeconds);
      }
      m.groupMaxLag.set(
        { cluster_name: cluster, group: group.group, is_simple_consumer: simple },
        group.maxLag,
      );
      if (group.maxLagSeconds !== null) {
        m.groupMaxLagSeconds.set(
          { cluster_name: cluster, group: group.group, is_simple_consumer: simple },
          group.maxLagSeconds,
        );
      }
      m.groupSumLag.set({ cluster_name: cluster, group: group.group }, group.sumLag);
      for (const [topic, sum] of Object.entries(group.topicSumLag)) {
        m.groupTopicSumLag.set({ cluster_name: cluster, group: group.group, topic }, sum);
      }
    }
    m.pollSeconds.set({ cluster_name: cluster }, pollMs / 1000);
  }
}
