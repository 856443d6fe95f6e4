-- The probe's side effects: one row per tick processed (no unique constraint on purpose: a
-- duplicate processing would show up as a second row), and the rows a "forgotten" transaction
-- wrote (they must never be committed).
CREATE TABLE effects (
    seq      bigint NOT NULL,
    event_id text   NOT NULL
);
CREATE TABLE leaks (
    note text NOT NULL
);
