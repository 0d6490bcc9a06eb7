import type {
  Example,
  ExampleReadModel,
  ExampleRef,
  ExampleSet,
  FitOptions,
  ModelFactory,
  SourceBatches,
  TrainableModel,
} from '../index';
import { compareIds, toExampleSet } from '../index';

/** A stored example of {@link FakeExamples}. */
export interface FakeExample extends Example {
  readonly exampleSetId: string;
  readonly sourceBatchId: string;
}

/** The pipeline's examples, as a list. */
export class FakeExamples implements ExampleReadModel {
  readonly rows: FakeExample[] = [];

  add(...rows: FakeExample[]): void {
    this.rows.push(...rows);
  }

  private set(rows: readonly FakeExample[]): ExampleSet {
    const sorted = [...rows].sort(
      (a, b) => a.eventTimeMs - b.eventTimeMs || compareIds(a.transactionId, b.transactionId),
    );
    return toExampleSet(sorted, 2);
  }

  exampleRefs(exampleSetId: string): Promise<ExampleRef[]> {
    return Promise.resolve(this.rows.filter((row) => row.exampleSetId === exampleSetId));
  }

  readExamples(exampleSetIds: readonly string[]): Promise<ExampleSet> {
    return Promise.resolve(
      this.set(this.rows.filter((row) => exampleSetIds.includes(row.exampleSetId))),
    );
  }

  readExamplesById(transactionIds: readonly string[]): Promise<ExampleSet> {
    return Promise.resolve(
      this.set(this.rows.filter((row) => transactionIds.includes(row.transactionId))),
    );
  }

  readExamplesBetween(fromMs: number, toMs: number): Promise<ExampleSet> {
    return Promise.resolve(
      this.set(this.rows.filter((row) => row.eventTimeMs >= fromMs && row.eventTimeMs < toMs)),
    );
  }

  sourceBatches(exampleSetIds: readonly string[]): Promise<SourceBatches> {
    const ids = [
      ...new Set(
        this.rows
          .filter((row) => exampleSetIds.includes(row.exampleSetId))
          .map((row) => row.sourceBatchId),
      ),
    ].sort(compareIds);
    return Promise.resolve({ batchIds: ids, offsets: [] });
  }
}

/** What a {@link FakeModel} was trained on. */
export interface FakeFit {
  readonly rows: number;
  readonly labels: number[];
  readonly options: FitOptions;
}

/**
 * A model that scores a row by its first feature times `sign`; training records what it saw.
 * Its artifact carries its history, so warm starts are visible.
 */
export class FakeModel implements TrainableModel {
  disposed = false;
  /** The first feature of each row of the last `train` call. */
  lastRows: number[] = [];

  constructor(
    readonly history: FakeFit[],
    readonly sign: number,
    /** Each `averageWith`: its alpha and how many fits the previous model had. */
    readonly averagings: { alpha: number; previousFits: number }[] = [],
  ) {}

  averageWith(previous: FakeModel, alpha: number): void {
    this.averagings.push({ alpha, previousFits: previous.history.length });
  }

  train(
    x: Float32Array,
    y: ArrayLike<number>,
    options: FitOptions,
  ): Promise<{ samples: number; loss: number }> {
    this.history.push({ rows: x.length / 2, labels: Array.from(y), options });
    this.lastRows = Array.from({ length: x.length / 2 }, (_, i) => x[i * 2] as number);
    return Promise.resolve({ samples: y.length, loss: 0.5 });
  }

  predict(x: Float32Array): Float32Array {
    const scores = new Float32Array(x.length / 2);
    for (let i = 0; i < scores.length; i += 1) scores[i] = this.sign * (x[i * 2] as number);
    return scores;
  }

  toArtifact(): Promise<unknown> {
    return Promise.resolve({
      history: [...this.history],
      sign: this.sign,
      averagings: [...this.averagings],
    });
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** Models whose fresh instances score with `sign`. */
export function fakeModels(sign = 1): ModelFactory & { created: FakeModel[] } {
  const created: FakeModel[] = [];
  return {
    created,
    create: () => {
      const model = new FakeModel([], sign);
      created.push(model);
      return model;
    },
    fromArtifact: (artifact) => {
      const saved = artifact as {
        history: FakeFit[];
        sign: number;
        averagings?: FakeModel['averagings'];
      };
      const model = new FakeModel([...saved.history], saved.sign, [...(saved.averagings ?? [])]);
      created.push(model);
      return Promise.resolve(model);
    },
  };
}
