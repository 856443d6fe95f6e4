-- The relay's periodic cleanup deletes rows sent more than an hour ago; without this index that
-- DELETE scans the whole table every minute.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
