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
 * Gathers items submitted close together into one pass of `work`, one pass at a time. Each
 * `submit` settles when the pass that included its item does: resolved after the pass committed,
 * rejected with the pass's error (so the caller can retry its own delivery).
 */
export class Coalescer<T> {
  private queue: Pending<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly work: (items: readonly T[]) => Promise<void>,
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
    this.running = this.running.then(async () => {
      try {
        await this.work(group.map((pending) => pending.item));
        for (const pending of group) pending.resolve();
      } catch (error) {
        for (const pending of group) pending.reject(error);
      }
    });
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.options.lingerMs);
  }
}
