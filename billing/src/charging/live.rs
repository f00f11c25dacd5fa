//! The calls in progress: the live charging sessions of a scope, paged like
//! every list, with what they hold in all (per currency) for the same
//! selection.
//!
//! Whose sessions: the tenant's for its administrators (and a system
//! administrator naming it); for a standard user only those billed to its
//! own account (a session names the account it holds on, not who dialled,
//! so a call billed to the tenant's account is the administrators' to see).

use model::query::{FieldKind, FieldSpec, ListQuery, ResourceSpec, SqlValue};
use model::{ApiId, Money};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{seconds, SessionState};
use crate::auth::Scope;
use crate::db::{now_ms, Db};
use crate::error::Result;
use crate::listing::{bind_all, Listing};

/// A call in progress, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCall {
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// Seconds the call may last (its grant so far).
    pub max_duration: u64,
    /// What the call holds of the billed account.
    pub held: Money,
    pub currency: String,
    /// When the call was authorised.
    pub started_at: String,
    /// When its grant ends.
    pub grant_ends_at: String,
    /// Seconds left of the grant now (0 once it has ended).
    pub seconds_left: u64,
    /// When the hold is released if the call is never reported.
    pub expires_at: String,
    /// The account it holds on: `TENANT`, or the billed user's name (as a
    /// CDR's `billed_account`).
    pub billed_account: String,
    /// The billed user's id; `None` for the tenant's own account.
    pub billed_user_id: Option<String>,
}

/// What the listed calls hold in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldTotal {
    pub currency: String,
    pub held: Money,
}

/// A page of the calls in progress, and what all those matching hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCalls {
    pub count: i64,
    pub items: Vec<LiveCall>,
    /// Per currency, by currency: every matching call's hold, not only the
    /// page's.
    pub held_totals: Vec<HeldTotal>,
    /// The next page's `cursor`; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The previous page's `cursor`; absent on the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
}

/// The live sessions as a list: filtered, searched (call id, caller,
/// callee) and sorted by these fields.
pub static LIVE_CALL_SPEC: ResourceSpec = ResourceSpec {
    fields: &[
        FieldSpec::new("call_id", "call_id", FieldKind::Text),
        FieldSpec::new("caller", "caller", FieldKind::Text),
        FieldSpec::new("callee", "callee", FieldKind::Text),
        FieldSpec::new("currency", "currency", FieldKind::Text),
        FieldSpec::new("held", "held", FieldKind::Money),
        FieldSpec::new("max_duration", "max_duration", FieldKind::Integer),
        FieldSpec::new("started_at", "started_at", FieldKind::Timestamp),
        FieldSpec::new("expires_at", "expires_at", FieldKind::Timestamp),
        FieldSpec::new("billed_user_id", "user_id", FieldKind::Id),
    ],
    search: &["call_id", "caller", "callee"],
    default_order: "id",
    decode_id: ApiId::decode,
};

const COLUMNS: &str = "id, call_id, caller, callee, max_duration, held, currency, started_at, \
    expires_at, user_id, \
    (SELECT u.username FROM users u WHERE u.id = charging_sessions.user_id) AS username";

fn live_call_from_row(row: &AnyRow, now: i64) -> Result<LiveCall> {
    let started_at: i64 = row.try_get("started_at")?;
    let max_duration: i64 = row.try_get("max_duration")?;
    let grant_ends = started_at.saturating_add(max_duration.saturating_mul(1000));
    let left_ms = grant_ends.saturating_sub(now).max(0);
    let user_id: Option<i64> = row.try_get("user_id")?;
    let username: Option<String> = row.try_get("username")?;
    Ok(LiveCall {
        call_id: row.try_get("call_id")?,
        caller: row.try_get("caller")?,
        callee: row.try_get("callee")?,
        max_duration: seconds(max_duration),
        held: Money::from_units(row.try_get("held")?),
        currency: row.try_get("currency")?,
        started_at: crate::time::rfc3339(started_at),
        grant_ends_at: crate::time::rfc3339(grant_ends),
        // Whole seconds left, rounded up: a call with 0.4 s left still has time.
        seconds_left: seconds(left_ms.saturating_add(999) / 1000),
        expires_at: crate::time::rfc3339(row.try_get("expires_at")?),
        billed_account: match user_id {
            None => "TENANT".to_string(),
            Some(_) => username.unwrap_or_default(),
        },
        billed_user_id: user_id.map(ApiId::encode),
    })
}

