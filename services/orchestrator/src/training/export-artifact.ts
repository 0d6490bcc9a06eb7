import { DEFAULT_FEATURE_OPTIONS, FEATURE_SET_VERSION } from '@streamtrain/features';
import type { ModelArtifact } from '@streamtrain/model';

const MIN_VARIANCE = 1e-12;

/** A version as files a tfjs consumer loads: `model.json` + `weights.bin`, the normaliser, the feature spec. */
export interface ExportedModel {
  /** tfjs layers-model JSON, its manifest naming `weights.bin`. */
  'model.json': {
    format: 'layers-model';
    generatedBy: string;
    convertedBy: null;
    modelTopology: Record<string, unknown>;
    weightsManifest: { paths: string[]; weights: ModelArtifact['weightSpecs'] }[];
  };
  /** The float32 weights, little-endian, in manifest order. */
  'weights.bin': Buffer;
  /** Standardise each input as `(x - mean[i]) / std[i]` before predicting. */
  'normaliser.json': { featureNames: string[]; mean: number[]; std: number[]; count: number };
  /** Which features, in which order, computed how. */
  'feature-spec.json': {
    featureSetVersion: number;
    featureNames: string[];
    options: typeof DEFAULT_FEATURE_OPTIONS;
    versionId: string;
  };
}

/**
 * Turns a registry artifact into the files a consumer loads with `tf.loadLayersModel`. The
 * normaliser's scale is the model's own rule (variance below 1e-12 counts as 1) spelled out as a
 * standard deviation, so a consumer needs no streamtrain code.
 */
export function exportArtifact(versionId: string, artifact: ModelArtifact): ExportedModel {
  const { normalizer } = artifact;
  return {
    'model.json': {
      format: 'layers-model',
      generatedBy: `streamtrain ${artifact.format}`,
      convertedBy: null,
      modelTopology: artifact.topology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifact.weightSpecs }],
    },
    'weights.bin': Buffer.from(artifact.weightsBase64, 'base64'),
    'normaliser.json': {
      featureNames: artifact.featureNames,
      mean: normalizer.mean,
      std: normalizer.m2.map((m2) => {
        const variance = normalizer.count > 0 ? m2 / normalizer.count : 1;
        return variance > MIN_VARIANCE ? Math.sqrt(variance) : 1;
      }),
      count: normalizer.count,
    },
    'feature-spec.json': {
      featureSetVersion: FEATURE_SET_VERSION,
      featureNames: artifact.featureNames,
      options: DEFAULT_FEATURE_OPTIONS,
      versionId,
    },
  };
}
