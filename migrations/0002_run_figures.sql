-- What a run cost: requests sent, rate-limit answers and the time spent
-- waiting them out, and the adaptive concurrency window (kept current during
-- a run so `status` can show it).
ALTER TABLE runs ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rate_limited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rate_limit_wait_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN window INTEGER;
