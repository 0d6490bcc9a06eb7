import { computeFeatures, historyRange } from '@streamtrain/features';
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
 * Features are computed by the one feature definition (`computeFeatures` of `@streamtrain/features`)
 * over exactly the rows the pipeline would read, so serving and training see the same values.
 *
 * How far back history is kept follows the feature definition itself (`historyRange`), so a new
 * or longer window in `@streamtrain/features` is honoured without a change here.
 */
export class OnlineFeatureState {
  /** How much history a feature at time `t` reads: `t - lookBackMs` to `t`. */
  readonly lookBackMs: number;
  private readonly slackMs: number;
  private readonly byId = new Map<string, FeatureInput>();
  private readonly byCustomer = new Map<string, FeatureInput[]>();
  private readonly byTerminal = new Map<string, FeatureInput[]>();
  private readonly labelsById = new Map<string, KnownLabel[]>();
  private labelCount = 0;

  constructor(options: OnlineFeatureStateOptions = {}) {
    const probe: FeatureInput = {
      transactionId: 'probe',
      customerId: 'probe',
      terminalId: 'probe',
      amount: 0,
      eventTimeMs: 0,
    };
    this.lookBackMs = -historyRange([probe]).fromMs;
    this.slackMs = options.slackMs ?? DAY_MS;
  }

  /** Transactions held. */
  get transactions(): number {
    return this.byId.size;
  }

  /** Labels held. */
  get labels(): number {
    return this.labelCount;
  }

  /**
   * Adds a transaction to its card's and its terminal's history. A copy of a transaction already
   * held (a redelivery, or a row both warmed from the warehouse and streamed) is ignored: the
   * warehouse, too, keeps the first copy of an id.
   *
   * @returns whether it was new.
   */
  addTransaction(tx: FeatureInput): boolean {
    if (this.byId.has(tx.transactionId)) return false;
    this.byId.set(tx.transactionId, tx);
    push(this.byCustomer, tx.customerId, tx);
    push(this.byTerminal, tx.terminalId, tx);
    return true;
  }

  /** Adds a label; the feature code uses it only from its `reportedAtMs` on. */
  addLabel(label: KnownLabel): void {
    const known = this.labelsById.get(label.transactionId);
    if (known === undefined) {
      this.labelsById.set(label.transactionId, [label]);
    } else {
      if (
        known.some(
          (seen) => seen.isFraud === label.isFraud && seen.reportedAtMs === label.reportedAtMs,
        )
      )
        return;
      known.push(label);
    }
    this.labelCount += 1;
  }

  /**
   * The features of each target at its own event time, from the history held: every transaction
   * of the targets' cards and terminals, and their labels. The targets need not have been added.
   *
   * @returns one vector per target, in order.
   */
  featuresOf(targets: readonly FeatureInput[]): FeatureVector[] {
    if (targets.length === 0) return [];
    const customers = new Set<string>();
    const terminals = new Set<string>();
    for (const tx of targets) {
      customers.add(tx.customerId);
      terminals.add(tx.terminalId);
    }
    // Only the rows the feature definition reads (`historyRange`): the state may also hold rows
    // after the targets (a backlog scored behind the state feed), which change nothing but cost.
    const { fromMs, toMs } = historyRange(targets);
    const history: FeatureInput[] = [];
    const collect = (rows: readonly FeatureInput[] | undefined): void => {
      for (const tx of rows ?? []) {
        if (tx.eventTimeMs >= fromMs && tx.eventTimeMs <= toMs) history.push(tx);
      }
    };
    for (const id of customers) collect(this.byCustomer.get(id));
    for (const id of terminals) collect(this.byTerminal.get(id));
    const labels: KnownLabel[] = [];
    const seen = new Set<string>();
    for (const tx of [...history, ...targets]) {
      if (seen.has(tx.transactionId)) continue;
      seen.add(tx.transactionId);
      const known = this.labelsById.get(tx.transactionId);
      if (known !== undefined) labels.push(...known);
    }
    return computeFeatures(targets, history, labels);
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
    let dropped = 0;
    for (const [id, tx] of this.byId) {
      if (tx.eventTimeMs < horizonMs) {
        this.byId.delete(id);
        dropped += 1;
      }
    }
    if (dropped === 0) return 0;
    prune(this.byCustomer, horizonMs);
    prune(this.byTerminal, horizonMs);
    for (const [id, labels] of this.labelsById) {
      if (!this.byId.has(id) && labels.every((label) => label.reportedAtMs < horizonMs)) {
        this.labelsById.delete(id);
        this.labelCount -= labels.length;
      }
    }
    return dropped;
  }
}

function push(map: Map<string, FeatureInput[]>, key: string, tx: FeatureInput): void {
  const rows = map.get(key);
  if (rows === undefined) map.set(key, [tx]);
  else rows.push(tx);
}

function prune(map: Map<string, FeatureInput[]>, horizonMs: number): void {
  for (const [key, rows] of map) {
    const kept = rows.filter((tx) => tx.eventTimeMs >= horizonMs);
    if (kept.length === 0) map.delete(key);
    else if (kept.length !== rows.length) map.set(key, kept);
  }
}
