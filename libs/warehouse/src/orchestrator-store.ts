import type { Pool, PoolClient } from 'pg';
import type { OffsetRange } from '@streamtrain/contracts';
import type { StoredLabel, StoredTransaction } from './pipeline-store';

type Queryable = Pool | PoolClient;

/** Where a run is. */
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What started a run. */
export interface RunTrigger {
  kind: 'cron' | 'manual' | 'label-count' | 'drift' | 'rebuild';
  /** The debounce key of a data-driven trigger; null for cron and manual. */
  key: string | null;
  by: string;
  reason: string;
}

/** One step of a run, as history shows it. */
export interface RunStepRecord {
  step: string;
  ordinal: number;
  status: 'running' | 'completed' | 'failed';
  attempts: number;
  input: unknown;
  output: unknown;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  seconds: number | null;
}

/** A workflow run, as history shows it. */
export interface RunRecord {
  runId: string;
  workflow: string;
  trigger: RunTrigger;
  params: Record<string, unknown>;
  status: RunStatus;
  cancelRequested: boolean;
  attempts: number;
  versionId: string | null;
  promoted: boolean | null;
  gateReason: string | null;
  metrics: unknown;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  steps: RunStepRecord[];
}

interface RunRow {
  run_id: string;
  workflow: string;
  trigger_kind: RunTrigger['kind'];
  trigger_key: string | null;
  triggered_by: string;
  reason: string;
  params: Record<string, unknown>;
  status: RunStatus;
  cancel_requested: boolean;
  attempts: number;
  version_id: string | null;
  promoted: boolean | null;
  gate_reason: string | null;
  metrics: unknown;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

function toRun(row: RunRow, steps: RunStepRecord[]): RunRecord {
  return {
    runId: row.run_id,
    workflow: row.workflow,
    trigger: {
      kind: row.trigger_kind,
      key: row.trigger_key,
      by: row.triggered_by,
      reason: row.reason,
    },
    params: row.params,
    status: row.status,
    cancelRequested: row.cancel_requested,
    attempts: row.attempts,
    versionId: row.version_id,
    promoted: row.promoted,
    gateReason: row.gate_reason,
    metrics: row.metrics,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    steps,
  };
}

/** Records a queued run; a second insert of the same id changes nothing. */
export async function insertRun(
  db: Queryable,
  run: { runId: string; workflow: string; trigger: RunTrigger; params: Record<string, unknown> },
): Promise<void> {
  await db.query(
    `INSERT INTO orchestrator_runs (run_id, workflow, trigger_kind, trigger_key, triggered_by, reason, params, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued') ON CONFLICT (run_id) DO NOTHING`,
    [
      run.runId,
      run.workflow,
      run.trigger.kind,
      run.trigger.key,
      run.trigger.by,
      run.trigger.reason,
      JSON.stringify(run.params),
    ],
  );
}

async function readSteps(
  db: Queryable,
  runIds: readonly string[],
): Promise<Map<string, RunStepRecord[]>> {
  const { rows } = await db.query<{
    run_id: string;
    step: string;
    ordinal: number;
    status: RunStepRecord['status'];
    attempts: number;
    input: unknown;
    output: unknown;
    error: string | null;
    started_at: Date;
    finished_at: Date | null;
  }>(
    `SELECT run_id, step, ordinal, status, attempts, input, output, error, started_at, finished_at
     FROM orchestrator_steps WHERE run_id = ANY($1::text[]) ORDER BY run_id, ordinal`,
    [runIds],
  );
  const byRun = new Map<string, RunStepRecord[]>();
  for (const row of rows) {
    const steps = byRun.get(row.run_id) ?? [];
    steps.push({
      step: row.step,
      ordinal: row.ordinal,
      status: row.status,
      attempts: row.attempts,
      input: row.input,
      output: row.output,
      error: row.error,
      startedAt: row.started_at.toISOString(),
      finishedAt: iso(row.finished_at),
      seconds:
        row.finished_at === null
          ? null
          : (row.finished_at.getTime() - row.started_at.getTime()) / 1000,
    });
    byRun.set(row.run_id, steps);
  }
  return byRun;
}

/** A run with its steps, or null. */
export async function readRun(db: Queryable, runId: string): Promise<RunRecord | null> {
  const { rows } = await db.query<RunRow>('SELECT * FROM orchestrator_runs WHERE run_id = $1', [
    runId,
  ]);
  const row = rows[0];
  if (row === undefined) return null;
  return toRun(row, (await readSteps(db, [runId])).get(runId) ?? []);
}

/** Runs, newest first. */
export async function listRuns(
  db: Queryable,
  filter: { workflow?: string; status?: RunStatus; limit?: number; offset?: number } = {},
): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT * FROM orchestrator_runs WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
     ORDER BY created_at DESC, run_id DESC LIMIT $3 OFFSET $4`,
    [filter.workflow ?? null, filter.status ?? null, filter.limit ?? 20, filter.offset ?? 0],
  );
  const steps = await readSteps(
    db,
    rows.map((row) => row.run_id),
  );
  return rows.map((row) => toRun(row, steps.get(row.run_id) ?? []));
}

/** Marks a run as started (one more attempt). Returns the run as it now stands. */
export async function markRunStarted(db: Queryable, runId: string): Promise<RunRecord | null> {
  await db.query(
    `UPDATE orchestrator_runs SET status = 'running', attempts = attempts + 1,
       started_at = coalesce(started_at, now()), error = NULL
     WHERE run_id = $1 AND status IN ('queued', 'running', 'failed')`,
    [runId],
  );
  return readRun(db, runId);
}

/** Records how a run ended. */
export async function finishRun(
  db: Queryable,
  runId: string,
  end: {
    status: Exclude<RunStatus, 'queued' | 'running'>;
    error?: string | null;
    versionId?: string | null;
    promoted?: boolean | null;
    gateReason?: string | null;
    metrics?: unknown;
  },
): Promise<void> {
  await db.query(
    `UPDATE orchestrator_runs SET status = $2, error = $3, version_id = coalesce($4, version_id),
       promoted = coalesce($5, promoted), gate_reason = coalesce($6, gate_reason),
       metrics = coalesce($7, metrics), finished_at = now()
     WHERE run_id = $1`,
    [
      runId,
      end.status,
      end.error ?? null,
      end.versionId ?? null,
      end.promoted ?? null,
      end.gateReason ?? null,
      end.metrics === undefined ? null : JSON.stringify(end.metrics),
    ],
  );
}

/** Asks a run to stop before its next step. Returns the run's status, or null when unknown. */
export async function requestRunCancel(db: Queryable, runId: string): Promise<RunStatus | null> {
  const { rows } = await db.query<{ status: RunStatus }>(
    `UPDATE orchestrator_runs SET cancel_requested = true WHERE run_id = $1 RETURNING status`,
    [runId],
  );
  return rows[0]?.status ?? null;
}

/** Whether someone asked the run to stop. */
export async function isRunCancelRequested(db: Queryable, runId: string): Promise<boolean> {
  const { rows } = await db.query<{ cancel_requested: boolean }>(
    'SELECT cancel_requested FROM orchestrator_runs WHERE run_id = $1',
    [runId],
  );
  return rows[0]?.cancel_requested === true;
}

/** The results of a run's completed steps, by step name. */
export async function readCompletedSteps(
  db: Queryable,
  runId: string,
): Promise<Map<string, { output: unknown; payload: unknown }>> {
  const { rows } = await db.query<{ step: string; output: unknown; payload: unknown }>(
    `SELECT step, output, payload FROM orchestrator_steps WHERE run_id = $1 AND status = 'completed'`,
    [runId],
  );
  return new Map(rows.map((row) => [row.step, { output: row.output, payload: row.payload }]));
}

/** Records that a step (re)started. */
export async function startRunStep(
  db: Queryable,
  step: { runId: string; step: string; ordinal: number; input: unknown },
): Promise<void> {
  await db.query(
    `INSERT INTO orchestrator_steps (run_id, step, ordinal, status, attempts, input)
     VALUES ($1, $2, $3, 'running', 1, $4)
     ON CONFLICT (run_id, step) DO UPDATE SET status = 'running', attempts = orchestrator_steps.attempts + 1,
       input = EXCLUDED.input, error = NULL, started_at = now(), finished_at = NULL`,
    [step.runId, step.step, step.ordinal, JSON.stringify(step.input)],
  );
}

/** Records a step's result. */
export async function completeRunStep(
  db: Queryable,
  step: { runId: string; step: string; output: unknown; payload: unknown },
): Promise<void> {
  await db.query(
    `UPDATE orchestrator_steps SET status = 'completed', output = $3, payload = $4, finished_at = now()
     WHERE run_id = $1 AND step = $2`,
    [step.runId, step.step, JSON.stringify(step.output), JSON.stringify(step.payload ?? null)],
  );
}

/** Records a step's failure. */
export async function failRunStep(
  db: Queryable,
  step: { runId: string; step: string; error: string },
): Promise<void> {
  await db.query(
    `UPDATE orchestrator_steps SET status = 'failed', error = $3, finished_at = now()
     WHERE run_id = $1 AND step = $2`,
    [step.runId, step.step, step.error],
  );
}

/** Runs recorded as running (their worker may have died). */
export async function readRunningRuns(
  db: Queryable,
): Promise<{ runId: string; workflow: string }[]> {
  const { rows } = await db.query<{ run_id: string; workflow: string }>(
    `SELECT run_id, workflow FROM orchestrator_runs WHERE status = 'running'`,
  );
  return rows.map((row) => ({ runId: row.run_id, workflow: row.workflow }));
}

/**
 * Records a data-driven trigger firing under its key. False when the key fired before: the
 * condition was already acted on (by this or another instance).
 */
export async function recordTriggerFire(
  db: Queryable,
  fire: { key: string; kind: string; workflow: string; observed: number | null },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO orchestrator_trigger_fires (trigger_key, kind, workflow, observed) VALUES ($1, $2, $3, $4)
     ON CONFLICT (trigger_key) DO NOTHING`,
    [fire.key, fire.kind, fire.workflow, fire.observed],
  );
  return (rowCount ?? 0) > 0;
}

