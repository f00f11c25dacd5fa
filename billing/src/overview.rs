//! The overview of a scope, as the portal's home page shows it in one
//! answer: the account's balance and funds, today's calls and their cost,
//! the calls in progress and what they hold, and the last deck import.
//!
//! A tenant's administrators (and a system administrator naming the tenant)
//! see the tenant's figures and account; a standard user sees only its own:
//! its account, the calls it made, the calls billed to it, and no imports.
//! Every figure is an aggregate query: no rows are read to count them.

use model::billing_settings::BillingSettings;
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::audit::{Action, Entity};
use crate::auth::Scope;
use crate::balances::AccountSummary;
use crate::charging::HeldTotal;
use crate::db::{now_ms, Db};
use crate::error::Result;

/// A day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// Today's calls (UTC day) of the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallsToday {
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    pub calls: i64,
    /// What they cost, per currency (by currency); none when nothing was
    /// charged.
    pub spend: Vec<Spend>,
}

/// An amount spent in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spend {
    pub currency: String,
    pub amount: Money,
}

/// The calls in progress of the scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveNow {
    pub calls: i64,
    pub held: Vec<HeldTotal>,
}

/// The last call-rate import of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastImport {
    pub at: String,
    /// Who imported it.
    pub by: String,
    /// The tariff it went to, when it still exists.
    pub tariff: Option<String>,
    /// MERGE or REPLACE.
    pub mode: String,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub removed: i64,
}

impl LastImport {
    /// The rates the deck held: added, updated and unchanged.
    pub fn rates(&self) -> i64 {
        self.added
            .saturating_add(self.updated)
            .saturating_add(self.unchanged)
    }
}

/// Whose account the overview shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewAccount {
    /// The tenant's name, or the user's.
    pub name: String,
    /// `None` for the tenant's own account.
    pub user_id: Option<String>,
    pub currency: String,
    pub balance: Money,
    pub credit_limit: Money,
    /// What the calls in progress hold of it (already taken from the balance).
    pub held: Money,
    /// What calls may still spend: balance plus credit limit.
    pub available: Money,
}

/// The overview of a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub account: OverviewAccount,
    pub today: CallsToday,
    pub live: LiveNow,
    /// `None` when the tenant has imported no deck, and for a standard user.
    pub last_import: Option<LastImport>,
    pub billing: BillingSettings,
}

/// The day (`YYYY-MM-DD`) of unix ms `ms`, UTC.
fn day_of(ms: i64) -> String {
    crate::time::rfc3339(ms).chars().take(10).collect()
}

fn count(changes: &Value, key: &str) -> i64 {
    changes[key]["after"].as_i64().unwrap_or(0)
}

impl Db {
    /// The overview of `scope` (see the module's text for whose figures).
    pub async fn overview(&self, scope: &Scope) -> Result<Overview> {
        let manages = scope.caller.role.manages_tenant();
        let tenant = self.get_tenant(&scope.caller, scope.tenant_id).await?;
        let summary: AccountSummary = if manages {
            self.tenant_account(scope).await?
        } else {
            self.own_account(scope).await?
        };
        let account = OverviewAccount {
            name: summary.username.unwrap_or_else(|| tenant.name.clone()),
            user_id: summary.user_id,
            currency: tenant.currency.clone(),
            balance: summary.balance,
            credit_limit: summary.credit_limit,
            held: summary.held,
            available: summary.available,
        };
        let (calls, held) = self.live_call_totals(scope).await?;
        Ok(Overview {
            account,
            today: self.calls_today(scope, now_ms()).await?,
            live: LiveNow { calls, held },
            last_import: if manages {
                self.last_import(scope).await?
            } else {
                None
            },
            billing: self.billing_settings(scope).await?,
        })
    }

    /// The calls of the UTC day of `now` (the tenant's; a standard user's
    /// own) and their cost, in one aggregate query.
    async fn calls_today(&self, scope: &Scope, now: i64) -> Result<CallsToday> {
        let start = now - now.rem_euclid(DAY_MS);
        let own = !scope.caller.role.manages_tenant();
        let sql = format!(
            "SELECT currency, COUNT(*) AS calls, CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS spent \
             FROM cdrs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3{} \
             GROUP BY currency ORDER BY currency",
            if own { " AND user_id = $4" } else { "" }
        );
        let mut query = sqlx::query(&sql)
            .bind(scope.tenant_id)
            .bind(start)
            .bind(start + DAY_MS);
        if own {
            query = query.bind(scope.caller.user_id);
        }
        let mut today = CallsToday {
            day: day_of(start),
            calls: 0,
            spend: Vec::new(),
        };
        for row in query.fetch_all(self.pool()).await? {
            let calls: i64 = row.try_get("calls")?;
            today.calls = today.calls.saturating_add(calls);
            // Calls not charged carry no currency.
            if let Some(currency) = row.try_get::<Option<String>, _>("currency")? {
                today.spend.push(Spend {
                    currency,
                    amount: Money::from_units(row.try_get("spent")?),
                });
            }
        }
        Ok(today)
    }

    /// The tenant's last call-rate import, from its audit entry.
    async fn last_import(&self, scope: &Scope) -> Result<Option<LastImport>> {
        let row = sqlx::query(
            "SELECT created_at, actor_name, changes FROM audit_log \
             WHERE tenant_id = $1 AND action = $2 AND entity = $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(scope.tenant_id)
        .bind(Action::Import.to_string())
        .bind(Entity::CallRate.to_string())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let changes: Value =
            serde_json::from_str(&row.try_get::<String, _>("changes")?).unwrap_or(Value::Null);
        let tariff = match changes["tariff_id"]["after"]
            .as_str()
            .and_then(ApiId::decode)
        {
            Some(id) => sqlx::query("SELECT name FROM tariffs WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(scope.tenant_id)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get::<String, _>("name"))
                .transpose()?,
            None => None,
        };
        Ok(Some(LastImport {
            at: crate::time::rfc3339(row.try_get("created_at")?),
            by: row.try_get("actor_name")?,
            tariff,
            mode: changes["mode"]["after"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            added: count(&changes, "added"),
            updated: count(&changes, "updated"),
            unchanged: count(&changes, "unchanged"),
            removed: count(&changes, "removed"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_is_the_utc_date() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(1_767_225_600_000 - 1), "2025-12-31");
        assert_eq!(day_of(1_767_225_600_000), "2026-01-01");
    }
}
