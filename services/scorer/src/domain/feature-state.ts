import { FeatureState } from '@streamtrain/features';
import type { FeatureInput, FeatureVector, KnownLabel } from '@streamtrain/features';

/** Options of {@link OnlineFeatureState}. */
export interface OnlineFeatureStateOptions {
  /**
   * History kept beyond the features' own look-back, so transactions scored a little behind the
   * newest one (another partition, a short backlog) still find their whole window. @default 1 day
   */
  slackMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * The scorer's online feature state: each card's and each terminal's recent transactions and the
 * labels known so far, kept in memory so a transaction is scored without a warehouse round trip.
 * It is the pipeline's state code (`FeatureState` of `@streamtrain/features`, driven by the one
 * feature definition), so serving and training see the same values; here every label verdict
 * streamed is folded in (`addLabel`), as `computeFeatures` reads labels.
 *
 * How far back history is kept follows the feature definition itself (`FeatureState.lookBackMs`),
 * so a new or longer window in `@streamtrain/features` is honoured without a change here.
 */
export class OnlineFeatureState {
  /** How much history a feature at time `t` reads: `t - lookBackMs` to `t`. */
  readonly lookBackMs: number;
  private readonly slackMs: number;
  private readonly state = new FeatureState();

  constructor(options: OnlineFeatureStateOptions = {}) {
    this.lookBackMs = this.state.lookBackMs;
    this.slackMs = options.slackMs ?? DAY_MS;
  }

  /** Transactions held. */
  get transactions(): number {
    return this.state.transactionCount;
  }

  /** Transactions with a fraud label held (their transaction held or not yet streamed in). */
  get labels(): number {
    return this.state.labelCount;
  }

  /**
   * Adds a transaction to its card's and its terminal's history. A copy of a transaction already
   * held (a redelivery, or a row both warmed from the warehouse and streamed) is ignored: the
   * warehouse, too, keeps the first copy of an id. So is one older than the last eviction.
   *
   * @returns whether it was new.
   */
  addTransaction(tx: FeatureInput): boolean {
    return this.state.addTransaction(tx);
  }

  /** Adds a label; the feature code uses it only from its `reportedAtMs` on. */
  addLabel(label: KnownLabel): void {
    this.state.addLabel(label);
  }

  /**
   * The features of each target at its own event time, from the history held, equal to
   * `computeFeatures` over it. The targets need not have been added.
   *
   * @returns one vector per target, in order.
   */
  featuresOf(targets: readonly FeatureInput[]): FeatureVector[] {
    return this.state.featuresOf(targets);
  }

  /** The oldest event time still needed when transactions up to `progressMs` are being scored. */
  retentionHorizon(progressMs: number): number {
    return progressMs - this.lookBackMs - this.slackMs;
  }

  /**
   * Drops transactions older than `horizonMs` and the labels of transactions no longer held (once
   * reported before the horizon: a label may arrive before its transaction is streamed in).
   *
   * @returns how many transactions were dropped.
   */
  evictBefore(horizonMs: number): number {
    // Event times are whole milliseconds: "before the horizon" is "at or before the floor".
    return this.state.advanceFloor(horizonMs - 1);
  }
}
