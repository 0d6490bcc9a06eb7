-- Up Migration
-- Owned by the trainer (and the orchestrator's retrains, through the same registry code).
CREATE TABLE model_versions (
  version_id        text PRIMARY KEY,
  model_name        text NOT NULL,
  version           integer NOT NULL,
  parent_version_id text REFERENCES model_versions (version_id),
  status            text NOT NULL CHECK (status IN ('champion', 'rejected', 'retired')),
  gate_reason       text NOT NULL,
  metrics           jsonb NOT NULL,
  champion_metrics  jsonb,
  lineage           jsonb NOT NULL,
  artifact          jsonb NOT NULL,
  backend           text NOT NULL,
  trained_samples   integer NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (model_name, version)
);

CREATE TABLE model_aliases (
  model_name text NOT NULL,
  alias      text NOT NULL,
  version_id text NOT NULL REFERENCES model_versions (version_id),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_name, alias)
);

CREATE TABLE trainer_batches (
  batch_id     text PRIMARY KEY,
  version_id   text REFERENCES model_versions (version_id),
  outcome      text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trainer_outbox (
  id           bigserial PRIMARY KEY,
  event_id     text NOT NULL UNIQUE,
  routing_key  text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX trainer_outbox_unpublished ON trainer_outbox (id) WHERE published_at IS NULL;

-- Down Migration
DROP TABLE trainer_outbox;
DROP TABLE trainer_batches;
DROP TABLE model_aliases;
DROP TABLE model_versions;
