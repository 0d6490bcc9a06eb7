/** One transaction as the champion of its arrival scored it. */
export interface ScoredRow {
  /** Simulated day of the transaction's event time, from 0. */
  readonly day: number;
  /** Index of the customer (card) in {@link ScoredLog.customerIds}. */
  readonly customer: number;
  /** The champion's fraud score. */
  readonly score: number;
  /** Ground truth. */
  readonly isFraud: boolean;
}

/**
 * The prequential scores of a replay, column by column in typed arrays (1.75 million rows take
 * about 17 MB), in arrival order, hence in ascending `day`.
 */
export class ScoredLog {
  private days = new Int32Array(1024);
  private customers = new Int32Array(1024);
  private scores = new Float32Array(1024);
  private flags = new Uint8Array(1024);
  private count = 0;
  private readonly customerIndex = new Map<string, number>();
  private readonly ids: string[] = [];

  /** Number of rows. */
  get length(): number {
    return this.count;
  }

  /** Customer ids by index, as interned by {@link ScoredLog.customerOf}. */
  get customerIds(): readonly string[] {
    return this.ids;
  }

  /** The index of `customerId`, interning it on first sight. */
  customerOf(customerId: string): number {
    let index = this.customerIndex.get(customerId);
    if (index === undefined) {
      index = this.ids.length;
      this.ids.push(customerId);
      this.customerIndex.set(customerId, index);
    }
    return index;
  }

  /** Appends a row; `row.day` must not be below the previous row's. */
  push(row: ScoredRow): void {
    if (this.count === this.days.length) this.grow();
    const i = this.count;
    this.days[i] = row.day;
    this.customers[i] = row.customer;
    this.scores[i] = row.score;
    this.flags[i] = row.isFraud ? 1 : 0;
    this.count += 1;
  }

  /** Row `i`. */
  row(i: number): ScoredRow {
    return {
      day: this.days[i] as number,
      customer: this.customers[i] as number,
      score: this.scores[i] as number,
      isFraud: this.flags[i] === 1,
    };
  }

  /** Index of the first row whose day is at least `day` (rows are in ascending day). */
  firstIndexOfDay(day: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.days[middle] as number) < day) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private grow(): void {
    const size = this.days.length * 2;
    const days = new Int32Array(size);
    days.set(this.days);
    this.days = days;
    const customers = new Int32Array(size);
    customers.set(this.customers);
    this.customers = customers;
    const scores = new Float32Array(size);
    scores.set(this.scores);
    this.scores = scores;
    const flags = new Uint8Array(size);
    flags.set(this.flags);
    this.flags = flags;
  }
}
