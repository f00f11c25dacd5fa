//! The one resolver every rating goes through (CDR ingestion, re-rating,
//! online charging and quotes): a call is rated by the tariff of the billing
//! plan whose prefix is the longest match of the callee, else by the tenant's
//! default tariff.
//!
//! Rate tables are kept in memory per tariff. Every change to a tenant's
//! tariffs, rates or billing plans bumps `tenants.rates_version` (and a change
//! to a tariff's rates its `tariffs.rates_version`) in the same transaction
//! ([`bump_rates_version`]), so data built before is noticed as stale on the
//! next rating, also when another server process made the change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use model::Money;
use rating::{RateEntry, RateTable, RateTerms, Rounding};
use sqlx::Row;

use crate::audit::{self, Change};
use crate::db::{Db, Tx};
use crate::error::{Error, Result};

/// A tariff's rate table as of one version of its rates.
pub struct TariffRates {
    pub tariff_id: i64,
    pub name: String,
    pub version: i64,
    pub currency: String,
    pub table: RateTable,
}

/// A billing plan as rating uses it.
pub struct PlanRoute {
    /// The plan's prefix without a leading `+`.
    pub prefix_key: String,
    pub rounding: Rounding,
    pub tariff: Arc<TariffRates>,
}

/// What rates a tenant's calls, as of one version of its rating data: the
/// billing plans (longest prefix first) and the default tariff.
pub struct TenantRating {
    pub version: i64,
    /// The billed account's currency.
    pub currency: String,
    pub default: Arc<TariffRates>,
    pub plans: Vec<PlanRoute>,
}

/// The tariff and rounding a call is rated with.
pub struct Resolved<'a> {
    pub tariff: &'a TariffRates,
    pub rounding: Rounding,
}

impl TenantRating {
    /// The tariff of the billing plan whose prefix is the longest match of
    /// `callee`, else the default tariff (with the usual rounding).
    pub fn resolve(&self, callee: &str) -> Resolved<'_> {
        let number = callee.trim();
        let number = number.strip_prefix('+').unwrap_or(number);
        // Plans are sorted longest prefix first: the first match is the longest.
        match self
            .plans
            .iter()
            .find(|p| number.starts_with(p.prefix_key.as_str()))
        {
            Some(plan) => Resolved {
                tariff: &plan.tariff,
                rounding: plan.rounding,
            },
            None => Resolved {
                tariff: &self.default,
                rounding: Rounding::HalfAwayFromZero,
            },
        }
    }

    /// Like [`TenantRating::resolve`], refusing a tariff whose currency is not
    /// the billed account's (there are no exchange rates).
    pub fn resolve_charged(&self, callee: &str) -> std::result::Result<Resolved<'_>, String> {
        let resolved = self.resolve(callee);
        if resolved.tariff.currency != self.currency {
            return Err(format!(
                "the tariff '{}' is in {} but the billed account is in {}",
                resolved.tariff.name, resolved.tariff.currency, self.currency
            ));
        }
        Ok(resolved)
    }
}

/// Rate tables by tariff, and each tenant's rating data.
#[derive(Default)]
pub struct RateCache {
    tenants: RwLock<HashMap<i64, Arc<TenantRating>>>,
    tariffs: RwLock<HashMap<i64, Arc<TariffRates>>>,
    /// Held while a rating is rebuilt, so that requests arriving meanwhile
    /// wait for that one instead of each rebuilding the same tables.
    rebuilding: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for RateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateCache").finish_non_exhaustive()
    }
}

