//! The default tariff's rates as CSV, in the columns an import takes back.

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
        let db = self.clone();
        let header = format!("{}\n", CSV_COLUMNS.join(","));
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
        Ok(futures::stream::once(async move { Ok(header) }).chain(pages))
    }
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
