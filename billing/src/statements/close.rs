//! Opening an account's first statement, and closing the statements whose
//! period has ended (each closing opens the next), once, whichever server
//! gets there first.

use model::statement::{tax_units, StatementSettings};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::figures::{self, Figures, Line};
use super::{settings, Account, CLOSE_AFTER_MS};
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::sql::Insert;

/// How many times a closing is tried again when another writer got there
/// between its read and its write.
const ATTEMPTS: usize = 8;

/// An open statement as stored.
#[derive(Debug, Clone, Copy)]
pub(super) struct Open {
    pub id: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub opening: i64,
    pub after: i64,
}

pub(super) fn open_from_row(row: &AnyRow) -> Result<Open> {
    Ok(Open {
        id: row.try_get("id")?,
        period_start: row.try_get("period_start")?,
        period_end: row.try_get("period_end")?,
        opening: row.try_get("opening_balance")?,
        after: row.try_get("after_ledger_id")?,
    })
}

const OPEN_SQL: &str = "SELECT id, period_start, period_end, opening_balance, after_ledger_id \
     FROM statements WHERE tenant_id = $1 AND account = $2 AND status = 'OPEN'";

/// The period after one ending at `start` under `settings`.
fn period_from(settings: &StatementSettings, start: i64) -> Result<(i64, i64)> {
    let end = settings
        .cycle
        .period_end(settings.cycle_day, start)
        .ok_or_else(|| Error::internal("a statement period beyond the calendar"))?;
    Ok((start, end))
}

const NEW_STATEMENT: &str = "INSERT INTO statements (tenant_id, user_id, account, number, \
     period_start, period_end, status, opening_balance, after_ledger_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'OPEN', $7, $8, $9) ON CONFLICT DO NOTHING";

