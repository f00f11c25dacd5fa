//! An account's balance over time: its balance at the end of each UTC day
//! of a range, read from the ledger's `balance_after`: the last entry
//! written before the day's end, found by one seek per day in the ledger's
//! time index, never by reading the days' entries or summing the calls.

use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::Scope;
use crate::db::{now_ms, Db};
use crate::error::{Error, Result};

const DAY_MS: i64 = 86_400_000;
/// The most days one history covers.
pub const MAX_DAYS: i64 = 366;

/// An account's balance at the end of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalancePoint {
    /// The day, `2026-01-31` (UTC).
    pub day: String,
    /// The balance after the last ledger entry written before the day's
    /// end (0 before the account's first).
    pub balance: Money,
}

/// The balance of the scope's account, day by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceHistory {
    /// The user whose account it is; none for the tenant's own.
    pub user_id: Option<String>,
    /// The tenant's name, or the user's.
    pub account: String,
    pub currency: String,
    /// One point per day of the range that has begun, in day order.
    pub items: Vec<BalancePoint>,
}

/// Refuses a range of days a history cannot answer: both at midnight UTC,
/// `to` after `from`, at most [`MAX_DAYS`] apart.
fn validate_days(from: i64, to: i64) -> Result<()> {
    crate::time::validate_stepped_range(
        from,
        to,
        DAY_MS,
        "must be at midnight UTC, such as 2026-01-31T00:00:00Z",
        MAX_DAYS,
    )
}

/// The day `YYYY-MM-DD` of unix ms `ms` (UTC).
fn day_of(ms: i64) -> String {
    crate::time::rfc3339(ms)
        .get(..10)
        .unwrap_or_default()
        .to_string()
}

impl Db {
    /// The balance at the end of each UTC day in `[from, to)` (unix ms at
    /// midnight) of the scope's account: the caller's own for a standard
    /// user or a scope of one's own account, the tenant's for its
    /// administrators. Days that have not begun are left out.
    pub async fn balance_history(
        &self,
        scope: &Scope,
        from: i64,
        to: i64,
    ) -> Result<BalanceHistory> {
        validate_days(from, to)?;
        let own = scope.only_own() || !scope.caller.role.manages_tenant();
        let user = own.then_some(scope.caller.user_id);
        let tenant = sqlx::query("SELECT name, currency FROM tenants WHERE id = $1")
            .bind(scope.tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let account = match user {
            None => tenant.try_get("name")?,
            Some(user) => {
                sqlx::query("SELECT username FROM users WHERE id = $1 AND tenant_id = $2")
                    .bind(user)
                    .bind(scope.tenant_id)
                    .fetch_optional(self.pool())
                    .await?
                    .ok_or(Error::NotFound("user"))?
                    .try_get("username")?
            }
        };
        let now = now_ms();
        let until = to.min(now - now.rem_euclid(DAY_MS) + DAY_MS);
        let days = if until > from {
            (until - from) / DAY_MS
        } else {
            0
        };

        // The account's entries; `$4` is the user's id when it is a user's.
        let account_is = match user {
            Some(_) => "t.user_id = $4",
            None => "t.user_id IS NULL",
        };
        // Day n's balance: the last entry (by time, then id: the order the
        // account's entries were written in, under its row lock) before the
        // day's end. The order names every column of the time index, the
        // constant ones too: PostgreSQL reads `user_id IS NULL` as no
        // equality, and would otherwise sort the account's entries rather
        // than seek the last one.
        let sql = format!(
            "WITH RECURSIVE d (n) AS (SELECT CAST(0 AS BIGINT) UNION ALL \
             SELECT n + 1 FROM d WHERE n + 1 < $3) \
             SELECT d.n AS day, (SELECT t.balance_after FROM balance_transactions t \
             WHERE t.tenant_id = $1 AND {account_is} AND t.created_at < $2 + (d.n + 1) * {DAY_MS} \
             ORDER BY t.tenant_id DESC, t.user_id DESC, t.created_at DESC, t.id DESC LIMIT 1) \
             AS balance FROM d ORDER BY d.n"
        );
        let mut items = Vec::new();
        if days > 0 {
            let mut query = sqlx::query(&sql)
                .bind(scope.tenant_id)
                .bind(from)
                .bind(days);
            if let Some(user) = user {
                query = query.bind(user);
            }
            for row in query.fetch_all(self.pool()).await? {
                let day: i64 = row.try_get("day")?;
                let balance: Option<i64> = row.try_get("balance")?;
                items.push(BalancePoint {
                    day: day_of(from + day * DAY_MS),
                    balance: Money::from_units(balance.unwrap_or(0)),
                });
            }
        }
        Ok(BalanceHistory {
            user_id: user.map(ApiId::encode),
            account,
            currency: tenant.try_get("currency")?,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_of_days_is_whole_days_forward() {
        assert!(validate_days(0, DAY_MS).is_ok());
        let fields = |r: Result<()>| match r {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        };
        assert_eq!(fields(validate_days(3_600_000, DAY_MS)), ["from"]);
        assert_eq!(fields(validate_days(DAY_MS, DAY_MS)), ["to"]);
        assert_eq!(fields(validate_days(0, (MAX_DAYS + 1) * DAY_MS)), ["to"]);
    }

    #[test]
    fn a_day_is_named_by_its_utc_date() {
        assert_eq!(day_of(1_767_225_600_000), "2026-01-01");
        assert_eq!(day_of(1_767_225_600_000 - 1), "2025-12-31");
    }
}
