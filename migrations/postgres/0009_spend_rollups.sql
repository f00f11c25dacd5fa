-- Spend per tenant, hour, maker, billed account, call type and matched
-- rate: what the spend reports read, instead of the CDRs. A CDR's insert and
-- a re-rate's update move these rows in the same transaction, so they always
-- sum to the CDRs. 0 (or '') stands for "none" in the key columns, which
-- must not be NULL to take part in the key.

CREATE TABLE spend_rollups (
    tenant_id       BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The start of the call's UTC hour (unix ms).
    hour            BIGINT  NOT NULL,
    -- The user (extension) that made the call; 0 for none.
    user_id         BIGINT  NOT NULL,
    -- The billed user; 0 for the tenant's account or none.
    billed_user_id  BIGINT  NOT NULL,
    -- The call's direction (its type).
    direction       TEXT    NOT NULL,
    -- The matched rate and its prefix; 0 and '' for none.
    rate_id         BIGINT  NOT NULL,
    rate_prefix     TEXT    NOT NULL,
    calls           BIGINT  NOT NULL,
    answered        BIGINT  NOT NULL,
    seconds         BIGINT  NOT NULL,
    -- Scaled integer units, as cdrs.cost.
    cost            BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, hour, user_id, billed_user_id, direction, rate_id, rate_prefix)
);

INSERT INTO spend_rollups (tenant_id, hour, user_id, billed_user_id, direction, rate_id, rate_prefix,
                           calls, answered, seconds, cost)
SELECT tenant_id,
       started_at - ((started_at % 3600000) + 3600000) % 3600000,
       COALESCE(user_id, 0), COALESCE(billed_user_id, 0), direction,
       COALESCE(rate_id, 0), COALESCE(rate_prefix, ''),
       COUNT(*),
       CAST(SUM(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END) AS BIGINT),
       CAST(SUM(duration) AS BIGINT),
       CAST(SUM(COALESCE(cost, 0)) AS BIGINT)
  FROM cdrs
 GROUP BY tenant_id, started_at - ((started_at % 3600000) + 3600000) % 3600000,
          COALESCE(user_id, 0), COALESCE(billed_user_id, 0), direction,
          COALESCE(rate_id, 0), COALESCE(rate_prefix, '');
