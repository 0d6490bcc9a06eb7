-- Up Migration
-- Owned by the pipeline service (issue 14). The maturity rule's newly mature range is read from
-- the pipeline's own features by event time: an exact B-tree range, where the BRIN index of
-- transactions returns whole unsummarised block ranges (the newest ones, the ones a pass reads)
-- and the join to features made the planner hash both tables whole.
CREATE INDEX features_event_time ON features (event_time);

-- Down Migration
DROP INDEX features_event_time;
