-- bench_chain's tables, created in both of its schemas (one program, one migration set): the
-- producer writes `produced` with each event, the consumer writes `effects` for each event.
CREATE TABLE produced (seq bigint PRIMARY KEY);
CREATE TABLE effects (
    seq      bigint NOT NULL,
    event_id text   NOT NULL,
    lag_us   bigint NOT NULL -- event time (at emit, before the commit) to processing, in us
);
