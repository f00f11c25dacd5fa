-- The ledger of one account in time order: what an account's balance at
-- the end of each day is read with (the last entry written before the
-- day's end, found by one index seek per day, not by reading the days'
-- entries), and what the ledger's day filters narrow by.

CREATE INDEX balance_transactions_account_time
    ON balance_transactions (tenant_id, user_id, created_at, id);