fn u32_of(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// A tariff's row as rating needs it.
struct TariffHead {
    id: i64,
    name: String,
    version: i64,
    currency: String,
}

impl Db {
    /// What rates the tenant's calls: rebuilt from the database when any of
    /// its tariffs, rates or billing plans changed since it was built (only
    /// the tables of the tariffs whose rates changed are rebuilt).
    pub async fn tenant_rating(&self, tenant_id: i64) -> Result<Arc<TenantRating>> {
        let row = sqlx::query("SELECT rates_version, currency FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        self.tenant_rating_at(
            tenant_id,
            row.try_get("rates_version")?,
            row.try_get("currency")?,
        )
        .await
    }

    /// The tenant's rating in memory, when it is at least `version`.
    pub(crate) fn cached_rating(
        &self,
        tenant_id: i64,
        version: i64,
    ) -> Result<Option<Arc<TenantRating>>> {
        Ok(self
            .rate_cache()
            .tenants
            .read()
            .map_err(Error::internal)?
            .get(&tenant_id)
            .filter(|r| r.version >= version)
            .cloned())
    }

    /// What rates the tenant's calls when its `rates_version` and currency
    /// were read as `version` and `currency`: the cached rating when it is
    /// that version, else rebuilt.
    pub(crate) async fn tenant_rating_at(
        &self,
        tenant_id: i64,
        version: i64,
        currency: String,
    ) -> Result<Arc<TenantRating>> {
        if let Some(rating) = self.cached_rating(tenant_id, version)? {
            return Ok(rating);
        }
        let _one_at_a_time = self.rate_cache().rebuilding.lock().await;
        if let Some(rating) = self.cached_rating(tenant_id, version)? {
            return Ok(rating);
        }
        let heads = sqlx::query(
            "SELECT id, name, rates_version, currency, \
             CASE WHEN is_default THEN 1 ELSE 0 END AS is_default \
             FROM tariffs WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        let mut default = None;
        let mut by_id = HashMap::new();
        for r in &heads {
            let head = TariffHead {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                version: r.try_get("rates_version")?,
                currency: r.try_get("currency")?,
            };
            if r.try_get::<i64, _>("is_default")? != 0 {
                default = Some(head.id);
            }
            by_id.insert(head.id, head);
        }
        let default = default.ok_or(Error::NotFound("tenant"))?;
        let plan_rows = sqlx::query(
            "SELECT prefix_key, tariff_id, CASE WHEN round_up THEN 1 ELSE 0 END AS round_up \
             FROM billing_plans WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await?;
        let mut tables: HashMap<i64, Arc<TariffRates>> = HashMap::new();
        let mut plans = Vec::with_capacity(plan_rows.len());
        for r in &plan_rows {
            let tariff_id: i64 = r.try_get("tariff_id")?;
            let tariff = match tables.get(&tariff_id) {
                Some(t) => t.clone(),
                None => {
                    let head = by_id.get(&tariff_id).ok_or(Error::NotFound("tariff"))?;
                    let t = self.tariff_rates(head).await?;
                    tables.insert(tariff_id, t.clone());
                    t
                }
            };
            plans.push(PlanRoute {
                prefix_key: r.try_get("prefix_key")?,
                rounding: if r.try_get::<i64, _>("round_up")? != 0 {
                    Rounding::Up
                } else {
                    Rounding::HalfAwayFromZero
                },
                tariff,
            });
        }
        plans.sort_by_key(|p| std::cmp::Reverse(p.prefix_key.len()));
        let default = match tables.get(&default) {
            Some(t) => t.clone(),
            None => {
                let head = by_id.get(&default).ok_or(Error::NotFound("tariff"))?;
                self.tariff_rates(head).await?
            }
        };
        let rating = Arc::new(TenantRating {
            version,
            currency,
            default,
            plans,
        });
        let mut tenants = self.rate_cache().tenants.write().map_err(Error::internal)?;
        // Keep the newest if another request rebuilt it meanwhile.
        let keep = match tenants.get(&tenant_id) {
            Some(existing) if existing.version > version => existing.clone(),
            _ => {
                tenants.insert(tenant_id, rating.clone());
                rating
            }
        };
        Ok(keep)
    }

    /// A tariff's rate table, from the cache when its rates have not changed.
    /// Rates for incoming calls only are left out: only outgoing calls are charged.
    async fn tariff_rates(&self, head: &TariffHead) -> Result<Arc<TariffRates>> {
        let cached = self
            .rate_cache()
            .tariffs
            .read()
            .map_err(Error::internal)?
            .get(&head.id)
            .cloned();
        if let Some(rates) = cached.filter(|r| r.version == head.version) {
            if rates.currency == head.currency && rates.name == head.name {
                return Ok(rates);
            }
        }
        let started = std::time::Instant::now();
        let rows = sqlx::query(
            "SELECT r.id AS id, r.prefix AS prefix, r.activation_at AS activation_at, \
             r.expiration_at AS expiration_at, CASE WHEN r.forbidden THEN 1 ELSE 0 END AS forbidden, \
             COALESCE(r.connect_fee, t.connect_fee) AS connect_fee, r.price_1 AS price_1, \
             r.price_n AS price_n, r.interval_1 AS interval_1, r.interval_n AS interval_n, \
             COALESCE(r.free_seconds, t.free_seconds) AS free_seconds, \
             COALESCE(r.grace_period, CASE WHEN r.grace_period_enable THEN t.grace_period ELSE 0 END) \
             AS grace_period, \
             COALESCE(r.postcall_surcharge, t.post_call_surcharge) AS postcall_surcharge \
             FROM call_rates r JOIN tariffs t ON t.id = r.tariff_id \
             WHERE r.tariff_id = $1 AND r.direction <> 'INCOMING'",
        )
        .bind(head.id)
        .fetch_all(self.pool())
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(RateEntry {
                    id: r.try_get("id")?,
                    prefix: r.try_get("prefix")?,
                    activation: r.try_get::<i64, _>("activation_at")? / 1000,
                    expiration: r
                        .try_get::<Option<i64>, _>("expiration_at")?
                        .map(|ms| ms / 1000),
                    forbidden: r.try_get::<i64, _>("forbidden")? != 0,
                    terms: RateTerms {
                        connect_fee: Money::from_units(r.try_get("connect_fee")?).decimal(),
                        price_1: Money::from_units(r.try_get("price_1")?).decimal(),
                        price_n: Money::from_units(r.try_get("price_n")?).decimal(),
                        interval_1: u32_of(r.try_get("interval_1")?),
                        interval_n: u32_of(r.try_get("interval_n")?),
                        free_seconds: u32_of(r.try_get("free_seconds")?),
                        grace_period: u32_of(r.try_get("grace_period")?),
                        postcall_surcharge: Money::from_units(r.try_get("postcall_surcharge")?)
                            .decimal(),
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let table = tokio::task::spawn_blocking(move || RateTable::new(entries))
            .await
            .map_err(Error::internal)?;
        crate::metrics::rate_table_built(started.elapsed());
        let rates = Arc::new(TariffRates {
            tariff_id: head.id,
            name: head.name.clone(),
            version: head.version,
            currency: head.currency.clone(),
            table,
        });
        let mut tariffs = self.rate_cache().tariffs.write().map_err(Error::internal)?;
        let keep = match tariffs.get(&head.id) {
            Some(existing) if existing.version > head.version => existing.clone(),
            _ => {
                tariffs.insert(head.id, rates.clone());
                rates
            }
        };
        Ok(keep)
    }
}

/// Ends a write to a tenant's rating data (a tariff, its rates, a billing
/// plan) the one way for all of them: the audit entry of `change` (none for
/// an update that changed no field), a new rates version for `tariff_id`
/// ([`bump_rates_version`]), and the commit.
pub(crate) async fn commit_rating_change(
    mut tx: Tx,
    change: Change<'_>,
    tariff_id: Option<i64>,
) -> Result<()> {
    let tenant_id = change
        .tenant_id
        .ok_or_else(|| Error::internal("a change of rating data names its tenant"))?;
    audit::append_if_changed(&mut tx, change).await?;
    bump_rates_version(&mut tx, tenant_id, tariff_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the tenant's rating data as changed (and the tariff's rates, when
/// one is named), so rate tables built before are rebuilt.
pub(crate) async fn bump_rates_version(
    tx: &mut Tx,
    tenant_id: i64,
    tariff_id: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE tenants SET rates_version = rates_version + 1 WHERE id = $1")
        .bind(tenant_id)
        .execute(&mut **tx)
        .await?;
    if let Some(tariff_id) = tariff_id {
        sqlx::query("UPDATE tariffs SET rates_version = rates_version + 1 WHERE id = $1")
            .bind(tariff_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
