import { StreamtrainError } from '@streamtrain/contracts';
import { FraudModel, decodeArtifact, loadBackend } from '@streamtrain/model';
import type { LoadedBackend, ModelArtifact } from '@streamtrain/model';
import { FEATURE_NAMES, separableDataset } from './synthetic-data';

let tfjs: LoadedBackend['tf'];
const train = separableDataset(2000, 1);
const holdout = separableDataset(1000, 2);
const fast = { hiddenUnits: [16, 8], learningRate: 0.01 };

beforeAll(async () => {
  ({ tf: tfjs } = await loadBackend());
});

describe('FraudModel', () => {
  it('when trained on a separable data set, then it ranks the holdout with AUC above 0.95', async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    const result = await model.train(train.x, train.y, { epochs: 3, batchSize: 64 });
    const metrics = model.evaluate(holdout.x, holdout.y);
    model.dispose();

    expect(result.samples).toBe(2000);
    expect(result.loss).toBeLessThan(0.3);
    expect(metrics.auc).toBeGreaterThan(0.95);
    expect(metrics.averagePrecision).toBeGreaterThan(0.7);
    expect(metrics).toMatchObject({ examples: 1000, positives: holdout.y.reduce((a, b) => a + b) });
  });

  it('when built twice with the same seed and trained alike, then the predictions are identical', async () => {
    const a = FraudModel.create(FEATURE_NAMES, { ...fast, seed: 7 });
    const b = FraudModel.create(FEATURE_NAMES, { ...fast, seed: 7 });
    const c = FraudModel.create(FEATURE_NAMES, { ...fast, seed: 8 });
    await a.train(train.x, train.y, { epochs: 1 });
    await b.train(train.x, train.y, { epochs: 1 });
    await c.train(train.x, train.y, { epochs: 1 });

    expect(a.predict(holdout.x)).toEqual(b.predict(holdout.x));
    expect(a.predict(holdout.x)).not.toEqual(c.predict(holdout.x));
    [a, b, c].forEach((model) => model.dispose());
  });

  it('when an artifact goes through JSON and back, then the reloaded model predicts identically', async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    await model.train(train.x, train.y, { epochs: 1 });
    const artifact: unknown = JSON.parse(JSON.stringify(await model.toArtifact()));
    const reloaded = await FraudModel.fromArtifact(artifact);
    const cloned = await model.clone();

    expect(reloaded.predict(holdout.x)).toEqual(model.predict(holdout.x));
    expect(cloned.predict(holdout.x)).toEqual(model.predict(holdout.x));
    expect(reloaded.trainedSamples).toBe(2000);
    expect(reloaded.featureNames).toEqual(FEATURE_NAMES);
    [model, reloaded, cloned].forEach((m) => m.dispose());
  });

  it('when warm-started from an artifact, then training continues from the saved weights', async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    const fresh = await model.train(train.x, train.y, { epochs: 2 });
    const reloaded = await FraudModel.fromArtifact(await model.toArtifact());
    const continued = await reloaded.train(train.x, train.y, { epochs: 1 });

    expect(continued.loss).toBeLessThanOrEqual(fresh.loss);
    expect(reloaded.trainedSamples).toBe(4000);
    [model, reloaded].forEach((m) => m.dispose());
  });

  it('when saved and restored between two batches, then training continues exactly as without the round trip', async () => {
    const first = {
      x: train.x.subarray(0, 1000 * FEATURE_NAMES.length),
      y: train.y.subarray(0, 1000),
    };
    const second = { x: train.x.subarray(1000 * FEATURE_NAMES.length), y: train.y.subarray(1000) };
    const options = { epochs: 2, batchSize: 64, shuffleSeed: 3 };
    const uninterrupted = FraudModel.create(FEATURE_NAMES, fast);
    await uninterrupted.train(first.x, first.y, options);
    const artifact: unknown = JSON.parse(JSON.stringify(await uninterrupted.toArtifact()));
    const restored = await FraudModel.fromArtifact(artifact);
    const reset = await FraudModel.fromArtifact(artifact, { optimizerState: 'reset' });
    for (const model of [uninterrupted, restored, reset]) {
      await model.train(second.x, second.y, options);
    }

    expect(artifact).toMatchObject({ optimizer: { kind: 'adam', iterations: 2 * 16 } });
    expect(restored.predict(holdout.x)).toEqual(uninterrupted.predict(holdout.x));
    expect(await restored.toArtifact()).toEqual(await uninterrupted.toArtifact());
    expect(reset.predict(holdout.x)).not.toEqual(uninterrupted.predict(holdout.x));
    [uninterrupted, restored, reset].forEach((m) => m.dispose());
  });

  it('when a model was never trained, then its artifact holds no optimizer state', async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    expect((await model.toArtifact()).optimizer).toBeUndefined();
    model.dispose();
  });

  it('when a batch arrives in two halves, then the input statistics equal those of the whole', async () => {
    const whole = FraudModel.create(FEATURE_NAMES, fast);
    const halves = FraudModel.create(FEATURE_NAMES, fast);
    const cut = 700 * FEATURE_NAMES.length;
    await whole.train(train.x, train.y, { epochs: 1 });
    await halves.train(train.x.subarray(0, cut), train.y.subarray(0, 700), { epochs: 1 });
    await halves.train(train.x.subarray(cut), train.y.subarray(700), { epochs: 1 });

    const a = (await whole.toArtifact()).normalizer;
    const b = (await halves.toArtifact()).normalizer;
    expect(b.count).toBe(a.count);
    b.mean.forEach((mean, i) => expect(mean).toBeCloseTo(a.mean[i] as number, 6));
    b.m2.forEach((m2, i) => expect(m2 / (a.m2[i] as number)).toBeCloseTo(1, 9));
    [whole, halves].forEach((m) => m.dispose());
  });

  it('weights positives by positiveWeight, which raises the predicted fraud rate', async () => {
    const plain = FraudModel.create(FEATURE_NAMES, fast);
    const weighted = FraudModel.create(FEATURE_NAMES, fast);
    await plain.train(train.x, train.y, { epochs: 1 });
    await weighted.train(train.x, train.y, { epochs: 1, positiveWeight: 9 });
    const mean = (p: Float32Array): number => p.reduce((a, b) => a + b) / p.length;

    expect(mean(weighted.predict(holdout.x))).toBeGreaterThan(mean(plain.predict(holdout.x)));
    [plain, weighted].forEach((m) => m.dispose());
  });

  it('when trained and used repeatedly, then no tensor leaks, and dispose frees everything', async () => {
    const baseline = tfjs.memory().numTensors;
    const model = FraudModel.create(FEATURE_NAMES, fast);
    // The first step creates Adam's moment variables, which live as long as the model.
    await model.train(train.x.subarray(0, 150), train.y.subarray(0, 10), { epochs: 1 });
    const warmedUp = tfjs.memory().numTensors;

    await model.train(train.x, train.y, { epochs: 1 });
    model.predict(holdout.x);
    model.evaluate(holdout.x, holdout.y);
    await model.toArtifact();
    expect(tfjs.memory().numTensors).toBe(warmedUp);

    model.dispose();
    expect(tfjs.memory().numTensors).toBe(baseline);
    expect(() => model.predict(holdout.x)).toThrow(/after dispose/);
  });

  it('when restored with its optimizer state and disposed, then no tensor is left behind', async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    await model.train(train.x, train.y, { epochs: 1 });
    const artifact = await model.toArtifact();
    model.dispose();
    const baseline = tfjs.memory().numTensors;
    const restored = await FraudModel.fromArtifact(artifact);
    await restored.train(train.x, train.y, { epochs: 1 });
    restored.dispose();
    expect(tfjs.memory().numTensors).toBe(baseline);
  });

  it('accepts rows as arrays as well as a flat Float32Array', () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    const rows = [Array.from(holdout.x.subarray(0, 15)), Array.from(holdout.x.subarray(15, 30))];
    expect(model.predict(rows)).toEqual(model.predict(holdout.x.subarray(0, 30)));
    expect(model.predict([])).toHaveLength(0);
    model.dispose();
  });

  it('refuses malformed input with a RangeError that says what is wrong', async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    await expect(model.train([[1, 2]], [1])).rejects.toThrow(/row 0 has 2 values/);
    await expect(model.train(holdout.x.subarray(0, 15), [2])).rejects.toThrow(/not 0 or 1/);
    const withNaN = holdout.x.slice(0, 15);
    withNaN[3] = Number.NaN;
    await expect(model.train(withNaN, [0])).rejects.toThrow(/feature_4' of row 0/);
    await expect(model.train(new Float32Array(0), [])).rejects.toThrow(/zero examples/);
    expect(() => FraudModel.create(['a', 'a'])).toThrow(RangeError);
    model.dispose();
  });
});

