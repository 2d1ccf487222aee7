-- What makes a render with nothing to do cheap:
-- the hash of the plan last recorded for a job, so an unchanged plan is not
-- deleted and written again; and each clip file's size and modification
-- time when it was last hashed, so an unchanged file is not read again.
-- NULL for rows written before this migration: those are hashed once.
ALTER TABLE jobs ADD COLUMN plan_hash TEXT;
ALTER TABLE clips ADD COLUMN file_size INTEGER;
ALTER TABLE clips ADD COLUMN file_mtime_ns INTEGER;
