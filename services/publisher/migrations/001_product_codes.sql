-- The publisher's product codes (PROD-3): one row per OMI product, planned by the consumer of
-- catalog.product.created in the inbox transaction, worked by the maintenance hook as a lib/job
-- job (the standard job columns below). `id` is the product id under the name lib/job expects.
CREATE TABLE product_codes (
    product_id      uuid PRIMARY KEY,
    id              uuid GENERATED ALWAYS AS (product_id) STORED UNIQUE,
    organization_id uuid NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    product_code    text,                   -- the product type id, "pty-...", once done
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text,
    last_error      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX product_codes_due ON product_codes (next_attempt_at) WHERE state = 'pending';
