-- The QA measurement of a delivered lossy file (MP3, M4B) as decoded, as
-- JSON: a file that is up to date is judged again without decoding it.
-- NULL for lossless files (their QA is the mastered chapter's) and for
-- files delivered before this column (they are decoded once, then kept).
ALTER TABLE deliveries ADD COLUMN measurement TEXT;
