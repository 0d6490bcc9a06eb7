import { z } from 'zod';
import { StreamtrainError } from '@streamtrain/contracts';
import type { NormalizerState } from './normalizer';

/** The artifact format this build writes and reads. */
export const MODEL_ARTIFACT_FORMAT = 'streamtrain.fraud-model/v1';

/** One weight tensor in {@link ModelArtifact.weightsBase64}, in order. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/**
 * Everything needed to rebuild a {@link FraudModel}, as plain JSON so it can be stored in a
 * PostgreSQL `jsonb` column and sent in messages; no file system is involved.
 */
export interface ModelArtifact {
  format: typeof MODEL_ARTIFACT_FORMAT;
  /** Feature order the model expects; callers build rows in exactly this order. */
  featureNames: string[];
  /** The tfjs-layers (Keras-style) model topology JSON. */
  topology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  /** All weights as little-endian float32 values, concatenated in `weightSpecs` order. */
  weightsBase64: string;
  /** Running input statistics; the model is meaningless without the scale it was trained on. */
  normalizer: NormalizerState;
  /** Examples seen over the model's whole (warm-started) life, counting every epoch once. */
  trainedSamples: number;
  /** Adam's learning rate, kept so a warm start continues with the same step size. */
  learningRate: number;
  /**
   * Adam's state, so a warm start continues the same optimisation instead of restarting Adam
   * (whose first steps after a restart move every weight by about the learning rate). Absent in
   * artifacts of models never trained, and in those written before it existed.
   */
  optimizer?: OptimizerState;
}

/** Adam's step count and moment estimates, as stored in a {@link ModelArtifact}. */
export interface OptimizerState {
  kind: 'adam';
  /** Gradient steps taken so far (Adam's bias correction depends on it). */
  iterations: number;
  /**
   * Adam's running powers β₁ᵗ⁺¹ and β₂ᵗ⁺¹ as the optimizer accumulated them (products in float32,
   * which differ in the last bits from a recomputed power), so a restored Adam steps identically.
   */
  betaPowers: [number, number];
  /**
   * First moments then second moments, little-endian float32, each in `weightSpecs` order and
   * shape (every weight of the network is trainable).
   */
  momentsBase64: string;
}

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

const ModelArtifactSchema = z
  .object({
    format: z.literal(MODEL_ARTIFACT_FORMAT),
    featureNames: z
      .array(z.string().min(1))
      .min(1)
      .refine((names) => new Set(names).size === names.length, 'feature names must be unique'),
    topology: z.record(z.string(), z.unknown()),
    weightSpecs: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          shape: z.array(z.int().nonnegative()),
          dtype: z.literal('float32'),
        }),
      )
      .min(1),
    weightsBase64: z.base64(),
    normalizer: z.object({
      count: z.int().nonnegative(),
      mean: z.array(finite),
      m2: z.array(finite.refine((v) => v >= 0, 'expected a non-negative number')),
    }),
    trainedSamples: z.int().nonnegative(),
    learningRate: finite.refine((v) => v > 0, 'expected a positive number'),
    optimizer: z
      .strictObject({
        kind: z.literal('adam'),
        iterations: z.int().nonnegative(),
        betaPowers: z.tuple([finite, finite]),
        momentsBase64: z.base64(),
      })
      .optional(),
  })
  .superRefine((artifact, context) => {
    const features = artifact.featureNames.length;
    for (const key of ['mean', 'm2'] as const) {
      if (artifact.normalizer[key].length !== features) {
        context.addIssue({
          code: 'custom',
          path: ['normalizer', key],
          message: `has ${artifact.normalizer[key].length} values for ${features} features`,
        });
      }
    }
  }) satisfies z.ZodType<ModelArtifact>;

/** The error every artifact problem is reported with: code `MODEL_ARTIFACT_INVALID`. */
export function invalidArtifactError(reason: string, cause?: unknown): StreamtrainError {
  return new StreamtrainError('MODEL_ARTIFACT_INVALID', `model artifact invalid: ${reason}`, {
    cause,
  });
}

/** An artifact that passed validation, with its weights decoded. */
export interface DecodedArtifact {
  readonly artifact: ModelArtifact;
  readonly weightData: ArrayBuffer;
  /** Adam's moments (first, then second), when the artifact holds an optimizer state. */
  readonly moments?: Float32Array;
}

/**
 * Validates `value` as a {@link ModelArtifact} and decodes its weights.
 * @throws StreamtrainError `MODEL_ARTIFACT_INVALID` listing every problem found.
 */
export function decodeArtifact(value: unknown): DecodedArtifact {
  const parsed = ModelArtifactSchema.safeParse(value);
  if (!parsed.success) {
    throw invalidArtifactError(
      parsed.error.issues
        .map(
          (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
        )
        .join('; '),
    );
  }
  const artifact = parsed.data;
  const encoded = Buffer.from(artifact.weightsBase64, 'base64');
  const expectedBytes =
    artifact.weightSpecs.reduce((sum, spec) => sum + spec.shape.reduce((n, d) => n * d, 1), 0) * 4;
  if (encoded.length !== expectedBytes) {
    throw invalidArtifactError(
      `weightsBase64 holds ${encoded.length} bytes but weightSpecs describe ${expectedBytes}`,
    );
  }
  // Copy into a fresh ArrayBuffer: a small Buffer is a view into Node's shared 8 KiB pool, so its
  // `.buffer` holds unrelated bytes, and tfjs reads the whole ArrayBuffer it is given.
  const weights = new Uint8Array(encoded.length);
  weights.set(encoded);
  if (artifact.optimizer === undefined) return { artifact, weightData: weights.buffer };
  const moments = Buffer.from(artifact.optimizer.momentsBase64, 'base64');
  if (moments.length !== 2 * expectedBytes) {
    throw invalidArtifactError(
      `optimizer.momentsBase64 holds ${moments.length} bytes but two moments of weightSpecs take ${2 * expectedBytes}`,
    );
  }
  const momentBytes = new Uint8Array(moments.length);
  momentBytes.set(moments);
  return { artifact, weightData: weights.buffer, moments: new Float32Array(momentBytes.buffer) };
}

/** Encodes tfjs weight bytes for {@link ModelArtifact.weightsBase64}. */
export function encodeWeights(weightData: ArrayBuffer): string {
  return Buffer.from(weightData).toString('base64');
}
