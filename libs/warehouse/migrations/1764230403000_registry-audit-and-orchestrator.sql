-- Up Migration
-- Registry operations (issue 10): shared by the trainer, the orchestrator and the `streamtrain` CLI
-- through @streamtrain/warehouse's registry code.

-- Every move of a registry alias, append-only: by the gate, an operator, a rollback or a pin.
CREATE TABLE model_alias_changes (
  id              bigserial PRIMARY KEY,
  model_name      text NOT NULL,
  alias           text NOT NULL,
  action          text NOT NULL CHECK (action IN ('gate', 'promote', 'rollback', 'auto-rollback', 'pin', 'unpin')),
  from_version_id text REFERENCES model_versions (version_id),
  to_version_id   text REFERENCES model_versions (version_id),
  actor           text NOT NULL,
  reason          text NOT NULL,
  numbers         jsonb NOT NULL DEFAULT '{}'::jsonb,
  changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_alias_changes_model ON model_alias_changes (model_name, id DESC);

CREATE FUNCTION model_alias_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'model_alias_changes is append-only';
END;
$$;
CREATE TRIGGER model_alias_changes_no_update BEFORE UPDATE OR DELETE ON model_alias_changes
  FOR EACH ROW EXECUTE FUNCTION model_alias_changes_append_only();

-- A pinned model's champion changes only by an operator: the gate registers, never promotes.
CREATE TABLE model_pins (
  model_name text PRIMARY KEY,
  actor      text NOT NULL,
  reason     text NOT NULL,
  pinned_at  timestamptz NOT NULL DEFAULT now()
);

-- Owned by the orchestrator service.
CREATE TABLE orchestrator_runs (
  run_id           text PRIMARY KEY,
  workflow         text NOT NULL,
  trigger_kind     text NOT NULL,
  trigger_key      text,
  triggered_by     text NOT NULL,
  reason           text NOT NULL DEFAULT '',
  params           jsonb NOT NULL DEFAULT '{}'::jsonb,
  status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  cancel_requested boolean NOT NULL DEFAULT false,
  attempts         integer NOT NULL DEFAULT 0,
  version_id       text,
  promoted         boolean,
  gate_reason      text,
  metrics          jsonb,
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz
);
CREATE INDEX orchestrator_runs_workflow ON orchestrator_runs (workflow, created_at DESC);

CREATE TABLE orchestrator_steps (
  run_id      text NOT NULL REFERENCES orchestrator_runs (run_id),
  step        text NOT NULL,
  ordinal     integer NOT NULL,
  status      text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  input       jsonb,
  output      jsonb,
  -- What the next steps read (datasets, the artifact); kept out of run history listings.
  payload     jsonb,
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (run_id, step)
);

-- One row per data-driven trigger firing: the key makes a firing happen once, whichever
-- orchestrator instance sees the condition first.
CREATE TABLE orchestrator_trigger_fires (
  trigger_key text PRIMARY KEY,
  kind        text NOT NULL,
  workflow    text NOT NULL,
  observed    double precision,
  run_id      text,
  fired_at    timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE orchestrator_trigger_fires;
DROP TABLE orchestrator_steps;
DROP TABLE orchestrator_runs;
DROP TABLE model_pins;
DROP TABLE model_alias_changes;
DROP FUNCTION model_alias_changes_append_only();
