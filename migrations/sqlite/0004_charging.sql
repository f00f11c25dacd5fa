-- Online charging: one row per authorised call, with what it holds of the
-- billed account's balance until it is settled (by terminate or its CDR) or
-- its hold expires. The hold itself is a HOLD row of the ledger, its end a
-- RELEASE row, so the ledger still sums to the balance.

CREATE TABLE charging_sessions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id        TEXT    NOT NULL,
    -- NULL: the tenant's own account; else the billed user's account.
    user_id        BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    caller         TEXT    NOT NULL,
    callee         TEXT    NOT NULL,
    rate_id        BIGINT  NOT NULL,
    rate_prefix    TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    -- When the call was authorised (unix ms): the time it is rated at.
    started_at     BIGINT  NOT NULL,
    -- Seconds granted so far.
    max_duration   BIGINT  NOT NULL,
    -- What the call holds now (1/100000); 0 once settled or expired.
    held           BIGINT  NOT NULL,
    -- The largest hold the call took (what settling released).
    held_total     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    -- LIVE, SETTLED or EXPIRED (hold released, call not reported yet).
    state          TEXT    NOT NULL,
    duration       BIGINT,
    cost           BIGINT,
    released       BIGINT,
    settled_at     BIGINT,
    created_at     BIGINT  NOT NULL,
    UNIQUE (tenant_id, call_id)
);
CREATE INDEX charging_sessions_expiry ON charging_sessions (state, expires_at);
CREATE INDEX charging_sessions_account ON charging_sessions (tenant_id, user_id, state);
