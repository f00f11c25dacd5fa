-- The append-only audit log: who changed what, when, from where. Rows are
-- only ever inserted, in the same transaction as the change they describe;
-- triggers refuse any UPDATE or DELETE.

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Unix ms.
    created_at   BIGINT  NOT NULL,
    -- The tenant the change belongs to; NULL for system-wide entries (system
    -- users, failed logins naming no known tenant). No foreign keys: the log
    -- outlives what it names.
    tenant_id    BIGINT,
    -- The acting user (NULL for a failed login) and its name (the name tried,
    -- for a failed login); the API token's name when one was used.
    actor_id     BIGINT,
    actor_name   TEXT    NOT NULL,
    token_name   TEXT,
    -- REST, TARIFF_API, XMLRPC, PORTAL
    surface      TEXT    NOT NULL,
    client_addr  TEXT,
    -- CREATE, UPDATE, DELETE, IMPORT, RECHARGE, RERATE, LOGIN_FAILED
    action       TEXT    NOT NULL,
    entity       TEXT    NOT NULL,
    entity_id    BIGINT,
    -- JSON object: {"field": {"before": …, "after": …}} for the fields changed.
    changes      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, created_at);
CREATE INDEX audit_log_time ON audit_log (created_at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