/** Links a firing to the run it started. */
export async function linkTriggerFire(
  db: Queryable,
  key: string,
  runId: string | null,
): Promise<void> {
  await db.query('UPDATE orchestrator_trigger_fires SET run_id = $2 WHERE trigger_key = $1', [
    key,
    runId,
  ]);
}

/** The largest value a trigger kind fired at for a workflow, or null before its first firing. */
export async function lastTriggerObserved(
  db: Queryable,
  kind: string,
  workflow: string,
): Promise<number | null> {
  const { rows } = await db.query<{ observed: number | null }>(
    `SELECT max(observed) AS observed FROM orchestrator_trigger_fires WHERE kind = $1 AND workflow = $2`,
    [kind, workflow],
  );
  return rows[0]?.observed ?? null;
}

/** Training examples matured so far: labels known, one per transaction. */
export async function countMaturedExamples(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM training_examples');
  return Number(rows[0]?.n ?? 0);
}

/** The latest event time in the warehouse (transactions and label reports), or null when empty. */
export async function latestEventTime(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ latest: Date | null }>(
    `SELECT greatest((SELECT max(event_time) FROM transactions), (SELECT max(reported_at) FROM labels)) AS latest`,
  );
  return rows[0]?.latest?.getTime() ?? null;
}

/** Every transaction with event time in `[fromMs, toMs]`. */
export async function readTransactionsBetween(
  db: Queryable,
  fromMs: number,
  toMs: number,
): Promise<StoredTransaction[]> {
  const { rows } = await db.query<{
    transaction_id: string;
    batch_id: string;
    customer_id: string;
    terminal_id: string;
    amount: number;
    event_time: Date;
  }>(
    `SELECT transaction_id, batch_id, customer_id, terminal_id, amount, event_time FROM transactions
     WHERE event_time BETWEEN $1 AND $2 ORDER BY event_time, transaction_id`,
    [new Date(fromMs), new Date(toMs)],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    batchId: row.batch_id,
    customerId: row.customer_id,
    terminalId: row.terminal_id,
    amount: row.amount,
    eventTimeMs: row.event_time.getTime(),
  }));
}

