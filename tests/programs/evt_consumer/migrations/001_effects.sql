-- The test consumer's side effects. No unique constraint on purpose: a duplicate processing
-- would show up as a second row.
CREATE TABLE effects (
    seq      bigint NOT NULL,
    event_id text   NOT NULL
);
