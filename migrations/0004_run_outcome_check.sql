-- A run's outcome is one of a closed set, checked by the database like a
-- segment's state: running | complete | failed | interrupted | incomplete
-- (stopped at a deadline or budget with work pending) | killed (its process
-- died while running) | error (the run could not finish). SQLite cannot add
-- a CHECK to an existing column, so the table is rebuilt, keeping every row.
CREATE TABLE runs_checked (
    id                 INTEGER PRIMARY KEY,
    job_id             INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    pid                INTEGER NOT NULL,
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    outcome            TEXT NOT NULL
        CHECK (outcome IN ('running', 'complete', 'failed', 'interrupted',
                           'incomplete', 'killed', 'error')),
    synthesized        INTEGER NOT NULL DEFAULT 0,
    cached             INTEGER NOT NULL DEFAULT 0,
    failed             INTEGER NOT NULL DEFAULT 0,
    retries            INTEGER NOT NULL DEFAULT 0,
    requests           INTEGER NOT NULL DEFAULT 0,
    rate_limited       INTEGER NOT NULL DEFAULT 0,
    rate_limit_wait_ms INTEGER NOT NULL DEFAULT 0,
    window             INTEGER
);
INSERT INTO runs_checked (id, job_id, pid, started_at, finished_at, outcome, synthesized,
                          cached, failed, retries, requests, rate_limited,
                          rate_limit_wait_ms, window)
    SELECT id, job_id, pid, started_at, finished_at, outcome, synthesized, cached, failed,
           retries, requests, rate_limited, rate_limit_wait_ms, window
    FROM runs;
DROP TABLE runs;
ALTER TABLE runs_checked RENAME TO runs;