/** Labels reported at or before `cutoffMs` of transactions with event time in `[fromMs, toMs]`. */
export async function readLabelsKnownBy(
  db: Queryable,
  fromMs: number,
  toMs: number,
  cutoffMs: number,
): Promise<StoredLabel[]> {
  const { rows } = await db.query<{ transaction_id: string; is_fraud: boolean; reported_at: Date }>(
    `SELECT l.transaction_id, l.is_fraud, l.reported_at FROM labels l JOIN transactions t USING (transaction_id)
     WHERE t.event_time BETWEEN $1 AND $2 AND l.reported_at <= $3 ORDER BY l.transaction_id`,
    [new Date(fromMs), new Date(toMs), new Date(cutoffMs)],
  );
  return rows.map((row) => ({
    transactionId: row.transaction_id,
    isFraud: row.is_fraud,
    reportedAtMs: row.reported_at.getTime(),
  }));
}

/** The Kafka offset ranges of the given ingest batches. */
export async function readIngestBatchOffsets(
  db: Queryable,
  batchIds: readonly string[],
): Promise<OffsetRange[]> {
  const { rows } = await db.query<{ offsets: OffsetRange[] }>(
    'SELECT offsets FROM ingest_batches WHERE batch_id = ANY($1::text[]) ORDER BY batch_id',
    [batchIds],
  );
  return rows.flatMap((row) => row.offsets);
}
