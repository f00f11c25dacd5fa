//! CSV imports into the default tariff's rates: all or nothing, every bad
//! line named with its number and field.

use std::collections::HashMap;

use futures::{Stream, StreamExt};
use model::call_rate::{prefix_key, CallRateFields, CSV_COLUMNS};
use model::query::SqlValue;
use model::{ApiId, FieldError};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{default_tariff, money_units};
use crate::audit::{self, Action, Change, Entity};
use crate::auth::Scope;
use crate::csv::{self, CsvReader};
use crate::db::{now_ms, Db, Tx};
use crate::error::{Error, Result};
use crate::listing::bind_all;
use crate::resolver::bump_rates_version;

/// One line of an import that cannot be taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// Lines named in a refused import, at most.
pub const IMPORT_ERRORS_LISTED: usize = 1000;
/// Rows written per INSERT statement during an import (8,000 parameters).
const IMPORT_BATCH: usize = 500;

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    pub imported: u64,
}

impl Db {
    /// Imports CSV in the export's format into the default tariff, all or
    /// nothing: a rate whose prefix exists is updated, others are added. Bad
    /// lines are all reported (up to [`IMPORT_ERRORS_LISTED`]) and nothing is
    /// written.
    pub async fn import_call_rates<S, B, E>(&self, scope: &Scope, mut body: S) -> Result<Imported>
    where
        S: Stream<Item = std::result::Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        scope.require_manager()?;
        let mut tx = self.write().await?;
        let tariff = default_tariff(&mut *tx, scope.tenant_id).await?;
        let rates_before = count_rates(&mut tx, tariff).await?;
        let mut import = Import {
            tenant_id: scope.tenant_id,
            tariff,
            now: now_ms(),
            columns: None,
            seen: HashMap::new(),
            batch: Vec::with_capacity(IMPORT_BATCH),
            backend: self.backend(),
            errors: Vec::new(),
            more_errors: 0,
            imported: 0,
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
                            import.flush(&mut tx).await?;
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
        import.flush(&mut tx).await?;
        if import.columns.is_none() {
            import.fail(
                1,
                None,
                "the file is empty: the first line must name the columns".into(),
            );
        }
        if !import.errors.is_empty() {
            tx.rollback().await?;
            return Err(Error::BadLines {
                lines: import.errors,
                more: import.more_errors,
            });
        }
        let added = count_rates(&mut tx, tariff).await? - rates_before;
        let updated = i64::try_from(import.imported).unwrap_or(i64::MAX) - added;
        audit::append(
            &mut tx,
            Change::new(
                &scope.caller,
                Some(scope.tenant_id),
                Action::Import,
                Entity::CallRate,
                None,
            )
            .with(audit::counts(&[
                ("tariff_id", ApiId::encode(tariff).into()),
                ("added", added.into()),
                ("updated", updated.into()),
            ])),
        )
        .await?;
        bump_rates_version(&mut tx, scope.tenant_id, Some(tariff)).await?;
        tx.commit().await?;
        Ok(Imported {
            imported: import.imported,
        })
    }
}

/// How many rates a tariff has, inside `tx`.
async fn count_rates(tx: &mut Tx, tariff: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM call_rates WHERE tariff_id = $1")
            .bind(tariff)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?,
    )
}

/// The state of one import.
struct Import {
    backend: crate::db::Backend,
    tenant_id: i64,
    tariff: i64,
    now: i64,
    /// For each CSV column, the API field it holds (from the header line).
    columns: Option<Vec<&'static str>>,
    /// Prefix keys seen so far, with their line: a file may not name one twice.
    seen: HashMap<Box<str>, u64>,
    batch: Vec<CallRateFields>,
    errors: Vec<LineError>,
    more_errors: u64,
    imported: u64,
}

impl Import {
    fn fail(&mut self, line: u64, field: Option<String>, message: String) {
        if self.errors.len() < IMPORT_ERRORS_LISTED {
            self.errors.push(LineError {
                line,
                field,
                message,
            });
        } else {
            self.more_errors += 1;
        }
    }

