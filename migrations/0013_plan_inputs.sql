-- A digest of everything a job's plan is made from (the manuscript as read,
-- language, limits, lexicon, voice, the program's build), recorded with the
-- plan's hash: a render whose inputs are unchanged does not make the plan
-- again. NULL until the next render records it.
ALTER TABLE jobs ADD COLUMN plan_inputs TEXT;
