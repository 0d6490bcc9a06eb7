/**
 * The trainer's rules, pure and behind small ports: which batches are pending, when a step is due,
 * what it trains on, holdout membership, the gate call, the lineage recorded and which version a
 * step warm-starts from; and the batch policy of retraining from scratch on a window. The trainer
 * service, the orchestrator and the quality evaluation all drive this code.
 */
export { HOLDOUT_MODULUS, fnv1a32, isHoldout } from './holdout';
export {
  compareIds,
  emptyExampleSet,
  filterExamples,
  filterExamplesAt,
  toExampleSet,
} from './example-set';
export type { Example, ExampleSet } from './example-set';
export { isStepDue } from './cadence';
export { versionIdFor } from './version-id';
export type { FitOptions, ModelFactory, TrainableModel } from './model-port';
export { metricsGate, metricsOf, promoteEveryVersion, underPin } from './gate-strategy';
export type { GateInput, GateStrategy, GateVerdict, PromotionPin } from './gate-strategy';
export { examplesOf, freshExamplesOnly, replayBufferComposer } from './training-set';
export type { ExampleBuffer, TrainingSetComposer, TrainingSetContext } from './training-set';
export type {
  AcceptedBatch,
  CommittedVersion,
  ExampleReadModel,
  ExampleRef,
  Lineage,
  ModelAlias,
  NewVersion,
  PendingBatch,
  SourceBatches,
  StepCommit,
  StoredModel,
  TrainerStore,
} from './trainer-store';
export { ChampionScoreCache, judgeAndRegister } from './evaluate-and-register';
export type { JudgeOptions, Registration, TrainedCandidate } from './evaluate-and-register';
export { ContinuousTrainer } from './continuous-trainer';
export type {
  Acceptance,
  ContinuousTrainerPolicy,
  ReadyBatch,
  StepOutcome,
} from './continuous-trainer';
export { AveragingSchedule, freshFraudLoss } from './weight-averaging';
export type { AveragingBackoff, AveragingDecision } from './weight-averaging';
export { retrainOnWindow } from './retrain-on-window';
export type { RetrainOutcome, RetrainPolicy, RetrainWindow } from './retrain-on-window';
export { InMemoryTrainerStore } from './in-memory-trainer-store';
export type { RegisteredVersion } from './in-memory-trainer-store';