/// Writes an open statement of `account` inside `tx`, numbered; false when
/// the account already has it (or another open one).
async fn insert_open(
    tx: &mut Tx,
    account: Account,
    (start, end): (i64, i64),
    opening: i64,
    after: i64,
    now: i64,
) -> Result<bool> {
    let number = settings::take_number(tx, account.tenant_id).await?;
    let done = sqlx::query(NEW_STATEMENT)
        .bind(account.tenant_id)
        .bind(account.user_id)
        .bind(account.key())
        .bind(number)
        .bind(start)
        .bind(end)
        .bind(opening)
        .bind(after)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A closed statement's lines.
const LINE: Insert = Insert {
    table: "statement_lines",
    columns: &[
        "statement_id",
        "position",
        "section",
        "item",
        "description",
        "at",
        "calls",
        "seconds",
        "amount",
        "credit_limit",
    ],
};

async fn insert_lines(tx: &mut Tx, backend: Backend, statement: i64, lines: &[Line]) -> Result<()> {
    let numbered: Vec<(i64, &Line)> = (1i64..).zip(lines.iter()).collect();
    for chunk in LINE.chunks(&numbered) {
        let sql = LINE.sql(backend, chunk.len(), "");
        let mut query = LINE.binds(&sql, chunk.len());
        for (position, line) in chunk {
            query = query
                .bind(statement)
                .bind(*position)
                .bind(line.section.to_string())
                .bind(line.item.as_str())
                .bind(line.description.as_str())
                .bind(line.at)
                .bind(line.calls)
                .bind(line.seconds)
                .bind(line.amount)
                .bind(line.credit_limit);
        }
        query.query()?.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Locks the account's balance row until `tx` ends (PostgreSQL; SQLite's
/// writing transaction already keeps every other writer out): a ledger row
/// is posted with that row locked, so every row posted before now has
/// committed, and none is posted until the closing commits. The lock is
/// `FOR NO KEY UPDATE`, which a balance's update takes too, not `FOR
/// UPDATE`: the latter would also keep out the rows that only reference
/// the account (a statement's insert checking its tenant), and a server
/// opening a statement while holding the number would deadlock with it.
async fn lock_account(tx: &mut Tx, backend: Backend, account: Account) -> Result<()> {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR NO KEY UPDATE",
    };
    let found = match account.user_id {
        None => {
            let sql = format!("SELECT id FROM tenants WHERE id = $1{lock}");
            sqlx::query(&sql)
                .bind(account.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            let sql = format!("SELECT id FROM users WHERE id = $1 AND tenant_id = $2{lock}");
            sqlx::query(&sql)
                .bind(user)
                .bind(account.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    found.map(|_| ()).ok_or(Error::NotFound("account"))
}

impl Db {
    /// Opens the account's first statement when it has ledger rows and no
    /// statement: the period of its first row, under the tenant's cycle.
    async fn open_first(&self, account: Account, now: i64) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        let exists =
            sqlx::query("SELECT id FROM statements WHERE tenant_id = $1 AND account = $2 LIMIT 1")
                .bind(account.tenant_id)
                .bind(account.key())
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_some() {
            return Ok(());
        }
        let first = match account.user_id {
            None => {
                sqlx::query(
                    "SELECT amount, balance_after, created_at FROM balance_transactions \
                 WHERE tenant_id = $1 AND user_id IS NULL ORDER BY id LIMIT 1",
                )
                .bind(account.tenant_id)
                .fetch_optional(&mut *conn)
                .await?
            }
            Some(user) => {
                sqlx::query(
                    "SELECT amount, balance_after, created_at FROM balance_transactions \
                 WHERE tenant_id = $1 AND user_id = $2 ORDER BY id LIMIT 1",
                )
                .bind(account.tenant_id)
                .bind(user)
                .fetch_optional(&mut *conn)
                .await?
            }
        };
        let Some(first) = first else {
            return Ok(());
        };
        let at: i64 = first.try_get("created_at")?;
        let opening = first
            .try_get::<i64, _>("balance_after")?
            .checked_sub(first.try_get("amount")?)
            .ok_or_else(|| Error::internal("an opening balance overflows"))?;
        let settings = settings::read(&mut *conn, account.tenant_id).await?;
        drop(conn);
        let start = settings
            .cycle
            .period_start(settings.cycle_day, at)
            .ok_or_else(|| Error::internal("a ledger row beyond the calendar"))?;
        let period = period_from(&settings, start)?;
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        if insert_open(&mut tx, account, period, opening, 0, now).await? {
            tx.commit().await?;
        } else {
            // Another server opened it meanwhile: its number is given back.
            tx.rollback().await?;
        }
        Ok(())
    }

    /// Closes the account's open statement if its period ended
    /// [`CLOSE_AFTER_MS`] before `now`, and the next, until the open one is
    /// current. Answers how many it closed.
    pub(super) async fn close_due(&self, account: Account, now: i64) -> Result<usize> {
        let mut closed = 0;
        let mut attempts = 0;
        loop {
            let open = sqlx::query(OPEN_SQL)
                .bind(account.tenant_id)
                .bind(account.key())
                .fetch_optional(self.pool())
                .await?;
            let Some(open) = open.as_ref().map(open_from_row).transpose()? else {
                return Ok(closed);
            };
            if open.period_end.saturating_add(CLOSE_AFTER_MS) > now {
                return Ok(closed);
            }
            if self.close_statement(account, open, now).await? {
                closed += 1;
            } else {
                attempts += 1;
                if attempts >= ATTEMPTS {
                    return Err(Error::Conflict {
                        code: "BUSY",
                        message: "the statement is being closed; try again".into(),
                    });
                }
            }
        }
    }

    /// Closes one open statement and opens the next, in one transaction.
    /// False when it was not open any more (another server closed it).
    async fn close_statement(&self, account: Account, open: Open, now: i64) -> Result<bool> {
        let period = (open.period_start, open.period_end);
        // The figures are read before the write, which only checks that no
        // row was posted since: a long read does not hold the writers up.
        let (mut f, mut lines) = {
            let mut conn = self.pool().acquire().await?;
            let f = figures::figures(&mut conn, account, &open).await?;
            let lines = figures::lines(&mut conn, account, open.after, period, &f).await?;
            (f, lines)
        };
        let backend = self.backend();
        let _turn = self.write_turn().await;
        let mut tx = self.write().await?;
        lock_account(&mut tx, backend, account).await?;
        let sql = format!(
            "SELECT status FROM statements WHERE id = $1{}",
            crate::sql::for_update(backend)
        );
        let status: String = sqlx::query(&sql)
            .bind(open.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("status")?;
        if status != "OPEN" {
            tx.rollback().await?;
            return Ok(false);
        }
        if figures::posted_since(&mut tx, account, f.last_ledger_id, open.period_end).await? {
            f = figures::figures(&mut tx, account, &open).await?;
            lines = figures::lines(&mut tx, account, open.after, period, &f).await?;
        }
        let settings = settings::read(&mut *tx, account.tenant_id).await?;
        let currency: String = sqlx::query("SELECT currency FROM tenants WHERE id = $1")
            .bind(account.tenant_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("currency")?;
        let done = self
            .write_closed(&mut tx, open.id, &f, &settings, &currency, now)
            .await?;
        if !done {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_lines(&mut tx, backend, open.id, &lines).await?;
        let next = period_from(&settings, open.period_end)?;
        if !insert_open(&mut tx, account, next, f.closing, f.last_ledger_id, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Writes a statement's figures and tax and closes it, inside `tx`;
    /// false when it was not open.
    async fn write_closed(
        &self,
        tx: &mut Tx,
        id: i64,
        f: &Figures,
        settings: &StatementSettings,
        currency: &str,
        now: i64,
    ) -> Result<bool> {
        let rate = crate::error::stored_units("tax_rate", settings.tax_rate)?;
        let charges = f.charges()?;
        let tax = tax_units(charges, rate, settings.tax_included)
            .ok_or_else(|| Error::internal("a statement's tax overflows"))?;
        let done = sqlx::query(
            "UPDATE statements SET status = 'CLOSED', last_ledger_id = $1, currency = $2, \
             recharges = $3, call_charges = $4, adjustments = $5, held = $6, closing_balance = $7, \
             calls = $8, charges = $9, tax = $10, tax_name = $11, tax_rate = $12, tax_included = $13, \
             closed_at = $14 WHERE id = $15 AND status = 'OPEN'",
        )
        .bind(f.last_ledger_id)
        .bind(currency)
        .bind(f.recharges)
        .bind(f.call_charges)
        .bind(f.adjustments)
        .bind(f.held)
        .bind(f.closing)
        .bind(f.calls)
        .bind(charges)
        .bind(tax)
        .bind(settings.tax_name.as_str())
        .bind(rate)
        .bind(i64::from(settings.tax_included))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Brings the statements of `tenant` (all of them, or `account`'s)
    /// up to `now`: opens the first of accounts new to the ledger, closes
    /// those whose period has ended. Answers how many it closed.
    pub(super) async fn bring_up_to_date(
        &self,
        tenant: Option<i64>,
        account: Option<Account>,
        now: i64,
    ) -> Result<usize> {
        let accounts = match account {
            Some(account) => vec![account],
            None => self.accounts_without_statements(tenant).await?,
        };
        for account in accounts {
            self.open_first(account, now).await?;
        }
        let due = self.due_accounts(tenant, account, now).await?;
        let mut closed = 0;
        for account in due {
            closed += self.close_due(account, now).await?;
        }
        Ok(closed)
    }

    /// Accounts (of `tenant`, or of every tenant) with ledger rows and no
    /// statement yet.
    async fn accounts_without_statements(&self, tenant: Option<i64>) -> Result<Vec<Account>> {
        let (tenants_only, users_only) = match tenant {
            Some(_) => (" AND t.id = $1", " AND u.tenant_id = $1"),
            None => ("", ""),
        };
        let tenants_sql = format!(
            "SELECT t.id FROM tenants t WHERE EXISTS (SELECT 1 FROM balance_transactions b \
             WHERE b.tenant_id = t.id AND b.user_id IS NULL) AND NOT EXISTS (SELECT 1 FROM statements s \
             WHERE s.tenant_id = t.id AND s.account = 0){tenants_only}"
        );
        let users_sql = format!(
            "SELECT u.tenant_id, u.id FROM users u WHERE u.tenant_id IS NOT NULL AND EXISTS \
             (SELECT 1 FROM balance_transactions b WHERE b.tenant_id = u.tenant_id AND b.user_id = u.id) \
             AND NOT EXISTS (SELECT 1 FROM statements s WHERE s.tenant_id = u.tenant_id AND s.account = u.id)\
             {users_only}"
        );
        let mut q = sqlx::query(&tenants_sql);
        let mut u = sqlx::query(&users_sql);
        if let Some(tenant) = tenant {
            q = q.bind(tenant);
            u = u.bind(tenant);
        }
        let mut accounts = Vec::new();
        for row in q.fetch_all(self.pool()).await? {
            accounts.push(Account {
                tenant_id: row.try_get("id")?,
                user_id: None,
            });
        }
        for row in u.fetch_all(self.pool()).await? {
            accounts.push(Account {
                tenant_id: row.try_get("tenant_id")?,
                user_id: Some(row.try_get("id")?),
            });
        }
        Ok(accounts)
    }

    /// Accounts whose open statement is due to close at `now`.
    async fn due_accounts(
        &self,
        tenant: Option<i64>,
        account: Option<Account>,
        now: i64,
    ) -> Result<Vec<Account>> {
        let before = now.saturating_sub(CLOSE_AFTER_MS);
        let mut sql = String::from(
            "SELECT tenant_id, user_id FROM statements WHERE status = 'OPEN' AND period_end <= $1",
        );
        if tenant.is_some() || account.is_some() {
            sql.push_str(" AND tenant_id = $2");
        }
        if account.is_some() {
            sql.push_str(" AND account = $3");
        }
        sql.push_str(" ORDER BY tenant_id, account");
        let mut q = sqlx::query(&sql).bind(before);
        if let Some(account) = account {
            q = q.bind(account.tenant_id).bind(account.key());
        } else if let Some(tenant) = tenant {
            q = q.bind(tenant);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(Account {
                    tenant_id: row.try_get("tenant_id")?,
                    user_id: row.try_get("user_id")?,
                })
            })
            .collect()
    }

    /// The server's sweep: every tenant's statements brought up to `now`
    /// (see [`Db::bring_up_to_date`]). Answers how many it closed.
    pub async fn sweep_statements(&self, now: i64) -> Result<usize> {
        self.bring_up_to_date(None, None, now).await
    }

    /// [`Db::sweep_statements`] at the clock's time.
    pub async fn sweep_statements_now(&self) -> Result<usize> {
        self.sweep_statements(now_ms()).await
    }
}
