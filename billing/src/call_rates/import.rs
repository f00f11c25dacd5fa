//! CSV imports into the default tariff's rates: all or nothing, every bad
//! line named with its number and field.
//!
//! Each rate of the file is new (its prefix is not in the tariff), changed
//! or unchanged; only new and changed ones are written. In replace mode the
//! tariff's rates whose prefix the file does not name are removed, in the
//! same transaction (a prefix the file names keeps its rates of other
//! activation dates). A dry run reads the file and the tariff the same way,
//! writes nothing and answers what the import would do.
//!
//! Here the import's run and its writes on SQLite; [`lines`] reads the
//! file's lines, [`report`] tells of the rates in the preview, and [`copy`]
//! stages the rates on PostgreSQL through `COPY` and merges them from there.

use std::collections::HashMap;

use futures::{Stream, StreamExt};
use model::call_rate::{prefix_key, CallRateFields};
use model::deck::{DeckChange, DeckReport, ImportMode, PREVIEW_LINES};
use model::ApiId;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

mod copy;
mod lines;
mod report;

use report::{changes, deck_rate};

use super::spec::{fields_from_row, COLUMNS, FROM};
use super::{default_tariff, money_units};
use crate::audit::{self, Action, Change, Entity};
use crate::auth::Scope;
use crate::csv::CsvReader;
use crate::db::{now_ms, Backend, Db, Tx};
use crate::error::{Error, Result};
use crate::resolver::Changed;
use crate::sql::{Binds, Insert, Params};

/// One line of an import that cannot be taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// Lines named in a refused import, at most.
pub const IMPORT_ERRORS_LISTED: usize = 1000;
/// File rows looked up (and written) together during an import.
const IMPORT_BATCH: usize = 500;
/// Tariff rates read at a time when a replacing import looks for those to remove.
const SCAN_PAGE: i64 = 5000;
/// Rates removed per DELETE statement.
const DELETE_BATCH: usize = 500;

/// The outcome of an import, as the v22 API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub imported: u64,
}

/// How an import runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    pub mode: ImportMode,
    /// Reads everything, writes nothing, answers what it would do.
    pub dry_run: bool,
}

/// The columns an import writes; the rest keep their defaults (a new rate)
/// or their values (a changed one).
const RATE_INSERT: Insert = Insert {
    table: "call_rates",
    columns: &[
        "tenant_id",
        "tariff_id",
        "prefix",
        "prefix_key",
        "rate_type",
        "free_seconds",
        "grace_period",
        "interval_1",
        "interval_n",
        "connect_fee",
        "postcall_surcharge",
        "price_1",
        "price_n",
        "description",
        "created_at",
        "updated_at",
    ],
};

const UPSERT: &str = " ON CONFLICT (tariff_id, prefix_key, activation_at) DO UPDATE SET \
    prefix = excluded.prefix, rate_type = excluded.rate_type, free_seconds = excluded.free_seconds, \
    grace_period = excluded.grace_period, interval_1 = excluded.interval_1, \
    interval_n = excluded.interval_n, connect_fee = excluded.connect_fee, \
    postcall_surcharge = excluded.postcall_surcharge, price_1 = excluded.price_1, \
    price_n = excluded.price_n, description = excluded.description, updated_at = excluded.updated_at";

