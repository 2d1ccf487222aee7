-- The state of every job, chapter and segment, so that a killed or failed
-- run resumes without re-rendering what is done.

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,   -- the job file, absolute
    name        TEXT NOT NULL,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    planned_at  TEXT NOT NULL
);

CREATE TABLE chapters (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    title       TEXT NOT NULL,
    -- hash of everything the chapter file is made of; equal means the file
    -- on disk is already right and need not be stitched again
    stitch_key  TEXT,
    samples     INTEGER,
    PRIMARY KEY (job_id, idx)
);

-- One row per finished clip in the cache, shared by every segment (of any
-- job) whose content key it is.
CREATE TABLE clips (
    content_key TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    samples     INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE segments (
    id             INTEGER PRIMARY KEY,
    job_id         INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    chapter_idx    INTEGER NOT NULL,
    idx            INTEGER NOT NULL,   -- order within the chapter
    paragraph_idx  INTEGER NOT NULL,   -- paragraph within the chapter
    ends_paragraph INTEGER NOT NULL,
    text           TEXT NOT NULL,
    chars          INTEGER NOT NULL,
    content_key    TEXT NOT NULL,
    state          TEXT NOT NULL
        CHECK (state IN ('pending', 'in_flight', 'done', 'failed', 'pause')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    error_class    TEXT,
    last_error     TEXT,
    updated_at     TEXT NOT NULL,
    UNIQUE (job_id, chapter_idx, idx)
);
CREATE INDEX segments_by_state ON segments (job_id, state);
CREATE INDEX segments_by_key ON segments (content_key);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    pid          INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    -- running | complete | failed | interrupted | killed | error
    outcome      TEXT NOT NULL,
    synthesized  INTEGER NOT NULL DEFAULT 0,
    cached       INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    retries      INTEGER NOT NULL DEFAULT 0
);
