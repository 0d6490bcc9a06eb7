import { featureNames } from '@streamtrain/features';
import { PostgresTrainerStore } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import type { LabelledSet } from '../domain/retrain-policy';

/**
 * The most recent `limit` examples of the trainer's holdout (the members it recorded, by
 * `isHoldout`), with their current labels and features: what the continuous gate compares on,
 * read through the trainer's store (read only here).
 */
export async function readGateHoldout(
  pool: Pool,
  modelName: string,
  limit: number,
): Promise<LabelledSet> {
  const store = new PostgresTrainerStore(pool, modelName, featureNames().length);
  const set = await store.readExamplesById(await store.recentHoldout(limit));
  return { transactionIds: set.transactionIds, features: set.features, labels: set.labels };
}
