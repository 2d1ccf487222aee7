-- The files delivered into a job's output folder (audio, subtitles, proof
-- sheet), each with the content key it was made from: a rerun whose key is
-- unchanged and whose file is still there, at its size, encodes nothing.
-- It also replaces the `.book.key` marker that used to live in the output
-- folder: nothing hidden is left there.
CREATE TABLE deliveries (
    job_id  INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    file    TEXT NOT NULL,          -- name in the output folder
    key     TEXT NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (job_id, file)
);
