//! Quotes: what a call to a number would cost the caller's tenant, from a
//! rate table kept in memory and rebuilt when the tenant's rates change.
//!
//! Every change to a tenant's rates bumps `tenants.rates_version` in the same
//! transaction, so a table built before is noticed as stale on the next
//! quote, also when another server process made the change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use model::{ApiId, Money};
use rating::{Breakdown, Quote, RateEntry, RateTable, RateTerms, Rounding};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::Scope;
use crate::db::Db;
use crate::error::{Error, Result};

/// A tenant's rate table as of one version of its rates.
pub struct TenantRates {
    pub version: i64,
    pub currency: String,
    pub table: RateTable,
}

/// Rate tables by tenant.
#[derive(Default)]
pub struct RateCache {
    tables: RwLock<HashMap<i64, Arc<TenantRates>>>,
}

impl std::fmt::Debug for RateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateCache").finish_non_exhaustive()
    }
}

/// The price of a call, with how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteAnswer {
    pub rate: QuotedRate,
    pub currency: String,
    pub duration: u64,
    pub amount: Money,
    pub breakdown: QuoteBreakdown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedRate {
    pub id: String,
    pub prefix: String,
}

/// RATING.md's parts of the amount. Parts are exact (not rounded); only the
/// amount is rounded to five places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteBreakdown {
    pub billable_seconds: u64,
    pub within_grace: bool,
    pub connect_fee: String,
    pub first_interval: String,
    pub blocks: u64,
    pub blocks_cost: String,
    pub surcharge: String,
    pub unrounded: String,
    pub rounding: String,
}

fn breakdown(b: &Breakdown) -> QuoteBreakdown {
    QuoteBreakdown {
        billable_seconds: b.billable_seconds,
        within_grace: b.within_grace,
        connect_fee: b.connect_fee.normalize().to_string(),
        first_interval: b.first_interval.normalize().to_string(),
        blocks: b.blocks,
        blocks_cost: b.blocks_cost.normalize().to_string(),
        surcharge: b.surcharge.normalize().to_string(),
        unrounded: b.unrounded.normalize().to_string(),
        rounding: match b.rounding {
            Rounding::HalfAwayFromZero => "HALF_AWAY_FROM_ZERO",
            Rounding::Up => "UP",
        }
        .to_string(),
    }
}

/// A number to rate: 1 to 256 characters.
pub fn validate_callee(callee: &str) -> Result<(), &'static str> {
    let callee = callee.trim();
    if callee.is_empty() || callee.chars().count() > 256 {
        Err("must be 1 to 256 characters")
    } else {
        Ok(())
    }
}

fn u32_of(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

impl Db {
    /// The tenant's rate table, rebuilt from the database when its rates
    /// changed since it was built.
    pub async fn tenant_rates(&self, tenant_id: i64) -> Result<Arc<TenantRates>> {
        let row = sqlx::query("SELECT rates_version, currency FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let version: i64 = row.try_get(0)?;
        let cached = self
            .rate_cache()
            .tables
            .read()
            .map_err(Error::internal)?
            .get(&tenant_id)
            .cloned();
        if let Some(rates) = cached.filter(|r| r.version == version) {
            return Ok(rates);
        }
        let currency: String = row.try_get(1)?;
        let rows = sqlx::query(
            "SELECT r.id, r.prefix, r.activation_at, r.expiration_at, \
             CASE WHEN r.forbidden THEN 1 ELSE 0 END, \
             COALESCE(r.connect_fee, t.connect_fee), r.price_1, r.price_n, r.interval_1, r.interval_n, \
             COALESCE(r.free_seconds, t.free_seconds), \
             COALESCE(r.grace_period, CASE WHEN r.grace_period_enable THEN t.grace_period ELSE 0 END), \
             COALESCE(r.postcall_surcharge, t.post_call_surcharge) \
             FROM call_rates r JOIN tariffs t ON t.id = r.tariff_id \
             WHERE r.tenant_id = $1 AND t.is_default = TRUE",
        )
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(RateEntry {
                    id: r.try_get(0)?,
                    prefix: r.try_get(1)?,
                    activation: r.try_get::<i64, _>(2)? / 1000,
                    expiration: r.try_get::<Option<i64>, _>(3)?.map(|ms| ms / 1000),
                    forbidden: r.try_get::<i64, _>(4)? != 0,
                    terms: RateTerms {
                        connect_fee: Money::from_units(r.try_get(5)?).decimal(),
                        price_1: Money::from_units(r.try_get(6)?).decimal(),
                        price_n: Money::from_units(r.try_get(7)?).decimal(),
                        interval_1: u32_of(r.try_get(8)?),
                        interval_n: u32_of(r.try_get(9)?),
                        free_seconds: u32_of(r.try_get(10)?),
                        grace_period: u32_of(r.try_get(11)?),
                        postcall_surcharge: Money::from_units(r.try_get(12)?).decimal(),
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let table = tokio::task::spawn_blocking(move || RateTable::new(entries))
            .await
            .map_err(Error::internal)?;
        let rates = Arc::new(TenantRates {
            version,
            currency,
            table,
        });
        let mut tables = self.rate_cache().tables.write().map_err(Error::internal)?;
        // Keep the newest table if another request rebuilt it meanwhile.
        let keep = match tables.get(&tenant_id) {
            Some(existing) if existing.version > version => existing.clone(),
            _ => {
                tables.insert(tenant_id, rates.clone());
                rates
            }
        };
        Ok(keep)
    }

    /// What a call of `duration` seconds to `callee`, started at `at` (unix
    /// seconds, default now), costs the tenant.
    pub async fn quote(
        &self,
        scope: &Scope,
        callee: &str,
        duration: u64,
        at: Option<i64>,
    ) -> Result<QuoteAnswer> {
        let callee = callee.trim();
        validate_callee(callee).map_err(|m| Error::field("callee", m))?;
        let at = at.unwrap_or_else(|| crate::db::now_ms() / 1000);
        let rates = self.tenant_rates(scope.tenant_id).await?;
        match rates
            .table
            .quote(callee, at, duration, Rounding::HalfAwayFromZero)
        {
            Quote::Rated { rate, breakdown: b } => Ok(QuoteAnswer {
                rate: QuotedRate {
                    id: ApiId::encode(rate.id),
                    prefix: rate.prefix.clone(),
                },
                currency: rates.currency.clone(),
                duration,
                amount: Money(b.amount),
                breakdown: breakdown(&b),
            }),
            Quote::Forbidden { rate } => Err(Error::Refused {
                code: "FORBIDDEN_DESTINATION",
                message: format!(
                    "calls to {callee} are forbidden by the rate for prefix {}",
                    rate.prefix
                ),
            }),
            Quote::NoRate => Err(Error::Refused {
                code: "NO_RATE",
                message: format!("no rate in force matches {callee}"),
            }),
        }
    }
}
