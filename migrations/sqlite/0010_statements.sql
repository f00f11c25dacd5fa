-- Statements per billing cycle: a tenant's cycle and tax, and for every
-- billed account one statement per cycle, numbered in one sequence per
-- tenant. A statement is OPEN (its figures read live from the ledger) until
-- its period has ended, then CLOSED: its figures and lines are written once
-- and triggers refuse any change of them afterwards.

CREATE TABLE statement_settings (
    tenant_id     BIGINT  PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- WEEKLY, BIWEEKLY, MONTHLY
    cycle         TEXT    NOT NULL DEFAULT 'MONTHLY',
    -- The day a period starts: 1-28 of the month, or 1-7 (Monday = 1) of the week.
    cycle_day     BIGINT  NOT NULL DEFAULT 1,
    tax_name      TEXT    NOT NULL DEFAULT '',
    -- Percent, in 1/100000.
    tax_rate      BIGINT  NOT NULL DEFAULT 0,
    -- 1: the charges include the tax; 0: the tax comes on top of them.
    tax_included  BIGINT  NOT NULL DEFAULT 0,
    -- The number the tenant's next statement takes (no gaps: it moves only
    -- in the transaction that writes that statement).
    next_number   BIGINT  NOT NULL DEFAULT 1
);

CREATE TABLE statements (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id         BIGINT  NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- NULL: the tenant's own account; else the user's.
    user_id           BIGINT  REFERENCES users (id),
    -- The account as a key: the user's id, 0 for the tenant's own.
    account           BIGINT  NOT NULL,
    number            BIGINT  NOT NULL,
    -- Unix ms: the period is [period_start, period_end).
    period_start      BIGINT  NOT NULL,
    period_end        BIGINT  NOT NULL,
    -- OPEN or CLOSED
    status            TEXT    NOT NULL,
    opening_balance   BIGINT  NOT NULL,
    -- The statement's ledger rows are the account's with an id above this
    -- one, up to the last one posted before period_end.
    after_ledger_id   BIGINT  NOT NULL,
    created_at        BIGINT  NOT NULL,
    -- Written when it closes (NULL while OPEN).
    last_ledger_id    BIGINT,
    currency          TEXT,
    recharges         BIGINT,
    call_charges      BIGINT,
    adjustments       BIGINT,
    held              BIGINT,
    closing_balance   BIGINT,
    calls             BIGINT,
    charges           BIGINT,
    tax               BIGINT,
    tax_name          TEXT,
    tax_rate          BIGINT,
    tax_included      BIGINT,
    closed_at         BIGINT,
    UNIQUE (tenant_id, number),
    UNIQUE (tenant_id, account, period_start)
);
-- At most one open statement per account.
CREATE UNIQUE INDEX statements_open ON statements (tenant_id, account) WHERE status = 'OPEN';
CREATE INDEX statements_due ON statements (status, period_end);
CREATE INDEX statements_account ON statements (tenant_id, user_id, period_start);

CREATE TABLE statement_lines (
    statement_id  BIGINT  NOT NULL REFERENCES statements (id),
    position      BIGINT  NOT NULL,
    -- RECHARGE, CALL_TYPE, DESTINATION, ADJUSTMENT, HELD
    section       TEXT    NOT NULL,
    -- The call type, the matched prefix, RERATE or CREDIT_LIMIT, HOLD or RELEASE.
    item          TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    -- Unix ms: a recharge's time, a day of re-rating, a credit-limit change.
    at            BIGINT,
    calls         BIGINT  NOT NULL,
    seconds       BIGINT  NOT NULL,
    -- The line's change of the balance, in 1/100000.
    amount        BIGINT  NOT NULL,
    -- The credit limit set (CREDIT_LIMIT lines).
    credit_limit  BIGINT,
    PRIMARY KEY (statement_id, position)
);

CREATE TRIGGER statements_closed_no_update BEFORE UPDATE ON statements
WHEN OLD.status = 'CLOSED'
BEGIN
    SELECT RAISE(ABORT, 'a closed statement never changes');
END;

CREATE TRIGGER statements_no_delete BEFORE DELETE ON statements
BEGIN
    SELECT RAISE(ABORT, 'statements are never deleted');
END;

CREATE TRIGGER statement_lines_no_update BEFORE UPDATE ON statement_lines
BEGIN
    SELECT RAISE(ABORT, 'a closed statement never changes');
END;

CREATE TRIGGER statement_lines_no_delete BEFORE DELETE ON statement_lines
BEGIN
    SELECT RAISE(ABORT, 'a closed statement never changes');
END;
