-- Up Migration
-- Owned by the warehouse's retention (issue 12): an old version's artifact can be pruned while its
-- row, metrics and lineage stay; artifact_pruned_at says when.
ALTER TABLE model_versions ALTER COLUMN artifact DROP NOT NULL;
ALTER TABLE model_versions ADD COLUMN artifact_pruned_at timestamptz;
ALTER TABLE model_versions ADD CONSTRAINT model_versions_artifact_or_pruned
  CHECK (artifact IS NOT NULL OR artifact_pruned_at IS NOT NULL);

-- Down Migration
ALTER TABLE model_versions DROP CONSTRAINT model_versions_artifact_or_pruned;
ALTER TABLE model_versions DROP COLUMN artifact_pruned_at;
ALTER TABLE model_versions ALTER COLUMN artifact SET NOT NULL;