impl Db {
    /// Imports CSV in the export's format into the default tariff, merging
    /// (a rate whose prefix exists is updated, others are added), all or
    /// nothing: the v22 import.
    pub async fn import_call_rates<S, B, E>(&self, scope: &Scope, body: S) -> Result<Imported>
    where
        S: Stream<Item = std::result::Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let report = self
            .import_deck(scope, ImportOptions::default(), body)
            .await?;
        Ok(Imported {
            imported: report.imported,
        })
    }

    /// Imports (or on a dry run, previews the import of) CSV in the export's
    /// format into the default tariff, all or nothing. Bad lines are all
    /// reported (up to [`IMPORT_ERRORS_LISTED`]) and nothing is written.
    pub async fn import_deck<S, B, E>(
        &self,
        scope: &Scope,
        options: ImportOptions,
        mut body: S,
    ) -> Result<DeckReport>
    where
        S: Stream<Item = std::result::Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        scope.require_manager()?;
        // A dry run only reads: on SQLite it does not hold the write lock.
        let mut tx = if options.dry_run {
            self.pool().begin().await?
        } else {
            self.write().await?
        };
        let tariff = default_tariff(&mut *tx, scope.tenant_id).await?;
        let rates_before = count_rates(&mut tx, tariff).await?;
        let mut import = Import {
            backend: self.backend(),
            tenant_id: scope.tenant_id,
            tariff,
            now: now_ms(),
            options,
            // A tariff without rates has nothing to compare with.
            compare: rates_before > 0,
            columns: None,
            seen: HashMap::new(),
            batch: Vec::with_capacity(IMPORT_BATCH),
            errors: Vec::new(),
            more_errors: 0,
            report: DeckReport {
                mode: options.mode,
                dry_run: options.dry_run,
                ..DeckReport::default()
            },
        };
        // On PostgreSQL the file's rates are staged through `COPY`.
        let mut conn = self.postgres_connection().await?;
        let (stage, mut staging) = match conn.as_mut() {
            Some(conn) => {
                let (stage, staging) = copy::Staging::begin(conn, self.pool().clone()).await?;
                (Some(stage), Some(staging))
            }
            None => (None, None),
        };
        let mut reader = CsvReader::new();
        loop {
            let (records, end) = match body.next().await {
                Some(Ok(chunk)) => (reader.push(chunk.as_ref()), false),
                Some(Err(e)) => {
                    return Err(Error::field("file", format!("could not be read: {e}")))
                }
                None => (reader.finish(), true),
            };
            match records {
                Ok(records) => {
                    for record in records {
                        import.take(record);
                        if import.batch.len() >= IMPORT_BATCH {
                            import.flush(&mut tx, staging.as_mut()).await?;
                        }
                    }
                }
                Err(e) => {
                    import.fail(e.line, None, format!("CSV {}", e.message));
                    break;
                }
            }
            if end {
                break;
            }
        }
        import.flush(&mut tx, staging.as_mut()).await?;
        if import.columns.is_none() {
            import.fail(
                1,
                None,
                "the file is empty: the first line must name the columns".into(),
            );
        }
        if !import.errors.is_empty() {
            if let Some(staging) = staging {
                staging.abort().await?;
            }
            tx.rollback().await?;
            if let Some(stage) = stage {
                stage.remove().await?;
            }
            return Err(Error::BadLines {
                lines: import.errors,
                more: import.more_errors,
            });
        }
        match (staging, &stage) {
            (Some(staging), Some(stage)) => {
                let staged = staging.finish().await?;
                import.merge(&mut tx, stage, staged, rates_before).await?;
            }
            _ => {
                if options.mode == ImportMode::Replace && rates_before > 0 {
                    import.remove_unnamed(&mut tx).await?;
                }
            }
        }
        let report = import.report;
        if options.dry_run {
            tx.rollback().await?;
            if let Some(stage) = stage {
                stage.remove().await?;
            }
            return Ok(report);
        }
        // Its entry always names the tariff and the mode: never an empty one.
        let change = Change::new(
            &scope.caller,
            Some(scope.tenant_id),
            Action::Import,
            Entity::CallRate,
            None,
        )
        .with(audit::counts(&[
            ("tariff_id", ApiId::encode(tariff).into()),
            ("mode", options.mode.to_string().into()),
            ("added", report.new.into()),
            ("updated", report.changed.into()),
            ("unchanged", report.unchanged.into()),
            ("removed", report.removed.into()),
        ]));
        let endpoints = crate::webhooks::subscribers(
            &mut tx,
            scope.tenant_id,
            model::webhook::WebhookEvent::DeckImported,
        )
        .await?;
        if !endpoints.is_empty() {
            let event = crate::webhooks::Event::new(
                model::webhook::WebhookEvent::DeckImported,
                scope.tenant_id,
                now_ms(),
                serde_json::json!({
                    "tariff_id": ApiId::encode(tariff),
                    "mode": options.mode.to_string(),
                    "rows": report.imported,
                    "added": report.new,
                    "updated": report.changed,
                    "unchanged": report.unchanged,
                    "removed": report.removed,
                }),
            );
            crate::webhooks::enqueue(&mut tx, self.backend(), &endpoints, &[event]).await?;
        }
        // Answered once this server's table of the new deck is built.
        self.commit_rating_change(tx, change, Changed::Tariff(tariff))
            .await?;
        if let Some(stage) = stage {
            stage.remove().await?;
        }
        crate::metrics::import(
            match options.mode {
                ImportMode::Merge => "merge",
                ImportMode::Replace => "replace",
            },
            report.new + report.changed,
        );
        Ok(report)
    }
}

