//! An import on PostgreSQL: the file's rates, read and checked line by line
//! as on SQLite, go through `COPY … FROM STDIN` into a staging table of the
//! import's own, and are merged from there in the import's transaction.
//!
//! The staging table is an ordinary (unlogged) table, filled on a
//! connection of its own ([`Db::postgres_connection`]): `COPY` is not
//! spoken by the `Any` driver of the import's transaction, and a temporary
//! table would be seen by its connection alone. Filling it changes nothing
//! a rate or a reader sees; everything the import does to the tariff (its
//! rates added, changed and removed, the audit entry, the webhook event, the
//! rates version) happens in the one transaction, through
//! [`Db::commit_rating_change`] like every change of rating data. The table
//! is dropped once the import ends, whichever way it ends (see [`Stage`]).

use model::call_rate::{prefix_key, CallRateFields};
use model::deck::{DeckChange, PREVIEW_LINES};
use sqlx::postgres::PgCopyIn;
use sqlx::{PgConnection, Row};

use super::report::{changes, deck_rate};
use super::{Import, RATE_INSERT, UPSERT};
use crate::call_rates::money_units;
use crate::call_rates::spec::{fields_from_row, same_fields, COLUMNS, FROM};
use crate::db::Tx;
use crate::error::Result;

/// Bytes of `COPY` data sent to the server at a time.
const SEND_AT: usize = 256 * 1024;

/// A staged rate's fields, named as [`COLUMNS`] names them.
const STAGED: &str = "prefix, rate_type, free_seconds, grace_period, interval_1, interval_n, \
    connect_fee, postcall_surcharge, price_1, price_n, description";

/// A staging table, dropped when the value goes (an import that fails, is
/// refused, or whose client goes away midway included): [`Stage::remove`]
/// at the end of an import, or in the background on drop.
pub(in crate::call_rates) struct Stage {
    pub name: String,
    pool: sqlx::AnyPool,
    removed: bool,
}

impl Stage {
    fn new(pool: sqlx::AnyPool) -> Stage {
        Stage {
            name: format!("deck_import_{:016x}", rand::random::<u64>()),
            pool,
            removed: false,
        }
    }

    fn drop_sql(&self) -> String {
        format!("DROP TABLE IF EXISTS {}", self.name)
    }

    /// Drops the table (once the import's transaction has ended: it may
    /// hold the table's locks).
    pub async fn remove(mut self) -> Result<()> {
        self.removed = true;
        sqlx::query(&self.drop_sql()).execute(&self.pool).await?;
        Ok(())
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        let (pool, sql) = (self.pool.clone(), self.drop_sql());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = sqlx::query(&sql).execute(&pool).await {
                    tracing::warn!("an import's staging table was not dropped: {e}");
                }
            });
        }
    }
}

/// The `COPY` into a staging table, open while the file is read.
pub(in crate::call_rates) struct Staging<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buffer: Vec<u8>,
    /// Rates sent.
    pub rows: u64,
}

impl<'c> Staging<'c> {
    /// Makes the staging table on `conn` and starts the `COPY` into it.
    pub async fn begin(conn: &'c mut PgConnection, pool: sqlx::AnyPool) -> Result<(Stage, Self)> {
        let stage = Stage::new(pool);
        sqlx::query(&format!(
            "CREATE UNLOGGED TABLE {} (line BIGINT NOT NULL, prefix TEXT NOT NULL, \
             prefix_key TEXT NOT NULL, rate_type TEXT NOT NULL, free_seconds BIGINT NOT NULL, \
             grace_period BIGINT NOT NULL, interval_1 BIGINT NOT NULL, interval_n BIGINT NOT NULL, \
             connect_fee BIGINT NOT NULL, postcall_surcharge BIGINT NOT NULL, \
             price_1 BIGINT NOT NULL, price_n BIGINT NOT NULL, description TEXT NOT NULL, \
             old_id BIGINT, same BOOLEAN)",
            stage.name
        ))
        .execute(&mut *conn)
        .await?;
        let copy = conn
            .copy_in_raw(&format!(
                "COPY {} (line, prefix_key, {STAGED}) FROM STDIN",
                stage.name
            ))
            .await?;
        Ok((
            stage,
            Staging {
                copy,
                buffer: Vec::with_capacity(SEND_AT + 4096),
                rows: 0,
            },
        ))
    }

