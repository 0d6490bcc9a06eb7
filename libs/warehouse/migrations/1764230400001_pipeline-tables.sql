-- Up Migration
-- Owned by the pipeline service.
CREATE TABLE features (
  transaction_id      text PRIMARY KEY,
  feature_set_version integer NOT NULL,
  event_time          timestamptz NOT NULL,
  batch_id            text NOT NULL,
  feature_values      double precision[] NOT NULL,
  computed_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX features_batch ON features (batch_id);

-- A transaction becomes a training example once its label is known: a fraud label has been
-- reported, or the maturity window has passed without one (then it is genuine).
CREATE TABLE training_examples (
  transaction_id text PRIMARY KEY,
  example_set_id text NOT NULL,
  label          smallint NOT NULL CHECK (label IN (0, 1)),
  event_time     timestamptz NOT NULL,
  matured_at     timestamptz NOT NULL,
  corrected      boolean NOT NULL DEFAULT false
);
CREATE INDEX training_examples_set ON training_examples (example_set_id);
CREATE INDEX training_examples_time ON training_examples (event_time);

CREATE TABLE pipeline_batches (
  batch_id      text PRIMARY KEY,
  feature_count integer NOT NULL,
  example_count integer NOT NULL,
  watermark     timestamptz,
  processed_at  timestamptz NOT NULL DEFAULT now()
);

-- One row: the event-time watermark and how far maturity has been applied.
CREATE TABLE pipeline_state (
  id             boolean PRIMARY KEY DEFAULT true CHECK (id),
  watermark      timestamptz,
  matured_until  timestamptz
);
INSERT INTO pipeline_state (id) VALUES (true);

CREATE TABLE pipeline_outbox (
  id           bigserial PRIMARY KEY,
  event_id     text NOT NULL UNIQUE,
  routing_key  text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX pipeline_outbox_unpublished ON pipeline_outbox (id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE pipeline_outbox;
DROP TABLE pipeline_state;
DROP TABLE pipeline_batches;
DROP TABLE training_examples;
DROP TABLE features;
