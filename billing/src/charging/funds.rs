//! Funds and holds: a billed account's balance plus credit limit, read and
//! locked inside a transaction, debited only while it covers the amount, and
//! a call's hold taken from it (a HOLD row of the ledger).

use sqlx::Row;

use crate::balances::{self, Entry, TransactionKind};
use crate::db::{Backend, Tx};
use crate::error::{Error, Result};
use crate::sql;

use super::price::CallPrice;
use super::HOLD_ATTEMPTS;

/// A billed account: the tenant's own (`user_id` `None`) or a user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Account {
    pub tenant_id: i64,
    pub user_id: Option<i64>,
}

/// The account's balance plus its credit limit, read inside `tx` and locked
/// until it ends (`FOR UPDATE` on PostgreSQL; on SQLite a writing
/// transaction already keeps other writers out).
pub(super) async fn funds(tx: &mut Tx, backend: Backend, account: Account) -> Result<i64> {
    let lock = sql::for_update(backend);
    let row = match account.user_id {
        None => {
            let sql =
                format!("SELECT balance + credit_limit AS funds FROM tenants WHERE id = $1{lock}");
            sqlx::query(&sql)
                .bind(account.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
        Some(user) => {
            let sql = format!(
                "SELECT balance + credit_limit AS funds FROM users WHERE id = $1 AND tenant_id = $2{lock}"
            );
            sqlx::query(&sql)
                .bind(user)
                .bind(account.tenant_id)
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    Ok(row.ok_or(Error::NotFound("account"))?.try_get("funds")?)
}

/// Debits `amount` when the funds cover it, in one statement that re-checks
/// them; answers the balance after, or `None` when they do not.
pub(super) async fn debit_within_funds(
    tx: &mut Tx,
    account: Account,
    amount: i64,
) -> Result<Option<i64>> {
    let row = match account.user_id {
        None => {
            sqlx::query(
                "UPDATE tenants SET balance = balance - $1 \
                 WHERE id = $2 AND balance + credit_limit >= $3 RETURNING balance",
            )
            .bind(amount)
            .bind(account.tenant_id)
            .bind(amount)
            .fetch_optional(&mut **tx)
            .await?
        }
        Some(user) => {
            sqlx::query(
                "UPDATE users SET balance = balance - $1 \
                 WHERE id = $2 AND tenant_id = $3 AND balance + credit_limit >= $4 RETURNING balance",
            )
            .bind(amount)
            .bind(user)
            .bind(account.tenant_id)
            .bind(amount)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    row.map(|r| r.try_get("balance"))
        .transpose()
        .map_err(Into::into)
}

/// A hold taken: the seconds granted and the amount held.
pub(super) struct Hold {
    pub duration: u64,
    pub amount: i64,
}

/// Holds, for a call at `price`, the longest duration the account's funds
/// (plus `already`, what the call holds now) cover, when that is more than
/// `at_least` seconds. Writes the HOLD row. `None`: nothing more to grant.
pub(super) async fn take_hold(
    tx: &mut Tx,
    backend: Backend,
    account: Account,
    price: &CallPrice,
    already: i64,
    at_least: Option<u64>,
    call_id: &str,
) -> Result<Option<Hold>> {
    for _ in 0..HOLD_ATTEMPTS {
        let available = funds(tx, backend, account).await?;
        let Some(duration) = price.max_duration(available.saturating_add(already)) else {
            return Ok(None);
        };
        if at_least.is_some_and(|d| duration <= d) {
            return Ok(None);
        }
        let amount = price.amount(duration)?;
        let extra = amount - already;
        if extra <= 0 {
            return Ok(Some(Hold { duration, amount }));
        }
        if let Some(balance_after) = debit_within_funds(tx, account, extra).await? {
            balances::record(
                tx,
                &Entry {
                    tenant_id: account.tenant_id,
                    user_id: account.user_id,
                    kind: TransactionKind::Hold,
                    amount: -extra,
                    call_id: Some(call_id),
                    description: "call authorised",
                    created_by: None,
                },
                balance_after,
            )
            .await?;
            return Ok(Some(Hold { duration, amount }));
        }
        // Another call took funds between the read and the debit: read again.
    }
    Err(Error::Conflict {
        code: "BUSY",
        message: "the account is too busy to take a hold now; try again".into(),
    })
}
