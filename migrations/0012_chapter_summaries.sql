-- A few numbers of what each chapter was made into (its segments, how many
-- of them are silent, its samples, gain and QA measurement, as JSON), kept
-- apart from its layout (`mastered`, an entry per segment): a chapter whose
-- stitch key is unchanged is then settled by this small value, without
-- reading its segments or parsing its layout. NULL for chapters stitched
-- before this migration: the next render fills it in from `mastered`.
ALTER TABLE chapters ADD COLUMN summary TEXT;
