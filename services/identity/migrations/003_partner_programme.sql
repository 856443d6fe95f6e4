-- PUB-1: a seller organization may carry a partner-programme number, given at sign-up or later by
-- an administrator; operators validate or refuse it, with a reason, when they validate the
-- organization. '' = no number; 'pending' until an operator decides.
ALTER TABLE organizations
    ADD COLUMN partner_number text NOT NULL DEFAULT '',
    ADD COLUMN partner_status text NOT NULL DEFAULT '' CHECK (partner_status IN ('', 'pending', 'validated', 'refused')),
    ADD COLUMN partner_reason text NOT NULL DEFAULT '';
