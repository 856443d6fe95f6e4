-- The consumer inbox (lib/inbox.h): events a consumer has processed, recorded in the same
-- transaction as the consumer's own changes.
CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
