-- Low-balance alerts and webhooks.
--
-- Each billed account (a tenant's own, or one of its users') may have a
-- low-balance threshold (units of 1/100000; NULL: none). `low_balance_alerted`
-- is true while its available funds (balance + credit limit) are below it:
-- it turns true, with a row in `balance_alerts`, in the transaction that
-- took the funds below, and false again in the one that brought them back.

ALTER TABLE tenants ADD COLUMN low_balance_threshold BIGINT;
ALTER TABLE tenants ADD COLUMN low_balance_alerted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN low_balance_threshold BIGINT;
ALTER TABLE users ADD COLUMN low_balance_alerted BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE balance_alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- NULL: the tenant's own account; else the user's account.
    user_id       BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    threshold     BIGINT  NOT NULL,
    available     BIGINT  NOT NULL,
    balance       BIGINT  NOT NULL,
    credit_limit  BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX balance_alerts_account ON balance_alerts (tenant_id, user_id, id);

-- Where a tenant's events are posted, and which events each URL takes.
CREATE TABLE webhook_endpoints (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url          TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    -- The key of the deliveries' HMAC-SHA256 signature.
    secret       TEXT    NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, id);

CREATE TABLE webhook_subscriptions (
    endpoint_id  BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- balance.low, call.rated, deck.imported
    event        TEXT   NOT NULL,
    PRIMARY KEY (endpoint_id, event)
);
CREATE INDEX webhook_subscriptions_event ON webhook_subscriptions (tenant_id, event);

-- The outbox: one row per event and endpoint, written in the transaction of
-- the change the event tells of, posted later by a delivery worker. A worker
-- claims due rows by a lease (`lease_owner` until `lease_until`), so that
-- servers sharing the database do not post one row twice.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    endpoint_id      BIGINT  NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event            TEXT    NOT NULL,
    event_id         TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    -- PENDING, DELIVERED, FAILED
    status           TEXT    NOT NULL DEFAULT 'PENDING',
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_attempt_at  BIGINT,
    -- The HTTP status of the last answer (NULL: none came).
    last_status      BIGINT,
    -- The start of the last answer's body, or why none came.
    last_answer      TEXT,
    created_at       BIGINT  NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'PENDING';
