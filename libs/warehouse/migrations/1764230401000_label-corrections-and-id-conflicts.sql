-- Up Migration
-- Owned by the ingest service (issue 13, item 7).
-- A later label with the opposite verdict (a reversed chargeback) revises the label: `revision`
-- counts the verdicts applied, `batch_id` moves to the batch that carried the correction, so the
-- pipeline sees it among that batch's labels, and every correction is kept in `label_corrections`.
ALTER TABLE labels
  ADD COLUMN revision   integer NOT NULL DEFAULT 1,
  ADD COLUMN revised_at timestamptz;

CREATE TABLE label_corrections (
  transaction_id    text NOT NULL,
  revision          integer NOT NULL,
  is_fraud          boolean NOT NULL,
  reported_at       timestamptz NOT NULL,
  batch_id          text NOT NULL,
  source_topic      text NOT NULL,
  source_partition  integer NOT NULL,
  source_offset     bigint NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (transaction_id, revision)
);
CREATE INDEX label_corrections_batch ON label_corrections (batch_id);

-- A transaction id that came again with different content: the first version stays, each other
-- version is recorded once (keyed by where it came from, so a redelivery adds nothing).
CREATE TABLE transaction_conflicts (
  transaction_id    text NOT NULL,
  source_topic      text NOT NULL,
  source_partition  integer NOT NULL,
  source_offset     bigint NOT NULL,
  batch_id          text NOT NULL,
  existing_amount   double precision NOT NULL,
  incoming_amount   double precision NOT NULL,
  existing          jsonb NOT NULL,
  incoming          jsonb NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_topic, source_partition, source_offset, transaction_id)
);
CREATE INDEX transaction_conflicts_id ON transaction_conflicts (transaction_id);

-- Down Migration
DROP TABLE transaction_conflicts;
DROP TABLE label_corrections;
ALTER TABLE labels DROP COLUMN revised_at, DROP COLUMN revision;
