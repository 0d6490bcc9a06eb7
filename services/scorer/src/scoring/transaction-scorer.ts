import type { FeatureInput } from '@streamtrain/features';
import type { Champion, ServingModel } from '../adapters/champion';
import type { OnlineFeatureState } from '../domain/feature-state';

/** One transaction's score, with the features the model saw. */
export interface TransactionScore {
  readonly transactionId: string;
  readonly score: number;
  readonly exceeded: boolean;
  readonly features: readonly number[];
}

/** Scores of a set of transactions, every one from the same model version. */
export interface ScoredTransactions {
  readonly model: ServingModel;
  readonly threshold: number;
  readonly scores: TransactionScore[];
}

/** Options of {@link TransactionScorer}. */
export interface TransactionScorerOptions {
  state: OnlineFeatureState;
  champion: Champion;
  threshold: number;
}

/**
 * Features from the online state, scores from the champion. Both steps run without an `await`
 * between them, so one call is scored by exactly one version even while a swap is loading.
 */
export class TransactionScorer {
  constructor(private readonly options: TransactionScorerOptions) {}

  /** The decision threshold. */
  get threshold(): number {
    return this.options.threshold;
  }

  /** Scores `targets` (added to the state or not); undefined while there is no champion. */
  score(targets: readonly FeatureInput[]): ScoredTransactions | undefined {
    if (this.options.champion.serving === undefined) return undefined;
    const vectors = this.options.state.featuresOf(targets);
    const scored = this.options.champion.score(vectors.map((vector) => vector.values));
    if (scored === undefined) return undefined;
    const { threshold } = this.options;
    return {
      model: scored.model,
      threshold,
      scores: vectors.map((vector, i) => {
        const score = scored.scores[i] as number;
        return {
          transactionId: vector.transactionId,
          score,
          exceeded: score >= threshold,
          features: vector.values,
        };
      }),
    };
  }
}
