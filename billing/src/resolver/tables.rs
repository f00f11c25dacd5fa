//! A tariff's rate table read from the database: built afresh from all its
//! rates, or brought up to date from the rates the change log names.
//!
//! A million rates are read through the backend's own driver
//! ([`Db::rate_rows`]): `Any`'s conversion of each row was most of a build's
//! time.

use std::time::Instant;

use rating::{RateEntry, RateTerms};
use sqlx::Row;

use super::{TariffHead, TariffRates};
use crate::db::Db;
use crate::error::{Error, Result};

/// Versions a table may be behind and still be brought up to date from the
/// change log; the log keeps about as many per tariff.
pub(crate) const MAX_CATCH_UP: i64 = 1000;
/// Changes a table carries beside its index before they are folded in (in
/// the background): each further change rebuilds the small index of them.
pub(crate) const MAX_PENDING_CHANGES: usize = 4096;

/// Rates a tariff may have for its first table to be built while a rating
/// waits (a few milliseconds).
const FEW_RATES: i64 = 5000;

/// The columns of a rate of the tariff `$1` as its table holds it, the
/// tariff's values filling what the rate leaves unset. Every column is a
/// BIGINT on both backends, so each driver reads it as an `i64`. The
/// tariff's values are subqueries that do not depend on the row, which both
/// backends run once per statement: a join looked the tariff up again for
/// every rate.
const RATE_COLUMNS: &str = "r.id, r.prefix, r.activation_at, r.expiration_at, \
     CAST(CASE WHEN r.forbidden THEN 1 ELSE 0 END AS BIGINT), \
     COALESCE(r.connect_fee, (SELECT t.connect_fee FROM tariffs t WHERE t.id = $1)), \
     r.price_1, r.price_n, r.interval_1, r.interval_n, \
     COALESCE(r.free_seconds, (SELECT t.free_seconds FROM tariffs t WHERE t.id = $1)), \
     COALESCE(r.grace_period, CASE WHEN r.grace_period_enable \
       THEN (SELECT t.grace_period FROM tariffs t WHERE t.id = $1) ELSE 0 END), \
     COALESCE(r.postcall_surcharge, (SELECT t.post_call_surcharge FROM tariffs t WHERE t.id = $1))";

