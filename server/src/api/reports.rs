//! The caller's reports over a time range ([`billing::reports`]): spend
//! grouped (`GET /api/reports/spend`), its totals with the answer rate and
//! the average call duration (`GET /api/reports/summary`), and the balance
//! of the caller's account day by day (`GET /api/reports/balance`, from the
//! ledger).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use billing::balances::BalanceHistory;
use billing::reports::{GroupBy, SpendReport, SpendSummary};
use billing::Db;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use super::extract::ReadingScope;

/// The query's parameters `names` as the field reader takes them.
fn given(params: &HashMap<String, String>, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|k| params.get(*k).map(|v| (k.to_string(), v.clone().into())))
        .collect()
}

/// `from` and `to`, both required RFC 3339 times, read by `f`.
fn range(f: &mut model::Fields) -> (Option<i64>, Option<i64>) {
    let from = f.timestamp("from");
    let from = f.require("from", from);
    let to = f.timestamp("to");
    let to = f.require("to", to);
    (from, to)
}

/// A query of only `from` and `to`, both required RFC 3339 times: the two
/// as unix ms, or the fields' errors.
fn only_range(params: &HashMap<String, String>) -> ApiResult<(i64, i64)> {
    let given = given(params, &["from", "to"]);
    let mut f = model::Fields::new(&given);
    let (from, to) = range(&mut f);
    f.finish()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(missing());
    };
    Ok((from, to))
}

fn missing() -> ApiError {
    billing::Error::Internal("a checked parameter is missing".into()).into()
}

/// `from` and `to` (RFC 3339, on the hour; calls started at or after `from`,
/// before `to`) and `group_by` (`day`, `hour`, `hour_of_day`, `destination`,
/// `user` or `type`).
pub async fn spend(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<SpendReport>> {
    let given = given(&params, &["from", "to", "group_by"]);
    let mut f = model::Fields::new(&given);
    let (from, to) = range(&mut f);
    let group_by = f.string("group_by");
    let group_by = f.require("group_by", group_by);
    let group_by = match group_by.as_deref().map(str::parse::<GroupBy>) {
        Some(Ok(group_by)) => Some(group_by),
        Some(Err(_)) => {
            f.error("group_by", format!("must be {}", GroupBy::ALL));
            None
        }
        None => None,
    };
    f.finish()?;
    let (Some(from), Some(to), Some(group_by)) = (from, to, group_by) else {
        return Err(missing());
    };
    Ok(Json(db.spend_report(&scope, from, to, group_by).await?))
}

/// `from` and `to` as for [`spend`]: the calls' totals, answer rate and
/// average duration.
pub async fn summary(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<SpendSummary>> {
    let (from, to) = only_range(&params)?;
    Ok(Json(db.spend_summary(&scope, from, to).await?))
}

/// `from` and `to` (RFC 3339, at midnight UTC): the balance at the end of
/// each day of the caller's account.
pub async fn balance(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<BalanceHistory>> {
    let (from, to) = only_range(&params)?;
    Ok(Json(db.balance_history(&scope, from, to).await?))
}
