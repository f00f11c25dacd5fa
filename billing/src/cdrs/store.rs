//! How a batch's CDRs are written: each call's outcome (status, reason,
//! cost, rate, billed account) and the multi-row INSERT that stores new
//! call ids and skips those already stored.

use std::collections::HashSet;

use model::cdr::NewCdr;
use sqlx::AnyConnection;
use sqlx::Row;

use model::WireEnum;

use super::RatingStatus;
use crate::db::Backend;
use crate::error::Result;
use crate::sql;

/// How one call is to be stored and charged.
pub(super) struct Outcome {
    pub user_id: Option<i64>,
    pub status: RatingStatus,
    pub reason: Option<String>,
    pub cost: Option<i64>,
    pub rate: Option<(i64, String)>,
    pub billed_account: Option<String>,
    pub billed_user_id: Option<i64>,
}

impl Outcome {
    pub(super) fn unrated(user_id: Option<i64>, reason: String) -> Outcome {
        Outcome {
            user_id,
            status: RatingStatus::Unrated,
            reason: Some(reason),
            cost: None,
            rate: None,
            billed_account: None,
            billed_user_id: None,
        }
    }
}

/// A new CDR's row, in bind order.
const NEW_CDR: sql::Insert = sql::Insert {
    table: "cdrs",
    columns: &[
        "tenant_id",
        "call_id",
        "caller",
        "caller_domain",
        "caller_display_name",
        "callee",
        "callee_domain",
        "callee_display_name",
        "started_at",
        "rang_at",
        "answered_at",
        "ended_at",
        "direction",
        "end_reason",
        "reroute_reason",
        "status_code",
        "destination",
        "outbound_caller_id",
        "did_cid",
        "trunk",
        "duration",
        "user_data",
        "user_id",
        "rating_status",
        "unrated_reason",
        "cost",
        "currency",
        "rate_id",
        "rate_prefix",
        "billed_account",
        "billed_user_id",
        "created_at",
    ],
};

/// An INSERT of `rows` CDRs that skips call ids already stored, answering
/// the call ids it stored when `returning`.
fn insert_sql(backend: Backend, rows: usize, returning: bool) -> String {
    NEW_CDR.sql(
        backend,
        rows,
        if returning {
            " ON CONFLICT (tenant_id, call_id) DO NOTHING RETURNING call_id"
        } else {
            " ON CONFLICT (tenant_id, call_id) DO NOTHING"
        },
    )
}

/// Stores the new CDRs `rows` (each call id once), skipping the call ids
/// already stored. Answers how many it stored and, when `returning`, which.
pub(super) async fn insert_cdrs(
    conn: &mut AnyConnection,
    backend: Backend,
    tenant_id: i64,
    rows: &[(&NewCdr, &Outcome)],
    currency: &str,
    now: i64,
    returning: bool,
) -> Result<(u64, HashSet<String>)> {
    let mut count = 0;
    let mut stored = HashSet::new();
    for chunk in NEW_CDR.chunks(rows) {
        let sql = insert_sql(backend, chunk.len(), returning);
        let mut query = NEW_CDR.binds(&sql, chunk.len());
        for (cdr, outcome) in chunk {
            query = query
                .bind(tenant_id)
                .bind(&cdr.call.call_id)
                .bind(&cdr.call.caller)
                .bind(&cdr.call.caller_domain)
                .bind(&cdr.call.caller_display_name)
                .bind(&cdr.call.callee)
                .bind(&cdr.call.callee_domain)
                .bind(&cdr.call.callee_display_name)
                .bind(cdr.call.started_at)
                .bind(cdr.call.rang_at)
                .bind(cdr.call.answered_at)
                .bind(cdr.call.ended_at)
                .bind(cdr.call.direction.to_string())
                .bind(cdr.call.end_reason.map(|r| r.to_string()))
                .bind(cdr.call.reroute_reason.map(|r| r.to_string()))
                .bind(cdr.call.status_code)
                .bind(&cdr.call.destination)
                .bind(&cdr.call.outbound_caller_id)
                .bind(&cdr.call.did_cid)
                .bind(&cdr.call.trunk)
                .bind(cdr.call.duration)
                .bind(&cdr.call.user_data)
                .bind(outcome.user_id)
                .bind(outcome.status.wire())
                .bind(outcome.reason.as_deref())
                .bind(outcome.cost)
                .bind(outcome.cost.map(|_| currency))
                .bind(outcome.rate.as_ref().map(|r| r.0))
                .bind(outcome.rate.as_ref().map(|r| r.1.as_str()))
                .bind(outcome.billed_account.as_deref())
                .bind(outcome.billed_user_id)
                .bind(now);
        }
        let query = query.query()?;
        if returning {
            for row in query.fetch_all(&mut *conn).await? {
                stored.insert(row.try_get("call_id")?);
                count += 1;
            }
        } else {
            count += query.execute(&mut *conn).await?.rows_affected();
        }
    }
    Ok((count, stored))
}
