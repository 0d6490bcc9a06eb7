import { FraudModel, loadBackend } from '@streamtrain/model';
import { FEATURE_NAMES, separableDataset } from './synthetic-data';

const train = separableDataset(2000, 1);
const holdout = separableDataset(1000, 2);

beforeAll(async () => {
  await loadBackend();
});

describe('DenseInference', () => {
  it('when a trained model is served in plain JavaScript, then every score equals predict to float32 rounding', async () => {
    const model = FraudModel.create(FEATURE_NAMES, { hiddenUnits: [32, 16], learningRate: 0.01 });
    await model.train(train.x, train.y, { epochs: 2, batchSize: 64 });
    const expected = model.predict(holdout.x);
    const served = model.inference().predict(holdout.x);
    model.dispose();

    expect(served).toHaveLength(expected.length);
    let worst = 0;
    served.forEach((score, i) => {
      worst = Math.max(worst, Math.abs(score - (expected[i] as number)));
    });
    expect(worst).toBeLessThan(1e-5);
  });

  it('when a row is scored alone or inside a batch, then its score is bit for bit the same', async () => {
    const model = FraudModel.create(FEATURE_NAMES, { seed: 3 });
    const inference = model.inference();
    model.dispose();
    const columns = FEATURE_NAMES.length;
    const batch = inference.predict(holdout.x.subarray(0, 50 * columns));

    for (const row of [0, 17, 49]) {
      const alone = inference.predict(holdout.x.subarray(row * columns, (row + 1) * columns));
      expect(alone[0]).toBe(batch[row]);
    }
  });

  it('when the model trains on after the snapshot, then the snapshot keeps scoring with the old weights', async () => {
    const model = FraudModel.create(FEATURE_NAMES, { learningRate: 0.01 });
    const before = model.inference();
    const snapshot = before.predict(holdout.x);
    await model.train(train.x, train.y, { epochs: 1 });

    expect(before.predict(holdout.x)).toEqual(snapshot);
    expect(model.inference().predict(holdout.x)).not.toEqual(snapshot);
    model.dispose();
  });

  it('when a feature is not finite, then it names the feature and the row', () => {
    const model = FraudModel.create(FEATURE_NAMES);
    const inference = model.inference();
    model.dispose();
    const row = Array.from({ length: FEATURE_NAMES.length }, () => 0);
    row[2] = Number.NaN;

    expect(() => inference.predict([row.map(() => 1), row])).toThrow(
      "feature 'feature_3' of row 1 is not a finite number: NaN",
    );
    expect(() => inference.predict([[1, 2]])).toThrow('feature row 0 has 2 values, expected 15');
  });
});
