//! A filtered list of CDRs as CSV, and the re-rating of such a list.
//!
//! The export takes the list's own `filter`, `search` and `orderby` (every
//! matching call, not one page of them) and streams its rows as the
//! database hands them over, so that a million calls download in flat
//! memory whatever their order.

use futures::{Stream, StreamExt};
use model::query::{ListQuery, SqlValue};
use model::{ApiId, Money};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::CDR_SPEC;
use crate::auth::Scope;
use crate::csv;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::listing::bind_all;
use crate::rerate::{RerateFilter, Rerated};

/// The export's columns, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "call_id",
    "started_at",
    "answered_at",
    "ended_at",
    "direction",
    "caller",
    "callee",
    "destination",
    "trunk",
    "duration",
    "status_code",
    "rating_status",
    "cost",
    "currency",
    "rate_prefix",
    "billed_account",
    "unrated_reason",
];

/// Rows written to one chunk of the answer.
const ROWS_PER_CHUNK: usize = 1000;
/// Chunks produced ahead of what the client has taken.
const CHUNKS_AHEAD: usize = 4;
/// Call ids re-rated per use-case call (the most it takes).
const RERATE_BATCH: usize = model::cdr::MAX_BATCH;

/// The condition (without `WHERE`) matching the scope's calls that
/// `query` filters and searches, its values, and the query's order.
fn matching(scope: &Scope, query: &ListQuery) -> (String, Vec<SqlValue>, String) {
    let (condition, mut binds) = super::scope_condition(scope, false);
    let parts = query.to_sql(&CDR_SPEC, binds.len() + 1);
    let condition = if parts.where_sql.is_empty() {
        condition.to_string()
    } else {
        format!("{condition} AND {}", parts.where_sql)
    };
    binds.extend(parts.binds);
    (condition, binds, parts.order_sql)
}

fn write_line(out: &mut String, row: &AnyRow) -> Result<()> {
    use std::fmt::Write;
    let time = |column: &str| -> Result<String> {
        Ok(row
            .try_get::<Option<i64>, _>(column)?
            .map(crate::time::rfc3339)
            .unwrap_or_default())
    };
    let text = |column: &str| -> Result<String> {
        Ok(csv::text(
            &row.try_get::<Option<String>, _>(column)?
                .unwrap_or_default(),
        )
        .into_owned())
    };
    let cost = row
        .try_get::<Option<i64>, _>("cost")?
        .map(|units| Money::from_units(units).to_fixed())
        .unwrap_or_default();
    let status_code = row
        .try_get::<Option<i64>, _>("status_code")?
        .map(|c| c.to_string())
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        ApiId::encode(row.try_get("id")?),
        text("call_id")?,
        time("started_at")?,
        time("answered_at")?,
        time("ended_at")?,
        text("direction")?,
        text("caller")?,
        text("callee")?,
        text("destination")?,
        text("trunk")?,
        row.try_get::<i64, _>("duration")?,
        status_code,
        text("rating_status")?,
        cost,
        text("currency")?,
        text("rate_prefix")?,
        text("billed_account")?,
        text("unrated_reason")?,
    );
    Ok(())
}

impl Db {
    /// The tenant's CDRs that `query` matches (all of them: its `skip` and
    /// `top` are not used), as CSV in its order, header first. Read by one
    /// query whose rows are written out as they arrive, a bounded number of
    /// chunks ahead of the client.
    pub async fn export_cdrs(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<impl Stream<Item = Result<String>> + Send + 'static> {
        scope.require_manager()?;
        let (condition, binds, order) = matching(scope, query);
        let sql = format!(
            "SELECT {} FROM cdrs WHERE {condition} ORDER BY {order}",
            EXPORT_COLUMNS.join(", ")
        );
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<String>>(CHUNKS_AHEAD);
        let pool = self.pool().clone();
        tokio::spawn(async move {
            let mut rows = bind_all(sqlx::query(&sql), &binds).fetch(&pool);
            let mut chunk = String::new();
            let mut count = 0;
            while let Some(row) = rows.next().await {
                let written = row
                    .map_err(Error::from)
                    .and_then(|row| write_line(&mut chunk, &row));
                if let Err(e) = written {
                    let _ = sender.send(Err(e)).await;
                    return;
                }
                count += 1;
                if count == ROWS_PER_CHUNK {
                    count = 0;
                    // The client went away: stop reading.
                    if sender.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                        return;
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = sender.send(Ok(chunk)).await;
            }
        });
        let header = format!("{}\n", EXPORT_COLUMNS.join(","));
        let mut receiver = receiver;
        // Polled again after its end (as HTTP bodies may be), a closed
        // channel keeps answering that it has ended.
        let body = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        Ok(futures::stream::once(async move { Ok(header) }).chain(body))
    }

    /// Re-rates the tenant's CDRs that `query` matches (its administrators):
    /// [`Db::rerate_cdrs`] on their call ids, a batch at a time, with the
    /// counts and the delta summed.
    pub async fn rerate_matching(&self, scope: &Scope, query: &ListQuery) -> Result<Rerated> {
        scope.require_manager()?;
        let mut total = Rerated {
            matched: 0,
            rerated: 0,
            unchanged: 0,
            unrated: 0,
            delta: Money::ZERO,
        };
        let mut delta: i64 = 0;
        let (condition, binds, _) = matching(scope, query);
        // Keyset paging by id over the matching calls, whatever their order.
        let sql = format!(
            "SELECT call_id, id FROM cdrs WHERE {condition} AND id > ${} ORDER BY id LIMIT {RERATE_BATCH}",
            binds.len() + 1
        );
        let mut after = 0i64;
        loop {
            let mut all = binds.clone();
            all.push(SqlValue::Int(after));
            let rows = bind_all(sqlx::query(&sql), &all)
                .fetch_all(self.pool())
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            let call_ids = rows
                .iter()
                .map(|r| r.try_get::<String, _>("call_id"))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let done = self
                .rerate_cdrs(
                    scope,
                    RerateFilter {
                        call_ids: Some(call_ids),
                        ..RerateFilter::default()
                    },
                )
                .await?;
            total.matched += done.matched;
            total.rerated += done.rerated;
            total.unchanged += done.unchanged;
            total.unrated += done.unrated;
            delta = done
                .delta
                .to_units()
                .ok()
                .and_then(|d| delta.checked_add(d))
                .ok_or_else(|| Error::internal("the re-rating's delta is too large"))?;
            if rows.len() < RERATE_BATCH {
                break;
            }
        }
        total.delta = Money::from_units(delta);
        Ok(total)
    }
}
