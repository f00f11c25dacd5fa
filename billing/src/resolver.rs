//! The one resolver every rating goes through (CDR ingestion, re-rating,
//! online charging and quotes): a call is rated by the tariff of the billing
//! plan whose prefix is the longest match of the callee, else by the tenant's
//! default tariff.
//!
//! Rate tables are kept in memory per tariff. Every change to a tenant's
//! tariffs, rates or billing plans bumps `tenants.rates_version` (and a change
//! to a tariff's rates its `tariffs.rates_version`) in the same transaction
//! ([`Db::commit_rating_change`]), so data built before is noticed as stale on
//! the next rating, also when another server process made the change.
//!
//! No rating waits for a table to be rebuilt while the tenant has one: a
//! single-rate change is applied to the table in service as a small change
//! ([`tables`]: the rates the change log names are read again), and a table
//! that has to be built afresh (after an import, or a tariff-wide change) is
//! built beside the one in service, which rates the calls until the new one
//! is swapped in. The server that made a change refreshes its tables before
//! the change is answered, so the next call it rates sees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rating::{RateTable, Rounding};
use sqlx::Row;

use crate::db::Db;
use crate::error::{Error, Result};

mod commit;
mod tables;

pub(crate) use commit::{bump_rates_version, Changed};
pub(crate) use tables::RateRow;

/// A tariff's rate table as of one version of its rates (it may hold newer
/// rows, never older ones).
pub struct TariffRates {
    pub tariff_id: i64,
    pub name: String,
    pub version: i64,
    pub currency: String,
    pub table: RateTable,
}

/// A billing plan as rating uses it.
#[derive(Clone)]
pub struct PlanRoute {
    /// The plan's prefix without a leading `+`.
    pub prefix_key: String,
    pub rounding: Rounding,
    pub tariff: Arc<TariffRates>,
}

/// What rates a tenant's calls, as of one version of its rating data: the
/// billing plans (longest prefix first) and the default tariff. While a
/// tariff's new table is being built, the rating of the version that
/// noticed it holds the tariff's table in service, and is replaced when the
/// new table is ready.
#[derive(Clone)]
pub struct TenantRating {
    pub version: i64,
    /// The billed account's currency.
    pub currency: String,
    pub default: Arc<TariffRates>,
    pub plans: Vec<PlanRoute>,
    /// Some table is the one in service while a newer one is built.
    pub stale: bool,
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

/// A quote is rated by the tenant's rates version as this server read it
/// at most this long before (by any rating): a change made on another
/// server is quoted by within this bound, and a quote does not wait for the
/// database while its tenant's tables are in memory. The server that made a
/// change quotes by it at once, and charges and CDR ratings read the version
/// each time.
pub const QUOTES_SEE_CHANGES_WITHIN: Duration = Duration::from_millis(250);

/// A quote that finds the version read longer ago than this has it read
/// again in the background: under a steady stream of quotes no quote waits
/// for the read.
const VERSION_RECHECK: Duration = Duration::from_millis(50);

/// A tenant's rates version as read, and when that read began: every change
/// committed before then is in it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    version: i64,
    read_at: Instant,
}

/// Rate tables by tariff, and each tenant's rating data.
#[derive(Default)]
pub struct RateCache {
    tenants: RwLock<HashMap<i64, Arc<TenantRating>>>,
    tariffs: RwLock<HashMap<i64, Arc<TariffRates>>>,
    /// Each tenant's rates version as last read.
    seen: RwLock<HashMap<i64, Seen>>,
    /// One background read of a tenant's rates version at a time.
    rechecking: Locks,
    /// One refresh of a tenant's rating at a time.
    refreshing: Locks,
    /// One full build of a tariff's table at a time.
    building: Locks,
    /// Held (read) by every full build: tests hold it to pause the builds.
    builds: Arc<tokio::sync::RwLock<()>>,
}

impl std::fmt::Debug for RateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateCache").finish_non_exhaustive()
    }
}

/// An async lock per key (tenant or tariff), made when first asked for.
#[derive(Default)]
struct Locks(Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>);

impl Locks {
    fn of(&self, key: i64) -> Result<Arc<tokio::sync::Mutex<()>>> {
        Ok(self
            .0
            .lock()
            .map_err(Error::internal)?
            .entry(key)
            .or_default()
            .clone())
    }
}

impl RateCache {
    /// Waits while tests pause the builds.
    pub(crate) async fn build_turn(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.builds.read().await
    }
}

