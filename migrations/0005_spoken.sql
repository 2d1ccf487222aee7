-- The text sent to the voice when the pronunciation lexicon changed it
-- (NULL when it is the shown text). `text` stays what the manuscript says:
-- the manifest and subtitles show it; the content key is computed from what
-- is spoken.
ALTER TABLE segments ADD COLUMN spoken TEXT;
