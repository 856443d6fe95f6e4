-- The sent-mail ledger (MAIL-2): one row per (event key, recipient), inserted 'pending' in the
-- same transaction as the consumer's inbox record, then moved to 'sent' or 'failed' by the
-- delivery loop (with the mail.sent / mail.failed outbox row in the same transaction). SMTP runs
-- outside any transaction: a delivery claims a row by pushing next_attempt_at past a lease, so a
-- crashed notifier's rows become due again when the lease ends.
CREATE TABLE mail_ledger (
    id              uuid PRIMARY KEY,            -- UUIDv7: sorts by creation (the list cursor)
    event_key       text NOT NULL,               -- the command's idempotency key, else the event id
    event_id        text NOT NULL,               -- the envelope that asked for the mail
    event_type      text NOT NULL,
    recipient       text NOT NULL,               -- normalized (lower-case) address
    recipient_name  text NOT NULL DEFAULT '',
    language        text NOT NULL,               -- 'en' or 'fr' (MAIL-1)
    template        text NOT NULL,
    organization_id text NOT NULL DEFAULT '',
    correlation_id  text NOT NULL DEFAULT '',
    vars            jsonb NOT NULL,              -- the template's non-secret variables: operators see them
    secret_vars     jsonb,                       -- secret ones (link tokens): erased once sent or failed
    state           text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,  -- SMTP transactions tried
    next_attempt_at timestamptz NOT NULL,        -- pending: due time, or the end of a delivery's lease
    give_up_at      timestamptz NOT NULL,        -- a temporary failure after this is final
    created_at      timestamptz NOT NULL,        -- also the mail's Date header (identical re-sends)
    updated_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    last_error      text NOT NULL DEFAULT '',
    message_id      text NOT NULL,               -- <sha256(event_key|recipient)@notifier.mkt>
    UNIQUE (event_key, recipient)
);
CREATE INDEX mail_ledger_due ON mail_ledger (next_attempt_at) WHERE state = 'pending';
-- Only what the claim, the operators' view and the pruning need: every index costs on each of the
-- row's three writes (insert, claim, outcome).
CREATE INDEX mail_ledger_failed ON mail_ledger (id) WHERE state = 'failed';
CREATE INDEX mail_ledger_recipient ON mail_ledger (recipient, id);
CREATE INDEX mail_ledger_created ON mail_ledger (created_at);
