-- Tariffs beside the default one, and billing plans choosing a tariff by the
-- callee's prefix. Each tariff's rates carry a version of their own, so a
-- change to one tariff rebuilds only that tariff's in-memory rate table.

ALTER TABLE tariffs ADD COLUMN rates_version BIGINT NOT NULL DEFAULT 0;

CREATE INDEX call_rates_tariff ON call_rates (tariff_id, id);

CREATE TABLE billing_plans (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    prefix         TEXT    NOT NULL,
    -- The prefix without a leading '+': what is matched and kept unique.
    prefix_key     TEXT    NOT NULL,
    -- A tariff used by a plan cannot be deleted.
    tariff_id      BIGINT  NOT NULL REFERENCES tariffs (id),
    description    TEXT    NOT NULL DEFAULT '',
    suspend_mode   BIGINT  NOT NULL DEFAULT 0,
    currency       TEXT    NOT NULL,
    -- 1 weekly, 2 bi-weekly, 3 monthly.
    billing_cycle  BIGINT  NOT NULL DEFAULT 3,
    billing_day    BIGINT  NOT NULL DEFAULT 1,
    round_up       BOOLEAN NOT NULL DEFAULT FALSE,
    prepaid        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT  NOT NULL,
    UNIQUE (tenant_id, prefix_key)
);
CREATE INDEX billing_plans_tariff ON billing_plans (tariff_id);
