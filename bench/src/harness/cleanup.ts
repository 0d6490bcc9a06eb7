import { progress } from './progress';

/** One thing to undo: a topic, schema or exchange to delete, a process to stop. */
interface CleanupStep {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/**
 * Everything a benchmark created, undone in reverse order. Each step runs in its own try/catch
 * so one failure does not leave the rest behind; `runAll` is safe to call twice (Ctrl-C during a
 * benchmark's own cleanup).
 */
export class Cleanup {
  private readonly steps: CleanupStep[] = [];
  private running: Promise<void> | undefined;

  /** Registers `run` to be undone later; returns a function that runs it now, once. */
  add(name: string, run: () => Promise<unknown>): () => Promise<void> {
    const step: CleanupStep = { name, run };
    this.steps.push(step);
    return async () => {
      const index = this.steps.indexOf(step);
      if (index < 0) return;
      this.steps.splice(index, 1);
      await step.run();
    };
  }

  /**
   * Runs every registered step, newest first; failures are reported, never thrown. A call while
   * another is running shares it, so the steps keep their order.
   */
  runAll(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        progress(`cleanup: ${step.name} failed: ${(error as Error).message}`);
      }
    }
  }
}
