export { loadBackend } from './backend';
export type { BackendName, BackendPreference, LoadBackendOptions, LoadedBackend } from './backend';
export { DenseInference } from './dense-inference';
export type { DenseActivation, DenseInferenceSpec, DenseLayer } from './dense-inference';
export { FraudModel } from './fraud-model';
export type {
  FraudModelOptions,
  FromArtifactOptions,
  TrainOptions,
  TrainResult,
} from './fraud-model';
export { MODEL_ARTIFACT_FORMAT, decodeArtifact } from './artifact';
export type { DecodedArtifact, ModelArtifact, OptimizerState, WeightSpec } from './artifact';
export type { NormalizerState } from './normalizer';
export type { FeatureMatrix } from './feature-matrix';
export { gateCandidate, gateOnHoldout, statisticalGate } from './gate';
export type {
  GateDecision,
  GateEvidence,
  GatePolicy,
  HoldoutScores,
  ModelMetrics,
  StatisticalGateDecision,
  StatisticalGatePolicy,
} from './gate';
export type { ModelLogger } from './logger';
export { ReplayBuffer } from './replay-buffer';
export type { ReplayBufferOptions } from './replay-buffer';
