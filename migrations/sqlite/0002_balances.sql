-- Balances and credit limits of the billed accounts (a tenant, or one of its
-- users), and the append-only ledger every balance change is written to.

ALTER TABLE tenants ADD COLUMN balance BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN credit_limit BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN balance BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN credit_limit BIGINT NOT NULL DEFAULT 0;

CREATE TABLE balance_transactions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- NULL: the tenant's own account; else the user's account.
    user_id        BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    -- RECHARGE, CALL_CHARGE, HOLD, RELEASE, RERATE
    kind           TEXT    NOT NULL,
    -- Signed change of the balance, in 1/100000.
    amount         BIGINT  NOT NULL,
    balance_after  BIGINT  NOT NULL,
    call_id        TEXT,
    description    TEXT    NOT NULL DEFAULT '',
    created_by     BIGINT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX balance_transactions_account ON balance_transactions (tenant_id, user_id, id);
