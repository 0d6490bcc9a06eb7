import type { Pool } from 'pg';
import { ROUTING_KEYS } from '@streamtrain/contracts';
import type { OffsetRange } from '@streamtrain/contracts';
import type {
  AcceptedBatch,
  CommittedVersion,
  ExampleRef,
  ExampleSet,
  ModelAlias,
  PendingBatch,
  PromotionPin,
  SourceBatches,
  StepCommit,
  StoredModel,
  TrainerStore,
} from '@streamtrain/training';
import { enqueueOutbox } from './outbox';
import { inTransaction } from './pool';
import { readPromotionPin } from './registry-audit';
import { readAlias, recordModelVersion } from './registry-store';

interface ExampleRow {
  transaction_id: string;
  feature_values: number[];
  label: number;
  event_time: Date;
}

function toExampleSet(rows: readonly ExampleRow[], width: number): ExampleSet {
  const columns = rows[0]?.feature_values.length ?? width;
  const features = new Float32Array(rows.length * columns);
  rows.forEach((row, i) => features.set(row.feature_values, i * columns));
  return {
    transactionIds: rows.map((row) => row.transaction_id),
    eventTimesMs: rows.map((row) => row.event_time.getTime()),
    labels: rows.map((row) => row.label),
    features,
    width: columns,
  };
}

const EXAMPLE_COLUMNS = 'e.transaction_id, f.feature_values, e.label, e.event_time';
const EXAMPLE_ORDER = 'ORDER BY e.event_time, e.transaction_id COLLATE "C"';

/**
 * The pipeline's training examples as the trainer and the orchestrator read them: a read model
 * over `training_examples` and `features` (owned by the pipeline; only read here).
 */
export class PostgresExampleReadModel {
  /** @param width Features per example, for an empty result. */
  constructor(
    protected readonly db: Pool,
    private readonly width: number,
  ) {}

  async exampleRefs(exampleSetId: string): Promise<ExampleRef[]> {
    const { rows } = await this.db.query<{ transaction_id: string; event_time: Date }>(
      'SELECT transaction_id, event_time FROM training_examples WHERE example_set_id = $1',
      [exampleSetId],
    );
    return rows.map((row) => ({
      transactionId: row.transaction_id,
      eventTimeMs: row.event_time.getTime(),
    }));
  }

  async readExamples(exampleSetIds: readonly string[]): Promise<ExampleSet> {
    const { rows } = await this.db.query<ExampleRow>(
      `SELECT ${EXAMPLE_COLUMNS} FROM training_examples e JOIN features f USING (transaction_id)
       WHERE e.example_set_id = ANY($1::text[]) ${EXAMPLE_ORDER}`,
      [exampleSetIds],
    );
    return toExampleSet(rows, this.width);
  }

  async readExamplesById(transactionIds: readonly string[]): Promise<ExampleSet> {
    const { rows } = await this.db.query<ExampleRow>(
      `SELECT ${EXAMPLE_COLUMNS} FROM training_examples e JOIN features f USING (transaction_id)
       WHERE e.transaction_id = ANY($1::text[]) ${EXAMPLE_ORDER}`,
      [transactionIds],
    );
    return toExampleSet(rows, this.width);
  }

  async readExamplesBetween(fromMs: number, toMs: number): Promise<ExampleSet> {
    const { rows } = await this.db.query<ExampleRow>(
      `SELECT ${EXAMPLE_COLUMNS} FROM training_examples e JOIN features f USING (transaction_id)
       WHERE e.event_time >= $1 AND e.event_time < $2 ${EXAMPLE_ORDER}`,
      [new Date(fromMs), new Date(toMs)],
    );
    return toExampleSet(rows, this.width);
  }

  async sourceBatches(exampleSetIds: readonly string[]): Promise<SourceBatches> {
    const { rows } = await this.db.query<{ batch_id: string; offsets: OffsetRange[] }>(
      `SELECT b.batch_id, b.offsets FROM ingest_batches b
       WHERE b.batch_id IN (SELECT DISTINCT t.batch_id FROM training_examples e
                            JOIN transactions t USING (transaction_id)
                            WHERE e.example_set_id = ANY($1::text[]))
       ORDER BY b.batch_id COLLATE "C"`,
      [exampleSetIds],
    );
    return {
      batchIds: rows.map((row) => row.batch_id),
      offsets: rows.flatMap((row) => row.offsets),
    };
  }
}

