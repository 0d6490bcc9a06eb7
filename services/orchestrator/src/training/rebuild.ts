import { createHash } from 'node:crypto';
import { StreamtrainError } from '@streamtrain/contracts';
import { featureNames } from '@streamtrain/features';
import { examplesOf, filterExamples, isHoldout, toExampleSet } from '@streamtrain/training';
import type { ExampleSet, FitOptions } from '@streamtrain/training';
import { PostgresExampleReadModel, readVersionArtifact } from '@streamtrain/warehouse';
import type { Pool } from '@streamtrain/warehouse';
import type { ModelArtifact } from '@streamtrain/model';
import { RetrainParams, buildDatasets, runLineageOf } from '../domain/retrain-policy';
import type { LabelledSet } from '../domain/retrain-policy';
import { extractWindow } from '../workflow/retrain-workflow';
import { trainCandidate } from './model-training';
import type { WeightAverage } from './model-training';

/** What a rebuild found. */
export interface RebuildReport {
  versionId: string;
  /** `window` (an orchestrated run) or `example-sets` (a continuous-training step). */
  source: 'window' | 'example-sets';
  examples: number;
  storedBackend: string;
  rebuiltBackend: string;
  identical: boolean;
  storedWeightsSha256: string;
  rebuiltWeightsSha256: string;
  /** Largest absolute difference between a stored and a rebuilt weight. */
  maxAbsDifference: number;
}

const sha256 = (base64: string): string =>
  createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex');

function maxDifference(a: string, b: string): number {
  const left = new Float32Array(new Uint8Array(Buffer.from(a, 'base64')).buffer);
  const right = new Float32Array(new Uint8Array(Buffer.from(b, 'base64')).buffer);
  if (left.length !== right.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < left.length; i += 1) {
    max = Math.max(max, Math.abs((left[i] as number) - (right[i] as number)));
  }
  return max;
}

/** The options a recorded fit implies (a model built from scratch is seeded with the shuffle seed). */
function fitParams(fit: FitOptions): Partial<RetrainParams> {
  return {
    epochs: fit.epochs,
    batchSize: fit.batchSize,
    positiveWeight: fit.positiveWeight,
    seed: fit.shuffleSeed,
  };
}

/** `set`'s rows in the order `ids` names them; a missing row is an error (the rebuild cannot be exact). */
function inOrder(set: ExampleSet, ids: readonly string[]): ExampleSet {
  const at = new Map(set.transactionIds.map((id, i) => [id, i]));
  const missing = ids.filter((id) => !at.has(id));
  if (missing.length > 0) {
    throw new StreamtrainError(
      'REGISTRY_OPERATION_REFUSED',
      `${missing.length} replayed example(s) are gone from the warehouse (first: ${missing[0]})`,
    );
  }
  return toExampleSet(
    ids.map((id) => {
      const i = at.get(id) as number;
      return {
        transactionId: id,
        eventTimeMs: set.eventTimesMs[i] as number,
        label: set.labels[i] as number,
        features: set.features.subarray(i * set.width, (i + 1) * set.width),
      };
    }),
    set.width,
  );
}

function concatSets(first: ExampleSet, second: ExampleSet): ExampleSet {
  return toExampleSet([...examplesOf(first), ...examplesOf(second)], first.width);
}

/**
 * Retrains `versionId` from the warehouse rows its lineage names (an orchestrated run's windows,
 * or a continuous step's example sets, warm-started from its parent) with the recorded options,
 * and compares the weights bit for bit.
 *
 * @param fallbackTraining options for versions whose lineage predates recorded training options
 *   (the continuous trainer's defaults).
 */
export async function rebuildVersion(
  pool: Pool,
  versionId: string,
  backend: string,
  fallbackTraining: Partial<RetrainParams> = {},
): Promise<RebuildReport> {
  const stored = await readVersionArtifact(pool, versionId);
  if (stored === null) {
    throw new StreamtrainError('REGISTRY_OPERATION_REFUSED', `no version ${versionId}`);
  }
  const { lineage } = stored.record;
  const run = runLineageOf(lineage);
  const params = RetrainParams.parse({
    ...fallbackTraining,
    ...(lineage.fit === undefined ? {} : fitParams(lineage.fit)),
    ...run?.training,
  });
  const parent =
    lineage.parentVersionId === null
      ? null
      : ((await readVersionArtifact(pool, lineage.parentVersionId))?.artifact ?? null);
  if (lineage.parentVersionId !== null && parent === null) {
    throw new StreamtrainError(
      'REGISTRY_OPERATION_REFUSED',
      `parent ${lineage.parentVersionId} of ${versionId} is gone`,
    );
  }
  let source: RebuildReport['source'];
  let train: LabelledSet;
  const examples = new PostgresExampleReadModel(pool, featureNames().length);
  const fromScratch = lineage.window !== undefined && !params.warmStart;
  if (run !== undefined) {
    source = 'window';
    const extracted = await extractWindow(pool, run.windows);
    train = buildDatasets(extracted.history, extracted.labels, run.windows, params).train;
  } else if (lineage.window !== undefined) {
    // `retrainOnWindow` (the `retrain-window` workflow): the window's matured examples less the
    // holdout, from scratch.
    source = 'window';
    train = filterExamples(
      await examples.readExamplesBetween(
        Date.parse(lineage.window.from),
        Date.parse(lineage.window.to),
      ),
      (id) => !isHoldout(id),
    );
  } else {
    source = 'example-sets';
    // A continuous step trained on its batches' examples less the holdout (`isHoldout`), then on
    // what its replay buffer kept of earlier steps' examples, in the recorded order.
    const fresh = filterExamples(
      await examples.readExamples(lineage.exampleSetIds),
      (id) => !isHoldout(id),
    );
    const replayedIds = lineage.replayedTransactionIds ?? [];
    train =
      replayedIds.length === 0
        ? fresh
        : concatSets(fresh, inOrder(await examples.readExamplesById(replayedIds), replayedIds));
  }
  const averaging = lineage.weightAveraging;
  let average: WeightAverage | null = null;
  if (averaging !== undefined && averaging.alpha > 0) {
    const withArtifact = await readVersionArtifact(pool, averaging.withVersionId);
    if (withArtifact === null) {
      throw new StreamtrainError(
        'REGISTRY_OPERATION_REFUSED',
        `version ${averaging.withVersionId}, which ${versionId} was averaged with, is gone`,
      );
    }
    average = { artifact: withArtifact.artifact, alpha: averaging.alpha };
  }
  const rebuilt = await trainCandidate(train, fromScratch ? null : parent, params, average);
  const storedArtifact = stored.artifact as ModelArtifact;
  return {
    versionId,
    source,
    examples: train.labels.length,
    storedBackend: stored.record.backend,
    rebuiltBackend: backend,
    identical: rebuilt.artifact.weightsBase64 === storedArtifact.weightsBase64,
    storedWeightsSha256: sha256(storedArtifact.weightsBase64),
    rebuiltWeightsSha256: sha256(rebuilt.artifact.weightsBase64),
    maxAbsDifference: maxDifference(storedArtifact.weightsBase64, rebuilt.artifact.weightsBase64),
  };
}
