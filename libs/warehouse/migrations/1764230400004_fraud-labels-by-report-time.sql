-- Up Migration
-- The pipeline reads the fraud labels reported within its history window.
CREATE INDEX labels_fraud_reported_at ON labels (reported_at) WHERE is_fraud;

-- Down Migration
DROP INDEX labels_fraud_reported_at;