describe('FraudModel.averageWith', () => {
  const weightsOf = async (model: FraudModel): Promise<Float32Array> =>
    new Float32Array(decodeArtifact(await model.toArtifact()).weightData);

  it('when averaged with the version it started from, then each weight is alpha of the start plus the rest of the trained one, and the statistics stay the trained ones', async () => {
    const start = FraudModel.create(FEATURE_NAMES, fast);
    await start.train(train.x.subarray(0, 15 * 500), train.y.subarray(0, 500), { epochs: 1 });
    const trained = await start.clone();
    await trained.train(train.x, train.y, { epochs: 1 });
    const before = await weightsOf(trained);
    const previous = await weightsOf(start);
    const statistics = (await trained.toArtifact()).normalizer;

    trained.averageWith(start, 0.25);
    const after = await weightsOf(trained);
    expect(after).toHaveLength(before.length);
    after.forEach((weight, i) => {
      expect(weight).toBeCloseTo(0.25 * (previous[i] as number) + 0.75 * (before[i] as number), 5);
    });
    expect((await trained.toArtifact()).normalizer).toEqual(statistics);
    // The start model itself is left as it was.
    expect(await weightsOf(start)).toEqual(previous);
    [start, trained].forEach((m) => m.dispose());
  });

  it('when alpha is 0, then the weights are unchanged, and averaging leaks no tensor', async () => {
    const a = FraudModel.create(FEATURE_NAMES, { ...fast, seed: 1 });
    const b = FraudModel.create(FEATURE_NAMES, { ...fast, seed: 2 });
    const weights = await weightsOf(a);
    const baseline = tfjs.memory().numTensors;
    a.averageWith(b, 0);
    expect(await weightsOf(a)).toEqual(weights);
    a.averageWith(b, 0.5);
    expect(tfjs.memory().numTensors).toBe(baseline);
    expect(await weightsOf(a)).not.toEqual(weights);
    [a, b].forEach((m) => m.dispose());
  });

  it('refuses an alpha outside [0, 1] or a model of other features', () => {
    const a = FraudModel.create(FEATURE_NAMES, fast);
    const other = FraudModel.create([...FEATURE_NAMES].reverse(), fast);
    const wider = FraudModel.create(FEATURE_NAMES, { ...fast, hiddenUnits: [32, 8] });
    expect(() => a.averageWith(a, 1.5)).toThrow(/alpha/);
    expect(() => a.averageWith(other, 0.5)).toThrow(/different features or shapes/);
    expect(() => a.averageWith(wider, 0.5)).toThrow(/different features or shapes/);
    [a, other, wider].forEach((m) => m.dispose());
  });
});

