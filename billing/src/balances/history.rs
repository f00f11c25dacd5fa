//! An account's balance over time: its balance at the end of each UTC day
//! of a range, read from the ledger's `balance_after` (the last entry of the
//! day, else the day before's), never summed from the calls.

use model::{ApiId, FieldError, Money};
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
    /// The balance after the day's last ledger entry (the day before's when
    /// it has none; 0 before the account's first).
    pub balance: Money,
    /// The ledger entries of the day.
    pub entries: i64,
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
    let mut errors = Vec::new();
    for (field, value) in [("from", from), ("to", to)] {
        if value.rem_euclid(DAY_MS) != 0 {
            errors.push(FieldError::new(
                field,
                "must be at midnight UTC, such as 2026-01-31T00:00:00Z",
            ));
        }
    }
    if to <= from {
        errors.push(FieldError::new("to", "must be after from"));
    } else if to - from > MAX_DAYS * DAY_MS {
        errors.push(FieldError::new(
            "to",
            format!("must be at most {MAX_DAYS} days after from"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// The points of the days `[from, until)` from the balance before `from`
/// and the last entry of each day that has one (`(day index, balance after,
/// entries)`), carrying the balance over the days without entries.
fn points(
    from: i64,
    days: i64,
    opening: i64,
    last_of_day: &[(i64, i64, i64)],
) -> Vec<BalancePoint> {
    let mut balance = opening;
    let mut next = last_of_day.iter().peekable();
    (0..days)
        .map(|day| {
            let mut entries = 0;
            if let Some(&&(_, after, count)) = next.peek().filter(|(d, _, _)| *d == day) {
                balance = after;
                entries = count;
                next.next();
            }
            BalancePoint {
                day: crate::time::rfc3339(from + day * DAY_MS)
                    .get(..10)
                    .unwrap_or_default()
                    .to_string(),
                balance: Money::from_units(balance),
                entries,
            }
        })
        .collect()
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

        // The account's entries; `$n` is the user's id when it is a user's.
        let account_is = |n: usize| match user {
            Some(_) => format!("user_id = ${n}"),
            None => "user_id IS NULL".to_string(),
        };
        let opening_sql = format!(
            "SELECT balance_after FROM balance_transactions WHERE tenant_id = $1 AND {} \
             AND created_at < $2 ORDER BY id DESC LIMIT 1",
            account_is(3)
        );
        let mut opening = sqlx::query_scalar::<_, i64>(&opening_sql)
            .bind(scope.tenant_id)
            .bind(from);
        // Within one account the ledger's ids follow its balance (each
        // entry is written under the account's row lock), so a day's last
        // entry is its highest id.
        let last_sql = format!(
            "SELECT t.balance_after, d.day, d.entries FROM balance_transactions t JOIN \
             (SELECT (created_at - $2) / {DAY_MS} AS day, MAX(id) AS last, \
             CAST(COUNT(*) AS BIGINT) AS entries FROM balance_transactions \
             WHERE tenant_id = $1 AND {} AND created_at >= $2 AND created_at < $3 \
             GROUP BY day) d ON t.id = d.last ORDER BY d.day",
            account_is(4)
        );
        let mut last = sqlx::query(&last_sql)
            .bind(scope.tenant_id)
            .bind(from)
            .bind(from + days * DAY_MS);
        if let Some(user) = user {
            opening = opening.bind(user);
            last = last.bind(user);
        }
        let opening = opening.fetch_optional(self.pool()).await?.unwrap_or(0);
        let rows = last.fetch_all(self.pool()).await?;
        let last_of_day = rows
            .iter()
            .map(|r| -> Result<(i64, i64, i64)> {
                Ok((
                    r.try_get("day")?,
                    r.try_get("balance_after")?,
                    r.try_get("entries")?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BalanceHistory {
            user_id: user.map(ApiId::encode),
            account,
            currency: tenant.try_get("currency")?,
            items: points(from, days, opening, &last_of_day),
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
    fn days_without_entries_keep_the_balance_before() {
        let from = 1_767_225_600_000; // 2026-01-01
        let got = points(from, 4, 500, &[(1, 300, 2), (3, -100, 1)]);
        let seen: Vec<(&str, i64, i64)> = got
            .iter()
            .map(|p| {
                (
                    p.day.as_str(),
                    p.balance.to_units().unwrap_or(i64::MIN),
                    p.entries,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("2026-01-01", 500, 0),
                ("2026-01-02", 300, 2),
                ("2026-01-03", 300, 0),
                ("2026-01-04", -100, 1)
            ]
        );
        assert!(points(from, 0, 5, &[]).is_empty());
    }
}
