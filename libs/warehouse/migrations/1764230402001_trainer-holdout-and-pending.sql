-- Up Migration
-- Owned by the trainer. The holdout and the pending examples are kept incrementally: the
-- trainer decides holdout membership when it accepts a features.ready batch (libs/training's
-- isHoldout) and records it here, so a step reads the most recent members by index instead of
-- scanning and sorting every example; a batch's training-example count is stored with it.
ALTER TABLE trainer_batches
  ADD COLUMN training_examples integer NOT NULL DEFAULT 0,
  ADD COLUMN watermark timestamptz;
CREATE INDEX trainer_batches_pending ON trainer_batches (processed_at, batch_id) WHERE outcome = 'pending';

-- Members accepted before this migration are not back-filled: the holdout refills as batches
-- arrive (the gate keeps the champion until it holds enough examples).
CREATE TABLE trainer_holdout (
  transaction_id text PRIMARY KEY,
  event_time     timestamptz NOT NULL,
  batch_id       text NOT NULL
);
CREATE INDEX trainer_holdout_recent ON trainer_holdout (event_time, transaction_id COLLATE "C");

-- Down Migration
DROP TABLE trainer_holdout;
DROP INDEX trainer_batches_pending;
ALTER TABLE trainer_batches DROP COLUMN watermark, DROP COLUMN training_examples;
