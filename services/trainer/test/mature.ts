import { matureCandidates } from '@streamtrain/pipeline';
import { readMaturityCandidates, saveTrainingExamples } from '@streamtrain/warehouse';
import type { PoolClient } from '@streamtrain/warehouse';

/** What the pipeline matures in one pass, as a test seeds it. */
export interface MaturityWindow {
  exampleSetId: string;
  watermarkMs: number;
  matureBeforeMs: number;
  previousMatureBeforeMs: number | null;
  batchIds: readonly string[];
}

/**
 * Matures training examples with the pipeline's own rule (`matureCandidates`) over the stored
 * transactions and labels, as a pipeline pass would; returns the examples written.
 */
export async function matureExamples(client: PoolClient, window: MaturityWindow): Promise<number> {
  const candidates = await readMaturityCandidates(client, window);
  return saveTrainingExamples(
    client,
    window.exampleSetId,
    window.watermarkMs,
    matureCandidates(candidates, window.watermarkMs),
  );
}
