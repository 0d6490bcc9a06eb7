-- Up Migration
-- Owned by the pipeline service (issue 14): its incremental feature state, checkpointed.
-- A processed batch gets a sequence number, assigned under the pipeline_state lock, so it grows in
-- commit order: a pipeline instance applies to its state the batches processed after its cursor.
ALTER TABLE pipeline_batches ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX pipeline_batches_seq ON pipeline_batches (seq);

-- One row: which instance wrote the checkpoint, the last batch sequence it includes and the
-- state's floor (transactions at or before it are not held; double precision for -Infinity).
CREATE TABLE pipeline_feature_checkpoint (
  id          boolean PRIMARY KEY DEFAULT true CHECK (id),
  writer_id   text,
  format      integer,
  cursor_seq  bigint,
  floor_ms    double precision,
  written_at  timestamptz
);
INSERT INTO pipeline_feature_checkpoint (id) VALUES (true);

-- The state's segments (one per UTC event day, one of labels), as `FeatureState` encodes them.
CREATE TABLE pipeline_feature_segments (
  segment text PRIMARY KEY,
  body    text NOT NULL
);
-- Rewritten often and read only on a restart: no compression on the write path.
ALTER TABLE pipeline_feature_segments ALTER COLUMN body SET STORAGE EXTERNAL;

-- Down Migration
DROP TABLE pipeline_feature_segments;
DROP TABLE pipeline_feature_checkpoint;
DROP INDEX pipeline_batches_seq;
ALTER TABLE pipeline_batches DROP COLUMN seq;
