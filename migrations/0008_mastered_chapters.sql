-- What a chapter file was made into when it was written: where each
-- segment's speech lies (after trimming) and the QA measurement of the
-- mastered file, as JSON. Kept with the stitch key, so a chapter that is
-- up to date is described in the manifest and the QA without reading it.
ALTER TABLE chapters ADD COLUMN mastered TEXT;