/// A rate's row, in the order of [`RATE_COLUMNS`].
pub(crate) type RateRow = (
    i64,
    String,
    i64,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

fn u32_of(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// The amount of `units` of 1/100000, as [`model::Money::from_units`] gives it
/// (trailing zeros dropped), with integer steps instead of its decimal
/// division: four of them a rate, a million rates a build.
fn money(units: i64) -> rust_decimal::Decimal {
    let (mut mantissa, mut scale) = (units, 5u32);
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    rust_decimal::Decimal::new(mantissa, scale)
}

fn entry(row: RateRow) -> RateEntry {
    let (id, prefix, activation_at, expiration_at, forbidden, connect_fee, price_1, price_n) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7);
    let (interval_1, interval_n, free_seconds, grace_period, postcall_surcharge) =
        (row.8, row.9, row.10, row.11, row.12);
    RateEntry {
        id,
        prefix,
        activation: activation_at / 1000,
        expiration: expiration_at.map(|ms| ms / 1000),
        forbidden: forbidden != 0,
        terms: RateTerms {
            connect_fee: money(connect_fee),
            price_1: money(price_1),
            price_n: money(price_n),
            interval_1: u32_of(interval_1),
            interval_n: u32_of(interval_n),
            free_seconds: u32_of(free_seconds),
            grace_period: u32_of(grace_period),
            postcall_surcharge: money(postcall_surcharge),
        },
    }
}

impl Db {
    /// The tariff's row as rating needs it; `None` once it is deleted.
    pub(crate) async fn tariff_head(&self, tariff_id: i64) -> Result<Option<TariffHead>> {
        let row =
            sqlx::query("SELECT id, name, rates_version, currency FROM tariffs WHERE id = $1")
                .bind(tariff_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| {
            Ok(TariffHead {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                version: r.try_get("rates_version")?,
                currency: r.try_get("currency")?,
            })
        })
        .transpose()
    }

    /// Whether the tariff has at most [`FEW_RATES`] rates (counting no
    /// further).
    pub(crate) async fn has_few_rates(&self, tariff_id: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM \
             (SELECT 1 AS one FROM call_rates WHERE tariff_id = $1 LIMIT $2) few",
        )
        .bind(tariff_id)
        .bind(FEW_RATES + 1)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>("n")? <= FEW_RATES)
    }

    /// Builds the tariff's table from all its rates. Rates for incoming calls
    /// only are left out: only outgoing calls are charged.
    pub(crate) async fn read_table(&self, head: &TariffHead) -> Result<TariffRates> {
        let _turn = self.rate_cache().build_turn().await;
        let started = Instant::now();
        // The ids in two halves, read at once on two connections: each
        // backend's own work of a row (SQLite's copy of each value, on the
        // driver's thread; PostgreSQL's scan) then runs on two cores.
        let range = sqlx::query(
            "SELECT COALESCE(MIN(id), 0) AS low, COALESCE(MAX(id), 0) AS high \
             FROM call_rates WHERE tariff_id = $1",
        )
        .bind(head.id)
        .fetch_one(self.pool())
        .await?;
        let (low, high): (i64, i64) = (range.try_get("low")?, range.try_get("high")?);
        let middle = (low >> 1) + (high >> 1);
        let sql = format!(
            "SELECT {RATE_COLUMNS} FROM call_rates r \
             WHERE r.tariff_id = $1 AND r.direction <> 'INCOMING' AND r.id > $2 AND r.id <= $3 \
             ORDER BY r.id"
        );
        let read = |from: i64, to: i64| {
            let sql = sql.as_str();
            async move { self.rate_rows(sql, &[head.id, from, to], entry).await }
        };
        let below = low.saturating_sub(1);
        let mut entries = if self.parallel_reads() {
            let (mut first, second) = futures::try_join!(read(below, middle), read(middle, high))?;
            first.extend(second);
            first
        } else {
            read(below, high).await?
        };
        entries.shrink_to_fit();
        let table = tokio::task::spawn_blocking(move || rating::RateTable::new(entries))
            .await
            .map_err(Error::internal)?;
        crate::metrics::rate_table_built(started.elapsed());
        Ok(TariffRates {
            tariff_id: head.id,
            name: head.name.clone(),
            version: head.version,
            currency: head.currency.clone(),
            table,
        })
    }

    /// `cached` brought up to `head`'s version from the change log: the rates
    /// changed since are read again (those gone, or now for incoming calls
    /// only, are removed) and applied to the table as changes. `None` when
    /// the log does not name every version since (a change of many rates at
    /// once came between, or it is too far behind): the table must be built
    /// afresh.
    pub(crate) async fn catch_up(
        &self,
        cached: &TariffRates,
        head: &TariffHead,
    ) -> Result<Option<TariffRates>> {
        let behind = head.version - cached.version;
        if behind <= 0 {
            return Ok(None);
        }
        if behind > MAX_CATCH_UP {
            return Ok(None);
        }
        let logged = sqlx::query(
            "SELECT version, rate_id FROM rate_changes \
             WHERE tariff_id = $1 AND version > $2 AND version <= $3",
        )
        .bind(head.id)
        .bind(cached.version)
        .bind(head.version)
        .fetch_all(self.pool())
        .await?;
        if i64::try_from(logged.len()).unwrap_or(i64::MAX) != behind {
            return Ok(None);
        }
        let mut changed = Vec::with_capacity(logged.len());
        for row in &logged {
            if let Some(id) = row.try_get::<Option<i64>, _>("rate_id")? {
                changed.push(id);
            }
        }
        let mut upserts = Vec::new();
        if !changed.is_empty() {
            let sql = format!(
                "SELECT {RATE_COLUMNS} FROM call_rates r \
                 WHERE r.tariff_id = $1 AND r.direction <> 'INCOMING' AND r.id IN \
                 (SELECT c.rate_id FROM rate_changes c \
                  WHERE c.tariff_id = $1 AND c.version > $2 AND c.version <= $3) \
                 ORDER BY r.id"
            );
            upserts = self
                .rate_rows(&sql, &[head.id, cached.version, head.version], entry)
                .await?;
        }
        // Rates named and not read again are gone from the table.
        let read: std::collections::HashSet<i64> = upserts.iter().map(|e| e.id).collect();
        let removed: Vec<i64> = changed
            .into_iter()
            .filter(|id| !read.contains(id))
            .collect();
        let table = cached.table.with_changes(upserts, &removed);
        Ok(Some(TariffRates {
            tariff_id: head.id,
            name: head.name.clone(),
            version: head.version,
            currency: head.currency.clone(),
            table,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::money;
    use model::Money;

    #[test]
    fn amounts_are_those_money_gives() {
        for units in [
            0,
            1,
            -1,
            10,
            -10,
            100_000,
            -100_000,
            123_450,
            1_000_000_000,
            987_654_321_000,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
            -9_223_372_036_854_775_800,
        ] {
            let expected = Money::from_units(units).decimal();
            let got = money(units);
            assert_eq!(got, expected, "{units}");
            // The same representation: interned terms are keyed on it.
            assert_eq!(got.serialize(), expected.serialize(), "{units}");
        }
    }
}
