import { featureNames } from '@streamtrain/features';
import { FraudModel } from '@streamtrain/model';
import type { BenchContext, BenchOutcome } from '../harness/bench-context';
import { fmt, progress } from '../harness/progress';
import { median, ratio } from '../harness/stats';
import { SMALL_POPULATION } from '../pipeline/landed-data';
import { buildBareNetwork, fitBare, standardize } from './bare-network';
import { simulateTrainingData } from './training-data';

/** The trainer service's defaults (services/trainer/src/config.ts). */
export const TRAINER_SETTINGS = Object.freeze({ epochs: 2, batchSize: 256, positiveWeight: 10 });

/** Options of {@link runTrainerBenchmark}. */
export interface TrainerBenchOptions {
  readonly samples: number;
  readonly rounds: number;
  readonly seed: number;
}

/** `docs/results/trainer.json` `results`. */
export interface TrainerResults {
  readonly samples: number;
  readonly features: number;
  readonly positives: number;
  /** Sample passes per second (`samples × epochs / seconds`), median over the rounds. */
  readonly fraudModel: { readonly samplesPerSecond: number; readonly roundSeconds: number[] };
  readonly bareFit: { readonly samplesPerSecond: number; readonly roundSeconds: number[] };
  readonly ratio: number | null;
}

/**
 * Benchmark 3. The trainer's training step (`FraudModel.train` with the service's settings) and
 * a bare tfjs `model.fit` of the same layers on the same rows and backend, alternating round by
 * round so both see the same machine load; medians compared.
 */
export async function runTrainerBenchmark(
  options: TrainerBenchOptions,
  _context: BenchContext,
): Promise<BenchOutcome<TrainerResults>> {
  progress(`trainer: features of ${fmt(options.samples)} simulated transactions`);
  const data = simulateTrainingData(options.seed, options.samples);
  const standardized = standardize(data);
  const { epochs, batchSize, positiveWeight } = TRAINER_SETTINGS;
  const model = FraudModel.create(featureNames(), { seed: 42 });
  const network = buildBareNetwork(data.columns);
  try {
    // Warm-up, one epoch over the same rows each: kernels compile and V8 optimises on the first
    // steps, which is not the steady state a long-running trainer is in.
    await model.train(data.x, data.y, { epochs: 1, batchSize, positiveWeight });
    await fitBare(network, standardized, data, 1, batchSize, positiveWeight);

    const modelSeconds: number[] = [];
    const bareSeconds: number[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const trained = await model.train(data.x, data.y, {
        epochs,
        batchSize,
        positiveWeight,
        shuffleSeed: 42 + round,
      });
      modelSeconds.push(trained.seconds);
      bareSeconds.push(
        await fitBare(network, standardized, data, epochs, batchSize, positiveWeight),
      );
      progress(
        `trainer: round ${round + 1}/${options.rounds}: FraudModel.train ${trained.seconds.toFixed(2)} s, ` +
          `model.fit ${(bareSeconds[round] as number).toFixed(2)} s`,
      );
    }
    const passes = data.rows * epochs;
    const modelRate = passes / (median(modelSeconds) as number);
    const bareRate = passes / (median(bareSeconds) as number);
    progress(
      `trainer: ${fmt(modelRate)} samples/s vs ${fmt(bareRate)} for model.fit (${(modelRate / bareRate).toFixed(2)})`,
    );
    return {
      config: {
        samples: options.samples,
        rounds: options.rounds,
        seed: options.seed,
        ...TRAINER_SETTINGS,
        layers: 'Dense 32 ReLU, Dense 16 ReLU, Dense 1 sigmoid; Adam 0.001',
        population: SMALL_POPULATION,
      },
      results: {
        samples: data.rows,
        features: data.columns,
        positives: data.positives,
        fraudModel: { samplesPerSecond: modelRate, roundSeconds: modelSeconds },
        bareFit: { samplesPerSecond: bareRate, roundSeconds: bareSeconds },
        ratio: ratio(modelRate, bareRate),
      },
    };
  } finally {
    model.dispose();
    network.dispose();
  }
}
