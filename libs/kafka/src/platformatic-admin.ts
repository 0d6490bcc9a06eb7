import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConfigResourceTypes,
  IncrementalAlterConfigOperationTypes,
  ListOffsetTimestamps,
} from '@platformatic/kafka';
import type { Admin } from '@platformatic/kafka';
import { isTopicAlreadyExists, retryWhileTopicUnknown } from './kafka-errors';
import { partitionLag } from './lag';
import type { KafkaAdmin, PartitionLag, PartitionOffsets, TopicSpec } from './types';

/** How long {@link KafkaAdmin.ensureTopics} waits for new partitions to have leaders. */
const LEADER_WAIT_MS = 30_000;

async function partitionCounts(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  return new Map(
    [...metadata.topics].map(([topic, { partitionsCount }]) => [topic, partitionsCount]),
  );
}

/** Waits until every partition of `topics` has a leader, as kafkajs's `waitForLeaders` does. */
async function waitForLeaders(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
      const led = [...metadata.topics.values()].every((topic) =>
        topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (led && metadata.topics.size === topics.length) return;
    } catch (error) {
      // A topic the controller has just created may not be in the metadata yet.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no leaders for ${topics.join(', ')}`);
    await sleep(100);
  }
}

/** Offsets at `timestamp` (latest or earliest) of every partition of `topic`. */
async function offsetsAt(
  admin: Admin,
  topic: string,
  timestamp: bigint,
): Promise<Map<number, string>> {
  const count = (await partitionCounts(admin, [topic])).get(topic) ?? 0;
  const listed = await admin.listOffsets({
    topics: [
      {
        name: topic,
        partitions: Array.from({ length: count }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      },
    ],
  });
  return new Map(
    (listed.find((entry) => entry.name === topic)?.partitions ?? []).map((partition) => [
      partition.partitionIndex,
      partition.offset.toString(),
    ]),
  );
}

/** `-1` is the protocol's "nothing committed". */
const committedOrNull = (offset: bigint): string | null => (offset < 0n ? null : offset.toString());

/** The {@link KafkaAdmin} on @platformatic/kafka's `Admin`. */
export function wrapPlatformaticAdmin(admin: Admin): KafkaAdmin {
  return {
    async ensureTopics(topics: readonly TopicSpec[]) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((spec) => !existing.has(spec.topic));
      if (missing.length === 0) return;
      // One request per topic: the configs of a CreateTopics call apply to all its topics.
      for (const spec of missing) {
        try {
          await admin.createTopics({
            topics: [spec.topic],
            partitions: spec.partitions ?? 4,
            replicas: 1,
            configs: Object.entries(spec.configEntries ?? {}).map(([name, value]) => ({
              name,
              value,
            })),
          });
        } catch (error) {
          // Created by someone else meanwhile: what kafkajs reports as "not created".
          if (!isTopicAlreadyExists(error)) throw error;
        }
      }
      await waitForLeaders(
        admin,
        missing.map((spec) => spec.topic),
      );
    },
    async deleteTopics(topics) {
      if (topics.length === 0) return;
      // A topic created a moment ago may not have reached the broker's metadata yet.
      await retryWhileTopicUnknown(() => admin.deleteTopics({ topics: [...topics] }));
    },
    listTopics: () => admin.listTopics(),
    async groupLag(groupId, topics) {
      const counts = await partitionCounts(admin, topics);
      const [group] = await admin.listConsumerGroupOffsets({
        groups: [
          {
            groupId,
            topics: [...counts].map(([name, count]) => ({
              name,
              partitionIndexes: Array.from({ length: count }, (_, index) => index),
            })),
          },
        ],
      });
      const lags: PartitionLag[] = [];
      for (const { name, partitions } of group?.topics ?? []) {
        const latest = await offsetsAt(admin, name, ListOffsetTimestamps.LATEST);
        for (const { partitionIndex, committedOffset } of partitions) {
          lags.push(
            partitionLag(
              name,
              partitionIndex,
              latest.get(partitionIndex) ?? '0',
              committedOrNull(committedOffset),
            ),
          );
        }
      }
      return lags;
    },
    async latestOffsets(topic) {
      const latest = await offsetsAt(admin, topic, ListOffsetTimestamps.LATEST);
      return [...latest].map(([partition, offset]) => ({ partition, offset }));
    },
    async partitionOffsets(topic) {
      const earliest = await offsetsAt(admin, topic, ListOffsetTimestamps.EARLIEST);
      const latest = await offsetsAt(admin, topic, ListOffsetTimestamps.LATEST);
      return [...latest].map(([partition, offset]): PartitionOffsets => ({
        partition,
        earliest: earliest.get(partition) ?? '0',
        latest: offset,
      }));
    },
    async committedOffsets(groupId) {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      return (group?.topics ?? []).flatMap(({ name, partitions }) =>
        partitions.map(({ partitionIndex, committedOffset }) => ({
          topic: name,
          partition: partitionIndex,
          offset: committedOrNull(committedOffset),
        })),
      );
    },
    async describeGroups(groupIds) {
      if (groupIds.length === 0) return [];
      const groups = await admin.describeGroups({ groups: [...groupIds] });
      return [...groups.values()].map((group) => ({
        groupId: group.id,
        state: group.state,
        protocolType: group.protocolType,
        members: [...group.members.values()].map((member) => {
          const assignment: Record<string, number[]> = {};
          if (group.protocolType === 'consumer') {
            for (const { topic, partitions } of member.assignments?.values() ?? []) {
              assignment[topic] = [...partitions];
            }
          }
          return {
            memberId: member.id,
            clientId: member.clientId,
            clientHost: member.clientHost,
            assignment,
          };
        }),
      }));
    },
    async maxMessageBytes(topics) {
      if (topics.length === 0) return {};
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((topic) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configurationKeys: ['max.message.bytes'],
        })),
      });
      const limits: Record<string, number> = {};
      for (const resource of described) {
        const entry = resource.configs.find((config) => config.name === 'max.message.bytes');
        if (entry?.value !== undefined && entry.value !== null) {
          limits[resource.resourceName] = Number(entry.value);
        }
      }
      return limits;
    },
    async setMaxMessageBytes(topic, bytes) {
      // IncrementalAlterConfigs sets this one entry and leaves the topic's other overrides.
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: [
              {
                name: 'max.message.bytes',
                configOperation: IncrementalAlterConfigOperationTypes.SET,
                value: String(bytes),
              },
            ],
          },
        ],
      });
    },
    disconnect: () => admin.close(),
  };
}
