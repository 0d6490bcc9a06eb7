import { randomUUID } from 'node:crypto';
import { ROUTING_KEYS } from '@streamtrain/contracts';
import type { Transaction } from '@streamtrain/contracts';
import { FEATURE_SET_VERSION, featureNames } from '@streamtrain/features';
import { FraudModel, loadBackend } from '@streamtrain/model';
import {
  createEventHarness,
  createTestTopics,
  testLogger,
  testServers,
  uniqueName,
} from '@streamtrain/testkit';
import type { EventHarness, TestTopics } from '@streamtrain/testkit';
import { inTransaction, registerModelVersion } from '@streamtrain/warehouse';
import { loadScorerConfig } from '../src/config';
import { createScorerService } from '../src/service';
import type { ScorerService } from '../src/service';

export const TOKEN = 'test-token-0123456789abcdef';
const DAY_MS = 86_400_000;

/** Isolated servers for one scorer test. */
export interface ScorerHarness {
  events: EventHarness;
  topics: TestTopics;
  /** The environment of a scorer on the harness (a fresh consumer group each call). */
  scorerEnv(env?: Record<string, string>): Record<string, string>;
  /** Starts a scorer instance on the harness (stopped by `dispose`). */
  startScorer(env?: Record<string, string>): Promise<ScorerService>;
  /** Registers a new champion (an untrained model from `seed`) and announces it. */
  promote(seed: number, announce?: boolean): Promise<{ versionId: string; version: number }>;
  dispose(): Promise<void>;
}

/** Builds a {@link ScorerHarness}: a migrated schema, an exchange, and topics. */
export async function createScorerHarness(): Promise<ScorerHarness> {
  await loadBackend({ preferred: 'auto', logger: testLogger });
  const events = await createEventHarness();
  const topics = await createTestTopics(['tx.web', 'tx.labels', 'tx.scores']);
  const running: ScorerService[] = [];
  const scorerEnv = (env: Record<string, string> = {}): Record<string, string> => ({
    ...events.env,
    KAFKA_BROKERS: testServers().kafkaBrokers.join(','),
    SCORER_API_TOKEN: TOKEN,
    SCORER_TOPICS: topics.names['tx.web'] as string,
    SCORER_LABELS_TOPIC: topics.names['tx.labels'] as string,
    SCORER_SCORES_TOPIC: topics.names['tx.scores'] as string,
    SCORER_GROUP_ID: uniqueName('scorer'),
    ...env,
  });
  return {
    events,
    topics,
    scorerEnv,
    async startScorer(env = {}) {
      const config = loadScorerConfig(scorerEnv(env));
      const service = createScorerService(config, testLogger, () => undefined);
      running.push(service);
      await service.start();
      return service;
    },
    async promote(seed, announce = true) {
      const model = FraudModel.create(featureNames(), { seed });
      const artifact = await model.toArtifact();
      model.dispose();
      const versionId = randomUUID();
      const version = await inTransaction(events.schema.pool, (client) =>
        registerModelVersion(client, {
          versionId,
          modelName: 'fraud',
          parentVersionId: null,
          promote: true,
          gateReason: 'test',
          metrics: { auc: null, averagePrecision: null, examples: 0, positives: 0 },
          championMetrics: null,
          lineage: {
            exampleSetIds: [],
            sourceBatchIds: [],
            offsets: [],
            labelCutoff: null,
            featureSetVersion: FEATURE_SET_VERSION,
            parentVersionId: null,
          },
          artifact,
          backend: 'test',
          trainedSamples: 0,
        }),
      );
      if (announce) {
        await events.amqp.publish({
          routingKey: ROUTING_KEYS.modelPublished,
          messageId: versionId,
          body: {
            schemaVersion: 1,
            type: 'model.published',
            modelName: 'fraud',
            versionId,
            version,
            parentVersionId: null,
            trainedOnBatches: [],
            metrics: { auc: null, averagePrecision: null, examples: 0, positives: 0 },
            occurredAt: new Date().toISOString(),
          },
        });
      }
      return { versionId, version };
    },
    async dispose() {
      for (const service of running) await service.stop();
      await topics.remove();
      await events.dispose();
    },
  };
}

/** `count` transactions of a few cards and terminals, one every `stepMs` from `startMs`. */
export function transactions(count: number, startMs: number, stepMs = DAY_MS / 50): Transaction[] {
  return Array.from({ length: count }, (_, i) => ({
    schemaVersion: 1 as const,
    transactionId: `t-${startMs}-${i}`,
    customerId: `c${i % 13}`,
    terminalId: `m${i % 7}`,
    amount: 10 + ((i * 37) % 300),
    eventTime: new Date(startMs + i * stepMs).toISOString(),
    channel: 'web' as const,
  }));
}
