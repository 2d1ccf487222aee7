-- The ids of a segment's last failure: the service's log id (vendors ask
-- for it in every support ticket) and our request id. `last_error` holds
-- the cause without them, so failures of one cause group together.
ALTER TABLE segments ADD COLUMN error_log_id TEXT;
ALTER TABLE segments ADD COLUMN error_request_id TEXT;
-- The provider error that stopped a run at once (an account-wide refusal:
-- bad token, no balance, daily limit), shown with its ids. The segments it
-- stopped stay pending, so they are not where it is kept.
ALTER TABLE runs ADD COLUMN stopped_by TEXT;
