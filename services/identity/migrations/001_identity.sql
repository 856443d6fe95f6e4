-- Identity: organizations, marketplace accounts and operators, OUTSCALE accounts with the
-- platform's sealed EIM key, EIM users to create or delete, single-use link tokens, sessions and
-- login failures. Times are passed from lib/clock (never now()) so tests can shift them.

CREATE TABLE organizations (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    types        text[] NOT NULL,                        -- ORG-4: {"buyer"}, {"seller"}, {"buyer","seller"}
    region       text NOT NULL,                          -- ORG-1
    status       text NOT NULL CHECK (status IN ('pending', 'validated')), -- ORG-3
    ugap         boolean NOT NULL DEFAULT false,         -- ORG-5
    created_at   timestamptz NOT NULL,
    validated_at timestamptz
);
CREATE INDEX organizations_status ON organizations (status, id);

-- Marketplace accounts (ACC) and operators (operator = true, no organization).
CREATE TABLE accounts (
    id                  uuid PRIMARY KEY,
    organization_id     uuid REFERENCES organizations (id),
    name                text NOT NULL,
    email               text NOT NULL,                   -- stored lower-case
    roles               text[] NOT NULL DEFAULT '{}',    -- ACC-1: "admin", "user"
    language            text NOT NULL DEFAULT 'en',
    operator            boolean NOT NULL DEFAULT false,
    password_hash       text,                            -- AUTH-2: argon2id string; NULL until set
    password_changed_at timestamptz,
    otp_secret          text,                            -- AUTH-6: sealed (vault) TOTP secret when enabled
    otp_pending_secret  text,                            -- sealed secret enrolled, not confirmed yet
    otp_last_step       bigint,                          -- last accepted TOTP step: a code works once
    created_at          timestamptz NOT NULL,
    CHECK (operator OR organization_id IS NOT NULL)
);
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));
CREATE INDEX accounts_organization ON accounts (organization_id);

-- OUTSCALE accounts of an organization (ORG-1, ORG-6) and the platform's footing in each: the
-- EIM user marketplace_platform's access key, its secret sealed by the vault.
CREATE TABLE outscale_accounts (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id),
    account_id      text NOT NULL,                       -- 12 digits
    email           text NOT NULL,
    region          text NOT NULL,
    is_primary      boolean NOT NULL,
    access_key_id   text NOT NULL,
    secret_sealed   text,                                -- NULL once detached
    state           text NOT NULL CHECK (state IN ('active', 'detaching', 'detached')),
    eim_state       text NOT NULL DEFAULT 'ready',       -- footing: 'ready', 'failed'
    eim_detail      text,                                -- last reconciliation problem (no secrets)
    attempts        int NOT NULL DEFAULT 0,              -- detach teardown retries
    next_attempt_at timestamptz,
    attached_at     timestamptz NOT NULL,
    detached_at     timestamptz,
    reconciled_at   timestamptz
);
-- An OUTSCALE account belongs to at most one organization at a time.
CREATE UNIQUE INDEX outscale_accounts_attached ON outscale_accounts (account_id) WHERE state <> 'detached';
CREATE INDEX outscale_accounts_organization ON outscale_accounts (organization_id);

-- EIM users (ACC-4), one per (marketplace account, OUTSCALE account). The row outlives the
-- account until the cloud user is gone, so there is no foreign key to accounts.
CREATE TABLE eim_users (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL,
    organization_id     uuid NOT NULL,
    outscale_account_id uuid NOT NULL REFERENCES outscale_accounts (id),
    user_name           text NOT NULL,                   -- marketplace_<16 hex>
    want                text NOT NULL CHECK (want IN ('present', 'absent')),
    state               text NOT NULL CHECK (state IN ('pending', 'ready', 'deleting', 'deleted', 'failed')),
    attempts            int NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL,            -- also the lease of a claimed row
    last_error          text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    UNIQUE (account_id, outscale_account_id)
);
CREATE INDEX eim_users_due ON eim_users (next_attempt_at) WHERE state IN ('pending', 'deleting');
CREATE INDEX eim_users_outscale ON eim_users (outscale_account_id);

-- Single-use link tokens (ORG-2, ACC-3, AUTH-4): only their SHA-256 is stored.
CREATE TABLE tokens (
    id         uuid PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    kind       text NOT NULL CHECK (kind IN ('set_password', 'reset_password')),
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX tokens_account ON tokens (account_id);

-- Sessions (AUTH-5): the bearer token's SHA-256; last_seen_at moves at most every few seconds.
CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    hash         text NOT NULL UNIQUE,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_addr  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE ended_at IS NULL;

-- Failed logins (AUTH-8) per key: "account:<lower e-mail>" or "addr:<client address>".
CREATE TABLE login_failures (
    key text NOT NULL,
    at  timestamptz NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at DESC);

-- Periodic duties shared by replicas (reconciliation): whoever moves next_run_at runs it.
CREATE TABLE schedules (
    name        text PRIMARY KEY,
    next_run_at timestamptz NOT NULL
);