/// The condition (placeholders from `$1`) and binds of the scope's live
/// sessions.
fn scope_condition(scope: &Scope) -> (String, Vec<SqlValue>) {
    let mut binds = vec![
        SqlValue::Int(scope.tenant_id),
        SqlValue::Text(SessionState::Live.as_str().to_string()),
    ];
    let mut condition = "tenant_id = $1 AND state = $2".to_string();
    if !scope.caller.role.manages_tenant() {
        binds.push(SqlValue::Int(scope.caller.user_id));
        condition.push_str(" AND user_id = $3");
    }
    (condition, binds)
}

impl Db {
    /// The calls in progress of the scope, a page of them and what all those
    /// matching `query` hold per currency.
    pub async fn list_live_calls(&self, scope: &Scope, query: &ListQuery) -> Result<LiveCalls> {
        let (condition, binds) = scope_condition(scope);
        let now = now_ms();
        let page = self
            .page(
                Listing {
                    columns: COLUMNS,
                    from: "charging_sessions",
                    scope: &condition,
                    scope_binds: binds.clone(),
                    spec: &LIVE_CALL_SPEC,
                    sqlite_search: None,
                    version: None,
                },
                query,
                |row| live_call_from_row(row, now),
            )
            .await?;
        let parts = query.to_sql(&LIVE_CALL_SPEC, binds.len() + 1);
        let condition = if parts.where_sql.is_empty() {
            condition
        } else {
            format!("{condition} AND {}", parts.where_sql)
        };
        let mut binds = binds;
        binds.extend(parts.binds);
        let held_totals = self.held_totals(&condition, &binds).await?;
        Ok(LiveCalls {
            count: page.count,
            items: page.items,
            held_totals,
            cursor: page.cursor,
            previous_cursor: page.previous_cursor,
        })
    }

    /// How many calls of the scope are in progress and what they hold per
    /// currency, without reading them.
    pub async fn live_call_totals(&self, scope: &Scope) -> Result<(i64, Vec<HeldTotal>)> {
        let (condition, binds) = scope_condition(scope);
        let sql = format!("SELECT COUNT(*) AS count FROM charging_sessions WHERE {condition}");
        let count: i64 = bind_all(sqlx::query(&sql), &binds)
            .fetch_one(self.pool())
            .await?
            .try_get("count")?;
        let totals = if count == 0 {
            Vec::new()
        } else {
            self.held_totals(&condition, &binds).await?
        };
        Ok((count, totals))
    }

    /// Every tenant's calls in progress and what they hold per currency
    /// (for metrics; no caller's scope).
    pub(crate) async fn all_live_totals(&self) -> Result<(i64, Vec<HeldTotal>)> {
        let condition = "state = $1";
        let binds = [SqlValue::Text(SessionState::Live.as_str().to_string())];
        let sql = format!("SELECT COUNT(*) AS count FROM charging_sessions WHERE {condition}");
        let count: i64 = bind_all(sqlx::query(&sql), &binds)
            .fetch_one(self.pool())
            .await?
            .try_get("count")?;
        Ok((count, self.held_totals(condition, &binds).await?))
    }

    async fn held_totals(&self, condition: &str, binds: &[SqlValue]) -> Result<Vec<HeldTotal>> {
        let sql = format!(
            "SELECT currency, CAST(SUM(held) AS BIGINT) AS held FROM charging_sessions \
             WHERE {condition} GROUP BY currency ORDER BY currency"
        );
        bind_all(sqlx::query(&sql), binds)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(HeldTotal {
                    currency: row.try_get("currency")?,
                    held: Money::from_units(row.try_get("held")?),
                })
            })
            .collect()
    }
}
