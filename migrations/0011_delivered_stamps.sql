-- A delivered text file's modification time (nanoseconds since the Unix
-- epoch) when it was written, beside its size: `manifest.json` and
-- `proof.csv` are not rebuilt when what they are made from is unchanged and
-- both are on disk as written (a file edited by hand has another time).
-- NULL for files recorded before this column, and for audio files.
ALTER TABLE deliveries ADD COLUMN modified_ns INTEGER;
