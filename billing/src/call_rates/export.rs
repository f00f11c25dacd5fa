//! The default tariff's rates as CSV, in the columns an import takes back.
//!
//! On SQLite the rates are read page by page; on PostgreSQL in one
//! statement on a connection of the export's own, its rows decoded by
//! PostgreSQL's driver (not `Any`'s) as they arrive and handed on in chunks
//! through a short queue, so that memory stays flat whatever the deck's
//! size and however slowly the client reads. Both write each line the same
//! way ([`write_csv_line`]).

use futures::{Stream, StreamExt};
use model::call_rate::{CallRateFields, CSV_COLUMNS};
use model::ApiId;
use sqlx::Row;

use super::default_tariff;
use super::spec::{fields_from_row, COLUMNS, FROM};
use crate::auth::Scope;
use crate::csv;
use crate::db::Db;
use crate::error::Result;

impl Db {
    /// The default tariff's rates as CSV, produced page by page (in id order)
    /// so that an export of any size streams in constant memory.
    pub async fn export_call_rates(
        &self,
        scope: &Scope,
    ) -> Result<impl Stream<Item = Result<String>> + Send + 'static> {
        let tariff = default_tariff(self.pool(), scope.tenant_id).await?;
        let header = format!("{}\n", CSV_COLUMNS.join(","));
        let head = futures::stream::once(async move { Ok(header) });
        if let Some(conn) = self.postgres_connection().await? {
            return Ok(head.chain(postgres_lines(conn, tariff)).left_stream());
        }
        let db = self.clone();
        let pages = futures::stream::try_unfold(Some(0i64), move |after| {
            let db = db.clone();
            async move {
                let Some(after) = after else { return Ok(None) };
                let sql = format!(
                    "SELECT {COLUMNS} FROM {FROM} WHERE r.tariff_id = $1 AND r.id > $2 ORDER BY r.id LIMIT 5000"
                );
                let rows = sqlx::query(&sql)
                    .bind(tariff)
                    .bind(after)
                    .fetch_all(db.pool())
                    .await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let mut chunk = String::with_capacity(rows.len() * 80);
                let mut last = after;
                for row in &rows {
                    last = row.try_get("id")?;
                    write_csv_line(&mut chunk, last, &fields_from_row(row)?);
                }
                let next = (rows.len() == 5000).then_some(last);
                Ok(Some((chunk, next)))
            }
        });
        Ok(head.chain(pages).right_stream())
    }
}

/// Bytes of CSV handed on at a time from PostgreSQL's rows.
const CHUNK: usize = 64 * 1024;
/// Chunks read ahead of the client at most.
const AHEAD: usize = 4;

/// The tariff's rates as CSV lines, read on `conn` in id order.
fn postgres_lines(
    mut conn: sqlx::PgConnection,
    tariff: i64,
) -> impl Stream<Item = Result<String>> + Send + 'static {
    let (send, receive) = tokio::sync::mpsc::channel::<Result<String>>(AHEAD);
    tokio::spawn(async move {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE r.tariff_id = $1 ORDER BY r.id");
        let mut rows = sqlx::query(&sql).bind(tariff).fetch(&mut conn);
        let mut chunk = String::with_capacity(CHUNK + 512);
        let line = |chunk: &mut String, row: sqlx::postgres::PgRow| -> Result<()> {
            write_csv_line(chunk, row.try_get("id")?, &fields_from_row(&row)?);
            Ok(())
        };
        while let Some(row) = rows.next().await {
            if let Err(e) = row
                .map_err(Into::into)
                .and_then(|row| line(&mut chunk, row))
            {
                let _ = send.send(Err(e)).await;
                return;
            }
            // A client gone (the queue closed) ends the read.
            if chunk.len() >= CHUNK && send.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                return;
            }
        }
        if !chunk.is_empty() {
            let _ = send.send(Ok(chunk)).await;
        }
    });
    futures::stream::unfold(receive, |mut receive| async move {
        receive.recv().await.map(|item| (item, receive))
    })
}

fn write_csv_line(out: &mut String, id: i64, r: &CallRateFields) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        ApiId::encode(id),
        csv::text(&r.prefix),
        r.rate_type,
        r.free_seconds,
        r.grace_period,
        r.interval_1,
        r.interval_n,
        r.connect_fee,
        r.postcall_surcharge,
        r.price_1,
        r.price_n,
        csv::text(&r.description),
    );
}