    /// Stages `rows` (sent once enough are buffered).
    pub async fn send(&mut self, rows: &[(u64, CallRateFields)]) -> Result<()> {
        for (line, r) in rows {
            let b = &mut self.buffer;
            push_number(b, *line as i64);
            push_text(b, prefix_key(&r.prefix));
            push_text(b, &r.prefix);
            push_text(b, &r.rate_type.to_string());
            for n in [r.free_seconds, r.grace_period, r.interval_1, r.interval_n] {
                push_number(b, n);
            }
            for m in [r.connect_fee, r.postcall_surcharge, r.price_1, r.price_n] {
                push_number(b, money_units(m)?);
            }
            push_text(b, &r.description);
            // The row's last field ends with the line, not a tab.
            if let Some(last) = b.last_mut() {
                *last = b'\n';
            }
            self.rows += 1;
        }
        if self.buffer.len() >= SEND_AT {
            self.copy.send(self.buffer.as_slice()).await?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Ends the `COPY`: every rate sent is in the staging table.
    pub async fn finish(mut self) -> Result<u64> {
        if !self.buffer.is_empty() {
            self.copy.send(self.buffer.as_slice()).await?;
        }
        self.copy.finish().await?;
        Ok(self.rows)
    }

    /// Ends the `COPY` with nothing staged (a refused file).
    pub async fn abort(self) -> Result<()> {
        self.copy.abort("the file was refused").await?;
        Ok(())
    }
}

/// A number, then the field separator.
fn push_number(out: &mut Vec<u8>, n: i64) {
    use std::io::Write;
    let _ = write!(out, "{n}\t");
}

/// Text in `COPY`'s text format (backslash escapes), then the separator.
fn push_text(out: &mut Vec<u8>, text: &str) {
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out.push(b'\t');
}

impl Import {
    /// Sorts the staged rates into new, changed and unchanged (against the
    /// tariff's rates as the API shows them, as on SQLite), and unless this
    /// is a dry run writes the new and changed ones; in replace mode counts
    /// (and removes) the tariff's rates whose prefix the file does not name.
    /// All inside `tx`.
    pub(super) async fn merge(
        &mut self,
        tx: &mut Tx,
        stage: &Stage,
        staged: u64,
        rates_before: i64,
    ) -> Result<()> {
        let stage = stage.name.as_str();
        // The rates are written in the file's order (their ids follow it, as
        // on SQLite): room for a deck of a million to be sorted in memory,
        // for this transaction alone.
        sqlx::query("SET LOCAL work_mem = '256MB'")
            .execute(&mut **tx)
            .await?;
        sqlx::query(&format!("ANALYZE {stage}"))
            .execute(&mut **tx)
            .await?;
        let report = &mut self.report;
        report.imported = staged;
        if self.compare {
            sqlx::query(&format!(
                "UPDATE {stage} s SET old_id = r.id, same = ({same}) FROM {FROM} \
                 WHERE r.tariff_id = $1 AND r.activation_at = 0 AND r.prefix_key = s.prefix_key",
                same = same_fields("s"),
            ))
            .bind(self.tariff)
            .execute(&mut **tx)
            .await?;
            let counts = sqlx::query(&format!(
                "SELECT COUNT(*) FILTER (WHERE old_id IS NULL) AS new, \
                 COUNT(*) FILTER (WHERE same) AS unchanged FROM {stage}"
            ))
            .fetch_one(&mut **tx)
            .await?;
            report.new = counts.try_get::<i64, _>("new")? as u64;
            report.unchanged = counts.try_get::<i64, _>("unchanged")? as u64;
            report.changed = staged.saturating_sub(report.new + report.unchanged);
        } else {
            report.new = staged;
        }
        let preview = |condition: &str| {
            format!(
                "SELECT line, old_id, {STAGED} FROM {stage} WHERE {condition} \
                 ORDER BY line LIMIT {PREVIEW_LINES}"
            )
        };
        let line =
            |row: &sqlx::any::AnyRow| -> Result<u64> { Ok(row.try_get::<i64, _>("line")? as u64) };
        for row in sqlx::query(&preview("old_id IS NULL"))
            .fetch_all(&mut **tx)
            .await?
        {
            let rate = fields_from_row(&row)?;
            report.preview.new.push(deck_rate(Some(line(&row)?), &rate));
        }
        if self.compare {
            for row in sqlx::query(&preview("same")).fetch_all(&mut **tx).await? {
                let rate = fields_from_row(&row)?;
                report
                    .preview
                    .unchanged
                    .push(deck_rate(Some(line(&row)?), &rate));
            }
            let before = format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = $1");
            for row in sqlx::query(&preview("NOT same"))
                .fetch_all(&mut **tx)
                .await?
            {
                let rate = fields_from_row(&row)?;
                let old = sqlx::query(&before)
                    .bind(row.try_get::<i64, _>("old_id")?)
                    .fetch_one(&mut **tx)
                    .await?;
                report.preview.changed.push(DeckChange {
                    line: line(&row)?,
                    prefix: rate.prefix.clone(),
                    changes: changes(&fields_from_row(&old)?, &rate),
                });
            }
        }
        if self.options.mode == model::deck::ImportMode::Replace && rates_before > 0 {
            self.remove_unstaged(tx, stage).await?;
        }
        if self.options.dry_run {
            return Ok(());
        }
        sqlx::query(&format!(
            "INSERT INTO call_rates ({columns}) \
             SELECT $1, $2, prefix, prefix_key, rate_type, free_seconds, grace_period, interval_1, \
             interval_n, connect_fee, postcall_surcharge, price_1, price_n, description, $3, $3 \
             FROM {stage} WHERE same IS NOT TRUE ORDER BY line{UPSERT}",
            columns = RATE_INSERT.columns.join(", "),
        ))
        .bind(self.tenant_id)
        .bind(self.tariff)
        .bind(self.now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Replace mode: counts (and unless this is a dry run, removes) the
    /// tariff's rates, of any activation date, whose prefix is not staged.
    async fn remove_unstaged(&mut self, tx: &mut Tx, stage: &str) -> Result<()> {
        let unnamed = format!(
            "r.tariff_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM {stage} s WHERE s.prefix_key = r.prefix_key)"
        );
        let report = &mut self.report;
        for row in sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE {unnamed} ORDER BY r.id LIMIT {PREVIEW_LINES}"
        ))
        .bind(self.tariff)
        .fetch_all(&mut **tx)
        .await?
        {
            report
                .preview
                .removed
                .push(deck_rate(None, &fields_from_row(&row)?));
        }
        report.removed = if self.options.dry_run {
            let count = sqlx::query(&format!(
                "SELECT COUNT(*) AS removed FROM call_rates r WHERE {unnamed}"
            ))
            .bind(self.tariff)
            .fetch_one(&mut **tx)
            .await?;
            count.try_get::<i64, _>("removed")? as u64
        } else {
            sqlx::query(&format!("DELETE FROM call_rates r WHERE {unnamed}"))
                .bind(self.tariff)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        };
        Ok(())
    }
}
