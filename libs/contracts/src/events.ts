import { z } from 'zod';

// Events accept fields they do not know (and drop them), so a producing service may add an
// optional field before its consumers are upgraded; see docs/CONTRACTS.md.

/** RabbitMQ routing keys on the `streamtrain.events` topic exchange. */
export const ROUTING_KEYS = {
  batchArrived: 'batch.arrived',
  featuresReady: 'features.ready',
  modelPublished: 'model.published',
} as const;

/** An offset range `[firstOffset, lastOffset]` of one topic partition (offsets as strings, as Kafka has them). */
export const OffsetRange = z.object({
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  firstOffset: z.string().regex(/^\d+$/),
  lastOffset: z.string().regex(/^\d+$/),
});
/** One topic partition's offset range. */
export type OffsetRange = z.infer<typeof OffsetRange>;

/** Published by ingest once per warehouse batch, through the outbox. */
export const BatchArrivedV1 = z.object({
  schemaVersion: z.literal(1),
  type: z.literal('batch.arrived'),
  batchId: z.string().min(1),
  transactionCount: z.number().int().nonnegative(),
  labelCount: z.number().int().nonnegative(),
  minEventTime: z.iso.datetime({ offset: true }).nullable(),
  maxEventTime: z.iso.datetime({ offset: true }).nullable(),
  offsets: z.array(OffsetRange),
  occurredAt: z.iso.datetime({ offset: true }),
});
/** A batch-arrived event. */
export type BatchArrived = z.infer<typeof BatchArrivedV1>;

/** Published by the pipeline once a batch's features and newly matured examples are stored. */
export const FeaturesReadyV1 = z.object({
  schemaVersion: z.literal(1),
  type: z.literal('features.ready'),
  batchId: z.string().min(1),
  featureSetVersion: z.number().int().positive(),
  featureCount: z.number().int().nonnegative(),
  /** Training examples that matured with this batch (their label is now known). */
  exampleCount: z.number().int().nonnegative(),
  /** The largest event time the pipeline has seen: labels and maturity are judged against it. */
  watermark: z.iso.datetime({ offset: true }).nullable(),
  occurredAt: z.iso.datetime({ offset: true }),
});
/** A features-ready event. */
export type FeaturesReady = z.infer<typeof FeaturesReadyV1>;

/** Quality figures of a model version on its gate's holdout. */
export const ModelMetrics = z.object({
  auc: z.number().nullable(),
  averagePrecision: z.number().nullable(),
  examples: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
});
/** Quality figures of a model version. */
export type ModelMetrics = z.infer<typeof ModelMetrics>;

/** Published by the trainer when a version is promoted to champion. */
export const ModelPublishedV1 = z.object({
  schemaVersion: z.literal(1),
  type: z.literal('model.published'),
  modelName: z.string().min(1),
  versionId: z.string().min(1),
  version: z.number().int().positive(),
  parentVersionId: z.string().nullable(),
  trainedOnBatches: z.array(z.string()),
  metrics: ModelMetrics,
  occurredAt: z.iso.datetime({ offset: true }),
});
/** A model-published event. */
export type ModelPublished = z.infer<typeof ModelPublishedV1>;
