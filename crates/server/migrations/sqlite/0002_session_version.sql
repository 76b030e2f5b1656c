-- A session row's version, raised by every write: what a node compares before overwriting a
-- session another node may have changed (compare-and-swap).
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
