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

/// What skips the call ids already stored, answering those stored.
const CONFLICT_RETURNING: &str = " ON CONFLICT (tenant_id, call_id) DO NOTHING RETURNING call_id";

/// A new CDR's row keyed by column, as PostgreSQL reads a batch of them.
#[derive(serde::Serialize)]
struct CdrRow<'a> {
    tenant_id: i64,
    call_id: &'a str,
    caller: &'a str,
    caller_domain: &'a str,
    caller_display_name: &'a str,
    callee: &'a str,
    callee_domain: &'a str,
    callee_display_name: &'a str,
    started_at: i64,
    rang_at: Option<i64>,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    direction: String,
    end_reason: Option<String>,
    reroute_reason: Option<String>,
    status_code: Option<i64>,
    destination: &'a str,
    outbound_caller_id: &'a str,
    did_cid: &'a str,
    trunk: &'a str,
    duration: i64,
    user_data: &'a str,
    user_id: Option<i64>,
    rating_status: &'a str,
    unrated_reason: Option<&'a str>,
    cost: Option<i64>,
    currency: Option<&'a str>,
    rate_id: Option<i64>,
    rate_prefix: Option<&'a str>,
    billed_account: Option<&'a str>,
    billed_user_id: Option<i64>,
    created_at: i64,
}

impl<'a> CdrRow<'a> {
    fn new(
        tenant_id: i64,
        cdr: &'a NewCdr,
        outcome: &'a Outcome,
        currency: &'a str,
        now: i64,
    ) -> CdrRow<'a> {
        let call = &cdr.call;
        CdrRow {
            tenant_id,
            call_id: &call.call_id,
            caller: &call.caller,
            caller_domain: &call.caller_domain,
            caller_display_name: &call.caller_display_name,
            callee: &call.callee,
            callee_domain: &call.callee_domain,
            callee_display_name: &call.callee_display_name,
            started_at: call.started_at,
            rang_at: call.rang_at,
            answered_at: call.answered_at,
            ended_at: call.ended_at,
            direction: call.direction.to_string(),
            end_reason: call.end_reason.map(|r| r.to_string()),
            reroute_reason: call.reroute_reason.map(|r| r.to_string()),
            status_code: call.status_code,
            destination: &call.destination,
            outbound_caller_id: &call.outbound_caller_id,
            did_cid: &call.did_cid,
            trunk: &call.trunk,
            duration: call.duration,
            user_data: &call.user_data,
            user_id: outcome.user_id,
            rating_status: outcome.status.wire(),
            unrated_reason: outcome.reason.as_deref(),
            cost: outcome.cost,
            currency: outcome.cost.map(|_| currency),
            rate_id: outcome.rate.as_ref().map(|r| r.0),
            rate_prefix: outcome.rate.as_ref().map(|r| r.1.as_str()),
            billed_account: outcome.billed_account.as_deref(),
            billed_user_id: outcome.billed_user_id,
            created_at: now,
        }
    }
}

/// An INSERT of `rows` CDRs that skips call ids already stored, answering
/// the call ids it stored when `returning`.
fn insert_sql(backend: Backend, rows: usize, returning: bool) -> String {
    NEW_CDR.sql(
        backend,
        rows,
        if returning {
            CONFLICT_RETURNING
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
    if backend == Backend::Postgres {
        // One statement, the rows in one JSON parameter.
        let json: Vec<CdrRow> = rows
            .iter()
            .map(|(cdr, outcome)| CdrRow::new(tenant_id, cdr, outcome, currency, now))
            .collect();
        let sql = NEW_CDR.json_sql(1, CONFLICT_RETURNING);
        for row in sqlx::query(&sql)
            .bind(sql::json_rows(&json)?)
            .fetch_all(&mut *conn)
            .await?
        {
            stored.insert(row.try_get("call_id")?);
            count += 1;
        }
        return Ok((count, stored));
    }
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