    fn take(&mut self, record: csv::Record) {
        let Some(columns) = &self.columns else {
            self.read_header(record);
            return;
        };
        if record.fields.len() != columns.len() {
            let message = format!(
                "has {} fields where the header names {}",
                record.fields.len(),
                columns.len()
            );
            self.fail(record.line, None, message);
            return;
        }
        let mut body = serde_json::Map::new();
        for (name, value) in columns.iter().zip(record.fields) {
            let value = csv::untext(value);
            if *name != "id" && !value.is_empty() {
                body.insert((*name).to_string(), serde_json::Value::String(value));
            }
        }
        // A repeated prefix is named even on a line with other faults.
        let mut repeated = false;
        if let Some(serde_json::Value::String(prefix)) = body.get("prefix") {
            let key: Box<str> = prefix_key(prefix).into();
            match self.seen.get(&key) {
                Some(first) => {
                    let message = format!("repeats the prefix of line {first}");
                    self.fail(record.line, Some("prefix".into()), message);
                    repeated = true;
                }
                None => {
                    self.seen.insert(key, record.line);
                }
            }
        }
        match CallRateFields::from_json(&body) {
            Ok(rate) if !repeated && self.errors.is_empty() => self.batch.push(rate),
            Ok(_) => {}
            Err(errors) => {
                for FieldError { field, message } in errors {
                    self.fail(record.line, Some(field), message);
                }
            }
        }
    }

    fn read_header(&mut self, record: csv::Record) {
        let mut columns = Vec::new();
        for name in &record.fields {
            let name = name.trim();
            match CSV_COLUMNS.iter().find(|c| **c == name) {
                Some(c) if columns.contains(c) => self.fail(
                    record.line,
                    Some(name.to_string()),
                    "is named twice in the header".into(),
                ),
                Some(c) => columns.push(*c),
                None => self.fail(
                    record.line,
                    Some(name.to_string()),
                    format!("is not a column; columns are {}", CSV_COLUMNS.join(", ")),
                ),
            }
        }
        for required in model::call_rate::REQUIRED {
            if !columns.contains(required) {
                self.fail(
                    record.line,
                    Some((*required).to_string()),
                    "column is missing from the header".into(),
                );
            }
        }
        self.columns = Some(columns);
    }

    /// Writes the pending rows in one statement (unless the import already failed).
    async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        if !self.errors.is_empty() {
            return Ok(());
        }
        const PER_ROW: usize = 16;
        let mut sql = String::from(
            "INSERT INTO call_rates (tenant_id, tariff_id, prefix, prefix_key, rate_type, free_seconds, \
             grace_period, interval_1, interval_n, connect_fee, postcall_surcharge, price_1, price_n, \
             description, created_at, updated_at) VALUES ",
        );
        sql.push_str(&crate::sql::placeholders(self.backend, rows.len(), PER_ROW));
        let mut binds = Vec::with_capacity(rows.len() * PER_ROW);
        for r in &rows {
            binds.extend([
                SqlValue::Int(self.tenant_id),
                SqlValue::Int(self.tariff),
                SqlValue::Text(r.prefix.clone()),
                SqlValue::Text(prefix_key(&r.prefix).to_string()),
                SqlValue::Text(r.rate_type.to_string()),
                SqlValue::Int(r.free_seconds),
                SqlValue::Int(r.grace_period),
                SqlValue::Int(r.interval_1),
                SqlValue::Int(r.interval_n),
                SqlValue::Int(money_units(r.connect_fee)?),
                SqlValue::Int(money_units(r.postcall_surcharge)?),
                SqlValue::Int(money_units(r.price_1)?),
                SqlValue::Int(money_units(r.price_n)?),
                SqlValue::Text(r.description.clone()),
                SqlValue::Int(self.now),
                SqlValue::Int(self.now),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (tariff_id, prefix_key, activation_at) DO UPDATE SET \
             prefix = excluded.prefix, rate_type = excluded.rate_type, free_seconds = excluded.free_seconds, \
             grace_period = excluded.grace_period, interval_1 = excluded.interval_1, \
             interval_n = excluded.interval_n, connect_fee = excluded.connect_fee, \
             postcall_surcharge = excluded.postcall_surcharge, price_1 = excluded.price_1, \
             price_n = excluded.price_n, description = excluded.description, updated_at = excluded.updated_at",
        );
        bind_all(sqlx::query(&sql), &binds)
            .execute(&mut **tx)
            .await?;
        self.imported += rows.len() as u64;
        Ok(())
    }
}
