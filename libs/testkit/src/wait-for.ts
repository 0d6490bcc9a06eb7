/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** @default 30000 */
  timeoutMs?: number;
  /** @default 100 */
  intervalMs?: number;
  /** Said in the timeout error. */
  description?: string;
}

/**
 * Polls `probe` until it returns a value that `done` accepts, and returns it; rejects with the
 * last value seen after the timeout. The tests wait on conditions, never on fixed sleeps.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  options: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const seen = lastError === undefined ? JSON.stringify(last) : (lastError as Error).message;
      throw new Error(
        `timed out waiting for ${options.description ?? 'condition'}; last seen: ${seen?.slice(0, 500)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
