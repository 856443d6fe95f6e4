-- The lease owner of lib/job.h: EIM jobs (eim_users) and detach teardowns (outscale_accounts) are
-- claimed by one worker at a time; only the lease holder records an outcome, and anything that
-- re-plans a row clears it (which voids a running worker's outcome).
ALTER TABLE eim_users ADD COLUMN lease_owner text;
ALTER TABLE outscale_accounts ADD COLUMN lease_owner text;
