-- The lease owner of lib/job.h: a pending row claimed by a delivery names it until the outcome is
-- recorded (only the lease holder records one) or the lease ends (then another delivery may
-- claim it again: a crashed notifier's mails go out).
ALTER TABLE mail_ledger ADD COLUMN lease_owner text;
