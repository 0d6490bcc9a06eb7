-- Up Migration
-- Owned by the ingest service's file import (issue 12: re-importing a file does not fill the
-- dead-letter topic twice). One row per bad line sent to the dead-letter topic: the source (the
-- file's name and path digest), the line, and a digest of the line's bytes, so the same bad line
-- imported again is not sent again, while a line rewritten with other content is.
CREATE TABLE import_dead_letters (
  source            text NOT NULL,
  line              bigint NOT NULL,
  value_digest      text NOT NULL,
  code              text NOT NULL,
  dead_lettered_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, line, value_digest)
);

-- Down Migration
DROP TABLE import_dead_letters;
