/** Options of {@link Coalescer}. */
export interface CoalescerOptions {
  /** Most items handled in one pass. */
  maxItems: number;
  /** How long the first item of a pass waits for others. */
  lingerMs: number;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A pass's work. It may return a second stage (its commit): the next pass's first stage then runs
 * while this one's second stage does, and second stages run one at a time, in order.
 */
export type PassWork<T> = (items: readonly T[]) => Promise<void | (() => Promise<void>)>;

const settled = (promise: Promise<unknown>): Promise<void> =>
  promise.then(
    () => undefined,
    () => undefined,
  );

/**
 * Gathers items submitted close together into one pass of `work`, one pass at a time (at most
 * one pass's first stage runs ahead of the previous pass's second stage). Each `submit` settles
 * when the pass that included its item does: resolved after the pass committed (both stages),
 * rejected with the pass's error (so the caller can retry its own delivery).
 */
export class Coalescer<T> {
  private queue: Pending<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The previous pass's first stage. */
  private prepared: Promise<void> = Promise.resolve();
  /** The previous pass, both stages. */
  private committed: Promise<void> = Promise.resolve();
  /** The pass before it, both stages. */
  private committedBefore: Promise<void> = Promise.resolve();

  constructor(
    private readonly work: PassWork<T>,
    private readonly options: CoalescerOptions,
  ) {}

  /** Adds an item to the next pass. */
  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.queue.splice(0, this.options.maxItems);
    if (group.length === 0) return;
    const items = group.map((pending) => pending.item);
    // The first stage waits for the previous first stage and for the pass before that to finish.
    const first = Promise.all([this.prepared, this.committedBefore]).then(() => this.work(items));
    const previous = this.committed;
    const whole = first.then(async (second) => {
      await previous;
      if (second !== undefined) await second();
    });
    whole.then(
      () => {
        for (const pending of group) pending.resolve();
      },
      (error: unknown) => {
        for (const pending of group) pending.reject(error);
      },
    );
    this.prepared = settled(first);
    this.committedBefore = previous;
    this.committed = settled(whole);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.options.lingerMs);
  }
}