describe('FraudModel.fromArtifact', () => {
  let artifact: ModelArtifact;

  beforeAll(async () => {
    const model = FraudModel.create(FEATURE_NAMES, fast);
    artifact = await model.toArtifact();
    model.dispose();
  });

  const rejectsWith = async (value: unknown, reason: RegExp): Promise<void> => {
    const loading = FraudModel.fromArtifact(value);
    await expect(loading).rejects.toBeInstanceOf(StreamtrainError);
    await expect(loading).rejects.toMatchObject({ code: 'MODEL_ARTIFACT_INVALID' });
    await expect(loading).rejects.toThrow(reason);
  };

  it('when the artifact is not an object of the known format, then it says so', async () => {
    await rejectsWith(null, /\(root\)/);
    await rejectsWith({ ...artifact, format: 'streamtrain.fraud-model/v0' }, /format/);
  });

  it('when the normaliser does not match the features, then it names the field', async () => {
    const normalizer = { ...artifact.normalizer, mean: [0] };
    await rejectsWith({ ...artifact, normalizer }, /normalizer\.mean: has 1 values for 15/);
  });

  it('when the weights are truncated, then it compares their size with the specs', async () => {
    await rejectsWith({ ...artifact, weightsBase64: 'AAAA' }, /holds 3 bytes/);
  });

  it('when the optimizer moments do not fit the weights, then it says so', async () => {
    const optimizer = {
      kind: 'adam',
      iterations: 1,
      betaPowers: [0.81, 0.998],
      momentsBase64: 'AAAA',
    };
    await rejectsWith({ ...artifact, optimizer }, /optimizer\.momentsBase64 holds 3 bytes/);
  });

  it('when the topology does not fit the features, then it refuses to load', async () => {
    await rejectsWith(
      {
        ...artifact,
        featureNames: [...FEATURE_NAMES, 'extra'],
        normalizer: {
          count: 0,
          mean: Array(16).fill(0),
          m2: Array(16).fill(0),
        },
      },
      /expected \[null, 16\]/,
    );
    await rejectsWith({ ...artifact, topology: { nonsense: true } }, /do not load/);
  });
});