/**
 * The trainer's {@link TrainerStore} on PostgreSQL: `trainer_batches`, `trainer_holdout`, the
 * registry and `trainer_outbox` (the trainer's tables), plus the example read model. SQL only
 * moves data; the rules are in `@streamtrain/training`.
 */
export class PostgresTrainerStore extends PostgresExampleReadModel implements TrainerStore {
  constructor(
    pool: Pool,
    readonly modelName: string,
    width: number,
  ) {
    super(pool, width);
  }

  async isBatchAccepted(batchId: string): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM trainer_batches WHERE batch_id = $1', [
      batchId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async acceptBatch(batch: AcceptedBatch): Promise<void> {
    await inTransaction(this.db, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO trainer_batches (batch_id, version_id, outcome, training_examples, watermark)
         VALUES ($1, NULL, $2, $3, $4) ON CONFLICT (batch_id) DO NOTHING`,
        [
          batch.batchId,
          batch.outcome,
          batch.trainingExamples,
          batch.watermarkMs === null ? null : new Date(batch.watermarkMs),
        ],
      );
      if ((rowCount ?? 0) === 0 || batch.holdout.length === 0) return;
      await client.query(
        `INSERT INTO trainer_holdout (transaction_id, event_time, batch_id)
         SELECT id, t, $3 FROM unnest($1::text[], $2::timestamptz[]) AS h(id, t)
         ON CONFLICT (transaction_id) DO NOTHING`,
        [
          batch.holdout.map((ref) => ref.transactionId),
          batch.holdout.map((ref) => new Date(ref.eventTimeMs)),
          batch.batchId,
        ],
      );
    });
  }

  async pendingBatches(): Promise<PendingBatch[]> {
    const { rows } = await this.db.query<{
      batch_id: string;
      training_examples: number;
      watermark: Date | null;
    }>(
      `SELECT batch_id, training_examples, watermark FROM trainer_batches
       WHERE outcome = 'pending' ORDER BY processed_at, batch_id COLLATE "C"`,
    );
    return rows.map((row) => ({
      batchId: row.batch_id,
      trainingExamples: row.training_examples,
      watermarkMs: row.watermark?.getTime() ?? null,
    }));
  }

  async recentHoldout(limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ transaction_id: string }>(
      `SELECT transaction_id FROM trainer_holdout
       ORDER BY event_time DESC, transaction_id COLLATE "C" DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.transaction_id).reverse();
  }

  async readAlias(alias: ModelAlias): Promise<StoredModel | null> {
    const found = await readAlias(this.db, this.modelName, alias);
    return found === null
      ? null
      : {
          versionId: found.record.versionId,
          version: found.record.version,
          artifact: found.artifact,
        };
  }

  readPromotionPin(): Promise<PromotionPin | null> {
    return readPromotionPin(this.db, this.modelName);
  }

  commitStep(commit: StepCommit): Promise<CommittedVersion> {
    return inTransaction(this.db, async (client) => {
      // The registry applies a pin under its lock: a pin set since the gate keeps the champion.
      const recorded = await recordModelVersion(client, {
        ...commit.version,
        modelName: this.modelName,
      });
      if (commit.resolvedBatchIds.length > 0) {
        await client.query(
          `UPDATE trainer_batches SET outcome = $2, version_id = $3
           WHERE batch_id = ANY($1::text[]) AND outcome = 'pending'`,
          [
            commit.resolvedBatchIds,
            recorded.promoted ? 'promoted' : 'rejected',
            commit.version.versionId,
          ],
        );
      }
      if (recorded.promoted) {
        const event = commit.announce(recorded.version);
        await enqueueOutbox(client, 'trainer_outbox', {
          eventId: `model:${event.versionId}`,
          routingKey: ROUTING_KEYS.modelPublished,
          payload: event,
        });
      }
      return {
        version: recorded.version,
        promoted: recorded.promoted,
        reason: recorded.gateReason,
      };
    });
  }
}
