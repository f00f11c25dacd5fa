//! `GET /api/reports/spend`: the caller's spend over a time range, grouped
//! ([`billing::reports`]).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use billing::reports::{GroupBy, SpendReport};
use billing::Db;
use serde_json::{Map, Value};

use super::error::ApiResult;
use super::extract::ReadingScope;

/// `from` and `to` (RFC 3339, on the hour; calls started at or after `from`,
/// before `to`) and `group_by` (`day`, `hour`, `destination`, `user` or
/// `type`).
pub async fn spend(
    State(db): State<Db>,
    ReadingScope(scope): ReadingScope,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Json<SpendReport>> {
    let given: Map<String, Value> = ["from", "to", "group_by"]
        .into_iter()
        .filter_map(|k| params.get(k).map(|v| (k.to_string(), v.clone().into())))
        .collect();
    let mut f = model::Fields::new(&given);
    let from = f.timestamp("from");
    let from = f.require("from", from);
    let to = f.timestamp("to");
    let to = f.require("to", to);
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
        return Err(billing::Error::Internal("a checked parameter is missing".into()).into());
    };
    Ok(Json(db.spend_report(&scope, from, to, group_by).await?))
}
