/**
 * The pipeline's rules, for the drivers that run them outside the service (the quality
 * evaluation, the stores' agreement test, the scorer's live quality): the pass, the watermark
 * and maturity rules, the store port and the in-memory store. The service itself starts from `main.ts`.
 */
export { runPipelinePass, computeFeaturesYielding } from './domain/pipeline-pass';
export type { PassOutcome, PipelinePassOptions } from './domain/pipeline-pass';
export { countCorrections, matureCandidates, nextMaturedUntil } from './domain/maturity';
export { advanceWatermark } from './domain/watermark';
export type { WatermarkAdvance } from './domain/watermark';
export type {
  ExampleCorrections,
  MaturedExample,
  MaturityCandidate,
  MaturityCandidates,
  MaturityQuery,
} from './domain/maturity';
export type {
  FeatureCheckpoint,
  FeatureCheckpointWrite,
  FeatureStateStore,
  ProcessedBatchRef,
  StateSegment,
  FeatureRow,
  LandedTransaction,
  PipelineState,
  PipelineStore,
  PipelineTransaction,
  ProcessedBatch,
} from './domain/pipeline-store';
export { InMemoryPipelineStore } from './adapters/in-memory-pipeline-store';
export { PipelineFeatureState, FEATURE_CHECKPOINT_FORMAT } from './domain/pipeline-feature-state';
export type {
  CheckpointOutcome,
  PipelineFeatureStateOptions,
  StateLoad,
} from './domain/pipeline-feature-state';
