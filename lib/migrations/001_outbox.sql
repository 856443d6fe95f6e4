-- The transactional outbox (lib/outbox.h): events inserted in the same transaction as the
-- change they describe, published to JetStream by the relay, then marked sent.
CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
