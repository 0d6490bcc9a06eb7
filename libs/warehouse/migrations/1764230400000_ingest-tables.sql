-- Up Migration
-- Owned by the ingest service. Other services read these tables through @streamtrain/warehouse.
CREATE TABLE transactions (
  transaction_id   text PRIMARY KEY,
  customer_id      text NOT NULL,
  terminal_id      text NOT NULL,
  amount           double precision NOT NULL CHECK (amount >= 0),
  event_time       timestamptz NOT NULL,
  channel          text NOT NULL,
  batch_id         text NOT NULL,
  source_topic     text NOT NULL,
  source_partition integer NOT NULL,
  source_offset    bigint NOT NULL,
  ingested_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transactions_customer_time ON transactions (customer_id, event_time);
CREATE INDEX transactions_terminal_time ON transactions (terminal_id, event_time);
CREATE INDEX transactions_batch ON transactions (batch_id);
CREATE INDEX transactions_event_time ON transactions (event_time);

CREATE TABLE labels (
  transaction_id   text PRIMARY KEY,
  is_fraud         boolean NOT NULL,
  reported_at      timestamptz NOT NULL,
  batch_id         text NOT NULL,
  source_topic     text NOT NULL,
  source_partition integer NOT NULL,
  source_offset    bigint NOT NULL,
  ingested_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX labels_batch ON labels (batch_id);

CREATE TABLE ingest_batches (
  batch_id          text PRIMARY KEY,
  transaction_count integer NOT NULL,
  label_count       integer NOT NULL,
  min_event_time    timestamptz,
  max_event_time    timestamptz,
  offsets           jsonb NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ingest_outbox (
  id           bigserial PRIMARY KEY,
  event_id     text NOT NULL UNIQUE,
  routing_key  text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX ingest_outbox_unpublished ON ingest_outbox (id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE ingest_outbox;
DROP TABLE ingest_batches;
DROP TABLE labels;
DROP TABLE transactions;