/// How many rates a tariff has, inside `tx`.
async fn count_rates(tx: &mut Tx, tariff: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS rates FROM call_rates WHERE tariff_id = $1")
            .bind(tariff)
            .fetch_one(&mut **tx)
            .await?
            .try_get("rates")?,
    )
}

/// The state of one import.
struct Import {
    backend: Backend,
    tenant_id: i64,
    tariff: i64,
    now: i64,
    options: ImportOptions,
    /// Whether the tariff's rates are looked up to tell changed from new.
    compare: bool,
    /// For each CSV column, the API field it holds (from the header line).
    columns: Option<Vec<&'static str>>,
    /// Prefix keys seen so far, with their line: a file may not name one twice.
    seen: HashMap<Box<str>, u64>,
    /// Rates read and not yet looked up, with their lines.
    batch: Vec<(u64, CallRateFields)>,
    errors: Vec<LineError>,
    more_errors: u64,
    report: DeckReport,
}

impl Import {
    /// Sorts the pending rates into new, changed and unchanged and writes
    /// the new and changed ones (unless the import already failed or is a
    /// dry run); on PostgreSQL stages them, to be sorted and written
    /// together ([`Import::merge`]).
    async fn flush(&mut self, tx: &mut Tx, staging: Option<&mut copy::Staging<'_>>) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        if !self.errors.is_empty() {
            return Ok(());
        }
        if let Some(staging) = staging {
            return staging.send(&rows).await;
        }
        let mut existing = if self.compare {
            self.look_up(tx, &rows).await?
        } else {
            HashMap::new()
        };
        let mut writes = Vec::with_capacity(rows.len());
        let report = &mut self.report;
        for (line, rate) in rows {
            let before = existing.remove(prefix_key(&rate.prefix));
            match before {
                None => {
                    report.new += 1;
                    if report.preview.new.len() < PREVIEW_LINES {
                        report.preview.new.push(deck_rate(Some(line), &rate));
                    }
                    writes.push(rate);
                }
                Some(old) if old == rate => {
                    report.unchanged += 1;
                    if report.preview.unchanged.len() < PREVIEW_LINES {
                        report.preview.unchanged.push(deck_rate(Some(line), &rate));
                    }
                }
                Some(old) => {
                    report.changed += 1;
                    if report.preview.changed.len() < PREVIEW_LINES {
                        report.preview.changed.push(DeckChange {
                            line,
                            prefix: rate.prefix.clone(),
                            changes: changes(&old, &rate),
                        });
                    }
                    writes.push(rate);
                }
            }
            report.imported += 1;
        }
        if !self.options.dry_run {
            self.write(tx, &writes).await?;
        }
        Ok(())
    }

    /// The tariff's rates (as the API shows them) of the same prefixes as
    /// `rows`, with the activation date an import writes, by prefix key.
    async fn look_up(
        &self,
        tx: &mut Tx,
        rows: &[(u64, CallRateFields)],
    ) -> Result<HashMap<String, CallRateFields>> {
        let keys: Vec<&str> = rows.iter().map(|(_, r)| prefix_key(&r.prefix)).collect();
        // Always as many keys as a full batch (the last repeated): one
        // statement text, prepared once per connection.
        let mut params = Params::new(self.backend);
        let tariff = params.next();
        let list = params.list(IMPORT_BATCH);
        let sql = format!(
            "SELECT {COLUMNS}, r.prefix_key FROM {FROM} \
             WHERE r.tariff_id = {tariff} AND r.activation_at = 0 AND r.prefix_key IN ({list})"
        );
        let mut query = Binds::new(&sql, params.count()).bind(self.tariff);
        let last = keys.last().copied().unwrap_or_default();
        for i in 0..IMPORT_BATCH {
            query = query.bind(keys.get(i).copied().unwrap_or(last).to_string());
        }
        let found = query.query()?.fetch_all(&mut **tx).await?;
        let mut existing = HashMap::with_capacity(found.len());
        for row in &found {
            existing.insert(
                row.try_get::<String, _>("prefix_key")?,
                fields_from_row(row)?,
            );
        }
        Ok(existing)
    }

    /// Adds or changes `rates` in multi-row upserts.
    async fn write(&self, tx: &mut Tx, rates: &[CallRateFields]) -> Result<()> {
        for chunk in RATE_INSERT.chunks(rates) {
            let sql = RATE_INSERT.sql(self.backend, chunk.len(), UPSERT);
            let mut binds = RATE_INSERT.binds(&sql, chunk.len());
            for r in chunk {
                binds = binds
                    .bind(self.tenant_id)
                    .bind(self.tariff)
                    .bind(r.prefix.clone())
                    .bind(prefix_key(&r.prefix).to_string())
                    .bind(r.rate_type.to_string())
                    .bind(r.free_seconds)
                    .bind(r.grace_period)
                    .bind(r.interval_1)
                    .bind(r.interval_n)
                    .bind(money_units(r.connect_fee)?)
                    .bind(money_units(r.postcall_surcharge)?)
                    .bind(money_units(r.price_1)?)
                    .bind(money_units(r.price_n)?)
                    .bind(r.description.clone())
                    .bind(self.now)
                    .bind(self.now);
            }
            binds.query()?.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Replace mode: counts (and unless this is a dry run, removes) the
    /// tariff's rates whose prefix the file does not name.
    async fn remove_unnamed(&mut self, tx: &mut Tx) -> Result<()> {
        let sql = format!(
            "SELECT {COLUMNS}, r.prefix_key FROM {FROM} \
             WHERE r.tariff_id = $1 AND r.id > $2 ORDER BY r.id LIMIT {SCAN_PAGE}"
        );
        let mut doomed = Vec::new();
        let mut after = 0i64;
        loop {
            let rows: Vec<AnyRow> = sqlx::query(&sql)
                .bind(self.tariff)
                .bind(after)
                .fetch_all(&mut **tx)
                .await?;
            for row in &rows {
                after = row.try_get("id")?;
                let key: String = row.try_get("prefix_key")?;
                if self.seen.contains_key(key.as_str()) {
                    continue;
                }
                self.report.removed += 1;
                if self.report.preview.removed.len() < PREVIEW_LINES {
                    let rate = fields_from_row(row)?;
                    self.report.preview.removed.push(deck_rate(None, &rate));
                }
                doomed.push(after);
            }
            if rows.len() < SCAN_PAGE as usize {
                break;
            }
        }
        if self.options.dry_run {
            return Ok(());
        }
        let mut params = Params::new(self.backend);
        let list = params.list(DELETE_BATCH);
        let sql = format!("DELETE FROM call_rates WHERE id IN ({list})");
        for ids in doomed.chunks(DELETE_BATCH) {
            let mut query = Binds::new(&sql, params.count());
            let last = ids.last().copied().unwrap_or_default();
            for i in 0..DELETE_BATCH {
                query = query.bind(ids.get(i).copied().unwrap_or(last));
            }
            query.query()?.execute(&mut **tx).await?;
        }
        Ok(())
    }
}
