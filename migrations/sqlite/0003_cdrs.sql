-- Call detail records as the PBX reports them, with how each was rated and
-- charged. A call id is unique within a tenant: posting it again is a no-op.

CREATE TABLE cdrs (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_id               TEXT    NOT NULL,
    caller                TEXT    NOT NULL DEFAULT '',
    caller_domain         TEXT    NOT NULL DEFAULT '',
    caller_display_name   TEXT    NOT NULL DEFAULT '',
    callee                TEXT    NOT NULL DEFAULT '',
    callee_domain         TEXT    NOT NULL DEFAULT '',
    callee_display_name   TEXT    NOT NULL DEFAULT '',
    started_at            BIGINT  NOT NULL,
    rang_at               BIGINT,
    answered_at           BIGINT,
    ended_at              BIGINT,
    direction             TEXT    NOT NULL,
    end_reason            TEXT,
    reroute_reason        TEXT,
    status_code           BIGINT,
    destination           TEXT    NOT NULL DEFAULT '',
    outbound_caller_id    TEXT    NOT NULL DEFAULT '',
    did_cid               TEXT    NOT NULL DEFAULT '',
    trunk                 TEXT    NOT NULL DEFAULT '',
    duration              BIGINT  NOT NULL,
    user_data             TEXT    NOT NULL DEFAULT '',
    -- The user (extension) that made the call, when the tenant has it.
    user_id               BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    -- RATED (cost charged to the billed account), FREE, or UNRATED (see reason).
    rating_status         TEXT    NOT NULL,
    unrated_reason        TEXT,
    cost                  BIGINT,
    currency              TEXT,
    rate_id               BIGINT,
    rate_prefix           TEXT,
    -- 'TENANT' or the billed user's name.
    billed_account        TEXT,
    billed_user_id        BIGINT,
    created_at            BIGINT  NOT NULL,
    UNIQUE (tenant_id, call_id)
);
CREATE INDEX cdrs_tenant_started ON cdrs (tenant_id, started_at);
CREATE INDEX cdrs_user ON cdrs (tenant_id, user_id, id);
