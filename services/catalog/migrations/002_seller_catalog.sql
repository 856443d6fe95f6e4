-- The seller side of the catalog: showcases (SHOW-1,2), products (PROD-1..9), offers with their
-- revisions (PROD-5, PROD-7), versions and their per-Region OMIs (VER-1..9), terms of use
-- (PUB-3) and listing reviews (PUB-4). Bilingual texts are column pairs (_en, _fr) so that the
-- public catalog can index each with its own text-search configuration. Times come from the
-- service clock as parameters; ids are UUIDv7 from lib/id.
--
-- Reads return one JSON document per row in the shape of the API's protobuf message
-- (proto/catalog.proto), built with the two helpers below, which store.c maps onto the message
-- by descriptor (lib/pbjson): no column-by-column copying in C.

-- ISO 8601 UTC with microseconds, '' for NULL (the API shows '' as null).
CREATE FUNCTION iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '') $$;
-- A bilingual text as {"en","fr"}.
CREATE FUNCTION txt(en text, fr text) RETURNS json LANGUAGE sql IMMUTABLE AS
$$ SELECT json_build_object('en', en, 'fr', fr) $$;

CREATE TABLE showcases (
    organization_id   uuid PRIMARY KEY,
    name_en           text NOT NULL DEFAULT '',
    name_fr           text NOT NULL DEFAULT '',
    short_en          text NOT NULL DEFAULT '',
    short_fr          text NOT NULL DEFAULT '',
    description_en    text NOT NULL DEFAULT '',
    description_fr    text NOT NULL DEFAULT '',
    logo_url          text NOT NULL DEFAULT '',
    links             jsonb NOT NULL DEFAULT '[]',   -- [{"label":{"en","fr"},"url"}]
    state             text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published')),
    published_at      timestamptz,
    updated_at        timestamptz NOT NULL
);

CREATE TABLE products (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('omi', 'outsourced', 'llm')),
    delivery          text NOT NULL DEFAULT '' CHECK (delivery IN ('', 'saas', 'paas')),
    name_en           text NOT NULL DEFAULT '',
    name_fr           text NOT NULL DEFAULT '',
    short_en          text NOT NULL DEFAULT '',
    short_fr          text NOT NULL DEFAULT '',
    description_en    text NOT NULL DEFAULT '',
    description_fr    text NOT NULL DEFAULT '',
    instructions_en   text NOT NULL DEFAULT '',
    instructions_fr   text NOT NULL DEFAULT '',
    support_en        text NOT NULL DEFAULT '',
    support_fr        text NOT NULL DEFAULT '',
    documentation     jsonb NOT NULL DEFAULT '[]',   -- [{"label":{"en","fr"},"url"}]
    categories        text[] NOT NULL DEFAULT '{}',
    regions           text[] NOT NULL,               -- PROD-4: fixed at creation
    product_code      text UNIQUE,                   -- PROD-3: set by the publisher's report
    state             text NOT NULL DEFAULT 'draft'
                      CHECK (state IN ('draft', 'in_review', 'approved', 'publishing', 'published', 'unpublished')),
    private           boolean NOT NULL DEFAULT false, -- PUB-4
    audience          uuid[] NOT NULL DEFAULT '{}',
    latest_version_id uuid,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    published_at      timestamptz,
    deleted_at        timestamptz                    -- drafts only (PROD-6); kept for idempotent replays
);
CREATE INDEX products_by_org ON products (organization_id, id) WHERE deleted_at IS NULL;

-- An offer is its identity and current revision; each revision is immutable once buyers could
-- see it (PROD-7), so subscriptions point at (offer_id, revision).
CREATE TABLE offers (
    id                uuid PRIMARY KEY,
    product_id        uuid NOT NULL REFERENCES products (id),
    current_revision  int NOT NULL,
    created_at        timestamptz NOT NULL,
    retired_at        timestamptz                    -- deleted by the seller: no new subscriptions
);
CREATE INDEX offers_by_product ON offers (product_id, created_at, id);

CREATE TABLE offer_revisions (
    offer_id          uuid NOT NULL REFERENCES offers (id),
    revision          int NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('hourly', 'free', 'byol', 'subscription')),
    prices            jsonb NOT NULL DEFAULT '[]',   -- [{"vm_type","cents_per_hour"}]
    period            text NOT NULL DEFAULT '' CHECK (period IN ('', 'month', 'year')),
    price_cents       bigint NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency          text NOT NULL DEFAULT 'EUR',
    licence_url       text NOT NULL DEFAULT '',
    ugap              boolean NOT NULL DEFAULT false,
    min_cents         bigint NOT NULL DEFAULT 0,     -- lowest price, for sorting the public catalog
    ever_published    boolean NOT NULL DEFAULT false, -- visible to buyers once: edits make a new revision
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (offer_id, revision)
);

CREATE TABLE versions (
    id                uuid PRIMARY KEY,
    product_id        uuid NOT NULL REFERENCES products (id),
    number            int NOT NULL,
    software_version  text NOT NULL DEFAULT '',
    operating_system  text NOT NULL DEFAULT '',
    software_base     jsonb NOT NULL DEFAULT '[]',   -- [{"name","version"}]
    release_note_en   text NOT NULL DEFAULT '',
    release_note_fr   text NOT NULL DEFAULT '',
    instructions_en   text NOT NULL DEFAULT '',
    instructions_fr   text NOT NULL DEFAULT '',
    state             text NOT NULL DEFAULT 'draft'
                      CHECK (state IN ('draft', 'in_review', 'approved', 'publishing', 'published', 'failed',
                                       'unpublishing', 'unpublished')),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    published_at      timestamptz,
    UNIQUE (product_id, number)
);

-- One row per Region of the product: the seller's source OMI and the marketplace's copy (VER-4).
CREATE TABLE version_regions (
    version_id        uuid NOT NULL REFERENCES versions (id),
    region            text NOT NULL,
    source_omi        text NOT NULL DEFAULT '',
    copy_omi          text NOT NULL DEFAULT '',
    copy_state        text NOT NULL DEFAULT '' CHECK (copy_state IN ('', 'pending', 'available', 'failed', 'deleted')),
    reason            text NOT NULL DEFAULT '',
    PRIMARY KEY (version_id, region)
);

CREATE TABLE terms (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL,
    number            int NOT NULL,
    state             text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'active', 'archived')),
    title_en          text NOT NULL DEFAULT '',
    title_fr          text NOT NULL DEFAULT '',
    body_en           text NOT NULL DEFAULT '',
    body_fr           text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    activated_at      timestamptz,
    UNIQUE (organization_id, number)
);
-- PUB-3: exactly one active version per seller.
CREATE UNIQUE INDEX terms_one_active ON terms (organization_id) WHERE state = 'active';

CREATE TABLE reviews (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL,
    product_id        uuid NOT NULL REFERENCES products (id),
    version_id        uuid REFERENCES versions (id),
    state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    auto_publish      boolean NOT NULL DEFAULT false,
    comment           text NOT NULL DEFAULT '',
    submitted_by      uuid,
    decided_by        uuid,
    submitted_at      timestamptz NOT NULL,
    decided_at        timestamptz
);
CREATE INDEX reviews_pending ON reviews (id) WHERE state = 'pending';
-- One open review per listing.
CREATE UNIQUE INDEX reviews_one_open ON reviews (product_id, coalesce(version_id, product_id)) WHERE state = 'pending';