/// Frees a table taken out of service on a thread of its own, once no
/// rating uses it any more: freeing a million rates takes long enough to be
/// felt by the call whose rating happened to let go of it last.
fn retire(rates: Option<Arc<TariffRates>>) {
    let Some(mut rates) = rates else {
        return;
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::task::spawn_blocking(move || {
        // A rating holds a table for microseconds; a table still held after
        // a minute is left to its holder.
        for _ in 0..6000 {
            match Arc::try_unwrap(rates) {
                Ok(rates) => {
                    drop(rates);
                    return;
                }
                Err(shared) => rates = shared,
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
}

/// Whether a refresh may wait for tables to be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Yes: after a change this server made (so that its answer comes once
    /// the tables rate by it), when the tenant has no rating yet, and in the
    /// background.
    Built,
    /// No: a rating that has a table in service. A table that has to be built
    /// afresh is built in the background meanwhile.
    Never,
}

/// A tariff's row as rating needs it.
pub(crate) struct TariffHead {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub currency: String,
}

impl Db {
    /// What rates the tenant's calls: the rating in memory when it is of the
    /// tenant's current rates version; else brought up to date (single-rate
    /// changes applied at once) unless a table has to be built afresh, when
    /// the table in service keeps rating while the new one is built beside
    /// it. Only a tenant without any rating in memory waits for its tables.
    pub async fn tenant_rating(&self, tenant_id: i64) -> Result<Arc<TenantRating>> {
        let version = self.read_rates_version(tenant_id).await?;
        self.tenant_rating_at(tenant_id, version).await
    }

    /// What rates a quote of the tenant: like [`Db::tenant_rating`], but by
    /// the rates version this server read less than
    /// [`QUOTES_SEE_CHANGES_WITHIN`] before when its rating of that version
    /// is in memory (no read of the database then; a read that is getting
    /// old is made again in the background).
    pub async fn quote_rating(&self, tenant_id: i64) -> Result<Arc<TenantRating>> {
        if let Some(seen) = self.seen_version(tenant_id)? {
            let age = seen.read_at.elapsed();
            if age < QUOTES_SEE_CHANGES_WITHIN {
                if let Some(rating) = self.current_rating(tenant_id)? {
                    if rating.version >= seen.version {
                        if age >= VERSION_RECHECK {
                            self.recheck_in_background(tenant_id)?;
                        }
                        return Ok(rating);
                    }
                    // Behind: while a refresh brings it up to date (the
                    // change's own on this server, which answers once it is
                    // done), the rating in service quotes.
                    if self.refreshing(tenant_id)? {
                        return Ok(rating);
                    }
                }
            }
        }
        self.tenant_rating(tenant_id).await
    }

    /// Whether a refresh of the tenant's rating runs.
    fn refreshing(&self, tenant_id: i64) -> Result<bool> {
        Ok(self
            .rate_cache()
            .refreshing
            .of(tenant_id)?
            .try_lock()
            .is_err())
    }

    /// The tenant's rates version, read now (and kept as seen).
    async fn read_rates_version(&self, tenant_id: i64) -> Result<i64> {
        let read_at = Instant::now();
        let row = sqlx::query("SELECT rates_version FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let version = row.try_get("rates_version")?;
        self.saw_version(tenant_id, version, read_at)?;
        Ok(version)
    }

    /// Keeps `version`, read by a read that began at `read_at`, as the
    /// tenant's: versions only grow, so the newest of each is kept.
    fn saw_version(&self, tenant_id: i64, version: i64, read_at: Instant) -> Result<()> {
        let mut seen = self.rate_cache().seen.write().map_err(Error::internal)?;
        let entry = seen.entry(tenant_id).or_insert(Seen { version, read_at });
        entry.version = entry.version.max(version);
        entry.read_at = entry.read_at.max(read_at);
        Ok(())
    }

    fn seen_version(&self, tenant_id: i64) -> Result<Option<Seen>> {
        Ok(self
            .rate_cache()
            .seen
            .read()
            .map_err(Error::internal)?
            .get(&tenant_id)
            .copied())
    }

    /// Reads the tenant's rates version again in a task of its own (unless
    /// such a read runs), bringing its rating up to date as
    /// [`Db::tenant_rating`] does.
    fn recheck_in_background(&self, tenant_id: i64) -> Result<()> {
        let lock = self.rate_cache().rechecking.of(tenant_id)?;
        let Ok(turn) = lock.try_lock_owned() else {
            return Ok(());
        };
        let db = self.clone();
        tokio::spawn(async move {
            let _turn = turn;
            if let Err(e) = db.tenant_rating(tenant_id).await {
                tracing::warn!(tenant_id, error = %e, "reading the rates version");
            }
        });
        Ok(())
    }

    /// Like [`Db::tenant_rating`], but waits until every table is of the
    /// tenant's current rates (a re-rating, which writes what it computes).
    pub async fn fresh_tenant_rating(&self, tenant_id: i64) -> Result<Arc<TenantRating>> {
        let version = self.read_rates_version(tenant_id).await?;
        if let Some(rating) = self.cached_rating(tenant_id, version)? {
            if self.is_built(&rating)? {
                return Ok(rating);
            }
        }
        self.refresh(tenant_id, Wait::Built).await
    }

    /// The tenant's rating in memory, when it is at least `version`.
    pub(crate) fn cached_rating(
        &self,
        tenant_id: i64,
        version: i64,
    ) -> Result<Option<Arc<TenantRating>>> {
        Ok(self
            .current_rating(tenant_id)?
            .filter(|r| r.version >= version))
    }

    /// The tenant's rating in memory, of whichever version.
    pub(crate) fn current_rating(&self, tenant_id: i64) -> Result<Option<Arc<TenantRating>>> {
        Ok(self
            .rate_cache()
            .tenants
            .read()
            .map_err(Error::internal)?
            .get(&tenant_id)
            .cloned())
    }

    /// What rates the tenant's calls when its `rates_version` was read as
    /// `version`: the cached rating when it is that version, else refreshed
    /// (waiting for tables only when the tenant has none in service).
    pub(crate) async fn tenant_rating_at(
        &self,
        tenant_id: i64,
        version: i64,
    ) -> Result<Arc<TenantRating>> {
        if let Some(rating) = self.cached_rating(tenant_id, version)? {
            return Ok(rating);
        }
        match self.current_rating(tenant_id)? {
            None => self.refresh(tenant_id, Wait::Built).await,
            Some(in_service) => match self.refresh(tenant_id, Wait::Never).await {
                Ok(rating) => Ok(rating),
                Err(e) => {
                    tracing::warn!(tenant_id, error = %e, "rating with the rate tables in service");
                    Ok(in_service)
                }
            },
        }
    }

    /// Whether every table of `rating` is of the version its tariff had
    /// when the rating was put together (none is still being built).
    fn is_built(&self, rating: &TenantRating) -> Result<bool> {
        let tariffs = self.rate_cache().tariffs.read().map_err(Error::internal)?;
        let built =
            |t: &Arc<TariffRates>| tariffs.get(&t.tariff_id).is_some_and(|c| Arc::ptr_eq(c, t));
        Ok(
            !rating.stale
                && built(&rating.default)
                && rating.plans.iter().all(|p| built(&p.tariff)),
        )
    }

    /// Brings the tenant's rating up to its current rates version, one refresh
    /// per tenant at a time: a refresh that may not wait answers the rating in
    /// service while another refresh runs, and leaves tables that must be
    /// built afresh to the background.
    async fn refresh(&self, tenant_id: i64, wait: Wait) -> Result<Arc<TenantRating>> {
        let lock = self.rate_cache().refreshing.of(tenant_id)?;
        let _turn = match wait {
            Wait::Built => lock.lock().await,
            Wait::Never => match lock.try_lock() {
                Ok(turn) => turn,
                Err(_) => {
                    if let Some(rating) = self.current_rating(tenant_id)? {
                        return Ok(rating);
                    }
                    lock.lock().await
                }
            },
        };
        let read_at = Instant::now();
        let row = sqlx::query("SELECT rates_version, currency FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let version: i64 = row.try_get("rates_version")?;
        let currency: String = row.try_get("currency")?;
        self.saw_version(tenant_id, version, read_at)?;
        let in_service = self.current_rating(tenant_id)?;
        if let Some(rating) = &in_service {
            if rating.version >= version && (wait == Wait::Never || self.is_built(rating)?) {
                return Ok(rating.clone());
            }
        }
        // Without a rating in service there is nothing to rate with meanwhile.
        let wait = if in_service.is_none() {
            Wait::Built
        } else {
            wait
        };
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
        // Whether a table of this rating is the one in service while its
        // new one is built.
        let mut stale = false;
        let head_of = |id: i64| by_id.get(&id).ok_or(Error::NotFound("tariff"));
        let mut plans = Vec::with_capacity(plan_rows.len());
        for r in &plan_rows {
            let tariff_id: i64 = r.try_get("tariff_id")?;
            let tariff = match tables.get(&tariff_id) {
                Some(t) => t.clone(),
                None => {
                    let Some((t, current)) = self
                        .tariff_table(tenant_id, head_of(tariff_id)?, wait)
                        .await?
                    else {
                        // A tariff without any table yet, built in the
                        // background: the rating in service goes on.
                        return in_service.ok_or(Error::internal("no rating in service"));
                    };
                    stale |= !current;
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
                let Some((t, current)) = self
                    .tariff_table(tenant_id, head_of(default)?, wait)
                    .await?
                else {
                    return in_service.ok_or(Error::internal("no rating in service"));
                };
                stale |= !current;
                t
            }
        };
        let rating = Arc::new(TenantRating {
            version,
            currency,
            default,
            plans,
            stale,
        });
        let mut tenants = self.rate_cache().tenants.write().map_err(Error::internal)?;
        // Refreshes of a tenant take turns: this one is the newest.
        tenants.insert(tenant_id, rating.clone());
        Ok(rating)
    }

    /// The tariff's table for `head`, and whether it is of `head`'s version:
    /// the cached one when it is; else the cached one with the single-rate
    /// changes since applied; else built afresh, now (`Wait::Built`) or in
    /// the background (`Wait::Never`: the cached table is answered meanwhile,
    /// `None` when there is none).
    async fn tariff_table(
        &self,
        tenant_id: i64,
        head: &TariffHead,
        wait: Wait,
    ) -> Result<Option<(Arc<TariffRates>, bool)>> {
        let cached = self.cached_table(head.id)?;
        if let Some(cached) = &cached {
            if cached.version > head.version
                || (cached.version == head.version
                    && cached.name == head.name
                    && cached.currency == head.currency)
            {
                return Ok(Some((cached.clone(), true)));
            }
            if cached.version == head.version {
                // The tenant's currency moved its tariffs along: same rates.
                return Ok(Some((self.relabel(cached, head)?, true)));
            }
            if let Some(caught_up) = self.catch_up(cached, head).await? {
                let kept = self.keep_table(caught_up)?;
                if kept.table.pending_changes() > tables::MAX_PENDING_CHANGES {
                    self.compact_in_background(tenant_id, head.id);
                }
                return Ok(Some((kept, true)));
            }
        }
        match wait {
            Wait::Built => Ok(Some((self.build_table(head).await?, true))),
            // A tariff that rates nothing yet (a billing plan has just
            // routed calls to it) and has few rates is built at once.
            Wait::Never if cached.is_none() && self.has_few_rates(head.id).await? => {
                Ok(Some((self.build_table(head).await?, true)))
            }
            Wait::Never => {
                self.build_in_background(tenant_id, head.id);
                Ok(cached.map(|c| (c, false)))
            }
        }
    }

    /// The table cached for a tariff, of whichever version.
    fn cached_table(&self, tariff_id: i64) -> Result<Option<Arc<TariffRates>>> {
        Ok(self
            .rate_cache()
            .tariffs
            .read()
            .map_err(Error::internal)?
            .get(&tariff_id)
            .cloned())
    }

    /// `cached` under `head`'s name and currency, of the same version.
    fn relabel(&self, cached: &TariffRates, head: &TariffHead) -> Result<Arc<TariffRates>> {
        let rates = Arc::new(TariffRates {
            tariff_id: head.id,
            name: head.name.clone(),
            version: head.version,
            currency: head.currency.clone(),
            table: cached.table.clone(),
        });
        let mut tariffs = self.rate_cache().tariffs.write().map_err(Error::internal)?;
        if let Some(existing) = tariffs.get(&head.id) {
            if existing.version > head.version {
                return Ok(existing.clone());
            }
        }
        retire(tariffs.insert(head.id, rates.clone()));
        Ok(rates)
    }

    /// Caches `rates` unless a newer table (or one of the same version with
    /// fewer changes pending) is cached; answers the one kept.
    fn keep_table(&self, rates: TariffRates) -> Result<Arc<TariffRates>> {
        let mut tariffs = self.rate_cache().tariffs.write().map_err(Error::internal)?;
        if let Some(existing) = tariffs.get(&rates.tariff_id) {
            let newer = (
                existing.version,
                std::cmp::Reverse(existing.table.pending_changes()),
            ) >= (
                rates.version,
                std::cmp::Reverse(rates.table.pending_changes()),
            );
            if newer {
                return Ok(existing.clone());
            }
        }
        let rates = Arc::new(rates);
        retire(tariffs.insert(rates.tariff_id, rates.clone()));
        Ok(rates)
    }

    /// Builds the tariff's table afresh, one build per tariff at a time: a
    /// build that finds another running waits for it and takes its table
    /// when that is of `head`'s version.
    async fn build_table(&self, head: &TariffHead) -> Result<Arc<TariffRates>> {
        let lock = self.rate_cache().building.of(head.id)?;
        let _turn = lock.lock().await;
        if let Some(cached) = self.cached_table(head.id)? {
            if cached.version >= head.version {
                return Ok(cached);
            }
        }
        let rates = self.read_table(head).await?;
        self.keep_table(rates)
    }

    /// Builds the tariff's table in a task of its own, unless a build of it
    /// runs already; then refreshes the tenant's rating with it.
    fn build_in_background(&self, tenant_id: i64, tariff_id: i64) {
        let db = self.clone();
        tokio::spawn(async move {
            let built = async {
                let lock = db.rate_cache().building.of(tariff_id)?;
                let Ok(_turn) = lock.try_lock() else {
                    // Another build runs; it refreshes the rating when done.
                    return Ok(false);
                };
                let Some(head) = db.tariff_head(tariff_id).await? else {
                    return Ok(false);
                };
                let rates = db.read_table(&head).await?;
                db.keep_table(rates)?;
                Ok::<_, Error>(true)
            }
            .await;
            let refreshed = match built {
                Ok(true) => db.refresh(tenant_id, Wait::Built).await.map(|_| ()),
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = refreshed {
                tracing::warn!(tenant_id, tariff_id, error = %e, "building a rate table");
                db.forget_version(tenant_id);
            }
        });
    }

    /// Folds the pending changes of the tariff's table into a new index, in
    /// the background, then applies the changes made meanwhile and swaps it
    /// into the tenant's rating.
    fn compact_in_background(&self, tenant_id: i64, tariff_id: i64) {
        let db = self.clone();
        tokio::spawn(async move {
            let done = async {
                let lock = db.rate_cache().building.of(tariff_id)?;
                let Ok(_turn) = lock.try_lock() else {
                    return Ok(());
                };
                let Some(cached) = db.cached_table(tariff_id)? else {
                    return Ok(());
                };
                let table = cached.table.clone();
                let table = tokio::task::spawn_blocking(move || table.compacted())
                    .await
                    .map_err(Error::internal)?;
                let compacted = TariffRates {
                    tariff_id,
                    name: cached.name.clone(),
                    version: cached.version,
                    currency: cached.currency.clone(),
                    table,
                };
                let compacted = match db.tariff_head(tariff_id).await? {
                    Some(head) if head.version > compacted.version => {
                        match db.catch_up(&compacted, &head).await? {
                            Some(caught_up) => caught_up,
                            // Too far behind: the next rating builds afresh.
                            None => return Ok(()),
                        }
                    }
                    _ => compacted,
                };
                db.keep_table(compacted)?;
                Ok::<_, Error>(())
            }
            .await;
            let done = match done {
                Ok(()) => db.refresh(tenant_id, Wait::Built).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                tracing::warn!(tenant_id, tariff_id, error = %e, "compacting a rate table");
            }
        });
    }

    /// Makes the next rating of the tenant refresh its rating (after a
    /// refresh failed), keeping the rating in service.
    fn forget_version(&self, tenant_id: i64) {
        if let Ok(mut tenants) = self.rate_cache().tenants.write() {
            if let Some(rating) = tenants.get(&tenant_id) {
                let mut stale = TenantRating::clone(rating);
                stale.version = -1;
                stale.stale = true;
                tenants.insert(tenant_id, Arc::new(stale));
            }
        }
    }

    /// Holds back every full build of a rate table by this handle (and its
    /// clones) until the answer is dropped: tests see what ratings do while
    /// a table is being built.
    #[cfg(any(test, feature = "testing"))]
    pub async fn pause_rate_table_builds(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.rate_cache().builds.clone().write_owned().await
    }

    /// After this server committed a change of the tenant's rating data: its
    /// rating brought up to date, waiting for any table to be built, so that
    /// the change is answered once the calls this server rates see it. A
    /// tenant without a rating in memory builds its tables at its first
    /// rating instead.
    pub(crate) async fn rating_changed(&self, tenant_id: i64) {
        match self.current_rating(tenant_id) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
        if let Err(e) = self.refresh(tenant_id, Wait::Built).await {
            tracing::warn!(tenant_id, error = %e, "refreshing the rate tables after a change");
            self.forget_version(tenant_id);
        }
    }
}
