import type { Logger } from '@streamtrain/observability';

/** What a step is given: the run, its parameters and the payloads of the steps before it. */
export interface StepContext<P> {
  runId: string;
  workflow: string;
  params: P;
  /** Payloads of the completed steps, by step name (from this attempt or an earlier one). */
  payloads: ReadonlyMap<string, unknown>;
  /** Outputs of the completed steps, by step name. */
  outputs: ReadonlyMap<string, unknown>;
  logger: Logger;
}

/** What a step produced: `input` and `output` go to run history; `payload` feeds later steps. */
export interface StepResult {
  input: unknown;
  output: unknown;
  payload?: unknown;
}

/** One step of a workflow. A step is rerun whole after a crash, so its writes are idempotent. */
export interface WorkflowStep<P> {
  name: string;
  /** In-process attempts after the first, with exponential backoff. @default 3 */
  retries?: number;
  /** A short description of the inputs, recorded before the step runs. */
  describeInput(context: StepContext<P>): unknown;
  run(context: StepContext<P>): Promise<StepResult>;
}

/** A workflow: named steps in order, defined in code; parameters come with each run. */
export interface WorkflowDefinition<P = unknown> {
  name: string;
  description: string;
  /** Validates and completes a run's parameters (defaults filled in). */
  parseParams(raw: unknown): P;
  steps: readonly WorkflowStep<P>[];
  /** What run history shows of a finished run: the version, the gate's word, the metrics. */
  summarise(outputs: ReadonlyMap<string, unknown>): {
    versionId: string | null;
    promoted: boolean | null;
    gateReason: string | null;
    metrics: unknown;
  };
}
