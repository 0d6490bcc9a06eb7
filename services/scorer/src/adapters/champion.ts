import { StreamtrainError } from '@streamtrain/contracts';
import { featureNames } from '@streamtrain/features';
import { FraudModel } from '@streamtrain/model';
import type { DenseInference, FeatureMatrix } from '@streamtrain/model';
import type { ModelVersionRecord } from '@streamtrain/warehouse';

/** The model version serving now. */
export interface ServingModel {
  readonly versionId: string;
  readonly version: number;
  readonly modelName: string;
  readonly loadedAt: string;
  readonly record: ModelVersionRecord;
}

/** Scores and the one version that computed all of them. */
export interface ScoredRows {
  readonly scores: Float32Array;
  readonly model: ServingModel;
}

/**
 * Holds the champion and swaps it atomically. A new version is loaded beside the one serving,
 * then replaces it in one assignment. Scoring is synchronous from reading the slot to the last
 * prediction ({@link Champion.score}), so no request can see two versions and none can hold a
 * model across an `await`. The champion serves through its plain-JavaScript forward pass
 * (`FraudModel.inference`): a tfjs `predict` costs about 0.1 ms even for one row, which alone
 * would take a fifth of a core at 2,000 requests a second; the tfjs model is freed once loaded.
 */
export class Champion {
  private current: { model: DenseInference; serving: ServingModel } | undefined;
  private loading: Promise<ServingModel | null> = Promise.resolve(null);

  /** The version serving, or undefined before the first champion. */
  get serving(): ServingModel | undefined {
    return this.current?.serving;
  }

  /**
   * Loads `artifact` as version `record` and switches to it. Loads are serialised; one for the
   * version already serving changes nothing.
   *
   * @throws StreamtrainError `MODEL_ARTIFACT_INVALID` when the artifact does not load or was
   *   trained on other features than this build computes (serving it would skew); the version
   *   serving stays.
   * @returns the version serving afterwards.
   */
  load(record: ModelVersionRecord, artifact: unknown): Promise<ServingModel> {
    const next = this.loading.then(() => this.swapTo(record, artifact));
    this.loading = next.catch(() => null);
    return next;
  }

  /** Scores feature rows with the version serving now, all of them with that one version. */
  score(rows: FeatureMatrix): ScoredRows | undefined {
    const current = this.current;
    if (current === undefined) return undefined;
    return { scores: current.model.predict(rows), model: current.serving };
  }

  /** Stops serving: {@link Champion.score} answers undefined from now on. */
  dispose(): void {
    this.current = undefined;
  }

  private async swapTo(record: ModelVersionRecord, artifact: unknown): Promise<ServingModel> {
    if (this.current?.serving.versionId === record.versionId) return this.current.serving;
    const loaded = await FraudModel.fromArtifact(artifact);
    let model: DenseInference;
    try {
      model = loaded.inference();
    } catch (error) {
      throw new StreamtrainError(
        'MODEL_ARTIFACT_INVALID',
        `version ${record.versionId}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      loaded.dispose();
    }
    const expected = featureNames();
    if (
      model.featureNames.length !== expected.length ||
      model.featureNames.some((name, i) => name !== expected[i])
    ) {
      throw new StreamtrainError(
        'MODEL_ARTIFACT_INVALID',
        `version ${record.versionId} expects features [${model.featureNames.join(', ')}]; ` +
          `this scorer computes [${expected.join(', ')}]`,
      );
    }
    this.current = {
      model,
      serving: {
        versionId: record.versionId,
        version: record.version,
        modelName: record.modelName,
        loadedAt: new Date().toISOString(),
        record,
      },
    };
    return this.current.serving;
  }
}
