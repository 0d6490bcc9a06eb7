-- Up Migration
-- Transactions arrive roughly in event-time order, so a BRIN index serves the pipeline's
-- maturity range scans at a fraction of a B-tree's write cost on ingest's hot path.
DROP INDEX transactions_event_time;
CREATE INDEX transactions_event_time_brin ON transactions USING brin (event_time);

-- Down Migration
DROP INDEX transactions_event_time_brin;
CREATE INDEX transactions_event_time ON transactions (event_time);
