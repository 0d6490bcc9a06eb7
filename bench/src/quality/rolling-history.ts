import type { FeatureInput, KnownLabel } from '@streamtrain/features';

/**
 * The recent transactions and fraud labels the replay computes features from: what the warehouse's
 * `readHistory` and `readKnownLabels` return in the live system, kept in memory and cut to the
 * features' look-back so memory stays bounded however long the replay runs.
 *
 * Transactions are indexed by customer and by terminal, so a micro-batch gathers only the rows of
 * its own cards and terminals rather than handing `computeFeatures` the whole window.
 */
export class RollingHistory {
  private readonly byCustomer = new Map<string, FeatureInput[]>();
  private readonly byTerminal = new Map<string, FeatureInput[]>();
  private labels: KnownLabel[] = [];

  /** Adds transactions, which must come in event-time order. */
  addTransactions(transactions: readonly FeatureInput[]): void {
    for (const tx of transactions) {
      append(this.byCustomer, tx.customerId, tx);
      append(this.byTerminal, tx.terminalId, tx);
    }
  }

  /** Adds fraud labels as they are reported. */
  addLabels(labels: readonly KnownLabel[]): void {
    for (const label of labels) this.labels.push(label);
  }

  /**
   * Every kept transaction of the targets' customers and terminals. A row can appear twice (once
   * for its customer, once for its terminal); `computeFeatures` drops such copies.
   */
  historyFor(targets: readonly FeatureInput[]): FeatureInput[] {
    const rows: FeatureInput[] = [];
    const customers = new Set(targets.map((tx) => tx.customerId));
    const terminals = new Set(targets.map((tx) => tx.terminalId));
    for (const id of customers) for (const tx of this.byCustomer.get(id) ?? []) rows.push(tx);
    for (const id of terminals) for (const tx of this.byTerminal.get(id) ?? []) rows.push(tx);
    return rows;
  }

  /** The fraud labels kept, every one reported before the latest event added. */
  knownLabels(): readonly KnownLabel[] {
    return this.labels;
  }

  /**
   * Drops transactions with event time before `beforeMs`, and labels reported before it (their
   * transaction is older still). Call it with the earliest `historyRange(...).fromMs` any future
   * batch can ask for.
   */
  prune(beforeMs: number): void {
    for (const index of [this.byCustomer, this.byTerminal]) {
      for (const [id, rows] of index) {
        let old = 0;
        while (old < rows.length && (rows[old] as FeatureInput).eventTimeMs < beforeMs) old += 1;
        if (old === rows.length) index.delete(id);
        else if (old > 0) rows.splice(0, old);
      }
    }
    this.labels = this.labels.filter((label) => label.reportedAtMs >= beforeMs);
  }
}

function append(index: Map<string, FeatureInput[]>, key: string, tx: FeatureInput): void {
  const rows = index.get(key);
  if (rows === undefined) index.set(key, [tx]);
  else rows.push(tx);
}
