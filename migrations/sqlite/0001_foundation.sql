-- Tenants, users, tokens, portal sessions, tariffs and call rates.
-- Money is stored as integers of 1/100000; times as unix milliseconds.

CREATE TABLE tenants (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    sip_domain        TEXT    NOT NULL UNIQUE,
    currency          TEXT    NOT NULL DEFAULT 'USD',
    billing_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
    billing_account   TEXT    NOT NULL DEFAULT 'TENANT',
    billing_type      TEXT    NOT NULL DEFAULT 'OFFLINE',
    rates_version     BIGINT  NOT NULL DEFAULT 0,
    created_at        BIGINT  NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      BIGINT  REFERENCES tenants (id) ON DELETE CASCADE,
    -- 0 for system users, else the tenant: user names are unique within it.
    tenant_scope   BIGINT  NOT NULL,
    username       TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    UNIQUE (tenant_scope, username)
);

CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'access', 'refresh' or 'api'
    kind          TEXT    NOT NULL,
    -- Tokens of one login (access and refresh) share a family, revoked together.
    family        TEXT    NOT NULL,
    name          TEXT,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id, kind);
CREATE INDEX tokens_family ON tokens (family);

CREATE TABLE portal_sessions (
    id           TEXT    PRIMARY KEY,
    data         TEXT    NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

CREATE TABLE tariffs (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                 TEXT    NOT NULL,
    currency             TEXT    NOT NULL,
    free_seconds         BIGINT  NOT NULL DEFAULT 0,
    connect_fee          BIGINT  NOT NULL DEFAULT 0,
    post_call_surcharge  BIGINT  NOT NULL DEFAULT 0,
    grace_period         BIGINT  NOT NULL DEFAULT 0,
    is_default           BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT  NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE call_rates (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id            BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    tariff_id            BIGINT  NOT NULL REFERENCES tariffs (id) ON DELETE CASCADE,
    prefix               TEXT    NOT NULL,
    -- The prefix without a leading '+': what is matched and kept unique.
    prefix_key           TEXT    NOT NULL,
    rate_type            TEXT    NOT NULL DEFAULT 'LOCAL',
    direction            TEXT    NOT NULL DEFAULT 'NONE',
    -- NULL: the tariff-wide value applies.
    free_seconds         BIGINT,
    grace_period         BIGINT,
    connect_fee          BIGINT,
    postcall_surcharge   BIGINT,
    interval_1           BIGINT  NOT NULL,
    interval_n           BIGINT  NOT NULL,
    price_1              BIGINT  NOT NULL,
    price_n              BIGINT  NOT NULL,
    description          TEXT    NOT NULL DEFAULT '',
    activation_at        BIGINT  NOT NULL DEFAULT 0,
    expiration_at        BIGINT,
    forbidden            BOOLEAN NOT NULL DEFAULT FALSE,
    grace_period_enable  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    UNIQUE (tariff_id, prefix_key, activation_at)
);
CREATE INDEX call_rates_tenant ON call_rates (tenant_id, id);
CREATE INDEX call_rates_tenant_prefix ON call_rates (tenant_id, prefix_key);
