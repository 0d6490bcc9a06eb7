/**
 * The one feature definition of streamtrain, shared by the streaming pipeline, the orchestrated
 * retrain and the scorer: the Fraud Detection Handbook's baseline transformations, computed point in
 * time. Pure: no I/O, no clock, no randomness.
 */
export { toFeatureInput } from './feature-input';
export type { FeatureInput, FeatureSource, KnownLabel } from './feature-input';
export { DEFAULT_FEATURE_OPTIONS } from './feature-options';
export type { FeatureOptions } from './feature-options';
export { FEATURE_SET_VERSION, featureNames } from './feature-names';
export { historyRange, lookBackMs } from './history-range';
export type { EventTimeRange } from './history-range';
export { computeFeatures } from './compute-features';
export type { FeatureVector } from './compute-features';
export { FeatureState } from './feature-state';
export type { FeatureStateOptions } from './feature-state';
export { assembleVectors, hashShare } from './key-share';
export type { KeyShare, TransactionParts } from './key-share';
